#!/bin/sh
# run.sh: the workbench's scripted tests (tig's way). For each tests/tui/NAME.script
# it builds a fresh store from tests/tui/fixture.ndjson (plus NAME.setup, a shell
# snippet, when there is one), runs the workbench with STRATA_SCRIPT=NAME.script on
# an in-memory 80x24 screen with TERM, LINES, COLUMNS, TZ, LANG, HOME and the
# commands' clock (STRATA_NOW) pinned and a watchdog, then compares the screens the
# script saved (:save-display FILE), in order, with NAME.expected.
#   UPDATE=1 sh tests/tui/run.sh   rewrites the .expected files (review the diff!)
#   ONLY=NAME                      runs one script
. "$(dirname "$0")/../e2e/lib.sh"
DOMAIN=$ROOT/domains/bank.yaml
HERE=$ROOT/tests/tui

for script in "$HERE"/*.script; do
    name=$(basename "$script" .script)
    [ -n "$ONLY" ] && [ "$ONLY" != "$name" ] && continue
    dir=$TMP/$name
    mkdir -p "$dir"
    if ! (cd "$dir" && "$STRATA" import --domain "$DOMAIN" "$HERE/fixture.ndjson" >/dev/null 2>setup.err); then
        not_ok "$name: setting up the store" "$(cat "$dir/setup.err")"
        continue
    fi
    if [ -f "$HERE/$name.setup" ]; then
        (cd "$dir" && STRATA=$STRATA DOMAIN=$DOMAIN HERE=$HERE . "$HERE/$name.setup") >"$dir/setup.out" 2>&1 ||
            { not_ok "$name: $name.setup" "$(cat "$dir/setup.out")"; continue; }
    fi
    (cd "$dir" && env STRATA_SCRIPT="$script" STRATA_NO_DISPLAY=1 TERM=xterm-256color LINES=24 \
        COLUMNS=80 TZ=UTC LANG=C.UTF-8 LC_ALL=C.UTF-8 HOME="$dir" NO_COLOR=1 \
        STRATA_NOW=2020-01-02T00:00:00Z STRATA_SCRIPT_TIMEOUT=20 \
        timeout -k 2 60 "$STRATA" tui --domain "$DOMAIN" >stdout 2>stderr)
    rc=$?
    if [ "$rc" = 0 ]; then ok "$name: exits 0"; else not_ok "$name: exits 0" "status $rc" "$(head -c 2000 "$dir/stderr")"; fi
    if grep -qE 'Sanitizer|runtime error' "$dir/stderr"; then
        not_ok "$name: sanitizer clean" "$(head -c 3000 "$dir/stderr")"
    else
        ok "$name: sanitizer clean"
    fi
    grep '^:save-display ' "$script" | while read -r _ f; do
        echo "=== $f ==="
        if [ -f "$dir/$f" ]; then cat "$dir/$f"; else echo "(not saved)"; fi
    done >"$dir/actual"
    if [ -n "$UPDATE" ]; then
        cp "$dir/actual" "$HERE/$name.expected"
        ok "$name: screens updated"
    elif diff -u "$HERE/$name.expected" "$dir/actual" >"$dir/diff" 2>&1; then
        ok "$name: screens as expected"
    else
        not_ok "$name: screens as expected" "$(sed 's/^/#   /' "$dir/diff" | head -80)"
    fi
done
done_testing
