#!/bin/sh
# replay.sh: `strata replay` paces appends (counted over time, with generous
# bounds), commits each event as it goes, and stops cleanly on SIGINT / SIGTERM
# with everything appended so far intact.
. "$(dirname "$0")/lib.sh"
S=$ROOT/samples

count() { "$STRATA" events --db "$1" | wc -l | tr -d ' '; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

sh "$S/make-samples.sh" big 300 "$TMP/bank300.ndjson" >/dev/null

# ---- --rate N, then Ctrl-C -----------------------------------------------------------
"$STRATA" replay --db "$TMP/r.db" --rate 20 "$TMP/bank300.ndjson" >"$TMP/r.out" 2>"$TMP/r.err" &
pid=$!
sleep 2
n=$(count "$TMP/r.db")
if [ "$n" -ge 20 ] && [ "$n" -le 60 ]; then ok "--rate 20 for 2 s appended $n events (20..60)"; else not_ok "--rate 20 for 2 s appended $n events, expected 20..60"; fi
kill -INT "$pid"
wait "$pid"
RC=$?
expect_rc 0 "Ctrl-C stops replay with exit 0"
OUT=$(cat "$TMP/r.out")
ERR=$(cat "$TMP/r.err")
expect_contains "$OUT" "stopped after " "says it stopped"
stopped=$(sed -n 's/^stopped after \([0-9]*\) events.*/\1/p' "$TMP/r.out")
expect_eq "$(count "$TMP/r.db")" "$stopped" "everything appended before the stop is in the store"
expect_clean_stderr "replay stopped by SIGINT"
# the store is intact and continues: the rest of the file fails on repeated
# versions, so replay it from where it stopped with --skip-bad
run "$STRATA" replay --db "$TMP/r.db" --rate 100000 --skip-bad "$TMP/bank300.ndjson"
expect_rc 0 "replaying the rest"
expect_eq "$(count "$TMP/r.db")" 300 "after the rest, every event is there once"
"$STRATA" export --db "$TMP/r.db" >"$TMP/r.ndjson"
if cmp -s "$TMP/r.ndjson" "$TMP/bank300.ndjson"; then ok "replayed store exports as the file"; else not_ok "replayed store exports as the file"; fi

# ---- SIGTERM -------------------------------------------------------------------------
"$STRATA" replay --db "$TMP/t.db" --rate 50 "$TMP/bank300.ndjson" >"$TMP/t.out" 2>&1 &
pid=$!
sleep 1
kill -TERM "$pid"
wait "$pid"
RC=$?
expect_rc 0 "SIGTERM stops replay with exit 0"
stopped=$(sed -n 's/^stopped after \([0-9]*\) events.*/\1/p' "$TMP/t.out")
expect_eq "$(count "$TMP/t.db")" "$stopped" "SIGTERM: what was appended is intact"

# ---- --speed X follows the records' own time stamps ---------------------------------------
cat >"$TMP/paced.csv" <<'EOF'
id,t
1,2026-01-01T00:00:00Z
2,2026-01-01T00:00:01Z
3,2026-01-01T00:00:02Z
4,2026-01-01T00:00:03Z
5,2026-01-01T00:00:04Z
EOF
printf 'format: csv\nstream: "%s"\ntype: "%s"\ntime: record.t\n' "'P'" "'Tick'" >"$TMP/paced.map.yaml"
t0=$(now_ms)
run "$STRATA" replay --db "$TMP/s.db" --speed 4 --map "$TMP/paced.map.yaml" "$TMP/paced.csv"
t1=$(now_ms)
expect_rc 0 "--speed 4"
expect_contains "$OUT" "replayed 5 events (positions 1-5)" "--speed: every record replayed"
el=$((t1 - t0))
if [ "$el" -ge 800 ] && [ "$el" -le 4000 ]; then ok "--speed 4 over 4 s of time stamps took ${el} ms (800..4000)"; else not_ok "--speed 4 took ${el} ms, expected 800..4000"; fi
t0=$(now_ms)
run "$STRATA" replay --db "$TMP/s2.db" --speed 1000 --map "$TMP/paced.map.yaml" "$TMP/paced.csv"
t1=$(now_ms)
el=$((t1 - t0))
if [ "$el" -le 1500 ]; then ok "--speed 1000 is quick (${el} ms)"; else not_ok "--speed 1000 took ${el} ms"; fi

# ---- a bad record stops replay; what came before stays --------------------------------------
head -5 "$TMP/bank300.ndjson" >"$TMP/badtail.ndjson"
echo '{"stream":"Account-A","version":99,"type":"T","time":"2026-01-01T00:00:00Z","data":{}}' >>"$TMP/badtail.ndjson"
run "$STRATA" replay --db "$TMP/b.db" --rate 1000 "$TMP/badtail.ndjson"
expect_rc 1 "a bad record ends replay with exit 1"
expect_contains "$ERR" "badtail.ndjson:6: error: version 99 of Account-A leaves a gap" "the bad record is named"
expect_contains "$ERR" "5 events appended before that stay in the store" "says what stays"
expect_eq "$(count "$TMP/b.db")" 5 "the events before the bad record are committed"

# ---- usage ----------------------------------------------------------------------------
run "$STRATA" replay --db "$TMP/u.db" --speed 2 --rate 3 "$TMP/paced.csv"
expect_rc 2 "--speed and --rate together"
run "$STRATA" replay --db "$TMP/u.db" --rate 0 "$TMP/paced.csv"
expect_rc 2 "--rate 0"
run "$STRATA" replay --db "$TMP/u.db"
expect_rc 2 "no file"

done_testing
