#!/bin/sh
# scenarios.sh: end-to-end tests of `strata test`'s exact scenarios: a projection
# row that should be gone fails the scenario with the row in the report; a
# failing projection fails it; the fixed clock and STRATA_NOW (a bad one is a
# usage error); a wrong expect_version is reported as a conflict.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 2

cat >"$TMP/d.yaml" <<'YAML'
domain: d
aggregates:
  Thing:
    id: thingId
    state:
      n: {type: int, default: 0}
    commands:
      Bump:
        payload: {thingId: string, by: {type: int, default: 1, min: 0}}
        emit:
          - Bumped: {by: payload.by, at: "now()"}
      Drop:
        payload: {thingId: string}
        emit:
          - Dropped: {}
    events:
      Bumped:
        fields: {by: int, at: timestamp}
        apply: {n: "state.n + event.by"}
      Dropped:
        fields: {}
projections:
  Things:
    key: meta.aggregateId
    columns: {n: 0, per: 0}
    on:
      Bumped: {n: "row.n + event.by", per: "100 / event.by"}
      Dropped: {n: "0"}
scenarios:
  - name: dropping removes the row
    given:
      - {stream: Thing-T, type: Bumped, data: {by: 1, at: "2026-01-01T00:00:00Z"}}
      - {stream: Thing-U, type: Bumped, data: {by: 2, at: "2026-01-01T00:00:00Z"}}
    when: {command: Drop, payload: {thingId: T}}
    then:
      projections: {Things: [{key: U, n: 2}]}
  - name: the row is absent
    given:
      - {stream: Thing-T, type: Bumped, data: {by: 1, at: "2026-01-01T00:00:00Z"}}
    when: {command: Drop, payload: {thingId: T}}
    then:
      projections: {Things: {absent: [T]}}
  - name: a zero bump breaks the projection
    when: {command: Bump, payload: {thingId: T, by: 0}}
    then: {events: [{type: Bumped, data: {by: 0, at: "2026-01-01T00:00:00.000Z"}}]}
  - name: the clock
    given:
      - {stream: Thing-T, type: Bumped, data: {by: 1, at: "2026-01-01T00:00:00Z"}}
    when: {command: Bump, payload: {thingId: T}}
    then: {events: [{type: Bumped, data: {by: 1, at: "2026-01-01T00:00:01.000Z"}}]}
  - name: a stale expected version
    given:
      - {stream: Thing-T, type: Bumped, data: {by: 1, at: "2026-01-01T00:00:00Z"}}
    when: {command: Bump, payload: {thingId: T}, expect_version: 0}
    then: {state: {n: 2}}
YAML

run "$STRATA" test "$TMP/d.yaml"
expect_rc 1 "failing scenarios exit 1"
expect_clean_stderr "failing scenarios"
expect_contains "$OUT" "FAIL $TMP/d.yaml:30: dropping removes the row
  projection Things: expected exactly 1 row(s), got 2
  projection Things: extra row {\"key\":\"T\",\"n\":0,\"per\":100}" "a row that should be gone is reported as extra"
expect_contains "$OUT" "FAIL $TMP/d.yaml:37: the row is absent
  projection Things: expected no row with key \"T\", got {\"key\":\"T\",\"n\":0,\"per\":100}" "absent names the row that is there"
expect_contains "$OUT" "FAIL $TMP/d.yaml:43: a zero bump breaks the projection
  projection Things failed at position 1: " "a failing projection fails the scenario"
expect_contains "$OUT" "ok   $TMP/d.yaml: the clock" "the command runs a second after the last given event"
expect_contains "$OUT" "FAIL $TMP/d.yaml:51: a stale expected version
  the command conflicted: stream Thing-T is at version 1, expected 0" "a wrong expect_version is a conflict"
expect_contains "$OUT" "1 passed, 4 failed" "the count line"

run env STRATA_NOW=2030-06-01T12:00:00+02:00 "$STRATA" test "$TMP/d.yaml"
expect_contains "$OUT" "FAIL $TMP/d.yaml:46: the clock
  event 1 (Bumped): expected data {\"by\":1,\"at\":\"2026-01-01T00:00:01.000Z\"}, got {\"by\":1,\"at\":\"2030-06-01T10:00:00.000Z\"}" "STRATA_NOW is the command's clock"

run env STRATA_NOW=tomorrow "$STRATA" test "$TMP/d.yaml"
expect_rc 2 "a bad STRATA_NOW is a usage error"
expect_contains "$ERR" "STRATA_NOW: 'tomorrow' is not a time" "and says so"

done_testing
