#!/bin/sh
# project.sh: strata project (catch-up, --status, --json, --rebuild, pause, resume,
# throttle, --follow) and strata query (now, --key, --at, --at-time), with a
# projection broken by a bad event and one whose definition changes.
. "$(dirname "$0")/lib.sh"
D="$TMP/ledger.yaml"
DB=$(fresh_db ledger)
{
    ledger_domain "row.deposits + 1"
    cat <<'EOF'
  Ratio:
    columns: {r: 0}
    on:
      MoneyDeposited: {r: "row.r + 100 / event.amount"}
EOF
} >"$D"
S() { run "$STRATA" --domain "$D" --db "$DB" "$@"; }

S exec Deposit accountId=A amount=10
S exec Deposit accountId=B amount=20
S exec Deposit accountId=A amount=5
expect_rc 0 "three deposits"

S project --status
expect_rc 0 "project --status before any catch-up"
expect_contains "$OUT" "catching up" "--status shows projections behind"
expect_contains "$OUT" "CHECKPOINT" "--status prints a table with a header"

S project
expect_rc 0 "project catches everything up"
expect_contains "$OUT" "Balances: live at 3 (3 events folded)" "one summary line per projection"
expect_contains "$OUT" "Ratio: live at 3" "the keyless projection is live too"

S project --status --json
expect_rc 0 "project --status --json"
expect_contains "$OUT" '{"name":"Balances","status":"live","stale":false,"checkpoint":3,"head":3,"events_behind":0' "--json gives one object per projection"

S query Balances
expect_rc 0 "query"
expect_out '{"key":"A","balance":15,"deposits":2}
{"key":"B","balance":20,"deposits":1}' "query prints rows as NDJSON ordered by key"
S query Ratio
expect_out '{"r":35}' "a keyless projection has one row and no key"
S query Balances --at 1
expect_out '{"key":"A","balance":10,"deposits":1}' "query --at 1 shows the rows right after position 1"
S query Balances --key B
expect_out '{"key":"B","balance":20,"deposits":1}' "query --key"
S query Balances --key Z
expect_rc 1 "query --key of a missing row exits 1"
S query Balanse
expect_rc 1 "an unknown projection exits 1"
expect_contains "$ERR" "did you mean 'Balances'" "and suggests the right name"
S query Balances --at 9
expect_rc 1 "a position beyond the head exits 1"
expect_contains "$ERR" "beyond the store's head (3)" "and says where the head is"

# Times: the events were stamped a few ms apart; the time of event 2 is exactly it.
T2=$("$STRATA" --domain "$D" --db "$DB" events --from 2 --to 2 | sed 's/.*"time":"\([^"]*\)".*/\1/')
S query Balances --at-time "$T2"
expect_out '{"key":"A","balance":10,"deposits":1}
{"key":"B","balance":20,"deposits":1}' "query --at-time gives the rows as of that time"

# A bad event breaks Ratio only.
S exec Deposit accountId=A amount=0
S project
expect_rc 1 "project exits 1 when a projection failed"
expect_contains "$OUT" "Balances: live at 4" "the other projection goes on"
expect_contains "$OUT" "Ratio: failed at position 4" "the failed one says where"
expect_contains "$OUT" "division by zero" "and why"
S project --status
expect_contains "$OUT" "Ratio failed at position 4: " "--status shows the failure"
expect_contains "$OUT" "projections.Ratio.on.MoneyDeposited.set.r" "with the expression's place in the domain"
expect_contains "$OUT" '"data":{"amount":0}' "and the event"
S project --status --json
expect_contains "$OUT" '"status":"failed"' "--json says failed"
expect_contains "$OUT" '"error_position":4' "--json gives the position"
expect_contains "$OUT" '"error_event":{"position":4' "--json embeds the event as an object"
S query Ratio
expect_rc 0 "a failed projection can still be read"
expect_out '{"r":35}' "as of the last event it folded"
expect_contains "$ERR" "failed at position 4" "with a note on stderr"
S query Balances --key A
expect_out '{"key":"A","balance":15,"deposits":3}' "Balances folded the bad event fine"

