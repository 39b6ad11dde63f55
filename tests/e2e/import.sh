#!/bin/sh
# import.sh: `strata import` end to end: canonical NDJSON and its checks, mapped
# CSV / JSON / CloudEvents / NDJSON files, every time form, every kind of bad
# record with FILE:LINE, .gz, --skip-bad, --sort time, --source and --map, and
# the real files of ../shared/data (skipped when that folder is absent).
. "$(dirname "$0")/lib.sh"
# One store per name: a file, or a PostgreSQL schema (STRATA_TEST_DB_KIND=pg).
for _db in a b bm c ce ceb csv csvgz dom j jb js p sh t tz w y y2; do eval "DB_$_db=\$(fresh_db $_db)"; done
S=$ROOT/samples
M=$ROOT/tests/maps
DATA=${STRATA_SHARED_DATA:-$ROOT/../shared/data}

count() { "$STRATA" events --db "$1" | wc -l | tr -d ' '; }

# ---- canonical NDJSON -------------------------------------------------------------
run "$STRATA" import --db "$DB_a" "$S/bank.ndjson"
expect_rc 0 "canonical sample imports"
expect_contains "$OUT" "imported 60 events (positions 1-60) from 1 file" "summary names count and positions"
expect_clean_stderr "canonical import"
run "$STRATA" export --db "$DB_a"
expect_eq "$OUT" "$(cat "$S/bank.ndjson")" "export gives back the sample byte for byte"

# importing the same file again: every event is already there, identical; nothing
# is appended and one line says so (import_dedup.sh has the rest)
run "$STRATA" import --db "$DB_a" "$S/bank.ndjson"
expect_rc 0 "re-import of the same events appends nothing"
expect_contains "$OUT" "imported 0 events, already present 60," "the summary says they were already present"
expect_eq "$ERR" "" "no error per record"
expect_eq "$(count "$DB_a")" 60 "nothing appended by the re-import"

