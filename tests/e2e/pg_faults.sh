#!/bin/sh
# pg_faults.sh: PostgreSQL faults, on a throw-away server of its own (it crashes
# it; scripts/pg-cluster.sh, stopped and removed at exit, failure or not):
# a refused login, an unknown database, a server that is down and a store of a
# newer format each give one clear message and exit 1, never the password; no
# acknowledged command's events are lost through kill -9 of clients in the middle
# of appends, nor through `pg_ctl stop -m immediate` during a load and a restart;
# a connection dropped in the middle of an import is a clear error and commits
# nothing, and in the middle of a fold too, the next fold counting every event
# once; a session ended between two appends is opened again by the next one, and
# a workbench whose connection is dropped connects again and says so.
. "$(dirname "$0")/lib.sh"
if [ -n "$STRATA_SKIP_PG" ]; then
    echo "ok 1 # SKIP STRATA_SKIP_PG is set"
    echo "1..1"
    exit 0
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    echo "ok 1 # SKIP no PostgreSQL server installed (Debian: apt-get install postgresql)"
    echo "1..1"
    exit 0
fi
D="$ROOT/domains/bank.yaml"
CL="$TMP/cluster"
trap 'sh "$ROOT/scripts/pg-cluster.sh" stop "$CL"; _cleanup' EXIT
trap 'exit 130' INT TERM # the EXIT trap then stops and removes the server
if ! URI=$(sh "$ROOT/scripts/pg-cluster.sh" start "$CL" 2>"$TMP/cluster.log"); then
    not_ok "a throw-away PostgreSQL server starts" "$(tail -5 "$TMP/cluster.log")"
    done_testing
    exit 1
fi
pw=$(printf %s "$URI" | sed 's|^postgresql://strata:\([^@]*\)@.*|\1|')
base=${URI%/postgres}
newdb() { psql "$URI" -q -c "CREATE DATABASE $1" >/dev/null && echo "$base/$1"; }

# ---- one clear message and exit 1 -------------------------------------------------------------
run "$STRATA" events --db "postgresql://strata:WrongSecret99@${base#postgresql://strata:*@}/postgres"
expect_rc 1 "a refused login exits 1"
expect_contains "$ERR" "password authentication failed" "saying the login was refused"
expect_not_contains "$ERR" "WrongSecret99" "without the password tried"
run "$STRATA" events --db "$base/nosuchdb"
expect_rc 1 "an unknown database exits 1"
expect_contains "$ERR" 'database "nosuchdb" does not exist' "saying which database"
expect_not_contains "$ERR" "$pw" "without the password"
N=$(newdb newer)
"$STRATA" --domain "$D" --db "$N" exec OpenAccount accountId=A owner=Ann >/dev/null
psql "$N" -q -c "UPDATE strata_meta SET value = '99' WHERE key = 'format_version'"
run "$STRATA" events --db "$N"
expect_rc 1 "a store of a newer format exits 1"
expect_contains "$ERR" "written by a newer Strata (store format 99" "saying so"
expect_not_contains "$ERR" "$pw" "without the password"
lines=$(printf '%s\n' "$ERR" | grep -c .)
expect_eq "$lines" "1" "each in one line"

# ---- kill -9 of clients in the middle of appends -----------------------------------------------
# writer DB N TAG: N commands with ids TAG-1..; the id goes to $TMP/acked.TAG once
# exec exits 0 (acknowledged); the running exec's pid is in $TMP/pid.TAG.
writer() {
    k=0
    while [ "$k" -lt "$2" ] && [ ! -f "$TMP/stop" ]; do
        k=$((k + 1))
        "$STRATA" --domain "$D" --db "$1" exec Deposit accountId=A amount=1 --id "$3-$k" >/dev/null 2>&1 &
        echo $! >"$TMP/pid.$3"
        wait $! && echo "$3-$k" >>"$TMP/acked.$3"
    done
    rm -f "$TMP/pid.$3"
}
# lost DB: the acknowledged ids whose events the store does not have, and whether
# positions run 1..N without a gap.
check_store() {
    "$STRATA" --db "$1" export >"$TMP/export.ndjson"
    grep -o '"commandId":"[^"]*"' "$TMP/export.ndjson" | sed 's/.*:"\(.*\)"/\1/' | sort -u >"$TMP/present"
    cat "$TMP"/acked.* 2>/dev/null | sort -u >"$TMP/acked"
    comm -23 "$TMP/acked" "$TMP/present" >"$TMP/lost"
    n=$(wc -l <"$TMP/export.ndjson" | tr -d ' ')
    last=$(tail -1 "$TMP/export.ndjson" | sed 's/^{"position":\([0-9]*\),.*/\1/')
    gapless=no
    [ "$n" = "$last" ] && gapless=yes
}
K=$(newdb killed)
"$STRATA" --domain "$D" --db "$K" exec OpenAccount accountId=A owner=Ann >/dev/null
rm -f "$TMP"/acked.* "$TMP/stop"
for w in 1 2 3 4; do writer "$K" 60 "k$w" 2>/dev/null & done
killed=0
i=0
while [ $i -lt 40 ]; do
    i=$((i + 1))
    sleep 0.1
    for w in 1 2 3 4; do
        p=$(cat "$TMP/pid.k$w" 2>/dev/null)
        if [ -n "$p" ] && [ $(((i + w) % 3)) = 0 ] && kill -9 "$p" 2>/dev/null; then killed=$((killed + 1)); fi
    done