# Rebuild.
S project --rebuild Balances
expect_rc 0 "--rebuild"
expect_contains "$OUT" "Balances: rebuilt from position 0 to 4" "--rebuild says what it did"
S query Balances
expect_out '{"key":"A","balance":15,"deposits":3}
{"key":"B","balance":20,"deposits":1}' "the rebuilt read model equals the incremental one"
S query Balances --at 2
expect_out '{"key":"A","balance":10,"deposits":1}
{"key":"B","balance":20,"deposits":1}' "and so does its history"
S project --rebuild Ratio
expect_rc 1 "rebuilding a projection that still fails exits 1"
expect_contains "$ERR" "division by zero" "and says why"
S project --rebuild Nope
expect_rc 1 "rebuilding an unknown projection exits 1"

# Pause, resume, throttle: stored, so every process obeys them.
S project --pause Balances
expect_rc 0 "--pause"
expect_out "Balances: paused" "--pause says so"
S exec Deposit accountId=B amount=1
S project
expect_contains "$OUT" "Balances: paused at 4 of 5" "a paused projection stays where it was"
S query Balances --key B
expect_out '{"key":"B","balance":20,"deposits":1}' "query of a paused projection shows its rows as they are"
expect_contains "$ERR" "paused at position 4 of 5" "with a note"
S project --status --json
expect_contains "$OUT" '"name":"Balances","status":"paused"' "--status shows paused"
S project --resume Balances
S project
expect_contains "$OUT" "Balances: live at 5" "after --resume it catches up"
S project --throttle Balances=2
expect_rc 0 "--throttle NAME=N"
expect_out "Balances: throttled to 2 events per second" "--throttle says so"
S project --status --json
expect_contains "$OUT" '"throttle":2' "--status shows the throttle"
S project --throttle Balances=0
expect_out "Balances: throttle lifted" "--throttle NAME=0 lifts it"
S project --throttle Balances
expect_rc 2 "--throttle without =N is a usage error"
S project --json
expect_rc 2 "--json alone is a usage error"

# A sqlite3 (or psql) user sees the read model as a plain table.
if [ -n "$PG_MODE" ]; then
    expect_eq "$(psql "$DB" -At -c 'SELECT key, balance FROM "proj_Balances" ORDER BY key')" "A|15
B|21" "proj_Balances is a plain table for psql"
elif command -v sqlite3 >/dev/null 2>&1; then
    expect_eq "$(sqlite3 "$DB" 'SELECT key, balance FROM proj_Balances ORDER BY key')" "A|15
B|21" "proj_Balances is a plain table for sqlite3"
fi

# --follow: a status line per second until SIGINT, then exit 0.
"$STRATA" --domain "$D" --db "$DB" project --follow >"$TMP/follow.out" 2>"$TMP/follow.err" &
FPID=$!
sleep 1
"$STRATA" --domain "$D" --db "$DB" exec Deposit accountId=C amount=7 >/dev/null
sleep 1.5
kill -INT $FPID
wait $FPID
RC=$?
expect_eq "$RC" 0 "--follow exits 0 on SIGINT"
expect_contains "$(cat "$TMP/follow.out")" "Balances live 6/6" "--follow prints status lines and follows new events"
S query Balances --key C
expect_out '{"key":"C","balance":7,"deposits":1}' "the follower folded the new event"

