#!/bin/sh
# inspect.sh: stats, variants, flow, durations and --where on every real log of
# $STRATA_SHARED_DATA (BPIC 2012, CloudTrail, the running example, receipt,
# gharchive, the four plaso audit logs, the CloudEvents conformance events), each
# imported through its map in tests/maps and compared with the same figures
# computed independently by tests/e2e/inspect_check.py from `strata export`. A
# log whose file is missing is skipped (TAP SKIP).
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

# all_four NAME MAP FILE...: imports FILEs through tests/maps/MAP into a fresh
# store, exports it (`strata export`, the canonical NDJSON), and checks stats by
# type, variants, flow and durations against inspect_check.py's figures from the
# export. Leaves the store in $DB and the export in $TMP/NAME.ndjson; false (and
# a TAP SKIP) when a file is missing.
all_four() {
    name=$1 map=$2
    shift 2
    for f in "$@"; do
        [ -e "$f" ] || { skip "$name is missing ($f)"; return 1; }
    done
    DB=$(fresh_db "$name")
    run "$STRATA" import --db "$DB" --map "$ROOT/tests/maps/$map" "$@"
    expect_rc 0 "$name imports"
    "$STRATA" export --db "$DB" >"$TMP/$name.ndjson"
    for v in stats variants flow durations; do
        run "$STRATA" $v --db "$DB"
        expect_rc 0 "$name: $v"
        expect_clean_stderr "$name: $v"
        printf '%s\n' "$OUT" >"$TMP/$name.$v"
    done
    check "$name" "$TMP/$name.ndjson" stats-type:"$TMP/$name.stats" variants:"$TMP/$name.variants" \
        flow:"$TMP/$name.flow" durations:"$TMP/$name.durations"
}

if ! command -v python3 >/dev/null; then skip "python3 is missing"; done_testing; exit 0; fi

# --- BPIC 2012: 262,200 events in 13,087 cases -----------------------------
BPIC=$DATA/process_mining/bpic2012.DERIVED.csv.gz
if all_four bpic bpic2012.map.yaml "$BPIC"; then
    expect_eq "$(wc -l <"$TMP/bpic.variants" | tr -d ' ')" 4366 "BPIC has 4,366 variants (as PM4Py counts them)"
    # the top variant: submitted, partly submitted, declined; 3,429 of 13,087 cases
    top=$(head -1 "$TMP/bpic.variants")
    expect_contains "$top" '"variant":["A_SUBMITTED.COMPLETE","A_PARTLYSUBMITTED.COMPLETE","A_DECLINED.COMPLETE"],"count":3429,"share":0.262' "BPIC's top variant: 3,429 cases, 26.2%"
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
fi

# --- CloudTrail: 2,900 records in 55 files, out of time order ---------------
CT=$DATA/audit_logs/invictus_cloudtrail
if [ ! -d "$CT" ]; then
    skip "CloudTrail is missing ($CT)"
elif all_four ct cloudtrail.map.yaml "$CT"/*.json; then
    # events by eventName (the data) and by region (meta), as the issue asks
    "$STRATA" stats --db "$DB" --by event.eventName >"$TMP/ct.byname"
    "$STRATA" stats --db "$DB" --by meta.region >"$TMP/ct.byregion"
    check CloudTrail "$TMP/ct.ndjson" stats-by:"$TMP/ct.byname":data.eventName \
        stats-by:"$TMP/ct.byregion":meta.region
fi

# --- the textbook running example: 42 events in 6 cases ---------------------
RE=$DATA/process_mining/running-example.csv
if all_four re pm4py.map.yaml "$RE"; then
    run "$STRATA" variants --db "$DB" --table
    expect_contains "$OUT" "coverage" "variants --table has a header"
fi

# --- the other logs of ../shared/data, each through its map -----------------
all_four receipt pm4py.map.yaml "$DATA/process_mining/receipt.csv"
all_four gharchive gharchive.map.yaml "$DATA/gharchive/quickwit-gharchive-bulk.json.gz"
all_four plaso_aws plaso_aws.map.yaml "$DATA/audit_logs/plaso_aws_cloudtrail.jsonl"
all_four plaso_azure plaso_azure.map.yaml "$DATA/audit_logs/plaso_azure_activity_log.jsonl"
all_four plaso_gcp plaso_gcp.map.yaml "$DATA/audit_logs/plaso_gcp_logging.jsonl"
all_four plaso_m365 plaso_m365.map.yaml "$DATA/audit_logs/plaso_microsoft_audit_log.jsonl"
all_four conformance cloudevents-conformance.map.yaml "$DATA/cloudevents/conformance_json_valid-events.json"
done_testing
