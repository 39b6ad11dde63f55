#!/bin/sh
# sql.sh: `strata sql` runs one read-only statement and can change nothing:
# writes, writing pragmas, ATTACH and a second statement are refused, a runaway
# query is stopped by the time limit, and the store file is unchanged after all.
. "$(dirname "$0")/lib.sh"
# With STRATA_TEST_DB_KIND=pg the same checks run on PostgreSQL, in its SQL where
# the two differ (no PRAGMA, no ATTACH, bytea for a blob); "unchanged" is then the
# export and the tables' row counts rather than the file's checksum.
DB=$(fresh_db log)
run "$STRATA" import --db "$DB" --map "$ROOT/samples/audit.map.yaml" "$ROOT/samples/audit.json"
expect_rc 0 "a log to look at"
if [ -n "$PG_MODE" ]; then
    sum() {
        { "$STRATA" export --db "$DB"; "$STRATA" sql --json --db "$DB" "SELECT (SELECT count(*) FROM streams) AS s, (SELECT count(*) FROM strata_meta) AS m, (SELECT count(*) FROM append_times) AS t"; } | cksum
    }
else
    sum() { cat "$DB" "$DB-wal" 2>/dev/null | cksum; }
fi
before=$(sum)

run "$STRATA" sql --db "$DB" "SELECT count(*) AS n FROM events"
expect_rc 0 "SELECT works"
n=$("$STRATA" export --db "$DB" | grep -c .)
expect_out "{\"n\":$n}" "... and prints NDJSON rows keyed by column name"
if [ -n "$PG_MODE" ]; then blob="'\\x00ff'::bytea"; else blob="x'00ff'"; fi
run "$STRATA" sql --db "$DB" "SELECT 1 AS i, 2.5 AS f, 'x\"y' AS t, NULL AS z, $blob AS b"
expect_out '{"i":1,"f":2.5,"t":"x\"y","z":null,"b":"x'"'"'00ff'"'"'"}' "values are typed; a blob is x'HEX'"
run "$STRATA" sql --db "$DB" "SELECT type, count(*) AS n FROM events WHERE position <= 3 GROUP BY type ORDER BY type"
expect_rc 0 "a grouped query"
if [ -n "$PG_MODE" ]; then
    run "$STRATA" sql --db "$DB" "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'events' AND table_schema = current_schema()"
    expect_contains "$OUT" '"name":"stream"' "the catalog can be read (PostgreSQL has no PRAGMA)"
    run "$STRATA" sql --db "$DB" "SELECT count(*) AS n FROM events WHERE data::jsonb ? 'user'"
    expect_rc 0 "PostgreSQL's JSON operators work on data"
else
    run "$STRATA" sql --db "$DB" "PRAGMA table_info(events)"
    expect_contains "$OUT" '"name":"stream"' "a reading pragma is allowed"
fi

refused() {
    run "$STRATA" sql --db "$DB" "$1"
    if [ "$RC" != 0 ]; then
        expect_contains "$ERR" "$2" "refused: $1"
    else
        not_ok "refused: $1" "it ran: $OUT"
    fi
}
refused "INSERT INTO strata_meta(key, value) VALUES('x', 'y')" "would write"
refused "UPDATE streams SET version = 0" "would write"
refused "DELETE FROM event_log" "would write"
refused "CREATE TABLE t(x)" "would write"
refused "DROP TABLE event_log" "would write"
refused "SELECT 1; SELECT 2" "one statement at a time"
refused "SELECT 1; DELETE FROM event_log" "one statement at a time"
if [ -n "$PG_MODE" ]; then
    refused "WITH d AS (DELETE FROM event_log RETURNING 1) SELECT * FROM d" "would write"
    refused "SELECT nextval('streams_id_seq')" "would write"
    refused "COPY event_log TO '/tmp/x'" "would write"
    refused "SET default_transaction_read_only = off" "would write"
    refused "SELECT 1; COMMIT; DELETE FROM event_log" "one statement at a time"
else
    refused "PRAGMA query_only=0" "PRAGMA query_only"
    refused "PRAGMA journal_mode=DELETE" "PRAGMA journal_mode"
    refused "ATTACH '$TMP/x.db' AS y" "ATTACH is not allowed"
    run test -e "$TMP/x.db"
    expect_rc 1 "ATTACH created no file"
fi

start=$(date +%s)
run "$STRATA" sql --db "$DB" --timeout 1 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
[ -n "$PG_MODE" ] && run "$STRATA" sql --db "$DB" --timeout 1 "SELECT pg_sleep(30)"
end=$(date +%s)
expect_rc 1 "a runaway recursive query fails"
expect_contains "$ERR" "ran past its time limit of 1 s" "... stopped by the time limit, with a clear message"
if [ $((end - start)) -le 5 ]; then ok "... promptly"; else not_ok "... promptly" "took $((end - start)) s"; fi
run "$STRATA" sql --db "$DB" --timeout x "SELECT 1"
expect_rc 2 "a bad --timeout is a usage error"
NONE=$(fresh_db none)
run "$STRATA" sql --db "$NONE" "SELECT 1"
expect_rc 1 "a missing store is not created"
if [ -n "$PG_MODE" ]; then
    run "$STRATA" sql --db "$NONE" "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'e$$_none'"
    expect_rc 1 "... (it is not a store, so it cannot be queried)"
else
    run test -e "$NONE"
    expect_rc 1 "... no file left behind"
fi
# the workbench on the log alone (no domain): the ; prompt and Insights
cat >"$TMP/look.script" <<SCRIPT
;SELECT stream, count(*) AS n FROM events GROUP BY stream ORDER BY n DESC LIMIT 3<Enter>
:save-display $TMP/sql.txt
;DROP TABLE event_log<Enter>
:save-display $TMP/drop.txt
6
:save-display $TMP/insights.txt
SCRIPT
run env STRATA_SCRIPT="$TMP/look.script" STRATA_NO_DISPLAY=1 LINES=24 COLUMNS=80 \
    timeout 60 "$STRATA" tui --db "$DB"
expect_rc 0 "the workbench opens the log without a domain"
expect_contains "$(cat "$TMP/sql.txt")" " rows" "; runs a statement and shows its rows"
expect_contains "$(cat "$TMP/drop.txt")" "refused" "; refuses a statement that writes"
expect_contains "$(cat "$TMP/insights.txt")" "Insights as of position $n: $n events" "Insights works without a domain"
expect_clean_stderr "the workbench's SQL and Insights"
expect_eq "$(sum)" "$before" "the store is unchanged (checksum before and after)"
expect_clean_stderr "sql"
done_testing