done
wait
check_store "$K"
echo "# killed $killed clients; $(wc -l <"$TMP/acked" | tr -d ' ') commands acknowledged"
[ "$killed" -gt 0 ] && ok "clients killed with -9 in the middle of appends ($killed)" || not_ok "clients killed with -9 in the middle of appends"
expect_eq "$(cat "$TMP/lost")" "" "every acknowledged command's events are in the store"
expect_eq "$gapless" "yes" "and positions run 1..$n without a gap"

# ---- the server stopped as by a power cut, then started again ---------------------------------
C=$(newdb crashed)
"$STRATA" --domain "$D" --db "$C" exec OpenAccount accountId=A owner=Ann >/dev/null
rm -f "$TMP"/acked.* "$TMP/stop"
for w in 1 2 3 4; do writer "$C" 100000 "c$w" 2>/dev/null & done
sleep 2
sh "$ROOT/scripts/pg-cluster.sh" crash "$CL"
run "$STRATA" events --db "$C"
expect_rc 1 "a server that is down exits 1"
expect_contains "$ERR" "cannot open store" "saying the store cannot be opened"
expect_contains "$ERR" "Connection refused" "and why"
expect_not_contains "$ERR" "$pw" "without the password"
sleep 1
sh "$ROOT/scripts/pg-cluster.sh" restart "$CL" || not_ok "the server starts again"
sleep 2
touch "$TMP/stop"
wait
check_store "$C"
echo "# $(wc -l <"$TMP/acked" | tr -d ' ') commands acknowledged around the crash"
expect_eq "$(cat "$TMP/lost")" "" "after pg_ctl stop -m immediate and a restart, every acknowledged command's events are there"
expect_eq "$gapless" "yes" "and positions run 1..$n without a gap"
run "$STRATA" --domain "$D" --db "$C" exec Deposit accountId=A amount=1
expect_rc 0 "and the store takes commands again"

# ---- a connection dropped in the middle of a session -------------------------------------------
I=$(newdb dropped)
awk 'BEGIN { for (i = 1; i <= 30000; i++) printf "{\"position\":%d,\"stream\":\"S\",\"version\":%d,\"type\":\"T\",\"schema\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"data\":{\"i\":%d},\"meta\":{}}\n", i, i, i }' >"$TMP/big.ndjson"
"$STRATA" import --db "$I" "$TMP/big.ndjson" >"$TMP/import.out" 2>"$TMP/import.err" &
imp=$!
i=0
while [ $i -lt 100 ]; do
    i=$((i + 1))
    # the import's one long transaction, open a while (not a short read before it: a
    # session dropped between transactions is reconnected, as it should be)
    busy=$(psql "$URI" -At -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'dropped' AND application_name = 'strata' AND xact_start < clock_timestamp() - interval '150 ms'")
    [ "$busy" != 0 ] && break
    sleep 0.05
done
psql "$URI" -At -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'dropped' AND application_name = 'strata'" >/dev/null
wait $imp
expect_eq "$?" "1" "an import whose connection is dropped exits 1"
expect_contains "$(cat "$TMP/import.err")" "lost the connection to the store" "saying the connection was lost"
expect_not_contains "$(cat "$TMP/import.err")" "$pw" "without the password"
run "$STRATA" --db "$I" events --limit 1
expect_out "" "and nothing of it was committed"

# A fold whose connection is dropped in the middle of a batch: a clear error, and
# the next fold counts every event once (rows and checkpoint commit together).
F=$(newdb folding)
awk 'BEGIN {
    p = 0
    for (a = 1; a <= 50; a++) { p++; printf "{\"position\":%d,\"stream\":\"Account-%d\",\"version\":1,\"type\":\"AccountOpened\",\"schema\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"data\":{\"name\":\"N%d\",\"deposit\":0},\"meta\":{}}\n", p, a, a }
    for (i = 1; i <= 40000; i++) { a = 1 + i % 50; p++; printf "{\"position\":%d,\"stream\":\"Account-%d\",\"version\":%d,\"type\":\"MoneyDeposited\",\"schema\":1,\"time\":\"2026-01-01T00:00:01.000Z\",\"data\":{\"amount\":%d},\"meta\":{}}\n", p, a, 1 + int((i + 49) / 50), 1 + i % 7 }
}' >"$TMP/fold.ndjson"
"$STRATA" import --domain "$D" --db "$F" "$TMP/fold.ndjson" >/dev/null || not_ok "import for the fold"
"$STRATA" --domain "$D" --db "$F" project >"$TMP/fold.out" 2>"$TMP/fold.err" &
fold=$!
i=0
while [ $i -lt 200 ]; do
    i=$((i + 1))
    cp=$(psql "$F" -At -c "SELECT coalesce(max(checkpoint), 0) FROM projections" 2>/dev/null)
    [ -n "$cp" ] && [ "$cp" -gt 0 ] && break
    sleep 0.05
