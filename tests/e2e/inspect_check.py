#!/usr/bin/env python3
"""inspect_check.py: the independent computation tests/e2e/inspect.sh compares
Strata's stats, variants, flow and durations with. It reads the events as NDJSON
(`strata events --raw`) and the verbs' outputs, computes the same figures in a
few lines of plain Python, and prints one line per check: "ok NAME" or
"not ok NAME: DETAIL". Percentiles are nearest rank (the value at rank
ceil(p n)); flow's come from a histogram, so they are allowed 1%.

usage: inspect_check.py EVENTS.ndjson KIND:OUTPUT.ndjson[:ARG]...
  KIND: stats-type | stats-by (ARG: data.X or meta.X) | variants | flow | durations
(the events are read once for all the checks)
"""
import calendar
import collections
import json
import math
import sys


def ms(t):
    base, frac = t[:19], t[20:23] if len(t) > 20 else "0"
    return calendar.timegm((int(base[0:4]), int(base[5:7]), int(base[8:10]),
                            int(base[11:13]), int(base[14:16]), int(base[17:19]))) * 1000 + int(frac.ljust(3, "0"))


def dur(text):
    return round(float(text[:-1]) * 1000)


def q(sorted_values, p):
    n = len(sorted_values)
    return sorted_values[max(1, min(n, math.ceil(p * n))) - 1]


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def report(ok, name, detail=""):
    print(("ok " if ok else "not ok ") + name + ("" if ok else ": " + detail))


def cases(events):
    c = collections.OrderedDict()
    for e in events:  # global order, interleaved
        c.setdefault(e["stream"], []).append(e)
    return c


def main():
    events = load(sys.argv[1])
    for spec in sys.argv[2:]:
        kind, path, *arg = spec.split(":", 2)
        check(kind, events, load(path), arg[0] if arg else None)


def check(kind, events, out, arg):
    if kind in ("stats-type", "stats-by"):
        if kind == "stats-type":
            key = lambda e: e["type"]
        else:
            root, field = arg.split(".", 1)
            key = lambda e: (e.get(root) or {}).get(field)
        want = collections.Counter(key(e) for e in events)
        got = {o["value"]: o["count"] for o in out}
        report(got == dict(want), kind + " counts",
               "differ on %s" % sorted(set(want.items()) ^ set(got.items()))[:5])
        top = max(want.values())
        report(abs(out[0]["share"] - top / len(events)) < 1e-9, kind + " top share")
        if kind == "stats-type":
            first = min(e["time"] for e in events if e["type"] == out[0]["value"])
            last = max(e["time"] for e in events if e["type"] == out[0]["value"])
            report((out[0]["first"], out[0]["last"]) == (first, last), "first and last time",
                   "%s %s vs %s %s" % (out[0]["first"], out[0]["last"], first, last))
    elif kind == "variants":
        c = cases(events)
        var = collections.defaultdict(list)
        for evs in c.values():
            t = [ms(e["time"]) for e in evs]
            var[tuple(e["type"] for e in evs)].append(max(t) - min(t))
        report(len(var) == len(out), "variant count", "%d vs %d" % (len(out), len(var)))
        o = out[0]
        top = (tuple(o["variant"]), var.get(tuple(o["variant"]), []))
        report(len(top[1]) == o["count"] == max(len(v) for v in var.values()), "top variant",
               "%d cases, %d in Python, the most %d" % (o["count"], len(top[1]), max(len(v) for v in var.values())))
        report(abs(o["share"] - len(top[1]) / len(c)) < 1e-9, "top variant's share",
               "%r vs %r" % (o["share"], len(top[1]) / len(c)))
        d = sorted(top[1])
        report(dur(o["p50"]) == q(d, 0.5) and dur(o["p90"]) == q(d, 0.9), "top variant's p50 and p90",
               "%s %s vs %d %d ms" % (o["p50"], o["p90"], q(d, 0.5), q(d, 0.9)))
        report(abs(out[-1]["coverage"] - 1) < 1e-9, "coverage ends at 1")
    elif kind == "flow":
        pairs = collections.Counter()
        gaps = collections.defaultdict(list)
        for evs in cases(events).values():
            pairs[("▶", evs[0]["type"])] += 1
            pairs[(evs[-1]["type"], "■")] += 1
            for a, b in zip(evs, evs[1:]):
                pairs[(a["type"], b["type"])] += 1
                gaps[(a["type"], b["type"])].append(max(0, ms(b["time"]) - ms(a["time"])))
        got = {(o["from"], o["to"]): o["count"] for o in out}
        report(got == dict(pairs), "flow pair counts", "%d vs %d pairs" % (len(got), len(pairs)))
        bad = []
        for o in out[:10]:
            g = sorted(gaps.get((o["from"], o["to"]), []))
            if not g:
                continue
            for p, k in ((0.5, "p50"), (0.9, "p90")):
                exact, est = q(g, p), dur(o[k])
                if abs(est - exact) > 0.01 * exact + 1:
                    bad.append("%s->%s %s %d vs %d" % (o["from"], o["to"], k, est, exact))
        report(not bad, "flow p50 and p90 of the top pairs within 1%", "; ".join(bad))
    elif kind == "durations":
        d = sorted(max(ms(e["time"]) for e in evs) - min(ms(e["time"]) for e in evs)
                   for evs in cases(events).values())
        o = out[0]
        report(o["cases"] == len(d), "case count", "%d vs %d" % (o["cases"], len(d)))
        for k, v in (("min", d[0]), ("p50", q(d, 0.5)), ("p90", q(d, 0.9)), ("max", d[-1])):
            report(abs(dur(o[k]) - v) <= 0.01 * v, "duration " + k + " within 1%", "%s vs %d ms" % (o[k], v))
        report(dur(out[1]["duration"]) == d[-1], "the longest case first")


main()
