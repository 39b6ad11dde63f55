#!/bin/sh
# time.sh: timestamps are instants (issue 13) end to end, on tests/domains/booking.yaml:
# a payload time at an offset is stored in UTC, a date without a time is refused with
# the field named, bookings compare as instants across offsets, an older store's
# text is normalized when read, `eval` of timestamps, and `check` refusing an
# instant used as text.
. "$(dirname "$0")/lib.sh"
D="$ROOT/tests/domains/booking.yaml"
DB="$TMP/booking.db"
S() { run "$STRATA" --domain "$D" --db "$DB" "$@"; }

S exec Book roomId=101 guest=ann from=2030-03-01T10:00:00+02:00 to=2030-03-01T11:00:00+02:00 hold=1.5h
expect_rc 0 "a booking written at +02:00 is accepted"
S events
expect_contains "$OUT" '"from":"2030-03-01T08:00:00.000Z","to":"2030-03-01T09:00:00.000Z","hold":"5400s"' "events show it stored in UTC, the duration as seconds"
S export
expect_contains "$OUT" '"from":"2030-03-01T08:00:00.000Z"' "export shows the canonical text"
S state Room 101
expect_contains "$OUT" '"lastTo":"2030-03-01T09:00:00.000Z"' "state holds the canonical text"

S exec Book roomId=102 guest=bob from=2026-03-01 to=2030-03-02T00:00:00Z
expect_rc 1 "a date without a time exits 1"
expect_contains "$ERR" "field 'from'" "the refusal names the field"
expect_contains "$ERR" "date without a time" "the refusal says what is missing"
S exec Book roomId=102 guest=bob from=2026-02-30T10:00:00Z to=2030-03-02T00:00:00Z
expect_rc 1 "an impossible date exits 1"
expect_contains "$ERR" "field 'from'" "the impossible date's refusal names the field"
S exec Book roomId=102 guest=bob from=2026-03-01T25:00:00Z to=2030-03-02T00:00:00Z
expect_rc 1 "an impossible hour exits 1"

# 08:00Z-09:00Z booked; 10:30+02:00 (08:30Z) overlaps though its text sorts after 09:00Z
S exec Book roomId=103 guest=ann from=2030-03-01T08:00:00Z to=2030-03-01T09:00:00Z
expect_rc 0 "an 08:00Z-09:00Z booking"
S exec Book roomId=103 guest=bob from=2030-03-01T10:30:00+02:00 to=2030-03-01T12:00:00+02:00
expect_rc 3 "an overlapping booking written at +02:00 is rejected"
expect_contains "$ERR" "overlaps the last booking" "with the rule's message"
S exec Book roomId=103 guest=bob from=2030-03-01T11:00:00+02:00 to=2030-03-01T12:00:00+02:00
expect_rc 0 "a booking that starts at the last one's end (in UTC) is accepted"

# an older store: the text written as it came, read as an instant
printf '%s\n' '{"position":1,"stream":"Room-9","version":1,"type":"RoomBooked","schema":1,"time":"2026-01-01T00:00:00.000Z","data":{"guest":"old","from":"2030-03-01T10:00:00+02:00","to":"2030-03-01T11:00:00+02:00","hold":"90m","nights":0,"bookedAt":"2026-01-01","room":"Room-9"},"meta":{}}' >"$TMP/old.ndjson"
run "$STRATA" import --db "$TMP/old.db" "$TMP/old.ndjson"
expect_rc 0 "an older store's events import as written"
run "$STRATA" --domain "$D" --db "$TMP/old.db" state Room 9
expect_contains "$OUT" '"lastTo":"2030-03-01T09:00:00.000Z"' "state normalizes the old text when read"
expect_contains "$OUT" '"held":"5400s"' "and the old duration text"
# --force: the imported store is the booking domain's (a store records its domain).
run "$STRATA" --domain "$D" --db "$TMP/old.db" exec --force Book roomId=9 guest=new from=2030-03-01T08:30:00Z to=2030-03-01T08:45:00Z
expect_rc 3 "an old booking at +02:00 still overlaps in UTC"

run "$STRATA" eval "timestamp('2026-03-01T10:00:00+02:00') < timestamp('2026-03-01T09:00:00Z')"
expect_out "true" "eval compares instants, not texts"
run "$STRATA" eval "timestamp('2026-03-01T10:00:00+02:00') + duration('36h')"
expect_out '"2026-03-02T20:00:00.000Z"' "eval prints a timestamp as its canonical text"
run "$STRATA" eval "timestamp('2026-03-01T10:00:00+02:00').getHours()"
expect_out "8" "accessors are in UTC"
run "$STRATA" eval "timestamp('2026-03-01')"
expect_rc 1 "eval refuses a date without a time"

run "$STRATA" check "$ROOT/tests/domains/bad/timestamp_text.yaml"
expect_rc 1 "check refuses an instant used as text"
expect_contains "$ERR" "timestamp_text.yaml:12:35: error: aggregates.Room.commands.Book.emit[0].Booked.note: no such overload: string + timestamp" "at its place"
run "$STRATA" check "$D"
expect_rc 0 "the booking domain checks"
run "$STRATA" test "$D"
expect_contains "$OUT" "4 passed, 0 failed" "its scenarios pass"
done_testing
