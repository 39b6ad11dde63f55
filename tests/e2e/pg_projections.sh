#!/bin/sh
# pg_projections.sh: read models on a PostgreSQL store (needs STRATA_TEST_PG_URI,
# which tests/run.sh sets after starting scripts/pg-cluster.sh): the same rows as
# on SQLite now and at every past position, a rebuild swapped in with the same
# rows, the tables plain for psql; several `strata project` processes folding
# while writers append count every event exactly once; and a catch-up does not
# hold up appends (it takes no append lock).
. "$(dirname "$0")/lib.sh"
needs_pg
D="$ROOT/domains/bank.yaml"
SQ="$TMP/bank.db"
PG=$(fresh_db bank)

# ---- the same rows as SQLite, now and at every position ------------------------------------
for db in "$SQ" "$PG"; do
    "$STRATA" import --domain "$D" --db "$db" "$ROOT/samples/bank.ndjson" >/dev/null &&
        "$STRATA" --domain "$D" --db "$db" project >/dev/null || not_ok "import and project into $db"
done
head=$("$STRATA" --db "$PG" events | wc -l | tr -d ' ')
bad=""
step=1
[ -n "$SANITIZED" ] && step=7 # the sanitizer build is slower: every 7th position
for name in AccountList BankStats; do
    at=1
    while [ "$at" -le "$head" ]; do
        a=$("$STRATA" --domain "$D" --db "$SQ" query "$name" --at "$at")
        b=$("$STRATA" --domain "$D" --db "$PG" query "$name" --at "$at")
        [ "$a" = "$b" ] || bad="$bad $name@$at"
        at=$((at + step))
    done
done
expect_eq "$bad" "" "query --at gives SQLite's rows at the $head positions (every ${step})"
a=$("$STRATA" --domain "$D" --db "$SQ" query AccountList --key B)
b=$("$STRATA" --domain "$D" --db "$PG" query AccountList --key B)
expect_eq "$b" "$a" "query --key too"
a=$("$STRATA" --domain "$D" --db "$SQ" why AccountList A balance)
b=$("$STRATA" --domain "$D" --db "$PG" why AccountList A balance)
expect_eq "$b" "$a" "why reads the same row history"
n=$(psql "$PG" -At -c 'SELECT count(*) FROM "proj_AccountList"')
expect_eq "$n" "$("$STRATA" --domain "$D" --db "$SQ" query AccountList | wc -l | tr -d ' ')" "psql sees proj_AccountList as a plain table"
cp=$(psql "$PG" -At -c "SELECT checkpoint FROM projections WHERE name = 'AccountList'")
expect_eq "$cp" "$head" "and the projections table with its checkpoint"

# ---- rebuild and swap ------------------------------------------------------------------------
before=$("$STRATA" --domain "$D" --db "$PG" query AccountList)
run "$STRATA" --domain "$D" --db "$PG" project --rebuild AccountList
expect_rc 0 "project --rebuild on PostgreSQL"
expect_eq "$("$STRATA" --domain "$D" --db "$PG" query AccountList)" "$before" "the rebuilt read model has the same rows"
left=$(psql "$PG" -At -c "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'proj_%rebuild%' AND schemaname = current_schema()")
expect_eq "$left" "0" "and no rebuild tables are left"
run "$STRATA" --domain "$D" --db "$PG" project --rebuild AccountList
expect_rc 0 "a second rebuild (index names of the first do not get in the way)"

# ---- many folders, many writers: every event once --------------------------------------------
C=$(fresh_db busy)
"$STRATA" --domain "$D" --db "$C" exec OpenAccount accountId=A owner=Ann initialDeposit=0 >/dev/null
"$STRATA" --domain "$D" --db "$C" exec OpenAccount accountId=B owner=Ben initialDeposit=0 >/dev/null
writer() {
    i=0
    while [ "$i" -lt 40 ]; do
        "$STRATA" --domain "$D" --db "$C" exec Deposit accountId="$1" amount="$2" >/dev/null 2>>"$TMP/writers.err" || echo "exec failed" >>"$TMP/writers.err"
        i=$((i + 1))
    done
}
folder() {
    while [ ! -f "$TMP/stop" ]; do
        "$STRATA" --domain "$D" --db "$C" project >/dev/null 2>>"$TMP/folders.err" || echo "project failed" >>"$TMP/folders.err"
    done
}
folder &
f1=$!
folder &
f2=$!
folder &
f3=$!
writer A 1 &
w1=$!
writer B 2 &
w2=$!
writer A 3 &
w3=$!
wait $w1 $w2 $w3
touch "$TMP/stop"
wait $f1 $f2 $f3
expect_eq "$(cat "$TMP/writers.err" 2>/dev/null)" "" "three writers append 120 deposits"
expect_eq "$(cat "$TMP/folders.err" 2>/dev/null)" "" "while three strata project processes fold, none failing"
"$STRATA" --domain "$D" --db "$C" project >/dev/null
run "$STRATA" --domain "$D" --db "$C" query AccountList
expect_contains "$OUT" '"key":"A","owner":"Ann","balance":160' "each deposit to A counted once (40 x 1 + 40 x 3)"
expect_contains "$OUT" '"key":"B","owner":"Ben","balance":80' "each deposit to B counted once (40 x 2)"
"$STRATA" --db "$C" export >"$TMP/busy.ndjson"
rows_as_sqlite "$D" "$C" "$TMP/busy.ndjson" "$TMP/busy.db" " as SQLite folds the same events in one go"

# ---- a catch-up does not hold up appends ----------------------------------------------------
# A batch holds its projections' locks, not the append lock: while a fold waits in
# the middle of its batch (psql holds the history table it reads), appends commit.
L=$(fresh_db lock)
"$STRATA" --domain "$D" --db "$L" exec OpenAccount accountId=A owner=Ann >/dev/null
"$STRATA" --domain "$D" --db "$L" project >/dev/null
"$STRATA" --domain "$D" --db "$L" exec Deposit accountId=A amount=5 >/dev/null
psql "$L" -q -c "BEGIN" -c 'LOCK TABLE "proj_AccountList_history" IN ACCESS EXCLUSIVE MODE' -c "SELECT pg_sleep(6)" -c "COMMIT" >/dev/null 2>&1 &
locker=$!
sleep 1
"$STRATA" --domain "$D" --db "$L" project >"$TMP/held.out" 2>&1 &
folding=$!
sleep 1
t0=$(date +%s)
run "$STRATA" --domain "$D" --db "$L" exec Deposit accountId=A amount=7
t1=$(date +%s)
expect_rc 0 "an append while a fold waits in the middle of its batch"
[ $((t1 - t0)) -lt 2 ] && ok "does not wait for the fold" || not_ok "does not wait for the fold" "took $((t1 - t0)) s"
wait $locker
wait $folding
expect_eq "$?" "0" "and the fold, let go, finishes"
done_testing
