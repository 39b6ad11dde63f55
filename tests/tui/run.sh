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
    # The domain is copied next to the store, so that messages naming it
    # (bank.yaml:90:24: ...) do not depend on where the repository is.
    cp "$DOMAIN" "$dir/bank.yaml"
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
        timeout -k 2 60 "$STRATA" tui --domain bank.yaml >stdout 2>stderr)
    rc=$?
    if [ "$rc" = 0 ]; then ok "$name: exits 0"; else not_ok "$name: exits 0" "status $rc" "$(head -c 2000 "$dir/stderr")"; fi
    # Only a sanitizer build can report (lib.sh sets SANITIZED); elsewhere this
    # check could not fail, so it is not made.
    if [ -n "$SANITIZED" ]; then
        if grep -qE 'Sanitizer|runtime error' "$dir/stderr"; then
            not_ok "$name: sanitizer clean" "$(head -c 3000 "$dir/stderr")"
        else
            ok "$name: sanitizer clean"
        fi
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

# How the workbench refuses what it cannot do, with a message and a status.
if [ -z "$ONLY" ]; then
    cd "$TMP" || exit 1
    run env -u STRATA_DOMAIN "$STRATA" tui
    expect_rc 2 "tui without a domain is a usage error"
    expect_contains "$ERR" "no domain" "tui without a domain says so"
    run sh -c "'$STRATA' tui --domain '$DOMAIN' --db '$TMP/c.db' </dev/null"
    expect_rc 2 "tui without a terminal (and no script) is a usage error"
    expect_contains "$ERR" "needs a terminal" "tui without a terminal says so"
    printf 'j\n<Bogus>\n' >"$TMP/bad.script"
    run env STRATA_SCRIPT="$TMP/bad.script" STRATA_NO_DISPLAY=1 TERM=xterm LINES=24 COLUMNS=80 \
        timeout 30 "$STRATA" tui --domain "$DOMAIN" --db "$TMP/c.db"
    expect_rc 1 "a script with an unknown key name fails"
    expect_contains "$ERR" "bad.script:2: unknown key name '<Bogus>'" "the script's problem is named with file and line"
    run env STRATA_SCRIPT="$TMP/none.script" STRATA_NO_DISPLAY=1 TERM=xterm timeout 30 "$STRATA" tui --domain "$DOMAIN" --db "$TMP/c.db"
    expect_rc 1 "a missing script fails"
    expect_contains "$ERR" "none.script" "the missing script is named"
    run env STRATA_NOW=yesterday STRATA_SCRIPT="$TMP/bad.script" STRATA_NO_DISPLAY=1 TERM=xterm "$STRATA" tui --domain "$DOMAIN" --db "$TMP/c.db"
    expect_rc 2 "a bad STRATA_NOW is a usage error"
fi
done_testing
