#!/usr/bin/env python3
"""run.py: runs cel-spec's conformance cases against `strata eval`.

What it does: reads the cel-spec "simple" test files vendored in tests/cel/cases/
(see cases/README.md; regenerate them with tests/cel/fetch.sh), drops the cases that
fall outside Strata's subset of CEL, runs each kept case as one `strata eval`
process (STRATA_BIN, default ./strata) and compares the result with what cel-spec
expects. It prints TAP: `ok N - file/section/name`, `not ok N - ...` with the
expression and expected vs got as `#` comments. Cases listed in
tests/cel/known-failures.txt that fail print `ok N - name # TODO known failure`;
one of them that passes is reported (`# known failure now passes`) so the list can
shrink. It ends with counts per file and per skip reason and the line
`cel-conformance: P passed of K kept (X.X%), S skipped`.

Filtering rules, checked in this order; the first that matches names the skip:
  check only              cel-spec only type-checks the case (checkOnly)
  uses uint               a uint literal (1u), uint(), uint64Value, a UINT64 variable
  uses bytes              a bytes literal (b'..'), bytes(), bytesValue, a BYTES variable
  uses protobuf messages  message construction (TestAllTypes{..}), a container,
                          objectValue, enums, google.protobuf types, message variables
  uses optional syntax    ?. .? [? {? or the optional.* functions
  uses type()             type(), type values (typeValue) or type names as values (int)
  uses dyn()              dyn()
  uses a function outside the subset   a call of a CEL library function that Strata's
                          subset lacks (matches, indexOf, format, ...); the detail names it
  uses backquoted field names   m.`content-type`: not in the subset's grammar
  binds a name strata eval cannot bind   bindings that are qualified names (a.b.c) or
                          values that --vars JSON cannot carry
  unknown name (stated exception)   the case expects a value from an expression that
                          names an unbound identifier or calls an unknown function
                          (f_unknown(17) || true): Strata refuses unknown names when
                          the expression is loaded, on purpose (x || true is an error)

Bindings: `strata eval` binds only the roots payload, state, event, row, meta and
record, so a binding of a simple name x is passed as payload.x (--vars
'{"payload": {"x": ...}}') and the identifier x in the expression is rewritten to
payload.x. A binding of true/false/null is ignored: those are literals in CEL too.

Comparison: ints and doubles are distinct (1 is not 1.0); doubles compare exactly,
NaN matches NaN; as strata prints infinities and NaN as null, an expected non-finite
double is confirmed by evaluating string(EXPR). An expected evalError passes when
strata exits 1 with a message on stderr (whether found at load or at evaluation).
"""
import json
import math
import os
import re
import subprocess
import sys
from collections import Counter, OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ["basic", "comparisons", "conversions", "fields", "fp_math", "integer_math", "lists",
         "logic", "macros", "parse", "plumbing", "string", "string_ext"]

# Strata's subset: functions, methods and macros it declares (core/expr_*.c and the
# domain language doc), plus bool(), which issue 13 adds to it.
STRATA_FUNCS = {"size", "int", "double", "string", "bool", "now", "put", "remove", "has",
                "timestamp", "duration"}
STRATA_METHODS = {"size", "contains", "startsWith", "endsWith", "lowerAscii", "upperAscii", "trim",
                  "substring", "replace", "split", "all", "exists", "exists_one", "map", "filter",
                  "getFullYear", "getMonth", "getDayOfMonth", "getDayOfWeek", "getHours", "getMinutes",
                  "getDate", "getDayOfYear", "getSeconds", "getMilliseconds"}
MACROS = {"all", "exists", "exists_one", "map", "filter"}
# CEL library functions (standard and extensions) that are not in the subset. A call
# of any other unknown name (f_unknown(17)) is not skipped: it is an error in both.
CEL_OUTSIDE = {"matches", "charAt", "indexOf", "lastIndexOf", "join", "quote", "format", "reverse",
               "sort", "slice",
               "flatten", "distinct", "range", "exists_one_of", "transformList", "transformMap",
               "strings.quote", "math.greatest", "math.least", "base64.encode", "base64.decode"}
ROOTS = {"payload", "state", "event", "row", "meta", "record"}
KEYWORDS = {"true", "false", "null", "in"}
TYPE_NAMES = {"int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type"}

# ---- a small CEL lexer: enough to tell literals, names and punctuation apart ----