# A changed definition makes the projection stale until rebuilt.
sed -i 's/deposits: "row.deposits + 1"/deposits: "row.deposits + 10"/' "$D"
S project --status
expect_contains "$OUT" "stale: definition changed" "--status says a changed projection is stale"
S project
expect_contains "$OUT" "Balances: stale at 6" "a stale projection waits for a rebuild"
S project --rebuild Balances
expect_rc 0 "rebuild after the change"
S query Balances --key C
expect_out '{"key":"C","balance":7,"deposits":10}' "the rebuilt table follows the new definition"
S project --status --json
expect_contains "$OUT" '"name":"Balances","status":"live","stale":false' "and is no longer stale"
# One event, several rows (domains/hotel.yaml's for_each projection): a booking
# holds a row per night, a cancellation deletes them, and `query --at` sees each
# position exactly. Messages carry values.
H=$(fresh_db hotel)
HS() { run "$STRATA" --domain "$ROOT/domains/hotel.yaml" --db "$H" "$@"; }
HS exec Book roomId=101 bookingId=b1 guest=ann from=2099-03-01T14:00:00Z to=2099-03-03T10:00:00Z 'nights=["2099-03-01","2099-03-02"]' expectedVersion=0
expect_rc 0 "hotel: a booking of two nights"
HS exec Book roomId=101 bookingId=b2 guest=bob from=2099-03-05T14:00:00Z to=2099-03-06T10:00:00Z 'nights=["2099-03-05"]' expectedVersion=0
expect_rc 3 "hotel: a decision on an older version is rejected"
expect_contains "$ERR$OUT" "room 101 is at version 1, not 0: reload and try again" "hotel: the message has the values"
HS exec Book roomId=101 bookingId=b2 guest=bob from=2099-03-05T14:00:00Z to=2099-03-06T10:00:00Z 'nights=["2099-03-05"]' expectedVersion=1
HS exec Cancel roomId=101 bookingId=b1
expect_rc 0 "hotel: a cancellation"
HS project
HS query RoomAvailability
expect_out '{"key":"101/2099-03-05","booked":true,"guest":"bob","bookingId":"b2"}' "hotel: the cancelled nights are gone"
HS query RoomAvailability --at 2
expect_out '{"key":"101/2099-03-01","booked":true,"guest":"ann","bookingId":"b1"}
{"key":"101/2099-03-02","booked":true,"guest":"ann","bookingId":"b1"}
{"key":"101/2099-03-05","booked":true,"guest":"bob","bookingId":"b2"}' "hotel: query --at before the cancellation"
HS query RoomAvailability --at 1 --key 101/2099-03-02
expect_out '{"key":"101/2099-03-02","booked":true,"guest":"ann","bookingId":"b1"}' "hotel: one night at position 1"
# A fold builds only the parts of `meta` its expressions read (META_* in
# core/domain.h): one reading the event's own meta (command, commandId) and the
# store's (stream, version, position, time, type, schema, aggregate) gets each
# right, in a catch-up and in bisect's dry run.
M="$TMP/meta.yaml"
MDB=$(fresh_db meta)
sed '/^projections:/,$d' "$ROOT/domains/bank.yaml" >"$M"
cat >>"$M" <<'EOF'
projections:
  ByCommand:
    key: meta.commandId
    columns: {cmd: "", stream: "", version: 0, position: 0, time: null, whole: ""}
    on:
      MoneyDeposited: {cmd: meta.command, stream: meta.stream, version: meta.version, position: meta.position, time: meta.time, whole: "meta.type + '/' + string(meta.schema) + '/' + meta.aggregate + '/' + meta.aggregateId"}
      MoneyWithdrawn:
        when: "has(meta.command) && meta.command == 'Withdraw'"
        set: {cmd: "'w:' + meta['command']"}
EOF
"$STRATA" import --domain "$M" --db "$MDB" "$ROOT/samples/bank.ndjson" >/dev/null
run "$STRATA" project --domain "$M" --db "$MDB"
expect_rc 0 "a projection reading meta's parts catches up"
run "$STRATA" query --domain "$M" --db "$MDB" ByCommand --key c-2
expect_out '{"key":"c-2","cmd":"Deposit","stream":"Account-A","version":2,"position":2,"time":"2026-01-01T00:02:37.903Z","whole":"MoneyDeposited/1/Account/A"}' "each part of meta, from the event's own meta and from the store"
run "$STRATA" query --domain "$M" --db "$MDB" ByCommand --key c-3
expect_out '{"key":"c-3","cmd":"w:Withdraw","stream":"","version":0,"position":0,"time":null,"whole":""}' "has(meta.command) and meta['command'] (meta read whole)"
grep -v "meta\['command'\]" "$M" >"$TMP/meta2.yaml"
echo "        set: {cmd: \"meta.commandId == 'c-3' ? string(1 / 0) : meta.command\"}" >>"$TMP/meta2.yaml"
run "$STRATA" bisect --domain "$TMP/meta2.yaml" --db "$MDB" --projection ByCommand --fails --json
expect_rc 0 "bisect --fails over a handler reading meta.commandId"
expect_contains "$OUT" '"position":3' "the dry run finds the event whose own meta names it"
done_testing
