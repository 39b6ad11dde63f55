#!/bin/sh
# doctor.sh: `strata doctor` over stores made to have each problem of the
# checklist (each item fails or warns), and a healthy store, where every item is
# ok and the exit is 0. Lines: ok|warn|fail ITEM: found (fix: ...); exit 1 when an
# item fails.
. "$(dirname "$0")/lib.sh"
D=$ROOT/domains/bank.yaml

# On PostgreSQL (STRATA_TEST_DB_KIND=pg) what replaces SQLite's checks: durability
# is the server's fsync, synchronous_commit and full_page_writes; integrity is the
# store's own invariant (streams agree with their events); the gap check is the
# same. Read models have no PostgreSQL backend here, so the projection items warn.
if [ -n "$PG_MODE" ]; then
    P=$(fresh_db ok)
    for c in "OpenAccount accountId=A owner=Al initialDeposit=100" "Deposit accountId=A amount=50" \
        "Withdraw accountId=A amount=30" "OpenAccount accountId=B owner=Bo" "CloseAccount accountId=B"; do
        # shellcheck disable=SC2086
        "$STRATA" exec $c --domain "$D" --db "$P" >/dev/null || not_ok "exec $c"
    done
    run "$STRATA" doctor --domain "$D" --db "$P"
    expect_rc 0 "a healthy PostgreSQL store passes"
    for item in readable snapshots positions scenarios "event types" handlers; do
        expect_contains "$OUT" "ok $item: " "item $item reported"
    done
    expect_contains "$OUT" "ok durability: fsync on, synchronous_commit on, full_page_writes on" "durability is the server's settings"
    expect_contains "$OUT" "ok integrity: streams agree with their events: ok" "integrity is the store's own invariant"
    run "$STRATA" doctor --domain "$D" --db "$P%20-csynchronous_commit%3Doff"
    expect_rc 1 "synchronous_commit off fails"
    expect_contains "$OUT" "fail durability: fsync on, synchronous_commit off" "... naming the setting"
    psql "$P" -qc "UPDATE streams SET version = version + 5 WHERE name = 'Account-B'"
    run "$STRATA" doctor --domain "$D" --db "$P"
    expect_contains "$OUT" "fail integrity: streams agree with their events: 1 streams disagree with their events (streams.version or last_position), the first Account-B" "a stream out of step with its events fails integrity"
    psql "$P" -qc "UPDATE streams SET version = version - 5 WHERE name = 'Account-B'" -c "DELETE FROM event_log WHERE position = 2"
    run "$STRATA" doctor --domain "$D" --db "$P"
    expect_rc 1 "a gap fails"
    expect_contains "$OUT" "fail positions: 1 positions missing of 1..5, the first at 2" "a gap in the positions fails, as on SQLite"
    done_testing
    exit
fi

# A healthy store: commands, projections folded.
healthy() {
    "$STRATA" exec OpenAccount accountId=A owner=Al initialDeposit=100 --domain "$D" --db "$1" >/dev/null &&
    "$STRATA" exec Deposit accountId=A amount=50 --domain "$D" --db "$1" >/dev/null &&
    "$STRATA" exec Withdraw accountId=A amount=30 --domain "$D" --db "$1" >/dev/null &&
    "$STRATA" exec OpenAccount accountId=B owner=Bo --domain "$D" --db "$1" >/dev/null &&
    "$STRATA" exec CloseAccount accountId=B --domain "$D" --db "$1" >/dev/null &&
    "$STRATA" project --domain "$D" --db "$1" >/dev/null
}
healthy "$TMP/ok.db"
run "$STRATA" doctor --domain "$D" --db "$TMP/ok.db"
expect_rc 0 "a healthy store passes"
bad=$(printf '%s\n' "$OUT" | grep -v '^ok ' || true)
expect_eq "$bad" "" "every item ok"
for item in readable snapshots "projection AccountList" "projection BankStats" durability integrity positions scenarios "event types" handlers; do
    expect_contains "$OUT" "ok $item: " "item $item reported"
done

# readable: an event the domain cannot read (a schema it does not know); the
# projections fail on it too.
healthy "$TMP/poison.db"
sqlite3 "$TMP/poison.db" "INSERT INTO event_log(stream_id, version, type, schema, time, data, meta) SELECT id, version + 1, 'MoneyDeposited', 9, '2026-11-27T10:00:00.000Z', '{\"amount\":1}', NULL FROM streams WHERE name = 'Account-A'; UPDATE streams SET version = version + 1 WHERE name = 'Account-A'"
"$STRATA" project --domain "$D" --db "$TMP/poison.db" >/dev/null 2>&1
run "$STRATA" doctor --domain "$D" --db "$TMP/poison.db"
expect_rc 1 "a poison event fails"
expect_contains "$OUT" "fail readable: 1 of 6 events cannot be read by the domain: position 6 (MoneyDeposited schema 9)" "readable fails, naming the event"
expect_contains "$OUT" "fail projection AccountList: failed at position 6" "a failed projection fails"