done
psql "$URI" -At -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'folding' AND application_name = 'strata'" >/dev/null
wait $fold
frc=$?
cp=$(psql "$F" -At -c "SELECT checkpoint FROM projections WHERE name = 'AccountList'")
if [ "$frc" = 0 ] && [ "$cp" = 40050 ]; then
    ok "# SKIP the fold finished before its connection was dropped"
else
    expect_eq "$frc" "1" "a fold whose connection is dropped exits 1"
    expect_contains "$(cat "$TMP/fold.err")" "lost the connection to the store" "saying the connection was lost"
fi
run "$STRATA" --domain "$D" --db "$F" project
expect_rc 0 "the next fold carries on from the last committed batch"
rows_as_sqlite "$D" "$F" "$TMP/fold.ndjson" "$TMP/fold.db" ": every event counted once, as SQLite folds them"

# A session ended between two appends (a server restart, an administrator): the
# next append notices before it sends anything, connects again and goes on, so a
# paced replay loses nothing and fails nothing; the gaps stay closed.
R=$(newdb rejoin)
awk 'BEGIN { for (i = 1; i <= 40; i++) printf "{\"position\":%d,\"stream\":\"Account-R\",\"version\":%d,\"type\":\"MoneyDeposited\",\"schema\":1,\"time\":\"2026-01-01T00:00:%02d.000Z\",\"data\":{\"amount\":%d},\"meta\":{}}\n", i, i, i % 60, i }' >"$TMP/rejoin.ndjson"
"$STRATA" replay --db "$R" "$TMP/rejoin.ndjson" --rate 40 >"$TMP/rejoin.out" 2>"$TMP/rejoin.err" &
rp=$!
i=0
while [ $i -lt 100 ]; do
    i=$((i + 1))
    n=$(psql "$R" -At -c "SELECT count(*) FROM event_log" 2>/dev/null)
    [ -n "$n" ] && [ "$n" -ge 5 ] && break
    sleep 0.05
done
psql "$URI" -At -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'rejoin' AND application_name = 'strata'" >/dev/null
sleep 0.3
psql "$URI" -At -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'rejoin' AND application_name = 'strata'" >/dev/null
wait $rp
rrc=$?
# A session ended while an append was on the wire (a loaded machine widens that
# window) fails that append, saying so, and leaves nothing half-written; a second
# replay goes on from where the first stopped. Either way: every event once.
if [ "$rrc" = 1 ] && grep -q "lost the connection to the store" "$TMP/rejoin.err"; then
    "$STRATA" replay --db "$R" "$TMP/rejoin.ndjson" >"$TMP/rejoin.out" 2>>"$TMP/rejoin.err"
    rrc=$?
fi
expect_eq "$rrc" "0" "a replay whose session is ended twice on the way finishes (exit 0, or a second run does)"
expect_eq "$(psql "$R" -At -c "SELECT count(*) || ' ' || max(position) || ' ' || sum((data::jsonb->>'amount')::int) FROM event_log")" "40 40 820" "with every event once, positions 1..40"
expect_not_contains "$(cat "$TMP/rejoin.err")" "$pw" "never showing the password"

# The workbench: its connections dropped, it connects again and says so.
W=$(newdb workbench)
"$STRATA" --domain "$D" --db "$W" exec OpenAccount accountId=A owner=Ann >/dev/null
mkfifo "$TMP/script"
STRATA_SCRIPT="$TMP/script" STRATA_NO_DISPLAY=1 LINES=24 COLUMNS=160 timeout 60 \
    "$STRATA" --domain "$D" --db "$W" tui >/dev/null 2>"$TMP/tui.err" &
tui=$!
exec 3>"$TMP/script"
echo 2 >&3
echo ":save-display $TMP/before.txt" >&3
i=0
while [ ! -s "$TMP/before.txt" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
psql "$URI" -At -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'workbench' AND application_name = 'strata'" >/dev/null
sleep 0.5
echo ":save-display $TMP/after.txt" >&3
echo ":exec Deposit accountId=A amount=7" >&3
echo 2 >&3
echo ":save-display $TMP/again.txt" >&3
echo ":query AccountList" >&3
echo ":save-display $TMP/rows.txt" >&3
echo ":quit" >&3
exec 3>&-
wait $tui
expect_eq "$?" "0" "the workbench carries on after its connections are dropped"
expect_contains "$(tail -1 "$TMP/after.txt")" "Reconnected to the store after" "and says it connected again"
expect_contains "$(cat "$TMP/again.txt")" 'MoneyDeposited {"amount":7}' "then takes commands as before"
expect_contains "$(cat "$TMP/rows.txt")" " Ann " "and its read models fold on (its runner connected again too)"
expect_contains "$(grep ' Ann ' "$TMP/rows.txt")" " 7 " "with the deposit made after the drop"
expect_not_contains "$(cat "$TMP/after.txt" "$TMP/again.txt" "$TMP/rows.txt")" "$pw" "never showing the password"
done_testing
