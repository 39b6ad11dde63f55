#!/bin/sh
# shape/run.sh: the codebase's shape, checked on every test run (TAP):
# - no two source files call each other's functions, directly or around a circle
#   (scripts/check-cycles.py over the normal build's object files);
# - no source file is over 1,000 lines, so that each can be read in one sitting;
# - the layout is clang-format's, with the repository's .clang-format.
cd "$(dirname "$0")/../.." || exit 2
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

sources=$(git ls-files 'core/*.[ch]' 'cli/*.[ch]' 'tui/*.[ch]' 'verbs/*.[ch]' 'tests/unit/*.[ch]' \
    'tests/fuzz/*.c' 'bench/*.c' 2>/dev/null)
[ -n "$sources" ] || sources=$(ls core/*.[ch] cli/*.[ch] tui/*.[ch] verbs/*.[ch] tests/unit/*.[ch] \
    tests/fuzz/*.c bench/*.c 2>/dev/null)

if out=$(python3 scripts/check-cycles.py build 2>&1); then
    ok "no cycles between source files ($(echo "$out" | tail -1))"
else
    not_ok "no cycles between source files" "$out"
fi

long=""
for f in $sources; do
    lines=$(wc -l <"$f")
    [ "$lines" -gt 1000 ] && long="$long $f:$lines"
done
if [ -z "$long" ]; then
    ok "no source file is over 1,000 lines"
else
    not_ok "no source file is over 1,000 lines" "$long"
fi

if ! command -v clang-format >/dev/null 2>&1; then
    echo "ok $((n + 1)) # SKIP clang-format is not installed"
    n=$((n + 1))
else
    # shellcheck disable=SC2086
    if out=$(clang-format --dry-run -Werror $sources 2>&1); then
        ok "clang-format --dry-run -Werror: every source file is laid out as .clang-format says"
    else
        not_ok "clang-format --dry-run -Werror: every source file is laid out as .clang-format says" \
            "$(echo "$out" | grep -c 'error:') places; run 'make format'" \
            "$(echo "$out" | grep 'error:' | head -5)"
    fi
fi
echo "1..$n"
