#!/bin/sh
# commands.sh: strata exec, state (now, --at, --at-time), test, on the shipped bank.
. "$(dirname "$0")/lib.sh"
# One store per name: a file, or a PostgreSQL schema (STRATA_TEST_DB_KIND=pg).
for _db in bank; do eval "DB_$_db=\$(fresh_db $_db)"; done
D="$ROOT/domains/bank.yaml"
DB="$DB_bank"
S() { run "$STRATA" --domain "$D" --db "$DB" "$@"; }

S exec OpenAccount accountId=A owner=Alice initialDeposit=100
expect_rc 0 "exec OpenAccount succeeds"
expect_contains "$OUT" '"position":1,"stream":"Account-A","version":1,"type":"AccountOpened","schema":2' "exec prints the appended event as canonical NDJSON"
expect_contains "$OUT" '"data":{"owner":"Alice","initialDeposit":100,"currency":"EUR"}' "emitted data follows the emit fields"
expect_contains "$OUT" '"meta":{"command":"OpenAccount","commandId":"' "meta names the command and its id"

S exec Deposit accountId=A amount=50
expect_rc 0 "exec Deposit succeeds"
S exec Withdraw accountId=A amount=500
expect_rc 3 "a rule that fails exits 3"
expect_contains "$ERR" "rejected: insufficient funds" "the rule's message on stderr"
expect_contains "$ERR" "150" "the explanation shows the values involved"
S exec Withdraw accountId=A amount=abc
expect_rc 1 "a payload that does not fit exits 1"
expect_contains "$ERR" "'amount'" "the error names the field"
S exec Withdraw accountId=A amount=0
expect_rc 1 "a constraint that fails exits 1"
expect_contains "$ERR" "amount" "the constraint error names the field"
S exec Withdrw accountId=A amount=5
expect_rc 1 "an unknown command exits 1"
expect_eq "$ERR" "strata exec: unknown command 'Withdrw' (did you mean 'Withdraw'?)" "an unknown command suggests the right one"
S exec Transfer accountId=A amount=5
expect_rc 1 "a far-off unknown command exits 1"
expect_eq "$ERR" "strata exec: unknown command 'Transfer' in domain bank" "a far-off command gets no suggestion"
S exec Withdraw accountId=A amount=60
expect_rc 0 "a withdrawal within the balance succeeds"
expect_contains "$OUT" '"type":"LowBalanceWarned"' "emit with when adds a second event"

S state Acount A
expect_rc 1 "state of an unknown aggregate exits 1"
expect_eq "$ERR" "strata state: unknown aggregate 'Acount' (did you mean 'Account'?)" "an unknown aggregate suggests the right one"
S state Account A
expect_rc 0 "state prints"
expect_out '{"stream":"Account-A","version":4,"position":4,"state":{"status":"open","owner":"Alice","balance":90}}' "state is the fold of every event"
S state Account A --at 2
expect_out '{"stream":"Account-A","version":2,"position":2,"state":{"status":"open","owner":"Alice","balance":150}}' "state --at shows the past"
S state Account Z
expect_rc 0 "an instance without events shows its initial state (exit 0)"
expect_out '{"stream":"Account-Z","version":0,"position":0,"state":{"status":"none","owner":"","balance":0}}' "the initial state, version 0"
expect_contains "$ERR" "note: stream Account-Z has no events" "and a note says it has no events"
S state Account A --at-time 1999-01-01T00:00:00Z
expect_rc 1 "a time before the first event exits 1"
S state Account A --at-time 2999-01-01
expect_rc 0 "a time after the last event is now"
expect_contains "$OUT" '"version":4' "at-time after the last event is the whole stream"

S exec Deposit accountId=A amount=5 --id dep-1
expect_rc 0 "a command with an id"
first=$OUT
S exec Deposit accountId=A amount=5 --id dep-1
expect_rc 0 "the same id again succeeds"
expect_out "$first" "and prints what the first run appended"
S state Account A
expect_contains "$OUT" '"balance":95' "the repeat appended nothing"

S exec Deposit accountId=A amount=1 --expect-version 2
expect_rc 4 "a wrong expected version exits 4 at once"
S exec Deposit accountId=A amount=1 --expect-version 5
expect_rc 0 "the right expected version appends"

# An old v1 AccountOpened, stored as written, is upcast when read.
cat >"$TMP/old.ndjson" <<'NDJSON'
{"position":1,"stream":"Account-OLD","version":1,"type":"AccountOpened","schema":1,"time":"2020-01-01T00:00:00.000Z","data":{"name":"Olga","deposit":7}}
NDJSON
S import "$TMP/old.ndjson"
expect_rc 0 "import an event stored as schema 1"
S state Account OLD
expect_contains "$OUT" '"owner":"Olga","balance":7' "state upcasts v1 events"
S events --stream Account-OLD
expect_contains "$OUT" '"schema":2' "events shows the upcast event"
expect_contains "$OUT" '"data":{"owner":"Olga","initialDeposit":7,"currency":"EUR"}' "with the upcast data"
S events --stream Account-OLD --raw
expect_contains "$OUT" '"schema":1' "events --raw shows it as stored"
expect_contains "$OUT" '"data":{"name":"Olga","deposit":7}' "with the stored data"

for f in "$ROOT"/domains/*.yaml; do
    run "$STRATA" test "$f"
    expect_rc 0 "scenarios of $(basename "$f") pass"
    expect_contains "$OUT" " passed, 0 failed" "strata test ends with the count line ($(basename "$f"))"
done

cat >"$TMP/failing.yaml" <<'YAML'
domain: failing
aggregates:
  Thing:
    id: thingId
    state:
      n: {type: int, default: 0}
    commands:
      Bump:
        payload: {thingId: string}
        emit:
          - Bumped: {}
    events:
      Bumped:
        fields: {}
        apply: {n: "state.n + 1"}
scenarios:
  - name: bumping twice gives two
    given:
      - {stream: Thing-T, type: Bumped, data: {}}
    when: {command: Bump, payload: {thingId: T}}
    then:
      state: {n: 3}
YAML
run "$STRATA" test "$TMP/failing.yaml"
expect_rc 1 "a failing scenario exits 1"
expect_contains "$OUT" "0 passed, 1 failed" "and is counted"
expect_contains "$OUT" "state.n: expected 3, got 2" "the failure shows expected and actual"

# An expression that fails at run time names FILE:LINE:COL of its operator, also
# on the third line of a folded scalar, in an emit, and in a projection's literal.
cd "$ROOT" || exit 2
R=tests/domains/runtime_error.yaml
RDB="$TMP/runtime.db"
run "$STRATA" --domain $R --db "$RDB" exec Split x=a parts=0
expect_rc 1 "a rule that fails to evaluate exits 1"
expect_eq "$ERR" "strata exec: $R:17:19: \`payload.parts >= 0 && state.n >= 0 && 100 / payload.parts > 1\`: division by zero" "a folded rule's error names its line and column"
run "$STRATA" --domain $R --db "$RDB" exec Split x=a parts=1
expect_rc 1 "an emit that fails to evaluate exits 1"
expect_contains "$ERR" "$R:20:33: \`100 / (payload.parts - 1)\`: division by zero" "an emit's error names its line and column"
run "$STRATA" --domain $R --db "$RDB" exec Split x=a parts=3
expect_rc 0 "a command that evaluates appends"
run "$STRATA" --domain $R --db "$RDB" project
expect_rc 1 "a projection that fails exits 1"
expect_contains "$OUT" "projections.Shares.on.Split.set.share: $R:33:16: \`" "a projection's literal expression names its line and column"

done_testing
