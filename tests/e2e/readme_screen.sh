#!/bin/sh
# readme_screen.sh: the workbench capture at the top of README.md is current. It
# is made as the scripted workbench tests make theirs (tests/tui/run.sh): the
# shipped samples/bank.ndjson imported into a fresh store, the projections
# folded, the dashboard at 120x35 saved with :save-display in script mode, with
# the clock, the terminal and the locale pinned. The capture must equal the
# ```text block after the README's "<!-- workbench screen" marker.
#   UPDATE=1 sh tests/e2e/readme_screen.sh   rewrites that block (review the diff!)
. "$(dirname "$0")/lib.sh"
README=$ROOT/README.md
dir=$TMP/shot
mkdir -p "$dir"
cp "$ROOT/domains/bank.yaml" "$dir/bank.yaml"
cat >"$dir/shot.script" <<'SCRIPT'
:resize 120 35
3
<Enter>
:save-display screen.txt
SCRIPT
(cd "$dir" && "$STRATA" import --domain bank.yaml "$ROOT/samples/bank.ndjson" >/dev/null &&
    "$STRATA" project --domain bank.yaml >/dev/null &&
    env STRATA_SCRIPT=shot.script STRATA_NO_DISPLAY=1 TERM=xterm-256color LINES=35 COLUMNS=120 \
        TZ=UTC LANG=C.UTF-8 LC_ALL=C.UTF-8 HOME="$dir" NO_COLOR=1 STRATA_NOW=2026-01-02T00:00:00Z \
        timeout -k 2 60 "$STRATA" tui --domain bank.yaml) >"$dir/log" 2>&1
expect_eq "$?" 0 "the workbench saves the dashboard in script mode"
[ -f "$dir/screen.txt" ] || { not_ok "screen.txt saved" "$(cat "$dir/log")"; done_testing; exit 1; }

# The README's block: the lines between the ```text after the marker and the next ```.
block() {
    awk '/^<!-- workbench screen/ { m = 1; next } m == 1 && /^```text$/ { m = 2; next }
         m == 2 && /^```$/ { exit } m == 2 { print }' "$README"
}
if [ -n "$UPDATE" ]; then
    awk -v shot="$dir/screen.txt" '
        /^<!-- workbench screen/ { print; m = 1; next }
        m == 1 && /^```text$/ { print; while ((getline l < shot) > 0) print l; m = 2; next }
        m == 2 && /^```$/ { m = 3 }
        m == 2 { next }
        { print }' "$README" >"$dir/README.new" && cp "$dir/README.new" "$README"
    ok "README.md's screen updated"
elif block | diff -u - "$dir/screen.txt" >"$dir/diff"; then
    ok "README.md's workbench screen is current"
else
    not_ok "README.md's workbench screen is current (UPDATE=1 sh tests/e2e/readme_screen.sh rewrites it)" \
        "$(head -60 "$dir/diff")"
fi
done_testing
