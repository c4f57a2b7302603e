#!/usr/bin/env python3
"""Driver of scripts/bench-merge: times whole processes (wall clock) and reads each one's peak
resident memory from wait4(), alternating the tools so that both see the same machine state."""
import argparse, filecmp, json, os, statistics, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--bin", required=True)
ap.add_argument("--gen", required=True)
ap.add_argument("--data", required=True)
ap.add_argument("--sizes", required=True)
ap.add_argument("--runs", type=int, default=5)
a = ap.parse_args()


def run(cmd, out):
    with open(out, "wb") as f:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_maxrss / 1024.0, code


rows = []
for size in a.sizes.split(","):
    d = os.path.join(a.data, size)
    if not os.path.exists(os.path.join(d, "meta.json")):
        subprocess.run([sys.executable, a.gen, "--sizes", size, "--out", a.data], check=True)
    base, local, remote = (os.path.join(d, f + ".json") for f in ("base", "local", "remote"))
    tmp = os.path.join(a.data, f"out-{size}")
    git = ["git", "merge-file", "-p", "--diff3", local, base, remote]
    ifm = [a.bin, "merge", base, local, remote, "--prefer", "mine"]
    ifm_disp = ifm + ["--display", tmp + ".display.json"]
    # Correctness first: the structural merge resolved to mine is the generator's oracle.
    _, _, code = run(ifm, tmp + ".json")
    same = code == 0 and filecmp.cmp(tmp + ".json", os.path.join(d, "expected_ours.json"), shallow=False)
    res = {"git": [], "ifmatch": [], "ifmatch+display": []}
    run(git, tmp + ".git")  # warm the page cache for everyone
    for _ in range(a.runs):
        for name, cmd in (("git", git), ("ifmatch", ifm), ("ifmatch+display", ifm_disp)):
            res[name].append(run(cmd, tmp + "." + name.replace("+", "_")))
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in res.items()}
    meta = json.load(open(os.path.join(d, "meta.json")))
    rows.append((size, meta["bytes"]["base"], meta["lines"]["base"], same, med))

print(f"\n{'size':>5} {'lines':>9} | {'git merge-file':>16} | {'ifmatch merge':>16} | {'time':>6} {'memory':>7} | {'merge+display':>16} | {'time':>6} | oracle")
print(f"{'':>5} {'':>9} | {'s / MB':>16} | {'s / MB':>16} | {'ratio':>6} {'ratio':>7} | {'s / MB':>16} | {'ratio':>6} |")
for size, nbytes, lines, same, med in rows:
    g, i, dsp = med["git"], med["ifmatch"], med["ifmatch+display"]
    print(f"{size:>5} {lines:>9,} | {g[0]:7.3f} / {g[1]:6.0f} | {i[0]:7.3f} / {i[1]:6.0f} | {i[0] / g[0]:6.2f} {i[1] / g[1]:7.2f} | "
          f"{dsp[0]:7.3f} / {dsp[1]:6.0f} | {dsp[0] / g[0]:6.2f} | {'identical' if same else 'DIFFERENT'}")
print(f"\nmedians of {a.runs} alternated runs; ratio = ifmatch / git merge-file (below 1.00: faster / smaller); "
      "oracle: `ifmatch merge --prefer mine` vs expected_ours.json")
sys.exit(0 if all(r[3] for r in rows) else 1)