# each kind of bad canonical line
cat >"$TMP/bad.ndjson" <<'EOF'
{"stream":"S","version":1,"type":"T","time":"2026-01-01T00:00:00Z","data":{}}
{"stream":"S","version":2,"type":"T","time":"2026-01-01T00:00:00Z","data":{}
{"stream":"S","version":2,"type":"T","time":"2026-01-01T00:00:00Z"}
{"stream":"S","version":"2","type":"T","time":"2026-01-01T00:00:00Z","data":{}}
{"stream":"S","version":2,"type":"T","time":"2026-01-01T00:00:00Z","data":{},"extra":1}
{"stream":"S","version":2,"type":"T","time":"yesterday","data":{}}
{"stream":"S","version":2,"type":"T","time":"2026-01-01T00:00:00Z","data":[1]}
{"stream":"S","version":2,"type":"T","time":"2026-01-01T00:00:00Z","data":{},"meta":"m"}
{"stream":"S","version":4,"type":"T","time":"2026-01-01T00:00:00Z","data":{}}
{"stream":"S","version":1,"type":"U","time":"2026-01-01T00:00:00Z","data":{}}
{"stream":"","version":1,"type":"T","time":"2026-01-01T00:00:00Z","data":{}}
{"stream":"S","version":2,"type":"T","schema":0,"time":"2026-01-01T00:00:00Z","data":{}}
[1,2]
{"stream":"S","version":2,"type":"T","time":"2026-01-01T00:00:00Z","data":{}}
EOF
run "$STRATA" import --db "$DB_b" "$TMP/bad.ndjson"
expect_rc 1 "bad canonical lines: exit 1"
expect_contains "$ERR" "bad.ndjson:2:77: error: invalid JSON: expected ',' or '}' after object member" "invalid JSON, placed at FILE:LINE:COL"
expect_contains "$ERR" "bad.ndjson:3: error: missing key 'data'" "missing key"
expect_contains "$ERR" "bad.ndjson:4: error: 'version' must be an integer >= 1, got string" "wrong type"
expect_contains "$ERR" "bad.ndjson:5: error: unknown key 'extra'" "unknown key"
expect_contains "$ERR" "bad.ndjson:6: error: unreadable time 'yesterday'" "unreadable time"
expect_contains "$ERR" "bad.ndjson:7: error: 'data' must be a JSON object, got list" "data not an object"
expect_contains "$ERR" "bad.ndjson:8: error: 'meta' must be a JSON object or null, got string" "meta not an object"
expect_contains "$ERR" "bad.ndjson:9: error: version 4 of S leaves a gap (the stream is at version 1; expected 2)" "version gap"
expect_contains "$ERR" "bad.ndjson:10: error: version 1 of S is already taken" "version repeat within the file"
expect_contains "$ERR" "bad.ndjson:11: error: 'stream' must be a non-empty string" "empty stream"
expect_contains "$ERR" "bad.ndjson:12: error: 'schema' must be an integer from 1" "bad schema"
expect_contains "$ERR" "bad.ndjson:13: error: an event must be a JSON object, got list" "not an object"
expect_contains "$ERR" "12 bad records: nothing was imported" "all bad lines counted"
expect_eq "$(count "$DB_b")" 0 "nothing committed when a line is bad"

run "$STRATA" import --db "$DB_b" --skip-bad "$TMP/bad.ndjson"
expect_rc 0 "--skip-bad imports the good lines"
expect_contains "$OUT" "imported 2 events" "--skip-bad: the two good lines"
expect_contains "$OUT" "12 bad records skipped" "--skip-bad: summary counts the bad"
expect_contains "$ERR" "bad.ndjson:9: error: version 4 of S leaves a gap" "--skip-bad still reports each bad line"

# versions must continue the store's
printf '%s\n' '{"stream":"S","version":4,"type":"T","time":"2026-01-01T00:00:00Z","data":{}}' >"$TMP/gap.ndjson"
run "$STRATA" import --db "$DB_b" "$TMP/gap.ndjson"
expect_contains "$ERR" "gap.ndjson:1: error: version 4 of S leaves a gap (the stream is at version 2; expected 3)" "gap against the store"

# several files in one transaction: a bad line in the second keeps the first out too
printf '%s\n' '{"stream":"X","version":1,"type":"T","time":"2026-01-01T00:00:00Z","data":{}}' >"$TMP/x1.ndjson"
printf '%s\n' '{"stream":"X","version":3,"type":"T","time":"2026-01-01T00:00:00Z","data":{}}' >"$TMP/x2.ndjson"
run "$STRATA" import --db "$DB_c" "$TMP/x1.ndjson" "$TMP/x2.ndjson"
expect_rc 1 "bad line in the second file"
expect_eq "$(count "$DB_c")" 0 "the first file is not committed either"

# missing final newline, blank lines, CRLF, .gz
printf '{"stream":"Y","version":1,"type":"T","time":"2026-01-01T00:00:00Z","data":{}}\r\n\r\n{"stream":"Y","version":2,"type":"T","time":"2026-01-01T00:00:01Z","data":{"a":1}}' >"$TMP/y.ndjson"
gzip -c "$TMP/y.ndjson" >"$TMP/y.ndjson.gz"
run "$STRATA" import --db "$DB_y" "$TMP/y.ndjson.gz"
expect_rc 0 ".gz canonical import with CRLF, a blank line and no final newline"
expect_eq "$(count "$DB_y")" 2 ".gz: both events"
head -c 40 "$TMP/y.ndjson.gz" >"$TMP/cut.ndjson.gz"
run "$STRATA" import --db "$DB_y2" "$TMP/cut.ndjson.gz"
expect_rc 1 "a truncated .gz fails"
expect_contains "$ERR" "cut.ndjson.gz:1: error: cannot read" "truncated .gz says where"
run "$STRATA" import --db "$DB_y2" "$TMP/nonexistent.ndjson"
expect_rc 1 "a missing file fails"
expect_contains "$ERR" "nonexistent.ndjson: error: cannot open: No such file or directory" "missing file named"

# ---- mapped CSV ------------------------------------------------------------------
run "$STRATA" import --db "$DB_csv" --map "$S/legacy-accounts.map.yaml" "$S/legacy-accounts.csv"
expect_rc 0 "legacy CSV through a map file"
run "$STRATA" export --db "$DB_csv"
expect_contains "$OUT" '"stream":"Account-A","version":1,"type":"MoneyDeposited","schema":1,"time":"2026-02-01T09:30:00.000Z","data":{"amount":250},"meta":{"note":"salary, February"}' "CSV row mapped (quoted comma, no zone)"
expect_contains "$OUT" '"time":"2026-02-01T11:15:30.500Z","data":{"amount":40},"meta":{"note":"rent \"share\""}' "doubled quotes"
expect_contains "$OUT" '"meta":{"note":"two\nlines"}' "line break inside quotes"
plain=$OUT
run "$STRATA" import --db "$DB_csvgz" --map "$S/legacy-accounts.map.yaml" "$S/legacy-accounts.csv.gz"
expect_rc 0 "the .gz of the CSV"
expect_eq "$("$STRATA" export --db "$DB_csvgz")" "$plain" ".gz gives the same events as the plain file"

# through the domain's own source
run "$STRATA" import --domain "$ROOT/domains/bank.yaml" --db "$DB_dom" --source legacy-csv "$S/legacy-accounts.csv"
expect_rc 0 "--source NAME from the domain"
expect_contains "$OUT" "imported 6 events" "--source: every row"
run "$STRATA" import --domain "$ROOT/domains/bank.yaml" --db "$DB_dom" --source legacy-cvs "$S/legacy-accounts.csv"
expect_rc 1 "unknown source"
expect_contains "$ERR" "no source 'legacy-cvs' in the domain (did you mean 'legacy-csv'?)" "unknown source: did you mean"
run "$STRATA" import --db "$DB_dom" --source legacy-csv "$S/legacy-accounts.csv"
expect_rc 2 "--source without a domain is a usage error"
run "$STRATA" import --db "$DB_dom" --source a --map b "$S/legacy-accounts.csv"
expect_rc 2 "--source and --map together"
run "$STRATA" import --db "$DB_dom" --sort size "$S/legacy-accounts.csv"
expect_rc 2 "--sort takes only time"

# every time form
cat >"$TMP/times.map.yaml" <<'EOF'
format: csv
stream: "'T'"
type: "'Tick'"
time: record.t
EOF
cat >"$TMP/times.csv" <<'EOF'
t,want
2026-05-01T10:00:00Z,0 fraction digits
2026-05-01T10:00:00.1Z,1 digit
2026-05-01T10:00:00.12Z,2 digits
2026-05-01T10:00:00.123Z,3 digits
2026-05-01T10:00:00.1234Z,4 digits
2026-05-01T10:00:00.123456Z,6 digits
2026-05-01T10:00:00.123456789Z,9 digits
2026-05-01T12:00:00+02:00,offset
2026-05-01T05:30:00-04:30,negative offset
2026-05-01T12:00:00+0200,offset without colon
2026-05-01 10:00:00Z,space for T
2026-05-01 10:00:00,no zone
2026-05-01T10:00,no seconds
2026-05-01,a bare date
EOF
run "$STRATA" import --db "$DB_t" --map "$TMP/times.map.yaml" "$TMP/times.csv"
expect_rc 0 "every time form reads"
got=$("$STRATA" export --db "$DB_t" | sed 's/.*"time":"\([^"]*\)".*/\1/' | tr '\n' ' ')
expect_eq "$got" "2026-05-01T10:00:00.000Z 2026-05-01T10:00:00.100Z 2026-05-01T10:00:00.120Z 2026-05-01T10:00:00.123Z 2026-05-01T10:00:00.123Z 2026-05-01T10:00:00.123Z 2026-05-01T10:00:00.123Z 2026-05-01T10:00:00.000Z 2026-05-01T10:00:00.000Z 2026-05-01T10:00:00.000Z 2026-05-01T10:00:00.000Z 2026-05-01T10:00:00.000Z 2026-05-01T10:00:00.000Z 2026-05-01T00:00:00.000Z " "each form stored as UTC milliseconds"
printf 'format: csv\ntimezone: "+02:00"\nstream: "%s"\ntype: "%s"\ntime: record.t\n' "'T'" "'Tick'" >"$TMP/tz.map.yaml"
printf 't\n2026-05-01 12:00:00\n2026-05-01T12:00:00Z\n' >"$TMP/tz.csv"
run "$STRATA" import --db "$DB_tz" --map "$TMP/tz.map.yaml" "$TMP/tz.csv"
got=$("$STRATA" export --db "$DB_tz" | sed 's/.*"time":"\([^"]*\)".*/\1/' | tr '\n' ' ')
expect_eq "$got" "2026-05-01T10:00:00.000Z 2026-05-01T12:00:00.000Z " "no zone takes the source's timezone; an explicit zone wins"

# every kind of bad mapped record
cat >"$TMP/bad.map.yaml" <<'EOF'
format: csv
skip: "record.kind == 'skip' ? true : (record.kind == 'notbool' ? 'yes' : false)"
stream: "record.account"
type: record.kind
time: record.ts
data: "{'amount': int(record.amount)}"
meta: "record.kind == 'badmeta' ? [1] : null"
EOF
cat >"$TMP/bad.csv" <<'EOF'
account,kind,ts,amount
A,Ok,2026-01-01T00:00:00Z,1
A,Ragged,2026-01-01T00:00:00Z
A,Time,31/12/2025,1
A,Expr,2026-01-01T00:00:00Z,ten
,Empty,2026-01-01T00:00:00Z,1
A,notbool,2026-01-01T00:00:00Z,1
A,badmeta,2026-01-01T00:00:00Z,1
A,skip,2026-01-01T00:00:00Z,1
A,"Quote"x,2026-01-01T00:00:00Z,1
A,"Open,2026-01-01T00:00:00Z,1
EOF
run "$STRATA" import --db "$DB_bm" --map "$TMP/bad.map.yaml" "$TMP/bad.csv"
expect_rc 1 "bad mapped records: exit 1"
expect_contains "$ERR" "bad.csv:3: error: row has 3 fields, the header has 4" "ragged row"
expect_contains "$ERR" "bad.csv:4: error: unreadable time '31/12/2025'" "unreadable time"
expect_contains "$ERR" "bad.csv:5: error: data: " "expression error names the slot"
expect_contains "$ERR" "bad.csv:6: error: stream is empty" "empty stream"
expect_contains "$ERR" "bad.csv:7: error: skip must give true or false, got string" "skip not a bool"
expect_contains "$ERR" "bad.csv:8: error: meta must be an object, got list" "meta not an object"
expect_contains "$ERR" "bad.csv:10: error: unexpected 'x' after the closing quote of field 2" "junk after a quote"
expect_contains "$ERR" "bad.csv:11: error: unterminated quoted field (the quote opened at line 11)" "quote left open"
expect_not_contains "$ERR" "bad.csv:9:" "skipped record is not bad"
expect_eq "$(count "$DB_bm")" 0 "nothing committed"
run "$STRATA" import --db "$DB_bm" --skip-bad --map "$TMP/bad.map.yaml" "$TMP/bad.csv"
expect_rc 0 "--skip-bad with mapped records"
expect_contains "$OUT" "imported 1 event (positions 1-1) from 1 file" "the good row"
expect_contains "$OUT" "1 record passed over by skip; 8 bad records skipped" "skip and bad counted apart"

# a map file with a mistake is reported where it is
printf 'format: cvs\nstream: record.a\ntype: record.b\n' >"$TMP/wrong.map.yaml"
run "$STRATA" import --db "$DB_w" --map "$TMP/wrong.map.yaml" "$TMP/bad.csv"
expect_rc 1 "a broken map file"
expect_contains "$ERR" "wrong.map.yaml:1:" "map problems as FILE:LINE:COL"
printf 'format: csv\ntype: record.b\n' >"$TMP/nostream.map.yaml"
run "$STRATA" import --db "$DB_w" --map "$TMP/nostream.map.yaml" "$TMP/bad.csv"
expect_rc 2 "a map without stream"
expect_contains "$ERR" "has no \`stream:\` expression" "a map without stream says so"

# ---- JSON documents, --sort time --------------------------------------------------
run "$STRATA" import --db "$DB_j" --map "$S/audit.map.yaml" "$S/audit.json"
expect_rc 0 "JSON Records document"
got=$("$STRATA" export --db "$DB_j" | sed 's/.*"type":"\([^"]*\)".*/\1/' | tr '\n' ' ')
expect_eq "$got" "PutObject ConsoleLogin ConsoleLogin DeleteObject GetObject " "file order by default"
run "$STRATA" import --db "$DB_js" --sort time --map "$S/audit.map.yaml" "$S/audit.json"
expect_rc 0 "--sort time"
got=$("$STRATA" export --db "$DB_js" | sed 's/.*"type":"\([^"]*\)".*/\1/' | tr '\n' ' ')
expect_eq "$got" "ConsoleLogin ConsoleLogin PutObject GetObject DeleteObject " "--sort time puts records in time order"
printf '{"Records":[{"eventTime":"2026-01-01T00:00:00Z","eventName":"A","userIdentity":{"arn":"x"}},{"eventTime":"never","eventName":"B","userIdentity":{"arn":"x"}}]}' >"$TMP/bad.json"
run "$STRATA" import --db "$DB_jb" --map "$S/audit.map.yaml" "$TMP/bad.json"
expect_contains "$ERR" "bad.json:[1]: error: unreadable time 'never'" "JSON array records named by index"
printf '{"Records":[1,2' >"$TMP/broken.json"
run "$STRATA" import --db "$DB_jb" --map "$S/audit.map.yaml" "$TMP/broken.json"
expect_rc 1 "a broken JSON document"
expect_contains "$ERR" "broken.json:1:" "broken document: FILE:LINE:COL"

# ---- CloudEvents -------------------------------------------------------------------
run "$STRATA" import --db "$DB_ce" --map "$S/orders.map.yaml" "$S/orders.cloudevents.ndjson"
expect_rc 0 "CloudEvents NDJSON"
run "$STRATA" events --db "$DB_ce" --stream /shop/orders/order-1001
expect_contains "$OUT" '"type":"com.example.order.placed","schema":1,"time":"2026-03-01T09:00:00.000Z","data":{"items":2,"total":4990},"meta":{"specversion":"1.0","id":"e-1","source":"/shop/orders","subject":"order-1001","datacontenttype":"application/json"}' "CloudEvents defaults: stream source/subject, meta the other attributes"
run "$STRATA" events --db "$DB_ce" --stream /shop/orders/order-1002 --type com.example.order.cancelled
expect_contains "$OUT" '"data":{"value":"customer changed their mind"}' "non-object data wrapped as {value}"
cat >"$TMP/bad.ce.ndjson" <<'EOF'
{"specversion":"1.0","id":"1","source":"/s","type":"t"}
{"specversion":"0.3","id":"1","source":"/s","type":"t"}
{"specversion":"1.0","source":"/s","type":"t"}
{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"2018-04-05T18:31Z"}
{"specversion":"1.0","id":"1","source":"/s","type":"t","Upper":1}
{"specversion":"1.0","id":"1","source":"/s","type":"t","data":1,"data_base64":"AA=="}
{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"json"}
EOF
run "$STRATA" import --db "$DB_ceb" --map "$S/orders.map.yaml" "$TMP/bad.ce.ndjson"
expect_rc 1 "invalid CloudEvents refused"
expect_contains "$ERR" "bad.ce.ndjson:2: error: unsupported specversion '0.3'" "specversion"
expect_contains "$ERR" "bad.ce.ndjson:3: error: missing required attribute 'id'" "missing id"
expect_contains "$ERR" "bad.ce.ndjson:4: error: attribute 'time' is not an RFC 3339 timestamp" "time"
expect_contains "$ERR" "bad.ce.ndjson:5: error: attribute name 'Upper' is not made of lowercase letters and digits" "attribute name"
expect_contains "$ERR" "bad.ce.ndjson:6: error: has both 'data' and 'data_base64'" "data and data_base64"
expect_contains "$ERR" "bad.ce.ndjson:7: error: attribute 'datacontenttype' is not a media type" "datacontenttype"
printf '[{"specversion":"1.0","id":"1","source":"/s","type":"t"},{"id":"2"}]' >"$TMP/batch.json"
run "$STRATA" import --db "$DB_ceb" --map "$S/orders.map.yaml" "$TMP/batch.json"
expect_contains "$ERR" "batch.json:[1]: error: missing required attribute 'specversion'" "batch: refused event by index"

# ---- the progress bar stays off when standard error is not a terminal ----------------
run "$STRATA" import --db "$DB_p" "$S/bank.ndjson"
expect_eq "$ERR" "" "no progress output when stderr is not a terminal"

# ---- real files written by other systems ------------------------------------------------
if [ ! -d "$DATA" ]; then
    _n=$((_n + 1)); echo "ok $_n - # SKIP shared data absent ($DATA)"
else
    shared() { # NAME MAP WANT FILE... : imports FILE... through MAP, expects WANT events
        name=$1 map=$2 want=$3
        shift 3
        reset_db sh
        run "$STRATA" import --db "$DB_sh" --map "$M/$map" "$@"
        expect_rc 0 "shared data: $name imports"
        expect_eq "$(count "$DB_sh")" "$want" "shared data: $name gives $want events"
    }
    shared "GitHub bulk file (.gz, action lines skipped)" gharchive.map.yaml 100 "$DATA/gharchive/quickwit-gharchive-bulk.json.gz"
    expect_contains "$OUT" "100 records passed over by skip" "shared data: bulk action lines passed over"
    shared "CloudTrail Records (55 files, --sort time)" cloudtrail.map.yaml 2900 --sort time "$DATA"/audit_logs/invictus_cloudtrail/*.json
    sorted=$("$STRATA" export --db "$DB_sh" | sed 's/.*"time":"\([^"]*\)".*/\1/' | sort -c 2>&1 && echo sorted)
    expect_eq "$sorted" "sorted" "shared data: CloudTrail in time order after --sort time"
    shared "plaso AWS (space for T, offsets)" plaso_aws.map.yaml 6 "$DATA/audit_logs/plaso_aws_cloudtrail.jsonl"
    shared "plaso Azure (microseconds)" plaso_azure.map.yaml 4 "$DATA/audit_logs/plaso_azure_activity_log.jsonl"
    shared "plaso GCP (9 fraction digits)" plaso_gcp.map.yaml 11 "$DATA/audit_logs/plaso_gcp_logging.jsonl"
    shared "plaso Microsoft 365 (no zone, no final newline)" plaso_m365.map.yaml 4 "$DATA/audit_logs/plaso_microsoft_audit_log.jsonl"
    shared "pm4py running example" pm4py.map.yaml 42 "$DATA/process_mining/running-example.csv"
    shared "pm4py receipt" pm4py.map.yaml 8577 "$DATA/process_mining/receipt.csv"
    shared "BPIC 2012 (262,200 rows, .gz, offsets changing mid-log)" bpic2012.map.yaml 262200 "$DATA/process_mining/bpic2012.DERIVED.csv.gz"
    run "$STRATA" events --db "$DB_sh" --limit 1
    expect_contains "$OUT" '"stream":"Application-173688","version":1,"type":"A_SUBMITTED.COMPLETE","schema":1,"time":"2011-09-30T22:38:44.546Z"' "shared data: BPIC 2012 offset +02:00 stored as UTC"
    # the CloudEvents conformance files are test documents, not event files: each
    # test is a record of a JSON document (the events themselves are checked by
    # tests/unit/test_reader.c)
    shared "CloudEvents conformance documents (json, records: tests)" cloudevents-conformance.map.yaml 10 "$DATA/cloudevents/conformance_json_valid-events.json"
    rm -f "$DB_sh"*
    run "$STRATA" import --db "$DB_sh" --map "$M/cloudevents.map.yaml" "$DATA/cloudevents/conformance_json_valid-events.json"
    expect_rc 1 "shared data: a conformance document is not itself a CloudEvent"
    expect_contains "$ERR" "conformance_json_valid-events.json:1: error: missing required attribute 'specversion'" "shared data: and says why"
fi

done_testing