# snapshots: a stream of 250 events with no snapshot_every.
sed '/snapshot_every/d' "$D" >"$TMP/nosnap.yaml"
{
    echo '{"position":1,"stream":"Account-L","version":1,"type":"AccountOpened","schema":2,"time":"2020-01-01T00:00:00Z","data":{"owner":"L","initialDeposit":0,"currency":"EUR"}}'
    i=2; while [ $i -le 250 ]; do echo '{"position":'$i',"stream":"Account-L","version":'$i',"type":"MoneyDeposited","schema":1,"time":"2020-01-01T00:00:01Z","data":{"amount":1}}'; i=$((i + 1)); done
} >"$TMP/long.ndjson"
"$STRATA" import "$TMP/long.ndjson" --domain "$TMP/nosnap.yaml" --db "$TMP/long.db" >/dev/null 2>&1
"$STRATA" project --domain "$TMP/nosnap.yaml" --db "$TMP/long.db" >/dev/null
run "$STRATA" doctor --domain "$TMP/nosnap.yaml" --db "$TMP/long.db"
expect_contains "$OUT" "warn snapshots: streams longer than 200 events without snapshot_every: Account (Account-L: 250 events); longest replay a load needs: 250 events" "a long stream without snapshots warns, with the longest replay"
expect_contains "$OUT" "(fix: set \`snapshot_every: 50\`" "says how to fix it"
expect_rc 0 "warnings alone exit 0"

# projections: stale (a changed definition), skipped events, and a lag that has
# aged (appended long ago, nothing folding): the age is from the append, not the
# events' 2020 time.
sed 's/columns: {owner: "", balance: 0/columns: {owner: "-", balance: 0/' "$D" >"$TMP/stale.yaml"
run "$STRATA" doctor --domain "$TMP/stale.yaml" --db "$TMP/ok.db"
expect_contains "$OUT" "warn projection AccountList: stale: its table was built by other rules" "a stale projection warns"
cp "$TMP/ok.db" "$TMP/skip.db"
"$STRATA" project --skip BankStats=2 --domain "$D" --db "$TMP/skip.db" >/dev/null 2>&1
run "$STRATA" doctor --domain "$D" --db "$TMP/skip.db"
expect_contains "$OUT" "warn projection BankStats: 1 skipped event" "skipped events warn"
"$STRATA" exec Deposit accountId=A amount=5 --domain "$D" --db "$TMP/skip.db" >/dev/null
run "$STRATA" doctor --domain "$D" --db "$TMP/skip.db"
expect_contains "$OUT" "ok projection AccountList: catching up; 1 behind, the oldest unfolded event appended" "lag and its age shown"
sqlite3 "$TMP/skip.db" "UPDATE append_times SET appended_at = appended_at - 3600000"
run "$STRATA" doctor --domain "$D" --db "$TMP/skip.db"
expect_contains "$OUT" "warn projection AccountList: 1 behind, the oldest unfolded event appended 360" "a lag an hour old warns"

# durability, integrity, positions.
cp "$TMP/ok.db" "$TMP/delete.db"
sqlite3 "$TMP/delete.db" "PRAGMA journal_mode=DELETE" >/dev/null
run "$STRATA" doctor --domain "$D" --db "$TMP/delete.db"
expect_rc 1 "a store out of WAL fails"
expect_contains "$OUT" "fail durability: journal_mode delete, synchronous FULL" "durability names the journal mode"
cp "$TMP/ok.db" "$TMP/broken.db"
sqlite3 "$TMP/broken.db" "PRAGMA writable_schema=ON; UPDATE sqlite_master SET sql='CREATE INDEX event_log_time ON event_log(data)' WHERE name='event_log_time'"
run "$STRATA" doctor --domain "$D" --db "$TMP/broken.db"
expect_rc 1 "a damaged index fails"
expect_contains "$OUT" "fail integrity: integrity_check: row 1 missing from index event_log_time" "integrity says what is wrong"
cp "$TMP/ok.db" "$TMP/gap.db"
sqlite3 "$TMP/gap.db" "DELETE FROM event_log WHERE position = 2"
run "$STRATA" doctor --domain "$D" --db "$TMP/gap.db"
expect_contains "$OUT" "fail positions: 1 positions missing of 1..5, the first at 2" "a gap in the positions fails"

# scenarios, event types, handlers.
sed '/^scenarios:/,$d' "$D" >"$TMP/noscen.yaml"
run "$STRATA" doctor --domain "$TMP/noscen.yaml" --db "$TMP/ok.db"
expect_contains "$OUT" "warn scenarios: the domain has no scenarios (4 commands, 2 projections untested)" "no scenarios warns"
awk '/^scenarios:/{s=1} {print} s && /^  - name:/{n++} n==3{exit}' "$D" | sed '$d' >"$TMP/few.yaml"
run "$STRATA" doctor --domain "$TMP/few.yaml" --db "$TMP/ok.db"
expect_contains "$OUT" "warn scenarios: 2 scenarios; without one: command OpenAccount, command CloseAccount" "uncovered commands named"
sed -e "s/^        apply: {status: \"'closed'\"}/&\n      AccountFrozen:\n        fields: {why: string}/" \
    -e "s/^      AccountClosed:  {delete: true}/&\n      AccountFrozen:  {status: \"'frozen'\"}/" "$D" >"$TMP/frozen.yaml"
run "$STRATA" doctor --domain "$TMP/frozen.yaml" --db "$TMP/ok.db"
expect_contains "$OUT" "warn event types: no command emits and the store holds none of: AccountFrozen" "an event type nothing produces warns"
expect_contains "$OUT" "warn handlers: handlers for types nothing produces: AccountList.AccountFrozen" "a handler for it warns"
expect_clean_stderr "doctor"
done_testing
