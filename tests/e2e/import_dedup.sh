#!/bin/sh
# import_dedup.sh: importing never duplicates (the import ledger). A second import
# of each real log in ../shared/data (through tests/maps) adds nothing; identical
# records within one file each import once; an overlapping file adds only what is
# new; the map's `id:` and a CloudEvent's source+id identify a record even when
# its content changed; --allow-duplicates doubles; a canonical re-import says in
# one line that everything is already present.
. "$(dirname "$0")/lib.sh"
DATA=${STRATA_DATA:-$ROOT/../shared/data}
[ -d "$DATA" ] || DATA=/work/shared/data
MAPS="$ROOT/tests/maps"
# The stores (fresh_db: files, or PostgreSQL schemas with STRATA_TEST_DB_KIND=pg).
for n in gharchive plaso_aws plaso_azure plaso_gcp plaso_m365 running conformance cloudtrail receipt bpic plain names id ce canon; do
    eval "${n}_DB=\$(fresh_db $n)"
done

# twice NAME MAP FILE...: imports the files, then again; the second adds nothing.
twice() {
    name=$1 map=$2
    shift 2
    for f in "$@"; do
        if [ ! -e "$f" ]; then
            _n=$((_n + 1)); echo "ok $_n - # SKIP $name: $f is missing"; return
        fi
    done
    eval "db=\$${name}_DB"
    run "$STRATA" import --db "$db" --map "$MAPS/$map" --skip-bad "$@"
    if [ "$RC" != 0 ]; then expect_rc 0 "$name: first import"; return; fi
    first=$("$STRATA" sql --json --db "$db" "SELECT count(*) AS n FROM events")
    run "$STRATA" import --db "$db" --map "$MAPS/$map" --skip-bad "$@"
    expect_rc 0 "$name: second import"
    expect_contains "$OUT" "imported 0 events" "$name: the second import adds nothing"
    second=$("$STRATA" sql --json --db "$db" "SELECT count(*) AS n FROM events")
    expect_eq "$second" "$first" "$name: the store holds the same events"
}

