#!/bin/sh
# explain.sh: `strata exec --explain` narrates a command on standard error, one
# line a step, and leaves standard output as it is without the option: an
# accepted command (state loaded, payload with defaults, rules with their values,
# events, state changes, invariants, append, projections behind), a rejected one
# (the rule's values), a wrong --expect-version, and real retries between
# concurrent writers (a conflict line per retry).
. "$(dirname "$0")/lib.sh"
export STRATA_DOMAIN=$ROOT/domains/bank.yaml STRATA_DB=$TMP/x.db

run "$STRATA" exec OpenAccount accountId=A owner=Al --explain
expect_rc 0 "accepted, explained"
expect_contains "$ERR" "explain: payload validated: {\"accountId\":\"A\",\"owner\":\"Al\",\"initialDeposit\":0} (defaults filled: initialDeposit=0)" "payload and the defaults filled"
expect_contains "$ERR" "explain: state loaded: Account-A is new" "state loaded"
expect_contains "$ERR" "explain: require state.status == 'none': state.status (\"none\") == 'none' is true -> holds" "require with its values"
expect_contains "$ERR" "explain: emit AccountOpened {\"owner\":\"Al\"" "events emitted"
expect_contains "$ERR" "explain: state status: \"none\" -> \"open\"" "state change before -> after"
expect_contains "$ERR" "explain: invariant state.balance >= 0: state.balance (0) >= 0 is true -> holds" "invariant checked"
expect_contains "$ERR" "explain: append to Account-A expecting version 0: positions 1-1" "append with positions and expected version"
expect_contains "$ERR" "explain: projection AccountList: 1 event behind" "projections behind"
with=$OUT
"$STRATA" exec Deposit accountId=A amount=150 >/dev/null
run "$STRATA" exec Deposit accountId=A amount=5 --id same
without=$(printf '%s' "$OUT" | sed 's/"time":"[^"]*"//; s/"position":[0-9]*//; s/"version":[0-9]*//')
expect_eq "$ERR" "" "without --explain, nothing on standard error"
run "$STRATA" exec Deposit accountId=A amount=5 --id other --explain
again=$(printf '%s' "$OUT" | sed 's/"time":"[^"]*"//; s/"position":[0-9]*//; s/"version":[0-9]*//; s/other/same/')
expect_eq "$again" "$without" "standard output unchanged by --explain"
case "$with" in '{"position":1'*) ok "stdout holds the events" ;; *) not_ok "stdout holds the events" "$with" ;; esac

run "$STRATA" exec Withdraw accountId=A amount=500 --explain
expect_rc 3 "rejected, explained"
expect_contains "$ERR" "explain: require state.balance >= payload.amount: state.balance (160) >= payload.amount (500) is false -> rejected: insufficient funds" "the failed rule with the values it read"
expect_contains "$ERR" "explain: outcome: rejected" "outcome rejected"
expect_not_contains "$ERR" "explain: append" "a rejected command appends nothing"

run "$STRATA" exec Deposit accountId=A amount=1 --expect-version 1 --explain
expect_rc 4 "wrong --expect-version, explained"
expect_contains "$ERR" "expecting version 1: conflict on attempt 1: stream Account-A is at version 4, expected 1" "the conflict line"

# Real retries: six writers, five commands each, on one stream.
for i in 1 2 3 4 5 6; do
    ( for j in 1 2 3 4 5; do "$STRATA" exec Deposit accountId=A amount=1 --explain >/dev/null 2>>"$TMP/n$i.txt"; done ) &
done
wait
n=$(cat "$TMP"/n*.txt | grep -c "conflict on attempt")
r=$(cat "$TMP"/n*.txt | grep -c "outcome: accepted after")
if [ "$n" -gt 0 ] && [ "$r" -gt 0 ]; then ok "concurrent writers: $n conflict lines, $r commands accepted after a retry"; else not_ok "concurrent writers narrate their conflicts" "$(cat "$TMP"/n1.txt)"; fi
a=$(cat "$TMP"/n*.txt | grep -c "explain: outcome: accepted")
expect_eq "$a" 30 "every concurrent command was accepted in the end"
# Snapshots: written, then loaded from.
sed 's/snapshot_every: 50/snapshot_every: 2/' "$ROOT/domains/bank.yaml" >"$TMP/snap.yaml"
"$STRATA" exec OpenAccount accountId=S owner=Sa --domain "$TMP/snap.yaml" --db "$TMP/s.db" >/dev/null
run "$STRATA" exec Deposit accountId=S amount=3 --explain --domain "$TMP/snap.yaml" --db "$TMP/s.db"
expect_contains "$ERR" "explain: snapshot written: Account-S at version 2" "the snapshot written"
run "$STRATA" exec Deposit accountId=S amount=3 --explain --domain "$TMP/snap.yaml" --db "$TMP/s.db"
expect_contains "$ERR" "explain: state loaded: Account-S at version 2, from the snapshot at version 2 plus 0 events" "state loaded from the snapshot"
run "$STRATA" exec Deposit accountId=A amount=1 --explain
expect_clean_stderr "exec --explain"
done_testing
