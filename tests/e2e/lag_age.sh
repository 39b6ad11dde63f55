#!/bin/sh
# lag_age.sh: a projection's lag age is measured from when its oldest unfolded
# event was appended (migration append_time), not from the event's own `time`:
# a log imported with old times is seconds behind, not years.
. "$(dirname "$0")/lib.sh"
D=$ROOT/domains/bank.yaml
DB=$(fresh_db old)
run "$STRATA" import "$ROOT/samples/bank.ndjson" --domain "$D" --db "$DB"
expect_rc 0 "import a log with times from 2026-01-01"
run "$STRATA" project --status --json --domain "$D" --db "$DB"
expect_rc 0 "project --status"
age=$(printf '%s\n' "$OUT" | head -1 | sed -n 's/.*"seconds_behind":\([0-9.]*\).*/\1/p')
if [ -n "$age" ] && awk "BEGIN{exit !($age < 60)}"; then ok "lag age is since the append ($age s), not since the events' time"; else not_ok "lag age is since the append" "$OUT"; fi
run "$STRATA" sql --json --db "$DB" "SELECT count(*) AS n FROM append_times"
expect_out '{"n":1}' "one append-time row for the whole import (one transaction)"
now=$(($(date +%s) * 1000))
run "$STRATA" sql --json --db "$DB" "SELECT appended_at FROM append_times"
at=$(printf %s "$OUT" | sed 's/[^0-9]//g')
if [ -n "$at" ] && [ $((now - at)) -lt 120000 ] && [ $((now - at)) -gt -120000 ]; then ok "... taken at the append, by the writer's clock"; else not_ok "... taken at the append" "$OUT vs $now"; fi
run "$STRATA" sql --json --db "$DB" "SELECT min(time) AS t FROM events"
expect_contains "$OUT" "2026-01-01" "the events keep their own time for the timeline"
done_testing
