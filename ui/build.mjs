// Bundles the front end into dist/ (what tauri.conf.json's frontendDist points to).
// `--tests` bundles tests/*.test.ts into dist-tests/ for node's test runner.
import { build } from "esbuild";
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";

if (process.argv.includes("--tests")) {
  rmSync("dist-tests", { recursive: true, force: true });
  const entries = readdirSync("tests").filter((f) => f.endsWith(".test.ts")).map((f) => `tests/${f}`);
  await build({ entryPoints: entries, bundle: true, platform: "node", format: "esm", outdir: "dist-tests", outExtension: { ".js": ".mjs" }, logLevel: "warning" });
} else {
  rmSync("dist", { recursive: true, force: true });
  mkdirSync("dist");
  await build({ entryPoints: ["src/main.ts"], bundle: true, format: "esm", target: "es2022", outfile: "dist/main.js", minify: false, sourcemap: false, logLevel: "warning" });
  for (const f of ["index.html", "style.css"]) cpSync(f, `dist/${f}`);
}
