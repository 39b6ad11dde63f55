#!/bin/sh
# snapshots_compare.sh: `strata snapshots --compare N,N,...`: snapshot policies
# simulated on a real store without changing it. The counts are exact for a store
# whose streams have known lengths: Account-L with 250 events, Account-S with 7.
. "$(dirname "$0")/lib.sh"
D=$ROOT/domains/bank.yaml
DB=$(fresh_db snaps)
{
    echo '{"position":1,"stream":"Account-L","version":1,"type":"AccountOpened","schema":2,"time":"2020-01-01T00:00:00Z","data":{"owner":"L","initialDeposit":0,"currency":"EUR"}}'
    i=2
    while [ $i -le 250 ]; do
        echo "{\"position\":$i,\"stream\":\"Account-L\",\"version\":$i,\"type\":\"MoneyDeposited\",\"schema\":1,\"time\":\"2020-01-01T00:00:00Z\",\"data\":{\"amount\":1}}"
        i=$((i + 1))
    done
    echo '{"position":251,"stream":"Account-S","version":1,"type":"AccountOpened","schema":1,"time":"2020-01-02T00:00:00Z","data":{"name":"S","deposit":5}}'
    i=2
    while [ $i -le 7 ]; do
        echo "{\"position\":$((249 + i)),\"stream\":\"Account-S\",\"version\":$i,\"type\":\"MoneyDeposited\",\"schema\":1,\"time\":\"2020-01-02T00:00:00Z\",\"data\":{\"amount\":2}}"
        i=$((i + 1))
    done
} >"$TMP/long.ndjson"
"$STRATA" import --domain "$D" --db "$DB" "$TMP/long.ndjson" >/dev/null || not_ok "import"
before=$("$STRATA" sql --domain "$D" --db "$DB" "select count(*) from snapshots" 2>&1)

run "$STRATA" snapshots --compare 0,10,100,1000 --domain "$D" --db "$DB"
expect_rc 0 "compare: exit 0"
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 4 "one line per policy"
line() { printf '%s\n' "$OUT" | grep "\"snapshot_every\":$1,"; }
# 0: every load reads the whole stream: (250 + 7) / 2 on average, 250 at most.
expect_contains "$(line 0)" '"snapshots":0,"bytes":0,"events_read_mean":128.50,"events_read_max":250,' "0: no snapshots, every event read"
# 10: 25 snapshots of L; a load reads 0 (L) and 7 (S).
expect_contains "$(line 10)" '"snapshots":25,' "10: 25 snapshots"
expect_contains "$(line 10)" '"events_read_mean":3.50,"events_read_max":7,' "10: events read mean and max"
# 100: 2 snapshots of L, 50 events after the newest; S reads 7.
expect_contains "$(line 100)" '"snapshots":2,' "100: 2 snapshots"
expect_contains "$(line 100)" '"events_read_mean":28.50,"events_read_max":50,' "100: events read"
expect_contains "$(line 1000)" '"snapshots":0,"bytes":0,"events_read_mean":128.50,"events_read_max":250,' "1000: longer than every stream, as none"
expect_contains "$(line 10)" '"streams":2,"sampled":2,"current":false}' "streams folded and sampled"
# Bytes: each snapshot is the state's JSON, e.g. {"status":"open","owner":"L","balance":9}.
b10=$(line 10 | sed 's/.*"bytes":\([0-9]*\).*/\1/')
b100=$(line 100 | sed 's/.*"bytes":\([0-9]*\).*/\1/')
if [ "$b10" -gt "$b100" ] && [ "$b100" -gt 0 ]; then ok "bytes grow with the snapshots"; else not_ok "bytes grow with the snapshots" "$b10 $b100"; fi
p50=$(line 0 | sed 's/.*"load_ms_p50":\([0-9.]*\).*/\1/')
case "$p50" in 0.0000|'') not_ok "a load time measured" "$p50" ;; *) ok "a load time measured" ;; esac
after=$("$STRATA" sql --domain "$D" --db "$DB" "select count(*) from snapshots" 2>&1)
expect_eq "$after" "$before" "nothing written: no snapshot stored"

run "$STRATA" snapshots --compare 0,50 --table --sample 1 --domain "$D" --db "$DB"
expect_rc 0 "--table"
expect_contains "$OUT" "SNAPSHOT_EVERY  SNAPSHOTS  BYTES" "the table's header"
expect_contains "$OUT" "0 (none)" "policy 0 said as none"
expect_contains "$OUT" "50 (current)" "the domain's own snapshot_every marked"
expect_contains "$ERR" "2 streams (257 events) folded once; load times measured on 1 sampled stream" "how many streams were timed"

# A stream the domain cannot fold is left out and said.
sed 's/apply: {balance: "state.balance + event.amount"}/apply: {balance: "state.balance + event.amount \/ (event.amount - 2)"}/' "$D" >"$TMP/div.yaml"
run "$STRATA" snapshots --compare 0 --domain "$TMP/div.yaml" --db "$DB"
expect_rc 0 "an unfoldable stream: still a comparison"
expect_contains "$OUT" '"streams":1,' "the other stream counted"
expect_contains "$ERR" "1 stream the domain cannot fold left out (first: Account-S:" "the left-out stream named"

# Bad input.
run "$STRATA" snapshots --domain "$D" --db "$DB"
expect_rc 2 "no --compare: usage"
run "$STRATA" snapshots --compare 0,x --domain "$D" --db "$DB"
expect_rc 2 "a policy that is not a number: usage"
expect_contains "$ERR" "'x' is not a snapshot_every" "says which"
run "$STRATA" snapshots --compare 10,,20 --domain "$D" --db "$DB"
expect_rc 2 "an empty policy: usage"
run "$STRATA" snapshots --compare 1 --sample 0 --domain "$D" --db "$DB"
expect_rc 2 "--sample 0: usage"

done_testing
