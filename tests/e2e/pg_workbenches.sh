#!/bin/sh
# pg_workbenches.sh: two workbenches, separate processes each with its own
# connections, on one PostgreSQL store (needs STRATA_TEST_PG_URI, which
# tests/run.sh sets): each issues commands from its palette, and each sees the
# other's events arrive live (LISTEN/NOTIFY, within a second or two), in its Events
# view and in its read models. Each workbench reads its script from a FIFO, so the
# test says when it takes its next step (STRATA_SCRIPT, design.md).
. "$(dirname "$0")/lib.sh"
needs_pg
D="$ROOT/domains/bank.yaml"
DB=$(fresh_db two)
"$STRATA" --domain "$D" --db "$DB" exec OpenAccount accountId=A owner=Ann initialDeposit=10 >/dev/null

start() {
    mkfifo "$TMP/script$1"
    STRATA_SCRIPT="$TMP/script$1" STRATA_NO_DISPLAY=1 LINES=24 COLUMNS=120 timeout 90 \
        "$STRATA" --domain "$D" --db "$DB" tui >/dev/null 2>"$TMP/tui$1.err" &
    echo $! >"$TMP/tui$1.pid"
}
start 1
start 2
exec 3>"$TMP/script1" 4>"$TMP/script2"
n=0
# shows FD VIEW RE WHAT: saves FD's screen (after key VIEW) until a line matches RE,
# for up to 5 seconds.
shows() {
    i=0
    while [ $i -lt 25 ]; do
        i=$((i + 1))
        n=$((n + 1))
        echo "$2" >&"$1"
        echo ":save-display $TMP/screen$n.txt" >&"$1"
        j=0
        while [ ! -f "$TMP/screen$n.txt" ] && [ $j -lt 100 ]; do sleep 0.05; j=$((j + 1)); done
        sleep 0.05
        if grep -qE "$3" "$TMP/screen$n.txt"; then
            ok "$4"
            return
        fi
        sleep 0.2
    done
    not_ok "$4" "last screen: $(cat "$TMP/screen$n.txt")"
}
shows 3 2 "AccountOpened" "workbench 1 opens on the store"
shows 4 2 "AccountOpened" "workbench 2 opens on the same store"
echo ":exec Deposit accountId=A amount=5" >&3
shows 4 2 'MoneyDeposited +\{"amount":5\}' "workbench 2 sees workbench 1's deposit arrive"
echo ":exec Withdraw accountId=A amount=3" >&4
shows 3 2 'MoneyWithdrawn' "workbench 1 sees workbench 2's withdrawal arrive"
shows 3 ":query AccountList" ' A +Ann +12 ' "workbench 1's read model folds both (10 + 5 - 3)"
shows 4 ":query AccountList" ' A +Ann +12 ' "and so does workbench 2's"
echo ":exec Deposit accountId=A amount=100" >&4
shows 3 ":query AccountList" ' A +Ann +112 ' "a later command of workbench 2 reaches workbench 1's read model"
echo ":quit" >&3
echo ":quit" >&4
exec 3>&- 4>&-
wait "$(cat "$TMP/tui1.pid")"
r1=$?
wait "$(cat "$TMP/tui2.pid")"
r2=$?
expect_eq "$r1 $r2" "0 0" "both workbenches quit cleanly"
expect_eq "$(cat "$TMP/tui1.err" "$TMP/tui2.err")" "" "with nothing on standard error"
run "$STRATA" --domain "$D" --db "$DB" events
expect_eq "$(printf '%s\n' "$OUT" | grep -c .)" "5" "the store holds the five events once each (a withdrawal warns of the low balance)"
done_testing
