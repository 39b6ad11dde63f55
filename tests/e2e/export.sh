#!/bin/sh
# export.sh: `strata export` and `strata events`: the canonical round trip (export,
# import into an empty store, export again: identical), the CloudEvents and CSV
# formats, and the filters.
. "$(dirname "$0")/lib.sh"
# One store per name: a file, or a PostgreSQL schema (STRATA_TEST_DB_KIND=pg).
for _db in a b c ce csv d missing; do eval "DB_$_db=\$(fresh_db $_db)"; done
S=$ROOT/samples

"$STRATA" import --db "$DB_a" "$S/bank.ndjson" >/dev/null
"$STRATA" import --db "$DB_a" --map "$S/legacy-accounts.map.yaml" "$S/legacy-accounts.csv" >/dev/null
"$STRATA" import --db "$DB_a" --map "$S/orders.map.yaml" "$S/orders.cloudevents.ndjson" >/dev/null

# ---- canonical round trip ------------------------------------------------------------
run "$STRATA" export --db "$DB_a"
expect_rc 0 "export"
expect_clean_stderr "export"
printf '%s\n' "$OUT" >"$TMP/one.ndjson"
expect_eq "$(wc -l <"$TMP/one.ndjson" | tr -d ' ')" 71 "every event exported"
run "$STRATA" import --db "$DB_b" "$TMP/one.ndjson"
expect_rc 0 "import of the export into an empty store"
"$STRATA" export --db "$DB_b" >"$TMP/two.ndjson"
if cmp -s "$TMP/one.ndjson" "$TMP/two.ndjson"; then ok "round trip: byte-identical export"; else not_ok "round trip: byte-identical export" "$(diff "$TMP/one.ndjson" "$TMP/two.ndjson" | head -5)"; fi
# data kept byte for byte, even when not written the canonical way
printf '%s\n' '{"position":1,"stream":"Z","version":1,"type":"T","schema":3,"time":"2026-01-01T00:00:00.000Z","data":{"n":9007199254740993,"d":1.50,"s":"\u00e9"},"meta":{"k": [1, 2]}}' >"$TMP/raw.ndjson"
"$STRATA" import --db "$DB_c" "$TMP/raw.ndjson" >/dev/null
run "$STRATA" export --db "$DB_c"
expect_eq "$OUT" "$(cat "$TMP/raw.ndjson")" "data and meta byte for byte (int64, 1.50, escapes, spaces)"
gzip -c "$TMP/one.ndjson" >"$TMP/one.ndjson.gz"
"$STRATA" import --db "$DB_d" "$TMP/one.ndjson.gz" >/dev/null
"$STRATA" export --db "$DB_d" >"$TMP/three.ndjson"
if cmp -s "$TMP/one.ndjson" "$TMP/three.ndjson"; then ok "round trip through .gz"; else not_ok "round trip through .gz"; fi

# ---- filters ------------------------------------------------------------------------
run "$STRATA" export --db "$DB_a" --from 3 --to 5
expect_eq "$(printf '%s\n' "$OUT" | sed 's/^{"position":\([0-9]*\),.*/\1/' | tr '\n' ' ')" "3 4 5 " "--from/--to"
run "$STRATA" export --db "$DB_a" --stream Account-C --from 60
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 1 "--stream with --from"
run "$STRATA" events --db "$DB_a" --limit 2
expect_eq "$OUT" "$(head -2 "$TMP/one.ndjson")" "events --limit"
run "$STRATA" events --db "$DB_a" --type AccountOpened --raw
expect_eq "$(printf '%s\n' "$OUT" | grep -c AccountOpened)" "$(grep -c '"type":"AccountOpened"' "$S/bank.ndjson")" "events --type"
run "$STRATA" events --db "$DB_a" --limit x
expect_rc 2 "events --limit x is a usage error"
run "$STRATA" export --db "$DB_a" --format xml
expect_rc 2 "unknown export format"
expect_contains "$ERR" "unknown format 'xml' (ndjson, cloudevents or csv)" "unknown format named"
run "$STRATA" export --db "$DB_missing"
expect_rc 1 "export from a store that does not exist"

