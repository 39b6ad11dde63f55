#!/bin/sh
# copy.sh: `strata copy --from SRC --to DST` moves a store between backends and
# loses nothing that cannot be derived: SQLite -> PostgreSQL -> SQLite exports
# byte-identically, and the second SQLite file holds the first's command ids,
# append times, import ledger, snapshots, notes (the domain record) and skipped
# events. An interrupted copy resumes; a destination that is not a copy is
# refused; passwords never show. Without STRATA_TEST_PG_URI the middle store is
# a second SQLite file (the same code path: copy works through store.h only).
. "$(dirname "$0")/lib.sh"
[ -n "$STRATA_TEST_PG_URI" ] && PG_MODE=1
S=$ROOT/samples
D=$ROOT/domains/bank.yaml
A="$TMP/a.db"
C="$TMP/c.db"
M=$(fresh_db mid)

# ---- a store with every table: commands with ids, snapshots, imports, a skip ----
"$STRATA" --domain "$D" --db "$A" exec OpenAccount accountId=A owner=Ann initialDeposit=100 --id open-a >/dev/null || not_ok "exec"
i=0
while [ $i -lt 55 ]; do
    echo "Deposit accountId=A amount=1 --id dep-$i"
    i=$((i + 1))
done >"$TMP/cmds"
while read -r cmd; do
    # shellcheck disable=SC2086
    "$STRATA" --domain "$D" --db "$A" exec $cmd >/dev/null || not_ok "exec $cmd"
done <"$TMP/cmds"
"$STRATA" import --db "$A" --force "$S/bank.ndjson" >/dev/null 2>&1 || "$STRATA" import --db "$A" "$S/bank.ndjson" >/dev/null 2>&1
"$STRATA" import --db "$A" --force --map "$S/orders.map.yaml" "$S/orders.cloudevents.ndjson" >/dev/null 2>&1 || not_ok "import orders"
sqlite3 "$A" "INSERT INTO projection_skips VALUES('balances', 3, 'a test skip', '2026-01-01T00:00:00.000Z')"
snaps=$(sqlite3 "$A" "SELECT count(*) FROM snapshots")
[ "$snaps" -gt 0 ] && ok "the source has snapshots ($snaps)" || not_ok "the source has snapshots"

# ---- SQLite -> middle -> SQLite ------------------------------------------------------------
run "$STRATA" copy --from "$A" --to "$M" --batch 16
expect_rc 0 "copy SQLite -> $([ -n "$PG_MODE" ] && echo PostgreSQL || echo SQLite)"
expect_contains "$OUT" '"commands":56' "... carries the 56 command ids"
expect_eq "$ERR" "" "... no progress bar when standard error is not a terminal"
run "$STRATA" copy --from "$M" --to "$C"
expect_rc 0 "and back to SQLite"
"$STRATA" export --db "$A" >"$TMP/a.ndjson"
"$STRATA" export --db "$M" >"$TMP/m.ndjson"
"$STRATA" export --db "$C" >"$TMP/c.ndjson"
if cmp -s "$TMP/a.ndjson" "$TMP/m.ndjson"; then ok "export of the copy is byte-identical"; else not_ok "export of the copy is byte-identical" "$(cmp "$TMP/a.ndjson" "$TMP/m.ndjson")"; fi
if cmp -s "$TMP/a.ndjson" "$TMP/c.ndjson"; then ok "export after the round trip is byte-identical"; else not_ok "export after the round trip is byte-identical" "$(cmp "$TMP/a.ndjson" "$TMP/c.ndjson")"; fi
tables() {
    sqlite3 "$1" "SELECT id, first_position, last_position FROM commands ORDER BY id;
        SELECT * FROM append_times ORDER BY 1;
        SELECT hex(identity), position FROM import_ledger ORDER BY 1;
        SELECT key, value FROM strata_meta ORDER BY key;
        SELECT s.name, n.rules_hash, n.version, n.position, n.state FROM snapshots n JOIN streams s ON s.id = n.stream_id ORDER BY 1, 3;
        SELECT * FROM projection_skips;
        SELECT name, version, last_position FROM streams ORDER BY name"
}
tables "$A" >"$TMP/a.tables"
tables "$C" >"$TMP/c.tables"
if cmp -s "$TMP/a.tables" "$TMP/c.tables"; then ok "command ids, append times, ledger, notes, snapshots, skips and streams came through"; else not_ok "command ids, append times, ledger, notes, snapshots, skips and streams came through" "$(diff "$TMP/a.tables" "$TMP/c.tables" | head -8)"; fi
run "$STRATA" import --db "$C" --map "$S/orders.map.yaml" "$S/orders.cloudevents.ndjson"
expect_contains "$ERR$OUT" "imported 0 events" "importing again into the copy adds nothing (the ledger came along)"
run "$STRATA" --domain "$D" --db "$C" exec Deposit accountId=A amount=1 --id dep-3
expect_rc 0 "a command id of the source repeated at the copy"
expect_eq "$("$STRATA" export --db "$C" | wc -l)" "$(wc -l <"$TMP/a.ndjson")" "... appends nothing"
run "$STRATA" --domain "$D" --db "$C" state Account A
expect_contains "$OUT" '"balance":155' "state at the copy (from its snapshot or a replay)"

