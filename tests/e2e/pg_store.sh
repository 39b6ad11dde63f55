#!/bin/sh
# pg_store.sh: the PostgreSQL store as a person meets it (needs STRATA_TEST_PG_URI,
# which tests/run.sh sets after starting scripts/pg-cluster.sh): the same NDJSON
# imported into SQLite and PostgreSQL exports to identical bytes; psql sees the
# contract's `events`; passwords never show in messages; a follower hears of an
# append at once; read models fold there.
. "$(dirname "$0")/lib.sh"
needs_pg
S=$ROOT/samples
SQ="$TMP/a.db"
PG=$(fresh_db a)

# ---- one export, byte for byte, from either backend ------------------------------------
for db in "$SQ" "$PG"; do
    "$STRATA" import --db "$db" "$S/bank.ndjson" >/dev/null &&
        "$STRATA" import --db "$db" --map "$S/legacy-accounts.map.yaml" "$S/legacy-accounts.csv" >/dev/null &&
        "$STRATA" import --db "$db" --map "$S/orders.map.yaml" "$S/orders.cloudevents.ndjson" >/dev/null ||
        not_ok "import into $db"
done
printf '%s\n' '{"position":1,"stream":"Z","version":1,"type":"T","schema":3,"time":"2026-01-01T00:00:00.000Z","data":{"n":9007199254740993,"d":1.50,"s":"\u00e9 \"q\""},"meta":{"k": [1, 2]}}' >"$TMP/raw.ndjson"
for db in "$SQ" "$PG"; do "$STRATA" import --db "$db" "$TMP/raw.ndjson" --allow-duplicates >/dev/null 2>&1 || "$STRATA" import --db "$db" "$TMP/raw.ndjson" >/dev/null; done
"$STRATA" export --db "$SQ" >"$TMP/sqlite.ndjson"
"$STRATA" export --db "$PG" >"$TMP/pg.ndjson"
expect_eq "$(wc -l <"$TMP/pg.ndjson" | tr -d ' ')" "$(wc -l <"$TMP/sqlite.ndjson" | tr -d ' ')" "as many events exported from PostgreSQL as from SQLite"
if cmp -s "$TMP/sqlite.ndjson" "$TMP/pg.ndjson"; then ok "export from PostgreSQL is byte-identical to export from SQLite"; else not_ok "export from PostgreSQL is byte-identical to export from SQLite" "$(diff "$TMP/sqlite.ndjson" "$TMP/pg.ndjson" | head -5)"; fi
for f in csv cloudevents; do
    "$STRATA" export --db "$SQ" --format $f >"$TMP/sq.$f"
    "$STRATA" export --db "$PG" --format $f >"$TMP/pg.$f"
    if cmp -s "$TMP/sq.$f" "$TMP/pg.$f"; then ok "$f export identical too"; else not_ok "$f export identical too"; fi
done

# ---- what psql sees -----------------------------------------------------------------------
schema=$(printf %s "$PG" | sed 's/.*search_path%3D//')
cols=$(psql "$STRATA_TEST_PG_URI" -At -c "SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '$schema' AND table_name = 'events'")
expect_eq "$cols" "position:bigint,stream:text,version:bigint,type:text,schema:integer,time:text,data:text,meta:text" "events has the contract's columns"
run psql "$PG" -At -c "SELECT position, stream, version, type FROM events WHERE position = 3"
expect_eq "$OUT" "3|Account-A|3|MoneyWithdrawn" "SELECT ... FROM events in psql"
run psql "$PG" -At -c "SELECT value FROM strata_meta WHERE key = 'format_version'"
latest=$(sqlite3 "$SQ" "PRAGMA user_version") # SQLite's newest format, whatever its number
expect_eq "$OUT" "$latest" "strata_meta records the format version ($latest: the numbered formats SQLite has)"
gaps=$(psql "$PG" -At -c "SELECT count(*) = max(position) FROM events")
expect_eq "$gaps" "t" "positions 1..N without gaps"

# ---- commands on PostgreSQL -----------------------------------------------------------------
B=$(fresh_db bank)
D="$ROOT/domains/bank.yaml"
run "$STRATA" --domain "$D" --db "$B" exec OpenAccount accountId=A owner=Alice initialDeposit=100
expect_rc 0 "exec on PostgreSQL"
run env STRATA_DB="$B" "$STRATA" --domain "$D" exec Deposit accountId=A amount=5
expect_rc 0 "STRATA_DB names a PostgreSQL store too"
run "$STRATA" --domain "$D" --db "$B" exec Deposit accountId=A amount=1 --expect-version 1
expect_rc 4 "a stale expected version exits 4"
run "$STRATA" --domain "$D" --db "$B" state Account A
expect_out '{"stream":"Account-A","version":2,"position":2,"state":{"status":"open","owner":"Alice","balance":105}}' "state on PostgreSQL"
conninfo="postgresql:$(psql "$B" -At -c "SELECT 'host=127.0.0.1 port=' || inet_server_port() || ' dbname=' || current_database() || ' user=' || current_user")"
pw=$(printf %s "$STRATA_TEST_PG_URI" | sed 's|^[a-z]*://[^:]*:\([^@]*\)@.*|\1|')
run "$STRATA" events --db "$conninfo password=$pw options='-csearch_path=$schema'" --limit 1
expect_rc 0 "a conninfo string after postgresql: opens the store"
expect_contains "$OUT" '"position":1' "and reads it"

# ---- passwords never show -------------------------------------------------------------------
bad=$(printf %s "$STRATA_TEST_PG_URI" | sed "s|:$pw@|:Hunter2Secret@|")
run "$STRATA" events --db "$bad"
expect_rc 1 "a wrong password fails"
expect_contains "$ERR" "password authentication failed" "with libpq's reason"
expect_contains "$ERR" ":***@" "the URI shown has its password masked"
expect_not_contains "$ERR" "Hunter2Secret" "the password is not in the message"
run "$STRATA" events --db "$conninfo password=Hunter2Secret"
expect_not_contains "$ERR" "Hunter2Secret" "nor from a conninfo string"
expect_contains "$ERR" "password=***" "which shows password=***"
run "$STRATA" events --db "$B&password=Hunter2Secret&dbname=nosuchdb"
expect_not_contains "$ERR" "Hunter2Secret" "nor from a URI's password= parameter"
run "$STRATA" events --db "$STRATA_TEST_PG_URI"
expect_rc 1 "a database without a store is not one"
expect_contains "$ERR" "no such store" "and says so"
expect_not_contains "$ERR" "$pw" "without the password"

# ---- read models in PostgreSQL (tests/e2e/pg_projections.sh goes further) ----------------------
run "$STRATA" --domain "$D" --db "$B" project
expect_rc 0 "project on PostgreSQL folds the read models"
expect_contains "$OUT" "AccountList: live at" "and says where each one is"
done_testing
