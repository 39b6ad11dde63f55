#!/bin/sh
# why.sh: end-to-end tests of `strata why NAME KEY [FIELD] [--at P]`: a
# projection field's lines add up to its value (after - before summed equals
# `query`'s), an aggregate's field at --at agrees with `state --at`, every
# field, a keyless projection with `-`, the expression and its FILE:LINE:COL,
# the table, and bad names with a suggestion.
. "$(dirname "$0")/lib.sh"

D="$ROOT/domains/bank.yaml"
DB="$TMP/bank.db"
"$STRATA" import --domain "$D" --db "$DB" "$ROOT/tests/tui/fixture.ndjson" >/dev/null 2>&1
for i in 1 2 3 4 5 6 7 8; do
    "$STRATA" exec --domain "$D" --db "$DB" Deposit accountId=A amount=$((i * 7)) >/dev/null
    "$STRATA" exec --domain "$D" --db "$DB" Withdraw accountId=A amount=$i >/dev/null
done
W() { run "$STRATA" why --domain "$D" --db "$DB" "$@"; }

# sum of (after - before) over the lines of a field
sum_diff() {
    python3 -c 'import json,sys
print(sum(json.loads(l)["after"] - json.loads(l)["before"] for l in sys.stdin if l.strip()))'
}
field_of() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }

W AccountList A balance
expect_rc 0 "why AccountList A balance"
lines=$(printf '%s\n' "$OUT" | wc -l)
expect_eq "$lines" 20 "one line per event that changed the balance (4 + 16)"
sum=$(printf '%s\n' "$OUT" | sum_diff)
run "$STRATA" query --domain "$D" --db "$DB" AccountList --key A
bal=$(printf '%s\n' "$OUT" | field_of balance)
expect_eq "$sum" "$bal" "the lines add up to query's balance ($bal)"
W AccountList A balance
first=$(printf '%s\n' "$OUT" | head -1)
expect_contains "$first" '"position":1,"stream":"Account-A","version":1,"type":"AccountOpened"' "the first line is the opening"
expect_contains "$first" '"field":"balance","before":0,"after":300,"expr":"event.initialDeposit","at":"' "before (the default), after, expression"
expect_contains "$first" 'bank.yaml:89:53"' "its FILE:LINE:COL"
# oldest first
pos=$(printf '%s\n' "$OUT" | python3 -c 'import json,sys; p=[json.loads(l)["position"] for l in sys.stdin]; print(p == sorted(p))')
expect_eq "$pos" True "oldest first"

# an aggregate field at --at agrees with state --at
for P in 4 11 20 28; do
    W Account A balance --at $P
    sum=$(printf '%s\n' "$OUT" | sum_diff)
    run "$STRATA" state --domain "$D" --db "$DB" Account A --at $P
    st=$(printf '%s\n' "$OUT" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["state"]["balance"])')
    expect_eq "$sum" "$st" "why Account A balance --at $P adds up to state --at $P ($st)"
done
W Account A balance --at 4
last=$(printf '%s\n' "$OUT" | tail -1)
expect_contains "$last" '"position":4,' "--at 4 stops at position 4"
expect_contains "$last" '"expr":"state.balance - event.amount","at":"' "the apply expression"

# every field of an aggregate: the opening sets status, owner and balance
W Account A
expect_rc 0 "why Account A (every field)"
n1=$(printf '%s\n' "$OUT" | grep -c '"position":1,')
expect_eq "$n1" 3 "the opening changed three fields"
expect_contains "$OUT" '"field":"status","before":"none","after":"open","expr":"'"'open'"'"' "a string field with its literal"

# a keyless projection with -, a list field
W BankStats - bigWithdrawals
expect_rc 0 "why BankStats - bigWithdrawals"
expect_contains "$OUT" '"before":[],"after":["B"],"expr":"row.bigWithdrawals + [meta.aggregateId]"' "a list's growth"
W BankStats - open
sum=$(printf '%s\n' "$OUT" | sum_diff)
run "$STRATA" query --domain "$D" --db "$DB" BankStats
expect_eq "$sum" "$(printf '%s\n' "$OUT" | field_of open)" "a count adds up (opened minus closed)"
expect_contains "$(W BankStats - open; printf %s "$OUT")" '"type":"AccountClosed"' "a close counts down"

# the table, forced
W AccountList A balance --table
expect_contains "$OUT" "POSITION" "--table has a header"
expect_contains "$OUT" "row.balance + event.amount" "--table shows the expressions"
expect_not_contains "$OUT" '{"position"' "--table is not NDJSON"
W AccountList A balance --json
expect_contains "$OUT" '{"position"' "--json is NDJSON"

# mistakes
W AccuntList A
expect_rc 1 "an unknown name"
expect_contains "$ERR" "unknown projection or aggregate 'AccuntList' (did you mean 'AccountList'?)" "did you mean, over projections and aggregates"
W AccountList A balanse
expect_rc 1 "an unknown column"
expect_contains "$ERR" "unknown column 'balanse' of AccountList (did you mean 'balance'?)" "did you mean, columns"
W Account A balanse
expect_contains "$ERR" "unknown state field 'balanse' of Account (did you mean 'balance'?)" "did you mean, state fields"
W BankStats X
expect_rc 2 "a keyless projection takes -"
expect_contains "$ERR" "give - as its key" "says so"
W AccountList ZZ
expect_rc 1 "a key that never had a row"
expect_contains "$ERR" "AccountList has no row with key 'ZZ'" "says so"
W Account ZZ
expect_contains "$ERR" "stream Account-ZZ has no events" "an instance without events"
W AccountList
expect_rc 2 "a key is needed"
# after an edit of a handler, the projection is stale: a note says whose rules wrote it
sed 's|MoneyWithdrawn: {balance: "row.balance - event.amount"|MoneyWithdrawn: {balance: "row.balance - event.amount * 1"|' "$D" >"$TMP/edited.yaml"
run "$STRATA" why --domain "$TMP/edited.yaml" --db "$DB" AccountList A balance
expect_rc 0 "why on a stale projection"
expect_contains "$ERR" "AccountList is stale (its definition changed)" "says so"
expect_clean_stderr "why"

done_testing