TOKEN = re.compile(r"""
  (?P<ws>\s+|//[^\n]*)
| (?P<str>(?:[rR][bB]?|[bB][rR]?)?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
| (?P<quoted>`[^`]*`)
| (?P<num>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?)
| (?P<id>[A-Za-z_][A-Za-z_0-9]*)
| (?P<op>\?\.|\.\?|&&|\|\||==|!=|<=|>=|.)
""", re.X | re.S)


def lex(src):
    """Returns [(kind, text, start, end)] without whitespace and comments."""
    out = []
    for m in TOKEN.finditer(src):
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(), m.start(), m.end()))
    return out


def calls(toks):
    """Yields (name, is_method) for each call: `name(` or `.name(`; qualified calls
    such as strings.quote( or optional.of( are yielded as 'strings.quote'."""
    for i, (k, t, _, _) in enumerate(toks):
        if k == "id" and i + 1 < len(toks) and toks[i + 1][1] == "(":
            method = i > 0 and toks[i - 1][1] == "."
            if method and i > 1 and toks[i - 2][0] == "id" and (i < 3 or toks[i - 3][1] != "."):
                yield toks[i - 2][1] + "." + t, False  # namespace.function, or a method on a name
            yield t, method


def free_names(toks):
    """Identifiers used as variables: not after '.', not called, not a keyword, not a
    macro's loop variable."""
    bound = set()
    for i, (k, t, _, _) in enumerate(toks):
        if k == "id" and t in MACROS and i > 0 and toks[i - 1][1] == "." and i + 2 < len(toks) \
                and toks[i + 1][1] == "(" and toks[i + 2][0] == "id":
            bound.add(toks[i + 2][1])
    names = []
    for i, (k, t, _, _) in enumerate(toks):
        if k != "id" or t in KEYWORDS or t in bound:
            continue
        if i > 0 and toks[i - 1][1] == ".":
            continue
        if i + 1 < len(toks) and toks[i + 1][1] == "(":
            continue
        names.append(t)
    return names


def walk_values(v):
    """Yields every key of a CEL JSON value and of the values inside it."""
    if isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from walk_values(x)
    elif isinstance(v, list):
        for x in v:
            yield from walk_values(x)


def skip_reason(case, toks):
    """The first filtering rule that matches, as (reason, detail), or None."""
    src = case["expr"]
    data = {k: v for k, v in case.items() if k not in ("name", "expr", "description")}
    keys = set(walk_values(data))
    texts = json.dumps(data)
    ids = {t for k, t, _, _ in toks if k == "id"}
    called = list(calls(toks))
    names = {n for n, _ in called}
    if case.get("checkOnly"):
        return "check only", ""
    if any(k == "num" and t[-1] in "uU" for k, t, _, _ in toks) or "uint" in names \
            or "uint64Value" in keys or "UINT64" in texts:
        return "uses uint", ""
    if any(k == "str" and t[0] in "bB" or k == "str" and t[:2] in ("rb", "rB", "Rb", "RB")
           for k, t, _, _ in toks) or "bytes" in names or "bytesValue" in keys or "BYTES" in texts:
        return "uses bytes", ""
    if "container" in case or "objectValue" in keys or "enumValue" in keys or "messageType" in keys \
            or "google.protobuf" in src or "wellKnown" in keys \
            or any(k == "id" and t[0].isupper() and i + 1 < len(toks) and toks[i + 1][1] == "{"
                   for i, (k, t, _, _) in enumerate(toks)):
        return "uses protobuf messages", ""
    if any(t in ("?.", ".?") for _, t, _, _ in toks) or "optional" in ids \
            or any(t in ("[", "{") and i + 1 < len(toks) and toks[i + 1][1] == "?"
                   for i, (_, t, _, _) in enumerate(toks)):
        return "uses optional syntax", ""
    if "type" in names or "typeValue" in keys or any(n in TYPE_NAMES for n in free_names(toks)):
        return "uses type()", ""
    if "dyn" in names:
        return "uses dyn()", ""
    for n, method in called:
        if n in CEL_OUTSIDE or (n not in STRATA_FUNCS and n not in STRATA_METHODS
                                 and n.split(".")[-1] in CEL_OUTSIDE):
            return "uses a function outside the subset", n if n in CEL_OUTSIDE else n.split(".")[-1]
    if any(k == "quoted" for k, _, _, _ in toks):
        return "uses backquoted field names", ""
    for name, b in case.get("bindings", {}).items():
        if "." in name:
            return "binds a name strata eval cannot bind", name
        try:
            to_json(b["value"])
        except ValueError as e:
            return "binds a name strata eval cannot bind", str(e)
    if "evalError" not in case:
        unknown = [n for n in free_names(toks) if n not in ROOTS and n not in case.get("bindings", {})]
        unknown += [n for n, method in called
                    if n not in (STRATA_METHODS if method else STRATA_FUNCS) and "." not in n]
        if unknown:
            return "unknown name (stated exception)", unknown[0]
    return None


