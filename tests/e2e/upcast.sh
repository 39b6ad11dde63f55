#!/bin/sh
# upcast.sh: `strata upcast --check` (the upcast chains over every stored event,
# nothing written) and `strata upcast POSITION` (one event's chain, step by step)
# on the samples with events at old schema versions (samples/upcast-*.ndjson), and
# a planted bad upcast (a test domain made from bank.yaml) that the dry run finds.
. "$(dirname "$0")/lib.sh"
S=$ROOT/samples

# The tour's story: events --raw shows the stored old version, events the upcast one.
BANK_DB=$(fresh_db bank)
DB=$BANK_DB
"$STRATA" import --domain "$ROOT/domains/bank.yaml" --db "$DB" "$S/upcast-bank.ndjson" >/dev/null
run "$STRATA" events --domain "$ROOT/domains/bank.yaml" --db "$DB" --stream Account-A --raw
expect_contains "$OUT" '"schema":1' "events --raw: stored at version 1"
expect_contains "$OUT" '"data":{"name":"Alice","deposit":300}' "events --raw: the old shape"
run "$STRATA" events --domain "$ROOT/domains/bank.yaml" --db "$DB" --stream Account-A
expect_contains "$OUT" '"data":{"owner":"Alice","initialDeposit":300,"currency":"EUR"}' "events: upcast to version 2"

# Each shipped domain with versioned events: the dry run is clean.
for d in bank library hotel; do
    DB=$(fresh_db "clean_$d")
    [ "$d" = library ] && LIB_DB=$DB
    "$STRATA" import --domain "$ROOT/domains/$d.yaml" --db "$DB" "$S/upcast-$d.ndjson" >/dev/null
    run "$STRATA" upcast --check --domain "$ROOT/domains/$d.yaml" --db "$DB"
    expect_rc 0 "$d: upcast --check is clean"
    expect_contains "$OUT" '"failed":0,"mismatched":0}' "$d: the total says no failure"
    expect_contains "$OUT" '"kind":"sample"' "$d: samples before and after"
done
DB=$LIB_DB
run "$STRATA" upcast --check --json --domain "$ROOT/domains/library.yaml" --db "$DB"
expect_contains "$OUT" '{"kind":"group","type":"BookLent","schema":1,"current":3,"events":1,"clean":1,"failed":0,"mismatched":0}' "library: BookLent v1, per type and stored version"
expect_contains "$OUT" '"before":{"borrower":"ann","weeks":2},"after":{"member":"ann","days":14,"channel":"desk"}' "library: a v1 sample through both steps"
run "$STRATA" upcast --check --text --domain "$ROOT/domains/library.yaml" --db "$DB"
expect_contains "$OUT" "BookLent      v1      v3        1       1       0           0" "--text: the table"
expect_contains "$OUT" "sample: BookLent v2 -> v3 at position 3 (Book-9780000000001)" "--text: a sample"

# The playground: one event's chain, step by step.
run "$STRATA" upcast 2 --text --domain "$ROOT/domains/library.yaml" --db "$DB"
expect_rc 0 "upcast POSITION: clean"
expect_contains "$OUT" "version 2, after step 1->2 (rename borrower: member, set days, drop weeks):" "step 1->2 named"
expect_contains "$OUT" "  + member: \"ann\"" "an added field marked +"
expect_contains "$OUT" "  - weeks: 2" "a removed field marked -"
expect_contains "$OUT" "    days: 14" "an unchanged field unmarked"
expect_contains "$OUT" "  + channel: \"desk\"" "step 2->3 adds the channel"
run "$STRATA" upcast 2 --domain "$ROOT/domains/library.yaml" --db "$DB"
expect_contains "$OUT" '"version":3,"step":"default channel","data":{"member":"ann","days":14,"channel":"desk"},"added":["channel"],"changed":[],"removed":[]}' "NDJSON: each step with what it added, changed, removed"
expect_contains "$OUT" '{"position":2,"clean":true}' "NDJSON: the outcome"

# A step that changes a field in place (euros to cents) is marked ~ with both values.
cat >"$TMP/cents.yaml" <<'YAML'
domain: cents
aggregates:
  Till:
    id: tillId
    state: {total: {type: int, default: 0}}
    commands:
      Pay:
        payload: {tillId: string, amount: int}
        emit: [{Paid: {amount: payload.amount}}]
    events:
      Paid:
        version: 2
        fields: {amount: int}
        apply: {total: "state.total + event.amount"}
        upcast:
          - {from: 1, set: {amount: "event.amount * 100"}}
