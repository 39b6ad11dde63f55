#!/bin/sh
# bisect.sh: end-to-end tests of `strata bisect`: a condition over a row that
# breaks at a known position (and one that breaks and recovers: the first
# position still), over an aggregate's state, one that holds through the head,
# a keyless projection, `--fails` after an edit of the domain makes a handler
# and an apply fail on one stored event, and usage and expression errors.
. "$(dirname "$0")/lib.sh"

D="$ROOT/domains/bank.yaml"
DB="$TMP/bank.db"
"$STRATA" import --domain "$D" --db "$DB" "$ROOT/tests/tui/fixture.ndjson" >/dev/null 2>&1
B() { run "$STRATA" bisect --domain "$D" --db "$DB" "$@"; }

# A: 300 (1), 320 (2), 70 (4), 75 (11): below 100 first at 4
B --projection AccountList --key A 'row.balance >= 100'
expect_rc 0 "bisect over a row"
expect_contains "$OUT" '{"holds":false,"position":4,"type":"MoneyWithdrawn","stream":"Account-A","before":{' "breaks at position 4"
expect_contains "$OUT" '"balance":320' "with the row before"
expect_contains "$OUT" '"after":{"owner":"Alice","balance":70' "and after"
B --projection AccountList --key A 'row.balance >= 0'
expect_out '{"holds":true,"through":12}' "a condition that holds through the head"
B --projection AccountList --key A 'row.balance != 320'
expect_contains "$OUT" '"position":2,' "false only at 2 (then true again): the first position, exactly"
B --projection AccountList --key A 'row.balance >= 100' --at 3
expect_out '{"holds":true,"through":3}' "--at bounds the search"

# an aggregate's state
B --aggregate Account --id B 'state.balance < 500'
expect_contains "$OUT" '{"holds":false,"position":6,"type":"MoneyDeposited","stream":"Account-B","before":{"status":"open","owner":"Bob","balance":50},"after":{"status":"open","owner":"Bob","balance":1050}}' "bisect over a state"
B --aggregate Account --id A "state.status != 'closed'"
expect_out '{"holds":true,"through":12}' "a state condition that holds"
# a keyless projection
B --projection BankStats 'row.open < 3'
expect_contains "$OUT" '"position":7,"type":"AccountOpened"' "a keyless projection (no --key)"

# --fails: nothing fails with the domain the events were written under
B --projection AccountList --fails
expect_out '{"holds":true,"through":12}' "--fails: every event folds"
B --aggregate Account --fails
expect_out '{"holds":true,"through":12}' "--fails over every stream"

# after editing the domain: withdrawing exactly 250 now divides by zero
sed -e 's|MoneyWithdrawn: {balance: "row.balance - event.amount", lastActivity: meta.time}|MoneyWithdrawn: {balance: "row.balance - event.amount / (event.amount - 250) * (event.amount - 250)", lastActivity: meta.time}|' \
    -e 's|apply: {balance: "state.balance - event.amount"}|apply: {balance: "state.balance - 250 / (event.amount - 250)"}|' "$D" >"$TMP/edited.yaml"
run grep -c '(event.amount - 250)' "$TMP/edited.yaml"
expect_eq "$OUT" 2 "the edited domain (two expressions changed)"
E() { run "$STRATA" bisect --domain "$TMP/edited.yaml" --db "$DB" "$@"; }
E --projection AccountList --fails
expect_rc 0 "--fails after an edit"
expect_contains "$OUT" '{"holds":false,"position":4,"type":"MoneyWithdrawn","stream":"Account-A"' "the first event the edited handler cannot fold"
expect_contains "$OUT" '"after":null,"error":"' "with why"
expect_contains "$OUT" 'division by zero' "division by zero"
expect_contains "$OUT" '"before":{"owner":"Alice","balance":320' "and the row before (from the dry run)"
E --aggregate Account --fails
expect_contains "$OUT" '{"holds":false,"position":4,"type":"MoneyWithdrawn"' "--fails over every stream of the aggregate"
expect_contains "$OUT" '"before":{"status":"open","owner":"Alice","balance":320}' "with the state before"
E --aggregate Account --id A --fails
expect_contains "$OUT" '"position":4,' "--fails over one stream"
E --aggregate Account --id B --fails
expect_out '{"holds":true,"through":12}' "--fails over a stream whose withdrawal (1000) still folds"
E --aggregate Account --id D --fails
expect_out '{"holds":true,"through":12}' "--fails over a stream with no withdrawal"
# the dry run wrote nothing: the live projection is as it was
run "$STRATA" query --domain "$D" --db "$DB" AccountList --key A
expect_contains "$OUT" '"balance":75' "--fails writes nothing"

# mistakes
B --projection AccountList --key A 'row.balanse > 1'
expect_rc 1 "an unknown field in the condition"
expect_contains "$ERR" "\`row.balanse > 1\`: column 5: unknown field 'balanse' of row (did you mean 'balance'?)" "column N, did you mean"
B --projection AccountList --key A 'row.balance + 1'
expect_contains "$ERR" "not a condition" "a condition must be a bool"
B --projection AccountList --key A 'state.balance > 1'
expect_rc 1 "state is not a row"
B --projection AccountList 'row.balance > 1'
expect_rc 2 "a keyed projection needs --key"
B --projection BankStats --key x 'row.open > 1'
expect_rc 2 "a keyless projection takes no --key"
B --aggregate Account 'state.balance > 1'
expect_rc 2 "an aggregate condition needs --id"
B --projection AccountLis --key A 'row.balance > 1'
expect_contains "$ERR" "did you mean 'AccountList'?" "an unknown projection"
B --aggregate Acount --fails
expect_contains "$ERR" "did you mean 'Account'?" "an unknown aggregate"
B --projection AccountList --fails 'row.balance > 1'
expect_rc 2 "--fails takes no condition"
B 'row.balance > 1'
expect_rc 2 "--projection or --aggregate"
B --projection AccountList --key ZZ 'row.balance > 1'
expect_contains "$ERR" "no row with key 'ZZ'" "a key without a row"
expect_clean_stderr "bisect"

done_testing
