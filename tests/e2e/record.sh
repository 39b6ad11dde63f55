#!/bin/sh
# record.sh: recorded sessions (core/record.c): `strata exec --record FILE` and the
# workbench's `:record FILE` ... `:record stop` append each command to FILE as a
# scenario, and `strata test --domain DOMAIN FILE` passes on what was recorded:
# accepted commands, a rejection, a command whose events carry now(), events stored
# at an old schema; rows that other streams also feed left out; appending keeps the
# file valid YAML with unique names; a bad FILE refused with the store untouched.
. "$(dirname "$0")/lib.sh"
BANK="$ROOT/domains/bank.yaml"
CART="$ROOT/domains/cart.yaml"
DB=$(fresh_db rec)
F=$TMP/session.yaml
B() { run "$STRATA" --domain "$BANK" --db "$DB" "$@"; }

B exec OpenAccount accountId=A owner=Alice initialDeposit=100 --record "$F"
expect_rc 0 "exec --record: the command runs"
expect_contains "$ERR" "recorded in $F as \"OpenAccount A, AccountOpened\"" "and says where it was recorded, under which name"
B exec OpenAccount accountId=B owner=Bob initialDeposit=10
B exec Deposit accountId=A amount=5 --record "$F"
B exec Withdraw accountId=A amount=500 --record "$F"
expect_rc 3 "a rejected command keeps its exit status"
B exec Deposit accountId=A amount=5 --record "$F"
run "$STRATA" test --domain "$BANK" "$F"
expect_rc 0 "strata test passes on the recorded file"
expect_contains "$OUT" "4 passed, 0 failed" "all four recorded scenarios"
expect_contains "$OUT" "ok   $F: Withdraw A, rejected: insufficient funds" "the rejection is a scenario"
expect_contains "$OUT" "ok   $F: Deposit A, MoneyDeposited #2" "a second scenario of the same shape gets a name of its own"
expect_eq "$(grep -c '^scenarios:' "$F")" 1 "appending keeps one header"
expect_contains "$(cat "$F")" "then: {rejected: insufficient funds}" "then: the rule's message"
expect_contains "$(cat "$F")" "# Run them: strata test --domain $BANK FILE" "the header says how to run it"
expect_eq "$(grep -c "^  # recorded $(date -u +%Y-%m-%d) " "$F")" 4 "each scenario has a comment with the date"
# The first deposit: A's rows only; BankStats is fed by B too, so it is left out.
dep=$(sed -n '/name: "Deposit A, MoneyDeposited"$/,/^$/p' "$F")
expect_contains "$dep" "- {key: A, owner: Alice, balance: 105, status: open, lastActivity: " "the row it changed that only this stream feeds"
expect_not_contains "$dep" "BankStats" "a row other streams also feed is left out"
expect_contains "$dep" "- {stream: Account-A, type: AccountOpened, time: " "given: the stream's events before it"
expect_not_contains "$dep" "Account-B" "given: no other stream's events"
# Readable YAML a person keeps: a YAML library reads it, keys in a stable order.
keys=$(python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
print(d["domain"], len(d["scenarios"]), " ".join(d["scenarios"][1].keys()), " ".join(d["scenarios"][1]["when"].keys()))' "$F" 2>&1)
expect_eq "$keys" "bank 4 name given when then command time payload" "a YAML library reads it: name, given, when, then; command, time, payload"

# now(): the command's clock is when.time, so the event's confirmedAt comes back.
C() { run "$STRATA" --domain "$CART" --db "$TMP/cart.db" "$@"; }
G=$TMP/cart-session.yaml
C exec CreateCart cartId=c1 customer=Ann
C exec AddItem cartId=c1 product=P-1 quantity=2 --record "$G"
C exec ConfirmCart cartId=c1 --record "$G"
at=$(printf '%s\n' "$OUT" | sed -n 's/.*"confirmedAt":"\([^"]*\)".*/\1/p')
expect_contains "$(cat "$G")" "when: {command: ConfirmCart, time: \"$at\"" "when.time is the command's clock ($at)"
expect_contains "$(cat "$G")" "- {type: CartConfirmed, data: {items: 2, confirmedAt: \"$at\"}}" "then: the event with now()'s value"
run "$STRATA" test --domain "$CART" "$G"
expect_contains "$OUT" "2 passed, 0 failed" "strata test passes on a command that used now()"
sed "s/time: \"$at\"/time: \"2030-01-01T00:00:00.000Z\"/" "$G" >"$TMP/other-clock.yaml"
run "$STRATA" test --domain "$CART" "$TMP/other-clock.yaml"
expect_contains "$OUT" "1 passed, 1 failed" "at another clock the now() scenario fails: the recorded time is what makes it pass"

# Events stored at an old schema are given at that schema (and upcast when run).
OLD=$(fresh_db old)
run "$STRATA" import --domain "$BANK" --db "$OLD" "$ROOT/tests/tui/fixture.ndjson"
H=$TMP/old.yaml
run "$STRATA" --domain "$BANK" --db "$OLD" exec Deposit accountId=A amount=1 --record "$H"
expect_contains "$(cat "$H")" "type: AccountOpened, schema: 1, time: \"2020-01-01T09:00:00.000Z\", data: {name: Alice, deposit: 300}" "a given event keeps its stored schema and data"
run "$STRATA" test --domain "$BANK" "$H"
expect_contains "$OUT" "1 passed, 0 failed" "and the scenario passes, upcasting it"

# The workbench: :record FILE ... :record stop.
W=$TMP/workbench.yaml
# (the form: open Deposit from the domain view, fill it, send it with s)
printf ':record %s\njjjjjjjj\n<Enter>\n<Enter>\nA\n<Tab>\n25\n<Enter>\ns\n:exec Deposit accountId=A amount=2\n:exec Withdraw accountId=A amount=100000\n:record stop\n:exec Deposit accountId=A amount=3\n' "$W" >"$TMP/rec.script"
STRATA_SCRIPT="$TMP/rec.script" STRATA_NO_DISPLAY=1 LINES=24 COLUMNS=80 STRATA_SCRIPT_TIMEOUT=20 \
    timeout 60 "$STRATA" tui --domain "$BANK" --db "$OLD" >/dev/null 2>"$TMP/tui.err"
expect_eq "$?" 0 "a workbench records a session"
run "$STRATA" test --domain "$BANK" "$W"
expect_contains "$OUT" "3 passed, 0 failed" "strata test passes on it: the form's command and the palette's (after :record stop, nothing more)"
expect_contains "$(cat "$W")" "by the workbench: Withdraw" "the comment says the workbench recorded it"
expect_contains "$(cat "$W")" "when: {command: Deposit, time: \"" "the form's command is there, at its clock"

# What is not recorded: a conflict, a command id seen before.
n=$(grep -c '^  - name:' "$F")
B exec Deposit accountId=A amount=1 --expect-version 1 --record "$F"
expect_rc 4 "a conflict keeps exit 4"
expect_contains "$ERR" "not recorded in $F: only an accepted or a rejected command makes a scenario" "and is not recorded, saying so"
B exec Deposit accountId=A amount=1 --id once --record "$F"
B exec Deposit accountId=A amount=1 --id once --record "$F"
expect_contains "$ERR" "not recorded in $F: the command id was processed before" "a repeated command id is not recorded again"
expect_eq "$(grep -c '^  - name:' "$F")" $((n + 1)) "the file grew by the one command that ran"

# Bad files: what and where, exit 1, the store untouched.
head_before=$("$STRATA" --db "$DB" events | wc -l)
B exec Deposit accountId=A amount=1 --record "$BANK"
expect_rc 1 "a domain file is refused"
expect_contains "$ERR" "is a domain file; record into a file of its own" "and says why"
printf 'domain: bank\nscenarios:\n  - name: x\nnotes: later\n' >"$TMP/after.yaml"
B exec Deposit accountId=A amount=1 --record "$TMP/after.yaml"
expect_contains "$ERR" "after.yaml:4:1: \`notes\` comes after \`scenarios:\`" "a key after scenarios: is refused, with its place"
printf 'domain: cart\nscenarios:\n' >"$TMP/cart-only.yaml"
B exec Deposit accountId=A amount=1 --record "$TMP/cart-only.yaml"
expect_contains "$ERR" "cart-only.yaml:1:9: these scenarios are for the domain 'cart', not 'bank'" "another domain's file is refused"
B exec Deposit accountId=A amount=1 --record "$TMP/no/such/dir/s.yaml"
expect_contains "$ERR" "the folder $TMP/no/such/dir does not exist" "a missing folder is refused"
printf 'domain: bank\nscenarios: [\n' >"$TMP/broken.yaml"
B exec Deposit accountId=A amount=1 --record "$TMP/broken.yaml"
expect_rc 1 "a file that is not YAML is refused"
expect_eq "$("$STRATA" --db "$DB" events | wc -l)" "$head_before" "no bad --record appended anything"
run "$STRATA" test "$F"
expect_rc 1 "strata test on a scenarios file without --domain fails"
expect_contains "$ERR" "holds scenarios only: give the domain they test with --domain FILE" "and says what to give"
run "$STRATA" test --domain "$CART" "$F"
expect_contains "$ERR" "these scenarios are for the domain 'bank', not 'cart'" "strata test refuses scenarios of another domain"
done_testing
