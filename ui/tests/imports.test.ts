// The window's modules stay layered: helpers (the store, the model, the bridge, the editor,
// messages, drafts, intents) below the views (each draws one part of the window), the views
// below the actions and main. A view never imports another view nor the actions — it asks for
// an action through intents.ts — so there is no import circle for a change to run around.
// Read off the `import` lines of ui/src/*.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

const HELPERS = ["api", "store", "model", "editor", "messages", "drafts", "intents"];
const VIEWS = ["tabs", "conflict", "history", "workspace", "connections", "safety", "review", "palette", "trail", "preview"];
const TOP = ["actions", "main"];

/** Each module's local imports (`./x`, type-only ones too), by module name. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of readdirSync(SRC).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(`${SRC}/${f}`, "utf8");
    const deps = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+["']\.\/([\w-]+)["']/gms)].map((m) => m[1]);
    g.set(f.replace(/\.ts$/, ""), [...new Set(deps)]);
  }
  return g;
}

/** A circle of imports (its modules in order, the first repeated at the end), or null. */
function findCycle(g: Map<string, string[]>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (m: string): string[] | null => {
    if (state.get(m) === "done") return null;
    if (state.get(m) === "open") return [...path.slice(path.indexOf(m)), m];
    state.set(m, "open");
    path.push(m);
    for (const d of g.get(m) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    path.pop();
    state.set(m, "done");
    return null;
  };
  for (const m of g.keys()) {
    const c = visit(m);
    if (c) return c;
  }
  return null;
}

test("the cycle finder finds a circle and passes a tree", () => {
  assert.deepEqual(findCycle(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]])), ["a", "b", "c", "a"]);
  assert.equal(findCycle(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), null);
});

test("the import lines are read (the check reads what it checks)", () => {
  const g = graph();
  assert.ok(g.get("main")?.includes("actions"), "main imports actions");
  assert.ok(g.get("tabs")?.includes("intents"), "tabs imports intents");
});

test("no import circle among ui/src", () => {
  assert.equal(findCycle(graph())?.join(" → ") ?? null, null);
});

test("every module has its layer: helpers below views, views below actions and main", () => {
  const g = graph();
  const layer = (m: string) => (HELPERS.includes(m) ? 0 : VIEWS.includes(m) ? 1 : TOP.includes(m) ? 2 : -1);
  for (const m of g.keys()) assert.notEqual(layer(m), -1, `ui/src/${m}.ts is in no layer: add it to HELPERS, VIEWS or TOP here`);
  for (const [m, deps] of g) {
    for (const d of deps) {
      if (!g.has(d)) continue;
      if (layer(m) === 1) assert.ok(layer(d) === 0, `the view ${m} imports ${d}: views import helpers only (ask for actions through intents)`);
      if (layer(m) === 0) assert.ok(layer(d) === 0, `the helper ${m} imports ${d}, above it`);
      if (m === "actions") assert.notEqual(d, "main", "actions imports main");
    }
  }
});