# Branches (store format 6) go along with their events: PostgreSQL to PostgreSQL.
if [ -n "$PG_MODE" ]; then
    psql "$M" -q -c "INSERT INTO branches VALUES('what-if', 3, '2026-02-01T00:00:00.000Z')" \
        -c "INSERT INTO branch_events VALUES('what-if', 4, 'Account-A', 4, 'MoneyDeposited', 1, '2026-02-01T00:00:01.000Z', '{\"amount\":7}', NULL, 'b-1')" ||
        not_ok "branch rows written"
    M2=$(fresh_db mid2)
    run "$STRATA" copy --from "$M" --to "$M2"
    expect_rc 0 "copy PostgreSQL -> PostgreSQL"
    expect_contains "$OUT" '"rows":3' "... with the skip, the branch and its event"
    q="SELECT b.*, e.* FROM branches b JOIN branch_events e ON e.branch = b.name"
    expect_eq "$(psql "$M2" -At -c "$q")" "$(psql "$M" -At -c "$q")" "... the same branch rows at the copy"
fi

# ---- resuming, refusing --------------------------------------------------------------------
head=$(wc -l <"$TMP/a.ndjson" | tr -d ' ')
half=$((head / 2))
"$STRATA" export --db "$A" --to "$half" >"$TMP/half.ndjson"
P="$TMP/p.db"
"$STRATA" import --db "$P" "$TMP/half.ndjson" >/dev/null
R=$(fresh_db resume)
"$STRATA" copy --from "$P" --to "$R" >/dev/null
run "$STRATA" copy --from "$A" --to "$R" --batch 10
expect_rc 0 "a copy of the source's first events resumes"
expect_contains "$OUT" "\"resumed_at\":$half" "... from the destination's head"
"$STRATA" export --db "$R" >"$TMP/r.ndjson"
if cmp -s "$TMP/a.ndjson" "$TMP/r.ndjson"; then ok "... and ends identical"; else not_ok "... and ends identical"; fi
run "$STRATA" copy --from "$A" --to "$R"
expect_rc 0 "copying again onto a full copy"
expect_contains "$OUT" '"events":0' "... appends nothing"

X=$(fresh_db other)
"$STRATA" import --db "$X" "$S/bank.ndjson" >/dev/null
"$STRATA" export --db "$X" >"$TMP/x.before"
run "$STRATA" copy --from "$A" --to "$X"
expect_rc 4 "a destination that is not a copy is refused (exit 4)"
expect_contains "$ERR" "is not a copy of" "... and says so"
"$STRATA" export --db "$X" >"$TMP/x.after"
if cmp -s "$TMP/x.before" "$TMP/x.after"; then ok "... and is left as it was"; else not_ok "... and is left as it was"; fi

