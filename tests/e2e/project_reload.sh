#!/bin/sh
# project_reload.sh: `strata project --follow` while the domain file is edited
# (core/domain_reload.h): a save with an error is reported on stderr with
# FILE:LINE:COL and the follower goes on with the domain in force (new events
# still folded by it); a save that loads is taken up, the projection whose rules
# changed is reported stale and not folded further by the new rules; after
# `project --rebuild-stale` it follows the new rules.
. "$(dirname "$0")/lib.sh"
D="$TMP/ledger.yaml"
DB="$TMP/ledger.db"
write_domain() { ledger_domain "$1" >"$D"; } # $1: the deposits rule
S() { run "$STRATA" --domain "$D" --db "$DB" "$@"; }
# Another writer, with a copy of the domain as it was (the file being edited may
# not load).
W() { run "$STRATA" --domain "$TMP/writer.yaml" --db "$DB" "$@"; }
# Waits (up to 10 s) until the file $1 contains $2.
wait_for() {
    i=0
    while [ $i -lt 100 ] && ! grep -qF -- "$2" "$1" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
}
write_domain "row.deposits + 1"
cp "$D" "$TMP/writer.yaml"
W exec Deposit accountId=A amount=10
expect_rc 0 "a first deposit"

"$STRATA" --domain "$D" --db "$DB" project --follow >"$TMP/follow.out" 2>"$TMP/follow.err" &
FPID=$!
wait_for "$TMP/follow.out" "Balances live 1/1"

# A save with a mistake: said on stderr with its place; the old domain goes on.
write_domain "row.deposits + event.amout"
wait_for "$TMP/follow.err" "the domain in force stays"
expect_contains "$(cat "$TMP/follow.err")" "ledger.yaml:" "the error names the file"
expect_contains "$(cat "$TMP/follow.err")" "unknown field 'amout'" "the error says what is wrong"
grep -q 'ledger.yaml:[0-9]*:[0-9]*: error: ' "$TMP/follow.err"
expect_eq "$?" 0 "the error is placed as FILE:LINE:COL"
W exec Deposit accountId=A amount=5
wait_for "$TMP/follow.out" "Balances live 2/2"
expect_contains "$(cat "$TMP/follow.out")" "Balances live 2/2" "the follower folds on with the old domain"

# A save that loads: taken up, the changed projection reported stale.
write_domain "row.deposits + 10"
wait_for "$TMP/follow.err" "reloaded"
expect_contains "$(cat "$TMP/follow.err")" "strata project: note: $D reloaded: projection Balances stale" \
    "the reload is reported on stderr, with the stale projection"
expect_contains "$(cat "$TMP/follow.err")" "strata project --rebuild-stale" "it says how to rebuild"
W exec Deposit accountId=A amount=1
wait_for "$TMP/follow.out" "/3 behind 1"
sleep 1.2
expect_contains "$(tail -1 "$TMP/follow.out")" "stale" "the status line marks it stale"
kill -INT $FPID
wait $FPID
expect_eq "$?" 0 "--follow exits 0 on SIGINT"
S query Balances --key A
expect_contains "$OUT" '"deposits":2' "not folded on by mixed rules: the old table waits"

S project --rebuild-stale
expect_rc 0 "project --rebuild-stale"
expect_contains "$OUT" "Balances: rebuilt from position 0 to 3" "it rebuilds the stale projection"
S query Balances --key A
expect_out '{"key":"A","balance":16,"deposits":30}' "the rebuilt table follows the new rules"
S project --rebuild-stale
expect_contains "$OUT" "no projection is stale: nothing to rebuild" "nothing stale: nothing rebuilt"

done_testing
