#!/bin/sh
# cli_messages.sh: issue 14's command-line messages: one message per problem,
# pointing at what was mistyped (an option, a command), and state and query
# agreeing on a position beyond the head.
. "$(dirname "$0")/lib.sh"
D="$ROOT/domains/bank.yaml"
DB="$TMP/bank.db"
S() { run "$STRATA" --domain "$D" --db "$DB" "$@"; }
S exec OpenAccount accountId=A owner=Alice initialDeposit=100 >/dev/null

# A mistyped common option before the command points at the option.
run "$STRATA" --domian "$D" state Account A
expect_rc 2 "an unknown option before the command is a usage error"
expect_contains "$ERR" "unknown option '--domian' (did you mean '--domain'?)" "it names the option and suggests one"
expect_not_contains "$ERR" "unknown command" "it does not take the option's value for the command"

# A mistyped command is suggested, as the palette does.
run "$STRATA" exce
expect_rc 2 "an unknown command is a usage error"
expect_contains "$ERR" "unknown command 'exce' (did you mean 'exec'?)" "the command line suggests the command"

# A mistyped option after the command is suggested too.
S events --strem Account-A
expect_rc 2 "an unknown option of a verb is a usage error"
expect_contains "$ERR" "unknown option '--strem' (did you mean '--stream'?)" "the verb's option is suggested"

# An option without its value: one message, not two.
S state Account A --at
expect_rc 2 "--at without a value is a usage error"
expect_eq "$(printf '%s\n' "$ERR" | grep -c '^strata')" 1 "exactly one error line"
expect_contains "$ERR" "option '--at' needs a value" "and it says what is missing"

# A missing domain file is named once.
run "$STRATA" --domain "$TMP/nope.yaml" --db "$DB" state Account A
expect_rc 1 "a missing domain file exits 1"
expect_eq "$(printf '%s\n' "$ERR" | grep -o 'nope.yaml' | wc -l | tr -d ' ')" 1 "its path is printed once"

# state and query agree: a position beyond the head is refused by both.
S state Account A --at 1000
expect_rc 1 "state --at beyond the head exits 1"
expect_contains "$ERR" "position 1000 is beyond the store's head (1)" "state says the head"
S query AccountList --at 1000
expect_rc 1 "query --at beyond the head exits 1"
expect_contains "$ERR" "position 1000 is beyond the store's head (1)" "query says the same"

# A stream without events: its initial state, and a note (not a failure).
S state Account NoSuch
expect_rc 0 "state of a stream without events exits 0"
expect_contains "$OUT" '"version":0' "it shows version 0"
expect_contains "$OUT" '"state":{"status":"none","owner":"","balance":0}' "and the initial state"
expect_contains "$ERR" "stream Account-NoSuch has no events" "a note says the stream has no events"

# --payload keeps JSON's types: a string where an int is declared is refused.
S exec Deposit --payload '{"accountId":"A","amount":"5"}'
expect_rc 1 "a string amount in --payload is refused"
expect_contains "$ERR" "field 'amount': expected int" "the schema says why"
# The workbench on a store path that does not exist creates it, and says so
# (a mistyped --db looks just like this); with no domain it says there is none.
printf ':save-display first.txt\n' >"$TMP/first.script"
run sh -c "cd '$TMP' && env STRATA_SCRIPT=first.script STRATA_NO_DISPLAY=1 TERM=xterm LINES=24 COLUMNS=100 \
    timeout 30 '$STRATA' tui --db typo.db"
expect_rc 0 "the workbench opens on a new store"
SCREEN=$(cat "$TMP/first.txt" 2>/dev/null)
expect_contains "$SCREEN" "Created a new, empty store typo.db" "it says it created the store"
expect_contains "$SCREEN" "No domain: events and streams only" "it says there is no domain"
expect_not_contains "$SCREEN" "(no domain) (version" "not a domain called '(no domain)'"
run sh -c "cd '$TMP' && env STRATA_SCRIPT=first.script STRATA_NO_DISPLAY=1 TERM=xterm LINES=24 COLUMNS=100 \
    timeout 30 '$STRATA' tui --db typo.db"
expect_not_contains "$(cat "$TMP/first.txt")" "Created a new" "a store that exists is not announced"

# Throttling to 1 says "1 event", not "1 events".
S project --throttle AccountList=1
expect_contains "$OUT" "throttled to 1 event per second" "one event, singular"
done_testing