# ---- values ----

def to_json(v):
    """A CEL JSON value (int64Value, ...) as the JSON that --vars takes."""
    if "int64Value" in v:
        return int(v["int64Value"])
    if "doubleValue" in v:
        d = float(v["doubleValue"])
        if not math.isfinite(d):
            raise ValueError("non-finite double")
        return d
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return v["boolValue"]
    if "nullValue" in v:
        return None
    if "listValue" in v:
        return [to_json(x) for x in v["listValue"].get("values", [])]
    if "mapValue" in v:
        out = {}
        for e in v["mapValue"].get("entries", []):
            if "stringValue" not in e["key"]:
                raise ValueError("map with non-string keys")
            out[e["key"]["stringValue"]] = to_json(e["value"])
        return out
    raise ValueError("value %s" % json.dumps(v))


def expected(v):
    """A CEL JSON value as a tagged Python value: ('int', 1), ('double', 1.0), ..."""
    if "int64Value" in v:
        return ("int", int(v["int64Value"]))
    if "doubleValue" in v:
        return ("double", float(v["doubleValue"]))
    if "stringValue" in v:
        return ("string", v["stringValue"])
    if "boolValue" in v:
        return ("bool", bool(v["boolValue"]))
    if "nullValue" in v or not v:
        return ("null", None)
    if "listValue" in v:
        return ("list", [expected(x) for x in v["listValue"].get("values", [])])
    if "mapValue" in v:
        m = {}
        for e in v["mapValue"].get("entries", []):
            k = expected(e["key"])
            # strata prints JSON, whose keys are strings: 1 and true print as "1", "true"
            key = k[1] if k[0] == "string" else json.dumps(k[1])
            m[key] = expected(e["value"])
        return ("map", m)
    raise ValueError("unknown expected value %s" % json.dumps(v))


def tagged(x):
    """strata's JSON output (parsed with ints kept apart from floats) as a tagged value."""
    if x is None:
        return ("null", None)
    if isinstance(x, bool):
        return ("bool", x)
    if isinstance(x, int):
        return ("int", x)
    if isinstance(x, float):
        return ("double", x)
    if isinstance(x, str):
        return ("string", x)
    if isinstance(x, list):
        return ("list", [tagged(y) for y in x])
    return ("map", {k: tagged(y) for k, y in x.items()})


def same(a, b):
    if a[0] != b[0]:
        return False
    if a[0] == "double":
        return (math.isnan(a[1]) and math.isnan(b[1])) or a[1] == b[1]
    if a[0] == "list":
        return len(a[1]) == len(b[1]) and all(same(x, y) for x, y in zip(a[1], b[1]))
    if a[0] == "map":
        return a[1].keys() == b[1].keys() and all(same(a[1][k], b[1][k]) for k in a[1])
    return a[1] == b[1]


def show(t):
    kind, v = t
    if kind == "list":
        return "[" + ", ".join(show(x) for x in v) + "]"
    if kind == "map":
        return "{" + ", ".join("%s: %s" % (json.dumps(k), show(x)) for k, x in v.items()) + "}"
    if kind == "double":
        return repr(v) if math.isfinite(v) else {"inf": "+Inf", "-inf": "-Inf"}.get(repr(v), "NaN")
    return "%s %s" % (kind, json.dumps(v))


# ---- running ----

def rewrite(src, toks, names):
    """Rewrites each free use of a bound name x to payload.x."""
    out, last = [], 0
    free = set(free_names(toks))
    for i, (k, t, s, e) in enumerate(toks):
        if k == "id" and t in names and t in free and not (i > 0 and toks[i - 1][1] == "."):
            out.append(src[last:s] + "payload." + t)
            last = e
    out.append(src[last:])
    return "".join(out)