# An interruption: killed mid-copy, run again.
awk 'BEGIN { for (i = 1; i <= 20000; i++) { s = i % 97; v[s]++; printf "{\"position\":%d,\"stream\":\"S-%d\",\"version\":%d,\"type\":\"T\",\"schema\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"data\":{\"i\":%d},\"meta\":null}\n", i, s, v[s], i } }' >"$TMP/big.ndjson"
B="$TMP/big.db"
"$STRATA" import --db "$B" "$TMP/big.ndjson" >/dev/null
K=$(fresh_db killed)
"$STRATA" copy --from "$B" --to "$K" --batch 20 >/dev/null 2>&1 &
pid=$!
sleep 0.4
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
got=$("$STRATA" sql --db "$K" "SELECT count(*) AS n FROM events" 2>/dev/null | sed 's/[^0-9]//g')
if [ "${got:-0}" -gt 0 ] && [ "$got" -lt 20000 ]; then
    ok "kill -9 mid-copy leaves the batches it committed ($got of 20000 events)"
    resumed="\"resumed_at\":$got"
else
    _n=$((_n + 1))
    echo "ok $_n # SKIP the copy was not cut mid-way (${got:-0} of 20000 events)"
    resumed='"resumed_at":'
fi
run "$STRATA" copy --from "$B" --to "$K"
expect_rc 0 "a killed copy runs again"
expect_contains "$OUT" "$resumed" "... resuming from where it was cut"
"$STRATA" export --db "$B" >"$TMP/b1"
"$STRATA" export --db "$K" >"$TMP/b2"
if cmp -s "$TMP/b1" "$TMP/b2"; then ok "... and ends identical to the source"; else not_ok "... and ends identical to the source"; fi

# A source of an older format (1: no skips, append times or ledger) is read as it
# is and left at its format; its events have no append times at the copy either.
O="$TMP/old.db"
"$STRATA" import --db "$O" "$S/bank.ndjson" >/dev/null
sqlite3 "$O" "DROP TABLE projection_skips; DROP TABLE append_times; DROP TABLE import_ledger; UPDATE strata_meta SET value = '1' WHERE key = 'format_version'; PRAGMA user_version = 1"
O2=$(fresh_db fromold)
run "$STRATA" copy --from "$O" --to "$O2"
expect_rc 0 "a format-1 source copies"
expect_eq "$(sqlite3 "$O" "PRAGMA user_version")" 1 "... and is not upgraded"
expect_eq "$("$STRATA" sql --json --db "$O2" "SELECT count(*) AS n FROM append_times")" '{"n":0}' "... and its events have no append times at the copy"
if [ "$("$STRATA" export --db "$O")" = "$("$STRATA" export --db "$O2")" ]; then ok "... the same export"; else not_ok "... the same export"; fi

# ---- usage and messages --------------------------------------------------------------------
run "$STRATA" copy --from "$A"
expect_rc 2 "copy without --to is a usage error"
run "$STRATA" copy --from "$A" --to "$A"
expect_rc 2 "copying a store onto itself is refused"
run "$STRATA" copy --from "$TMP/none.db" --to "$TMP/n2.db"
expect_rc 1 "a missing source fails"
run test -e "$TMP/n2.db"
expect_rc 1 "... and creates no destination"
run "$STRATA" copy --from "$A" --to "postgresql://ann:Hunter2Secret@127.0.0.1:1/nodb?connect_timeout=2"
expect_rc 1 "a destination that cannot be reached fails"
expect_not_contains "$ERR" "Hunter2Secret" "... without showing the password"
expect_contains "$ERR" "ann:***@" "... which is masked"
if command -v script >/dev/null 2>&1; then
    script -qec "$STRATA copy --from $B --to $TMP/tty.db --batch 5000" /dev/null >"$TMP/tty.txt" 2>&1
    expect_contains "$(cat "$TMP/tty.txt")" "copy [####" "a progress bar on a terminal"
fi
done_testing