# --where: the same events as `events --where`, and as filtering the whole export
# independently (python over the NDJSON); combined with --type and --from
run "$STRATA" export --db "$DB_a" --where "type == 'MoneyDeposited' && event.amount > 100"
expect_rc 0 "export --where"
want=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["type"] == "MoneyDeposited" and isinstance(e["data"].get("amount"), (int, float)) and e["data"]["amount"] > 100:
        sys.stdout.write(l)' "$TMP/one.ndjson")
expect_eq "$OUT" "$want" "export --where: the events an independent filter picks"
[ -n "$want" ] && ok "export --where picks some events" || not_ok "export --where picks some events"
run "$STRATA" export --db "$DB_a" --where "meta.command == 'Withdraw'" --type MoneyWithdrawn --from 10 --format csv
expect_rc 0 "export --where with --type, --from and csv"
want=$(python3 -c '
import json, sys
n = 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["type"] == "MoneyWithdrawn" and e["position"] >= 10 and (e.get("meta") or {}).get("command") == "Withdraw":
        n += 1
print(n + 1)' "$TMP/one.ndjson")
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" "$want" "export --where over meta, with --type and --from (csv: a header and one line each)"
run "$STRATA" export --db "$DB_a" --where "event.nosuch == 1"
expect_rc 0 "export --where on a missing field"
expect_eq "$OUT" "" "a missing field does not hold: nothing exported"
run "$STRATA" export --db "$DB_a" --where "type =="
expect_rc 1 "export --where with a syntax error"
expect_contains "$ERR" "--where: \`type ==\`: column 8:" "the bad expression named with its column"

# ---- CloudEvents --------------------------------------------------------------------
run "$STRATA" export --db "$DB_a" --format cloudevents --from 3 --to 3
expect_out '{"specversion":"1.0","id":"Account-A-3","source":"strata","subject":"Account-A","type":"MoneyWithdrawn","time":"2026-01-01T00:03:13.663Z","datacontenttype":"application/json","strataposition":3,"strataversion":3,"strataschema":1,"stratameta":"{\"command\":\"Withdraw\",\"commandId\":\"c-3\"}","data":{"amount":264}}' "cloudevents line"
"$STRATA" export --db "$DB_a" --format cloudevents >"$TMP/ce.ndjson"
printf 'format: cloudevents\nstream: record.subject\n' >"$TMP/ce.map.yaml"
run "$STRATA" import --db "$DB_ce" --map "$TMP/ce.map.yaml" "$TMP/ce.ndjson"
expect_rc 0 "the CloudEvents export passes the CloudEvents checks on import"
strip() { sed 's/^{"position":[0-9]*,//; s/,"schema":[0-9]*,/,/; s/,"meta":.*}$/}/'; }
a=$("$STRATA" export --db "$DB_a" | strip)
b=$("$STRATA" export --db "$DB_ce" | strip)
expect_eq "$b" "$a" "CloudEvents round trip keeps streams, versions, types, times and data"

# ---- CSV ----------------------------------------------------------------------------
run "$STRATA" export --db "$DB_a" --format csv --to 1
expect_eq "$(printf '%s' "$OUT" | tr -d '\r')" 'position,stream,version,type,schema,time,data,meta
1,Account-A,1,AccountOpened,1,2026-01-01T00:01:16.894Z,"{""name"":""Alice"",""deposit"":300}","{""command"":""OpenAccount"",""commandId"":""c-1""}"' "csv header and RFC 4180 quoting"
"$STRATA" export --db "$DB_a" --format csv >"$TMP/all.csv"
printf 'format: csv\nstream: record.stream\ntype: record.type\ntime: record.time\ndata: "{%s: int(record.version)}"\n' "'v'" >"$TMP/csv.map.yaml"
run "$STRATA" import --db "$DB_csv" --map "$TMP/csv.map.yaml" "$TMP/all.csv"
expect_rc 0 "the CSV export reads back as CSV (quotes and line breaks inside fields)"
expect_contains "$OUT" "imported 71 events" "every CSV row read back"

done_testing
