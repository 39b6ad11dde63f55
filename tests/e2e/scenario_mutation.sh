#!/bin/sh
# scenario_mutation.sh: the shipped domains' scenarios must notice when a piece of
# the domain they cover is taken away. For each domain in domains/, one mutant per
# projection handler (each entry under a projection's `on:`, removed), per
# `delete: true` (made `delete: false`) and per command's emit entry (removed);
# a mutant that still loads (`strata check`) must make `strata test` fail. A
# mutant that survives is a gap in the scenarios. The mutants are made by lines
# and indentation (the files are block YAML with one handler or emit per entry),
# because a YAML round trip would lose the files' shape, and `on:` is a boolean
# to YAML 1.1 parsers. The last line is "# killed K of N mutants".
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 2

if ! command -v python3 >/dev/null 2>&1; then
    ok "mutation test # SKIP python3 is not installed"
    done_testing
    exit
fi

# mutate.py DOMAIN OUTDIR: writes OUTDIR/N.yaml and OUTDIR/N.what for each mutant.
cat >"$TMP/mutate.py" <<'EOF'
import os, re, sys

path, out = sys.argv[1], sys.argv[2]
lines = open(path).read().split('\n')

def indent(s):
    return len(s) - len(s.lstrip(' '))

def blank(s):
    t = s.strip()
    return t == '' or t.startswith('#')

def block_end(i):
    """The line after entry i and everything indented under it."""
    ind, j = indent(lines[i]), i + 1
    while j < len(lines) and (blank(lines[j]) or indent(lines[j]) > ind):
        j += 1
    while j > i + 1 and blank(lines[j - 1]):  # trailing blank lines stay
        j -= 1
    return j

def children(i):
    """Entries directly under the mapping or list key at line i."""
    ind, j, kids, child = indent(lines[i]), i + 1, [], None
    while j < len(lines) and (blank(lines[j]) or indent(lines[j]) > ind):
        if not blank(lines[j]):
            if child is None:
                child = indent(lines[j])
            if indent(lines[j]) == child:
                kids.append(j)
        j += 1
    return kids

def section(name):
    for i, l in enumerate(lines):
        if l.startswith(name + ':'):
            return i
    return None

mutants = []
def add(what, new):
    mutants.append((what, new))

def name_of(l):
    return re.sub(r'^[\s-]*', '', l).split(':')[0]

p = section('projections')
if p is not None:
    for pi in children(p):
        for k in children(pi):
            if name_of(lines[k]) != 'on':
                continue
            for h in children(k):
                what = '%s.on.%s' % (name_of(lines[pi]), name_of(lines[h]))
                add(what + ' removed', lines[:h] + lines[block_end(h):])
                for d in range(h, block_end(h)):
                    if re.search(r'\bdelete:\s*true\b', lines[d]):
                        new = list(lines)
                        new[d] = re.sub(r'\bdelete:\s*true\b', 'delete: false', lines[d])
                        add(what + ' delete: false', new)

a = section('aggregates')
if a is not None:
    for i in range(a + 1, len(lines)):
        if not blank(lines[i]) and indent(lines[i]) == 0:
            break
        if re.match(r'^\s*emit:\s*(#.*)?$', lines[i]):
            cmd = next(name_of(lines[j]) for j in range(i - 1, a, -1)
                       if not blank(lines[j]) and indent(lines[j]) < indent(lines[i]))
            items = children(i)
            for n, e in enumerate(items):
                ev = name_of(lines[e])
                if ev == 'when':  # `- when: ...` then the event on the next line
                    ev = name_of(lines[e + 1])
                new = lines[:e] + lines[block_end(e):]
                if len(items) == 1:
                    new[i] = lines[i].replace('emit:', 'emit: []', 1)
                add('%s.emit[%d] (%s) removed' % (cmd, n, ev), new)

os.makedirs(out, exist_ok=True)
for n, (what, new) in enumerate(mutants):
    open(os.path.join(out, '%d.yaml' % n), 'w').write('\n'.join(new))
    open(os.path.join(out, '%d.what' % n), 'w').write(what)
print(len(mutants))
EOF

killed=0
total=0
for f in domains/*.yaml; do
    d=$(basename "$f" .yaml)
    run "$STRATA" test "$f"
    expect_rc 0 "$d: the unmutated scenarios pass"
    n=$(python3 "$TMP/mutate.py" "$f" "$TMP/$d")
    if [ -z "$n" ] || [ "$n" = 0 ]; then
        not_ok "$d: mutants were made" "mutate.py made none"
        continue
    fi
    i=0
    while [ "$i" -lt "$n" ]; do
        m="$TMP/$d/$i.yaml"
        what=$(cat "$TMP/$d/$i.what")
        i=$((i + 1))
        run "$STRATA" check "$m"
        if [ "$RC" != 0 ]; then
            ok "$d: $what # SKIP the mutant does not load: $(printf %s "$ERR" | head -n 1)"
            continue
        fi
        total=$((total + 1))
        run "$STRATA" test "$m"
        case "$ERR" in *Sanitizer*|*"runtime error"*)
            not_ok "$d: $what: sanitizer clean" "$ERR" ;;
        esac
        if [ "$RC" = 1 ]; then
            killed=$((killed + 1))
            ok "$d: $what: a scenario fails"
        else
            not_ok "$d: $what: survives (no scenario covers it)" "exit $RC" "$(printf %s "$OUT" | tail -n 1)"
        fi
    done
done
echo "# killed $killed of $total mutants"
done_testing
