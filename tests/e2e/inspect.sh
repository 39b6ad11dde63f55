#!/bin/sh
# inspect.sh: stats, variants, flow, durations and --where on real logs
# ($STRATA_SHARED_DATA), each compared with the same figures computed
# independently by tests/e2e/inspect_check.py from the exported events. A log
# whose file is missing is skipped (TAP SKIP).
. "$(dirname "$0")/lib.sh"
DATA=${STRATA_SHARED_DATA:-$ROOT/../shared/data}
CHECK="python3 $ROOT/tests/e2e/inspect_check.py"

# check LOG EVENTS KIND:OUT[:ARG]...: one TAP line per line of inspect_check.py.
check() {
    log=$1
    shift
    $CHECK "$@" >"$TMP/.check" 2>&1 || echo "not ok inspect_check.py: $(tail -3 "$TMP/.check")" >>"$TMP/.check"
    while IFS= read -r l; do
        case "$l" in
        "ok "*) ok "$log: ${l#ok }" ;;
        "not ok "*) not_ok "$log: ${l#not ok }" ;;
        esac
    done <"$TMP/.check"
}
skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $1"; }

if ! command -v python3 >/dev/null; then skip "python3 is missing"; done_testing; exit 0; fi

# --- BPIC 2012: 262,200 events in 13,087 cases -----------------------------
BPIC=$DATA/process_mining/bpic2012.DERIVED.csv.gz
if [ -f "$BPIC" ]; then
    DB=$(fresh_db bpic)
    run "$STRATA" import --db "$DB" --map "$ROOT/tests/maps/bpic2012.map.yaml" "$BPIC"
    expect_rc 0 "BPIC 2012 imports"
    "$STRATA" events --raw --db "$DB" >"$TMP/bpic.ndjson"
    for v in stats variants flow durations; do
        run "$STRATA" $v --db "$DB"
        expect_rc 0 "BPIC: $v"
        expect_clean_stderr "BPIC: $v"
        printf '%s\n' "$OUT" >"$TMP/bpic.$v"
    done
    check BPIC "$TMP/bpic.ndjson" stats-type:"$TMP/bpic.stats" variants:"$TMP/bpic.variants" \
        flow:"$TMP/bpic.flow" durations:"$TMP/bpic.durations"
    expect_eq "$(wc -l <"$TMP/bpic.variants" | tr -d ' ')" 4366 "BPIC has 4,366 variants (as PM4Py counts them)"
    # --where on the data and the envelope, against the same filter in the shell
    W="type == 'A_DECLINED.COMPLETE' && event.amount >= 40000"
    run "$STRATA" stats --db "$DB" --by stream --where "$W"
    expect_rc 0 "BPIC: stats --where"
    want=$(grep '"type":"A_DECLINED.COMPLETE"' "$TMP/bpic.ndjson" |
        python3 -c 'import sys,json; print(sum(1 for l in sys.stdin if json.loads(l)["data"]["amount"] >= 40000))')
    got=$(printf '%s\n' "$OUT" | python3 -c 'import sys,json; print(sum(json.loads(l)["count"] for l in sys.stdin if l.strip()))')
    expect_eq "$got" "$want" "BPIC: --where on type and event.amount counts what Python counts ($want)"
    run "$STRATA" events --db "$DB" --where "$W"
    expect_eq "$(printf '%s\n' "$OUT" | grep -c .)" "$want" "BPIC: events --where lists the same events"
    run "$STRATA" durations --db "$DB" --where "event.nosuch == 1"
    expect_out '{"cases":0,"min":"0s","p50":"0s","p90":"0s","max":"0s"}' "a missing field matches nothing"
    run "$STRATA" stats --db "$DB" --where "event.amount >"
    expect_rc 1 "a broken --where is refused"
    expect_contains "$ERR" "column 15" "and its column is named"
    run "$STRATA" stats --db "$DB" --over day --to 1000
    expect_contains "$OUT" '{"bucket":"2011-10-01T00:00:00Z","count":' "stats --over day gives buckets"
    # the store's grouped count (no --where) and the scan (--where true) agree
    for args in "--stream Application-173694" "--type A_DECLINED.COMPLETE --by stream --top 5" \
        "--at 5000 --over hour --by type" "--from 100 --to 20000 --by stream" "--over minute --to 3000"; do
        a=$("$STRATA" stats --db "$DB" $args)
        b=$("$STRATA" stats --db "$DB" --where true $args)
        expect_eq "$a" "$b" "stats $args: the store's count_by and the scan agree"
    done
    run "$STRATA" flow --db "$DB" --dot
    expect_contains "$OUT" 'digraph flow {' "flow --dot writes Graphviz"
else
    skip "BPIC 2012 is missing ($BPIC)"
fi

# --- CloudTrail: 2,900 records in 55 files, out of time order ---------------
CT=$DATA/audit_logs/invictus_cloudtrail
if [ -d "$CT" ]; then
    DB=$(fresh_db ct)
    run "$STRATA" import --db "$DB" --map "$ROOT/tests/maps/cloudtrail.map.yaml" "$CT"/*.json
    expect_rc 0 "CloudTrail imports"
    "$STRATA" events --raw --db "$DB" >"$TMP/ct.ndjson"
    "$STRATA" stats --db "$DB" --by event.eventName >"$TMP/ct.byname"
    "$STRATA" stats --db "$DB" --by meta.region >"$TMP/ct.byregion"
    "$STRATA" durations --db "$DB" >"$TMP/ct.durations"
    "$STRATA" flow --db "$DB" >"$TMP/ct.flow"
    check CloudTrail "$TMP/ct.ndjson" stats-by:"$TMP/ct.byname":data.eventName \
        stats-by:"$TMP/ct.byregion":meta.region durations:"$TMP/ct.durations" flow:"$TMP/ct.flow"
else
    skip "CloudTrail is missing ($CT)"
fi

# --- the textbook running example: 42 events in 6 cases ---------------------
RE=$DATA/process_mining/running-example.csv
if [ -f "$RE" ]; then
    DB=$(fresh_db re)
    run "$STRATA" import --db "$DB" --map "$ROOT/tests/maps/pm4py.map.yaml" --sort time "$RE"
    expect_rc 0 "the running example imports"
    "$STRATA" events --raw --db "$DB" >"$TMP/re.ndjson"
    "$STRATA" variants --db "$DB" >"$TMP/re.variants"
    check "running example" "$TMP/re.ndjson" variants:"$TMP/re.variants"
    run "$STRATA" variants --db "$DB" --table
    expect_contains "$OUT" "coverage" "variants --table has a header"
else
    skip "the running example is missing ($RE)"
fi
done_testing
