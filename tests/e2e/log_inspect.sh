#!/bin/sh
# log_inspect.sh: a user inspecting a foreign log with no domain: import through a
# map file, then the workbench on the store alone (events, streams, timeline).
. "$(dirname "$0")/lib.sh"
DB=$(fresh_db log)
run "$STRATA" import --db "$DB" --map "$ROOT/samples/audit.map.yaml" --sort time "$ROOT/samples/audit.json"
expect_rc 0 "import a JSON log through a map file"
cat >"$TMP/look.script" <<SCRIPT
2
:save-display $TMP/events.txt
3
:save-display $TMP/streams.txt
[
:save-display $TMP/past.txt
SCRIPT
run env STRATA_SCRIPT="$TMP/look.script" STRATA_NO_DISPLAY=1 LINES=24 COLUMNS=80 \
    timeout 60 "$STRATA" tui --db "$DB"
expect_rc 0 "the workbench opens a store without a domain"
expect_clean_stderr "workbench without a domain"
expect_contains "$(cat "$TMP/events.txt")" "(no domain)" "the header says there is no domain"
expect_contains "$(cat "$TMP/events.txt")" "Events, newest first" "the events view lists the log"
expect_contains "$(cat "$TMP/streams.txt")" "Streams (" "the streams view lists the log's streams"
expect_contains "$(cat "$TMP/past.txt")" "AS OF" "the timeline scrubs back through the log"
run "$STRATA" tui
expect_rc 2 "with neither a domain nor a store it says what to give"
done_testing
