#!/bin/sh
# branch.sh: end-to-end tests of what-if branches on the bank domain: `branch
# create|list|drop`, `--branch NAME` and STRATA_BRANCH on exec, state, events,
# query, project, why, bisect, export and stats; positions continuing from the fork point; main
# untouched (its events, positions and read models); `diff` between main and a
# branch and between two branches; bad names and unknown branches. On SQLite, and
# on PostgreSQL with STRATA_TEST_DB_KIND=pg (tests/run.sh's PG_SUITES).
. "$(dirname "$0")/lib.sh"

D="$ROOT/domains/bank.yaml"
DB=$(fresh_db bank)
S() { run "$STRATA" --domain "$D" --db "$DB" "$@"; }
# sql_int SQLITE_SQL PG_SQL: one number read from the store with its own client.
sql_int() {
    if [ -n "$PG_MODE" ]; then psql "$DB" -tAc "$2"; else sqlite3 "$DB" "$1"; fi
}
field_of() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }

S exec OpenAccount accountId=A owner=Alice initialDeposit=100
S exec Deposit accountId=A amount=50
S exec OpenAccount accountId=B owner=Bob initialDeposit=10
S query AccountList >/dev/null

S branch create what-if
expect_rc 0 "branch create"
expect_contains "$OUT" '"branch":"what-if","fork":3,"events":0,"head":3' "forked at the head"
S branch create early --at 1
expect_contains "$OUT" '"branch":"early","fork":1' "forked at --at 1"
S branch list
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 2 "branch list: two branches"
run env STRATA_BRANCH=early "$STRATA" --domain "$D" --db "$DB" branch list
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 2 "branch list with STRATA_BRANCH set: main's list"

# A withdrawal on the branch: positions go on from the fork point.
S exec --branch what-if Withdraw accountId=A amount=120
expect_rc 0 "exec --branch"
expect_contains "$OUT" '"position":4,"stream":"Account-A","version":3,"type":"MoneyWithdrawn"' "position 4, version 3 on the branch"
# Main goes on its own way.
S exec Deposit accountId=A amount=1000
expect_contains "$OUT" '"position":4,"stream":"Account-A","version":3,"type":"MoneyDeposited"' "main's position 4 is its own"

S state Account A
expect_eq "$(printf '%s\n' "$OUT" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["state"]["balance"])')" 1150 "main's balance"
S state --branch what-if Account A
expect_eq "$(printf '%s\n' "$OUT" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["state"]["balance"])')" 30 "the branch's balance"
run env STRATA_BRANCH=what-if "$STRATA" --domain "$D" --db "$DB" state Account A
expect_contains "$OUT" '"balance":30' "STRATA_BRANCH picks the branch"

S events --branch what-if
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 5 "the branch's events: 3 of main's, 2 of its own"
expect_not_contains "$OUT" '"amount":1000' "main's later deposit is not on the branch"
S events
expect_not_contains "$OUT" 'MoneyWithdrawn' "the branch's events are never on main"
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 4 "main has its 4 events"

# Read models: the branch's start from main's rows at the fork point.
S query --branch what-if AccountList --key A
expect_rc 0 "query --branch"
expect_contains "$OUT" '"balance":30' "the branch's read model"
S query AccountList --key A
expect_contains "$OUT" '"balance":1150' "main's read model unchanged"
S project --branch what-if
expect_rc 0 "project --branch"
S project rebuild AccountList
S query --branch what-if AccountList --key A
expect_contains "$OUT" '"balance":30' "rebuilding main does not change the branch's read model"
S why --branch what-if Account A balance
expect_rc 0 "why --branch"
expect_contains "$OUT" '"type":"MoneyWithdrawn"' "why on the branch sees its withdrawal"
S bisect --branch what-if --aggregate Account --id A 'state.balance >= 100'
expect_contains "$OUT" '"holds":false,"position":4' "bisect on a branch finds the branch's withdrawal"
S bisect --aggregate Account --id A 'state.balance >= 100'
expect_contains "$OUT" '"holds":true' "on main it still holds"
S export --branch what-if
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 5 "export --branch"

# An idempotent command id on the branch.
S exec --branch what-if Deposit accountId=B amount=5 --id dep-1
S exec --branch what-if Deposit accountId=B amount=5 --id dep-1
expect_rc 0 "the same command id again on the branch"
S events --branch what-if --stream Account-B
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 2 "appended once"

# diff: aggregates, then read-model rows, field by field.
S diff --to what-if
expect_rc 0 "diff --to what-if"
first=$(printf '%s\n' "$OUT" | head -1)
expect_contains "$first" '"aggregate":"Account","id":"A"' "aggregates first"
expect_contains "$OUT" '"balance":{"from":1150,"to":30}' "A's balance, field by field"
expect_contains "$OUT" '"projection":"AccountList","key":"A","change":"changed"' "a changed row"
S diff --to what-if Account B
expect_contains "$OUT" '"balance":{"from":10,"to":15}' "diff AGGREGATE ID"
expect_not_contains "$OUT" '"projection"' "only that aggregate"
S diff --to what-if BankStats
expect_contains "$OUT" '"projection":"BankStats"' "diff PROJECTION"
S exec --branch early OpenAccount accountId=C owner=Carol
S diff --from early --to what-if AccountList
expect_contains "$OUT" '"key":"C","change":"removed"' "a row only --from has: removed"
expect_contains "$OUT" '"key":"B","change":"added"' "a row only --to has: added"