def strata_eval(binary, src, vars_json):
    argv = [binary, "eval"]
    if vars_json is not None:
        argv += ["--vars", vars_json]
    argv += ["--", src]
    p = subprocess.run(argv, capture_output=True, timeout=20)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def run_case(binary, case, toks):
    """Returns (passed, got_text)."""
    src = case["expr"]
    vars_json = None
    bindings = {n: b for n, b in case.get("bindings", {}).items() if n not in KEYWORDS}
    if bindings:
        src = rewrite(src, toks, set(bindings))
        vars_json = json.dumps({"payload": {n: to_json(b["value"]) for n, b in bindings.items()}})
    rc, out, err = strata_eval(binary, src, vars_json)
    if rc not in (0, 1) or (rc == 1 and not err.startswith("strata eval:")):
        return False, "exit %d, stderr: %s" % (rc, err.strip()[:300])
    if "evalError" in case:
        if rc == 1:
            return True, "error: " + err.strip()
        return False, "value " + out.strip()
    want = expected(case.get("value", {"boolValue": True}))
    if rc != 0:
        return False, "error: " + err.strip()
    try:
        got = tagged(json.loads(out))
    except ValueError:
        return False, "unreadable output: " + out.strip()
    if got == ("null", None) and want[0] == "double" and not math.isfinite(want[1]):
        # strata prints infinities and NaN as null: ask string() which it was
        rc2, out2, _ = strata_eval(binary, "string(%s)" % src, vars_json)
        text = out2.strip()
        if rc2 == 0 and text in ('"+Inf"', '"-Inf"', '"NaN"'):
            got = ("double", float(text.strip('"').replace("Inf", "inf")))
    return same(want, got), show(got)


def load_known(path):
    known = {}
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            name, _, why = line.partition(" #")
            known[name.strip()] = why.strip()
    return known


def main():
    binary = os.environ.get("STRATA_BIN", "./strata")
    known = load_known(os.path.join(HERE, "known-failures.txt"))
    per_file = OrderedDict()
    reasons = Counter()
    failing = []      # new failures
    known_failing = []
    fixed = []        # known failures that now pass
    seen = set()
    n = 0
    for fname in FILES:
        doc = json.load(open(os.path.join(HERE, "cases", fname + ".json"), encoding="utf-8"))
        stats = per_file.setdefault(fname, Counter())
        for section in doc["section"]:
            for case in section["test"]:
                label = "%s/%s/%s" % (fname, section["name"], case.get("name", case["expr"]))
                # a few names repeat inside a section: number the repeats
                base, k = label, 2
                while label in seen:
                    label, k = "%s#%d" % (base, k), k + 1
                seen.add(label)
                toks = lex(case["expr"])
                why = skip_reason(case, toks)
                if why:
                    reasons[why[0]] += 1
                    stats["skipped"] += 1
                    continue
                stats["kept"] += 1
                n += 1
                passed, got = run_case(binary, case, toks)
                want = "an error" if "evalError" in case else show(expected(case.get("value", {"boolValue": True})))
                if passed:
                    stats["passed"] += 1
                    if label in known:
                        fixed.append(label)
                        print("ok %d - %s # known failure now passes: remove it from known-failures.txt" % (n, label))
                    else:
                        print("ok %d - %s" % (n, label))
                    continue
                if label in known:
                    known_failing.append(label)
                    print("ok %d - %s # TODO known failure: %s" % (n, label, known[label]))
                else:
                    failing.append(label)
                    print("not ok %d - %s" % (n, label))
                print("#   expr:     %s" % case["expr"].replace("\n", "\\n"))
                print("#   expected: %s" % want)
                print("#   got:      %s" % got.replace("\n", " | "))
    print("1..%d" % n)
    kept = sum(s["kept"] for s in per_file.values())
    passed = sum(s["passed"] for s in per_file.values())
    skipped = sum(reasons.values())
    print("#")
    print("# per file: passed/kept (skipped)")
    for fname, s in per_file.items():
        print("#   %-13s %4d/%-4d (%d skipped)" % (fname, s["passed"], s["kept"], s["skipped"]))
    print("# skipped, by reason:")
    for why, c in reasons.most_common():
        print("#   %4d  %s" % (c, why))
    print("# known failures still failing: %d; now passing: %d; new failures: %d"
          % (len(known_failing), len(fixed), len(failing)))
    for label in fixed:
        print("#   now passes: %s" % label)
    stale = sorted(set(known) - seen)
    for label in stale:
        print("#   known-failures.txt names no such case: %s" % label)
    print("cel-conformance: %d passed of %d kept (%.1f%%), %d skipped"
          % (passed, kept, 100.0 * passed / kept if kept else 0.0, skipped))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