YAML
CDB=$(fresh_db cents)
echo '{"position":1,"stream":"Till-1","version":1,"type":"Paid","schema":1,"time":"2020-01-01T00:00:00Z","data":{"amount":12}}' >"$TMP/cents.ndjson"
"$STRATA" import --domain "$TMP/cents.yaml" --db "$CDB" "$TMP/cents.ndjson" >/dev/null
run "$STRATA" upcast 1 --text --domain "$TMP/cents.yaml" --db "$CDB"
expect_contains "$OUT" "  ~ amount: 12 -> 1200" "a changed field marked ~, before -> after"
run "$STRATA" upcast 1 --domain "$TMP/cents.yaml" --db "$CDB"
expect_contains "$OUT" '"added":[],"changed":["amount"],"removed":[]' "NDJSON: changed"

# A planted bad upcast: no rename (owner is never made) and a set that fails
# without a deposit.
sed -e '/rename: {name: owner}/d' \
    -e 's/set: {initialDeposit: "has(event.deposit) ? event.deposit : 0"}/set: {initialDeposit: "event.deposit"}/' \
    "$ROOT/domains/bank.yaml" >"$TMP/bad.yaml"
DB=$BANK_DB
before=$("$STRATA" export --domain "$ROOT/domains/bank.yaml" --db "$DB" | cksum)
run "$STRATA" upcast --check --domain "$TMP/bad.yaml" --db "$DB"
expect_rc 1 "a bad upcast: exit 1"
expect_contains "$OUT" '{"kind":"group","type":"AccountOpened","schema":1,"current":2,"events":2,"clean":0,"failed":1,"mismatched":1}' "counted per type and stored version"
expect_contains "$OUT" '{"kind":"failed","type":"AccountOpened","schema":1,"position":2,"stream":"Account-B","error":"upcasting AccountOpened from version 1, set initialDeposit: ' "the failure: position and error"
expect_contains "$OUT" "no such key: deposit" "the failure says why"
expect_contains "$OUT" "\"kind\":\"mismatch\",\"type\":\"AccountOpened\",\"schema\":1,\"position\":1,\"stream\":\"Account-A\",\"error\":\"upcast 1->2 (no step sets 'owner'): missing field 'owner' (string)\"" "the output that does not match the fields"
expect_contains "$OUT" '{"kind":"total","events":6,"clean":4,"failed":1,"mismatched":1}' "the total"
expect_contains "$ERR" "2 stored events would not read with this domain's upcasts" "stderr says so"
after=$("$STRATA" export --domain "$ROOT/domains/bank.yaml" --db "$DB" | cksum)
expect_eq "$after" "$before" "nothing written"
run "$STRATA" upcast 2 --text --domain "$TMP/bad.yaml" --db "$DB"
expect_rc 1 "upcast POSITION of a failing event: exit 1"
expect_contains "$OUT" "failed: step 1->2: upcasting AccountOpened from version 1, set initialDeposit" "the failing step named"

# --max caps the list; the store is opened read-only.
if ! skip_on_pg "a read-only file"; then
    chmod a-w "$TMP/bank.db"
    run "$STRATA" upcast --check --max 1 --text --domain "$TMP/bad.yaml" --db "$TMP/bank.db"
    expect_rc 1 "a read-only store file is enough"
    chmod u+w "$TMP/bank.db"
fi

# Untrusted text (a stream name with an escape sequence) never reaches the terminal raw.
EDB=$(fresh_db evil)
printf '%s\n' '{"position":1,"stream":"Account-\u001b[31mX","version":1,"type":"AccountOpened","schema":1,"time":"2020-01-01T00:00:00Z","data":{"name":"E\u001b]0;x\u0007","deposit":1}}' >"$TMP/evil.ndjson"
"$STRATA" import --domain "$ROOT/domains/bank.yaml" --db "$EDB" "$TMP/evil.ndjson" >/dev/null
esc=$(printf '\033')
for args in "--check" "1"; do
    run "$STRATA" upcast $args --text --domain "$ROOT/domains/bank.yaml" --db "$EDB"
    expect_not_contains "$OUT" "$esc" "upcast $args --text: no escape byte from the log"
done

# Bad input.
run "$STRATA" upcast --domain "$ROOT/domains/bank.yaml" --db "$DB"
expect_rc 2 "neither --check nor a position: usage"
run "$STRATA" upcast --check 3 --domain "$ROOT/domains/bank.yaml" --db "$DB"
expect_rc 2 "--check with a position: usage"
run "$STRATA" upcast x --domain "$ROOT/domains/bank.yaml" --db "$DB"
expect_rc 2 "a position that is not a number: usage"
expect_contains "$ERR" "not 'x'" "the message names it"
run "$STRATA" upcast 99 --domain "$ROOT/domains/bank.yaml" --db "$DB"
expect_rc 1 "no event there"
expect_contains "$ERR" "no event at position 99" "says so"
run "$STRATA" upcast --check --max 0 --domain "$ROOT/domains/bank.yaml" --db "$DB"
expect_rc 2 "--max 0: usage"

done_testing