# A branch's read model looks through to main's rows at the fork point for the
# keys it has not touched: all of them agree with main's at the fork point.
S query --branch early AccountList
expect_contains "$OUT" '"key":"A","owner":"Alice","balance":100' "early: A as main had it at position 1"
expect_contains "$OUT" '"key":"C","owner":"Carol"' "early: C, its own"
expect_not_contains "$OUT" '"key":"B"' "early: B was opened after its fork point"
S query --branch what-if AccountList --at 3
mine=$OUT
S query AccountList --at 3
expect_eq "$mine" "$OUT" "a branch's read model at its fork point is main's"
S why --branch what-if AccountList A balance
expect_contains "$OUT" '"position":1,' "why on a branch: main's history up to the fork point"
expect_contains "$OUT" '"position":4,"stream":"Account-A","version":3,"type":"MoneyWithdrawn"' "then the branch's"
S stats --branch what-if
expect_eq "$(printf '%s\n' "$OUT" | grep -c '"value":"MoneyDeposited"')" 1 "stats on a branch: main's and the branch's events in one group"
expect_contains "$OUT" '"value":"MoneyWithdrawn","count":1' "the branch's withdrawal counted"
S project --branch what-if --status
expect_rc 0 "project --status on a branch"

# The workbench on this store (on PostgreSQL too): :branch says the branch in
# the header, even beside a long URI; :compare sets main and the branch side by
# side. (tests/tui/branch has the screens.)
cat >"$TMP/wb.script" <<'EOF'
:branch what-if
:state Account A
:save-display wb-branch.txt
:branch main
:compare what-if Account A
:save-display wb-compare.txt
EOF
run env -C "$TMP" STRATA_SCRIPT="$TMP/wb.script" STRATA_NO_DISPLAY=1 TERM=xterm-256color \
    LINES=24 COLUMNS=80 LANG=C.UTF-8 LC_ALL=C.UTF-8 HOME="$TMP" NO_COLOR=1 \
    STRATA_SCRIPT_TIMEOUT=20 timeout -k 2 60 "$STRATA" --domain "$D" --db "$DB" tui
expect_rc 0 "the workbench ran its script"
expect_contains "$(head -1 "$TMP/wb-branch.txt")" "@what-if" ":branch: the header says the branch"
balance=$(grep -a -E '^ +balance +' "$TMP/wb-branch.txt" | awk '{print $2}')
expect_eq "$balance" 30 ":branch: the state is the branch's"
expect_contains "$(cat "$TMP/wb-compare.txt")" "Account A: main | what-if" ":compare: main and the branch side by side"
expect_contains "$(cat "$TMP/wb-compare.txt")" "lines differ between main and what-if" ":compare: the differences counted"

# Writers on one branch at once: every command lands, positions without gaps.
S branch create race
fork=$(printf '%s\n' "$OUT" | field_of fork)
for w in 1 2 3 4; do
    (for i in 1 2 3 4; do
        "$STRATA" --domain "$D" --db "$DB" exec --branch race Deposit accountId=B amount=1 >/dev/null ||
            echo "writer $w failed" >>"$TMP/race.err"
    done) &
done
wait
expect_eq "$(cat "$TMP/race.err" 2>/dev/null)" "" "four writers on a branch: every command accepted"
S events --branch race --from $((fork + 1))
expect_eq "$(printf '%s\n' "$OUT" | python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["position"]) for l in sys.stdin))')" \
    "$(seq -s ' ' $((fork + 1)) $((fork + 16)))" "their positions follow the fork point without gaps"
S branch drop race

# Bad input.
S state --branch nope Account A
expect_rc 1 "an unknown branch: exit 1"
expect_contains "$ERR" "no branch 'nope'" "said plainly"
S branch create 'a b'
expect_rc 2 "a bad branch name"
S branch create what-if
expect_rc 1 "a branch that exists"
S branch create late --at 99
expect_rc 2 "--at past the head"
S diff
expect_rc 2 "diff without --to"

# drop: its events and read models go; main is as it was.
tables=$(sql_int "SELECT count(*) FROM sqlite_master WHERE name LIKE '%@what-if%'" \
    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE '%@what-if%'")
[ "$tables" -gt 0 ] && ok "the branch has read-model tables of its own" ||
    not_ok "the branch has read-model tables of its own" "got: $tables"
S branch drop what-if
expect_rc 0 "branch drop"
tables=$(sql_int "SELECT count(*) FROM sqlite_master WHERE name LIKE '%@what-if%'" \
    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE '%@what-if%'")
expect_eq "$tables" 0 "its read-model tables are gone"
left=$(sql_int "SELECT count(*) FROM branch_events WHERE branch = 'what-if'" \
    "SELECT count(*) FROM branch_events WHERE branch = 'what-if'")
expect_eq "$left" 0 "its events are gone"
S state --branch what-if Account A
expect_rc 1 "a dropped branch cannot be opened"
S branch drop what-if
expect_rc 1 "dropping it again"
S state Account A
expect_contains "$OUT" '"balance":1150' "main is as it was"
done_testing