twice gharchive gharchive.map.yaml "$DATA/gharchive/quickwit-gharchive-bulk.json.gz"
twice plaso_aws plaso_aws.map.yaml "$DATA/audit_logs/plaso_aws_cloudtrail.jsonl"
twice plaso_azure plaso_azure.map.yaml "$DATA/audit_logs/plaso_azure_activity_log.jsonl"
twice plaso_gcp plaso_gcp.map.yaml "$DATA/audit_logs/plaso_gcp_logging.jsonl"
twice plaso_m365 plaso_m365.map.yaml "$DATA/audit_logs/plaso_microsoft_audit_log.jsonl"
twice running pm4py.map.yaml "$DATA/process_mining/running-example.csv"
twice conformance cloudevents-conformance.map.yaml "$DATA/cloudevents/conformance_json_valid-events.json"
if [ -d "$DATA/audit_logs/invictus_cloudtrail" ]; then
    twice cloudtrail cloudtrail.map.yaml "$DATA"/audit_logs/invictus_cloudtrail/*.json
else
    twice cloudtrail cloudtrail.map.yaml "$DATA/audit_logs/invictus_cloudtrail/missing.json"
fi
# the big ones: a head of each
if [ -e "$DATA/process_mining/receipt.csv" ]; then
    head -2001 "$DATA/process_mining/receipt.csv" >"$TMP/receipt.csv"
    twice receipt pm4py.map.yaml "$TMP/receipt.csv"
else
    twice receipt pm4py.map.yaml "$DATA/process_mining/receipt.csv"
fi
if [ -e "$DATA/process_mining/bpic2012.DERIVED.csv.gz" ]; then
    gzip -dc "$DATA/process_mining/bpic2012.DERIVED.csv.gz" | head -3001 >"$TMP/bpic.csv"
    twice bpic bpic2012.map.yaml "$TMP/bpic.csv"
else
    twice bpic bpic2012.map.yaml "$DATA/process_mining/bpic2012.DERIVED.csv.gz"
fi

# gharchive: the failure issue 17 found (positions 101-200 repeating 1-100) and
# --allow-duplicates, which asks for exactly that.
if [ -e "$DATA/gharchive/quickwit-gharchive-bulk.json.gz" ]; then
    run "$STRATA" import --db "$gharchive_DB" --map "$MAPS/gharchive.map.yaml" \
        --allow-duplicates "$DATA/gharchive/quickwit-gharchive-bulk.json.gz"
    expect_contains "$OUT" "imported 100 events (positions 101-200)" "--allow-duplicates appends them again"
fi

# identical records within one file, and overlapping files
cat >"$TMP/plain.map.yaml" <<'MAP'
format: ndjson
stream: record.s
type: record.t
MAP
printf '%s\n' '{"s":"a","t":"T","n":1}' '{"s":"a","t":"T","n":1}' '{"s":"b","t":"T","n":2}' >"$TMP/one.ndjson"
printf '%s\n' '{"s":"a","t":"T","n":1}' '{"s":"b","t":"T","n":2}' '{"s":"c","t":"T","n":3}' >"$TMP/two.ndjson"
DB="$plain_DB"
run "$STRATA" import --db "$DB" --map "$TMP/plain.map.yaml" "$TMP/one.ndjson"
expect_contains "$OUT" "imported 3 events" "two identical records in one file both import"
run "$STRATA" import --db "$DB" --map "$TMP/plain.map.yaml" "$TMP/one.ndjson"
expect_contains "$OUT" "imported 0 events, already present 3," "... and once only: a second import adds neither"
run "$STRATA" import --db "$DB" --map "$TMP/plain.map.yaml" "$TMP/two.ndjson"
expect_contains "$OUT" "imported 1 event (positions 4-4), already present 2," "an overlapping file adds only the new record"
run "$STRATA" sql --json --db "$DB" "SELECT stream, count(*) AS n FROM events GROUP BY stream ORDER BY stream"
expect_out '{"stream":"a","n":2}
{"stream":"b","n":1}
{"stream":"c","n":1}' "the store holds each record once"
run "$STRATA" import --db "$DB" --map "$TMP/plain.map.yaml" --allow-duplicates "$TMP/one.ndjson"
expect_contains "$OUT" "imported 3 events (positions 5-7)" "--allow-duplicates doubles"
run "$STRATA" import --db "$names_DB" --map "$TMP/plain.map.yaml" "$TMP/one.ndjson"
run "$STRATA" import --db "$names_DB" --map "$TMP/plain.map.yaml" --sort time "$TMP/one.ndjson"
expect_contains "$OUT" "already present 3," "--sort time uses the ledger too"

# the map's id: identifies a record even when the rest of it changed
cat >"$TMP/id.map.yaml" <<'MAP'
format: ndjson
stream: record.s
type: record.t
id: record.id
MAP
printf '%s\n' '{"id":1,"s":"a","t":"T","v":"old"}' '{"id":2,"s":"a","t":"T","v":"old"}' >"$TMP/id1.ndjson"
printf '%s\n' '{"id":1,"s":"a","t":"T","v":"new"}' '{"id":3,"s":"a","t":"T","v":"new"}' >"$TMP/id2.ndjson"
run "$STRATA" import --db "$id_DB" --map "$TMP/id.map.yaml" "$TMP/id1.ndjson"
run "$STRATA" import --db "$id_DB" --map "$TMP/id.map.yaml" "$TMP/id2.ndjson"
expect_contains "$OUT" "imported 1 event (positions 3-3), already present 1," "id: decides what is already present"
printf '%s\n' '{"s":"a","t":"T"}' >"$TMP/noid.ndjson"
run "$STRATA" import --db "$id_DB" --map "$TMP/id.map.yaml" "$TMP/noid.ndjson"
expect_rc 1 "a record whose id: fails is a bad record"

# CloudEvents: source + id
run "$STRATA" import --db "$ce_DB" --map "$MAPS/cloudevents.map.yaml" "$ROOT/samples/orders.cloudevents.ndjson"
sed 's/"total":4990/"total":1/' "$ROOT/samples/orders.cloudevents.ndjson" >"$TMP/ce2.ndjson"
n=$(wc -l <"$ROOT/samples/orders.cloudevents.ndjson" | tr -d ' ')
run "$STRATA" import --db "$ce_DB" --map "$MAPS/cloudevents.map.yaml" "$TMP/ce2.ndjson"
expect_contains "$OUT" "imported 0 events, already present $n," "a CloudEvent is known by its source and id"

# canonical NDJSON: (stream, version)
run "$STRATA" export --db "$plain_DB"
printf '%s\n' "$OUT" >"$TMP/canon.ndjson"
run "$STRATA" import --db "$canon_DB" "$TMP/canon.ndjson"
expect_contains "$OUT" "imported 7 events" "a canonical file imports"
run "$STRATA" import --db "$canon_DB" "$TMP/canon.ndjson"
expect_rc 0 "a canonical re-import succeeds"
expect_eq "$(printf '%s\n%s' "$OUT" "$ERR" | grep -c .)" 1 "... and says so in one line"
expect_contains "$OUT" "imported 0 events, already present 7," "... that everything is already present"
sed '1s/"n":1/"n":9/' "$TMP/canon.ndjson" >"$TMP/changed.ndjson"
run "$STRATA" import --db "$canon_DB" "$TMP/changed.ndjson"
expect_rc 1 "a different event at a taken version is an error"
expect_contains "$ERR" "already taken" "... that says the version is taken"
done_testing
