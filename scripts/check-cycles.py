#!/usr/bin/env python3
"""check-cycles.py: no two source files in core/, verbs/, cli/ and tui/ call each other's
functions, directly or around a circle (issue 12's rule for a codebase a newcomer can
follow: every dependency points one way).

It reads the object files of a build (default: build/) with `nm`: a file depends on
another when it uses (U) a symbol the other defines (T, D, B, R). Then it finds the
strongly connected components of that graph; any component of more than one file is
a cycle and is printed with the symbols that close it.

The two places where calling back is the design are left out of the graph (see
allowed_back_edge): the store's backend factory (store.c picks a backend, whose files
use store.c's helpers) and the workbench's main loop (tui.c drives its components,
which call back into it).

Usage: scripts/check-cycles.py [BUILD_DIR]   (exit 1 when a cycle is found)"""
import os
import subprocess
import sys



def allowed_back_edge(caller, callee):
    """The two call-backs the design has: a store backend using the helpers of the
    factory that chose it (core/store.c), and a workbench component calling back
    into the main loop (tui/tui.c) that drives it."""
    if callee == "core/store.c" and caller.startswith("core/store_"):
        return True
    return callee == "tui/tui.c" and caller.startswith("tui/")


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", obj], capture_output=True, text=True).stdout
    defined = {l.split()[-1] for l in out.splitlines() if len(l.split()) == 3 and l.split()[1] in "TDBRV"}
    out = subprocess.run(["nm", "--undefined-only", obj], capture_output=True, text=True).stdout
    used = {l.split()[-1] for l in out.splitlines() if l.strip()}
    return defined, used


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    files = {}
    for d in ("core", "verbs", "cli", "tui"):
        dd = os.path.join(build, d)
        if not os.path.isdir(dd):
            continue
        for f in sorted(os.listdir(dd)):
            if f.endswith(".o"):
                files[f"{d}/{f[:-2]}.c"] = symbols(os.path.join(dd, f))
    owner = {}
    for f, (defined, _) in files.items():
        for s in defined:
            owner[s] = f
    edges = {f: {} for f in files}
    for f, (_, used) in files.items():
        for s in used:
            g = owner.get(s)
            if g and g != f and not allowed_back_edge(f, g):
                edges[f].setdefault(g, []).append(s)
    # Tarjan's strongly connected components.
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in files:
        if v not in index:
            visit(v)
    bad = 0
    for comp in comps:
        if len(comp) < 2:
            continue
        cs = set(comp)
        bad += 1
        print(f"cycle: {' '.join(comp)}")
        for f in comp:
            for g, syms in sorted(edges[f].items()):
                if g in cs:
                    print(f"  {f} -> {g}: {', '.join(sorted(set(syms))[:6])}")
    if bad:
        print(f"check-cycles: {bad} cycle(s) among {len(files)} files")
        return 1
    print(f"check-cycles: no cycles among {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
