#!/bin/sh
# lag_age.sh: a projection's lag age is measured from when its oldest unfolded
# event was appended (migration append_time), not from the event's own `time`:
# a log imported with old times is seconds behind, not years.
. "$(dirname "$0")/lib.sh"
D=$ROOT/domains/bank.yaml
DB=$TMP/old.db
run "$STRATA" import "$ROOT/samples/bank.ndjson" --domain "$D" --db "$DB"
expect_rc 0 "import a log with times from 2026-01-01"
run "$STRATA" project --status --json --domain "$D" --db "$DB"
expect_rc 0 "project --status"
age=$(printf '%s\n' "$OUT" | head -1 | sed -n 's/.*"seconds_behind":\([0-9.]*\).*/\1/p')
if [ -n "$age" ] && awk "BEGIN{exit !($age < 60)}"; then ok "lag age is since the append ($age s), not since the events' time"; else not_ok "lag age is since the append" "$OUT"; fi
run sqlite3 "$DB" "SELECT count(*) FROM append_times"
expect_out 1 "one append-time row for the whole import (one transaction)"
run sqlite3 "$DB" "SELECT min(time) FROM events"
expect_contains "$OUT" "2026-01-01" "the events keep their own time for the timeline"
done_testing
