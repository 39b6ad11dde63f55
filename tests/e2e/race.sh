#!/bin/sh
# race.sh: `strata race 'CMD ARGS' 'CMD ARGS' [--no-retry]` (core/race.c) on the
# shipped bank: both commands decided on the same loaded state, the first
# appending, the second meeting the conflict and retried on the fresh state;
# the narration of each step on standard error, the events on standard output,
# the exit status the second's (0 accepted after the retry, 3 rejected on the
# fresh state, 4 with --no-retry); bad input refused with the store untouched.
. "$(dirname "$0")/lib.sh"
D="$ROOT/domains/bank.yaml"
DB=$(fresh_db race)
S() { run "$STRATA" --domain "$D" --db "$DB" "$@"; }
S exec OpenAccount accountId=A owner=Alice initialDeposit=100
expect_rc 0 "an account to race for"

# Two withdrawals that each fit the balance, but not both.
S race 'Withdraw accountId=A amount=80' 'Withdraw accountId=A amount=50'
expect_rc 3 "the second withdrawal, retried on the fresh state, is rejected: exit 3"
expect_contains "$ERR" "race: first: decided on version 1: 2 events to append" "the first decided on version 1"
expect_contains "$ERR" "race: second: decided on version 1: 2 events to append" "the second decided on the same version"
expect_contains "$ERR" "race: second: require state.balance >= payload.amount: state.balance (100) >= payload.amount (50) is true -> holds" "the second's rule held on the shared state (narrated as exec --explain does)"
expect_contains "$ERR" "race: first: append to Account-A expecting version 1: positions 2-3 (versions 2-3)" "the first appended"
expect_contains "$ERR" "race: second: append to Account-A expecting version 1: conflict on attempt 1: stream Account-A is at version 3, expected 1" "the second met the conflict"
expect_contains "$ERR" "race: second: retried: decided again on the fresh state" "the second was retried"
expect_contains "$ERR" "race: second: state loaded: Account-A at version 3" "the retry loaded the fresh state"
expect_contains "$ERR" "race: second: outcome: rejected on the fresh state (insufficient funds); nothing appended" "the outcome is told"
expect_contains "$ERR" "rejected: insufficient funds" "the rejection is said as exec says it"
expect_eq "$(printf '%s\n' "$OUT" | grep -c '"type":"MoneyWithdrawn"')" 1 "stdout: the first's events only"
# The order of the narration: decide, decide, append, conflict, retry.
order=$(printf '%s\n' "$ERR" | grep -n -e 'first: decided' -e 'second: decided' -e 'first: append' -e 'second: append.*conflict' -e 'second: retried' | cut -d: -f3 | tr '\n' ' ')
expect_eq "$order" " first  second  first  second  second " "each step in the order it happened"
S state Account A
expect_contains "$OUT" '"balance":20' "the store holds the first withdrawal only"

# Accepted after the retry: two deposits.
S race 'Deposit accountId=A amount=5' 'Deposit accountId=A amount=7'
expect_rc 0 "the second deposit is accepted after the retry: exit 0"
expect_contains "$ERR" "race: second: outcome: accepted after the conflict (retried on the fresh state)" "accepted after the conflict"
expect_contains "$ERR" "race: second: append to Account-A expecting version 4: positions 5-5 (versions 5-5)" "the retry appended on the fresh version"
expect_eq "$(printf '%s\n' "$OUT" | grep -c '"type":"MoneyDeposited"')" 2 "stdout: both commands' events"

# --no-retry: exit 4 at the conflict, the second's events not appended.
S race 'Deposit accountId=A amount=1' 'Deposit accountId=A amount=2' --no-retry
expect_rc 4 "--no-retry: exit 4"
expect_contains "$ERR" "race: second: outcome: conflict, not retried; nothing appended" "the conflict is the outcome"
expect_contains "$ERR" "not retried (--no-retry)" "and the message says why"
S state Account A
expect_contains "$OUT" '"balance":33' "only the first deposit was appended (20 + 5 + 7 + 1)"

# Different streams cannot conflict; a rejection on the shared state meets nothing.
S exec OpenAccount accountId=B owner=Bob initialDeposit=0
S race 'Deposit accountId=A amount=1' 'Deposit accountId=B amount=1'
expect_rc 0 "two streams: the second accepted"
expect_contains "$ERR" "they cannot conflict" "told that they cannot conflict"
S race 'Deposit accountId=A amount=1' 'Withdraw accountId=B amount=5'
expect_rc 3 "the second rejected on the shared state: exit 3"
expect_contains "$ERR" "rejected on the shared state; nothing to append, so no conflict" "no conflict for a command with nothing to append"

# The arguments are read as exec reads them: quotes, --payload, --id.
S race "Deposit accountId=A --payload '{\"amount\":3}' --id race-1" 'Deposit accountId=A amount=4'
expect_rc 0 "--payload and --id inside a command"
S events --stream Account-A
expect_contains "$OUT" '"commandId":"race-1"' "the first kept its command id"

# Bad input: what and where, non-zero, the store untouched.
before=$("$STRATA" --db "$DB" events | wc -l)
S race 'Deposit accountId=A amount=1'
expect_rc 2 "one command is a usage error"
expect_contains "$ERR" "give two commands" "and says what is wanted"
S race 'Depsit accountId=A amount=1' 'Deposit accountId=A amount=1'
expect_rc 1 "an unknown command: exit 1"
expect_contains "$ERR" "the first command: unknown command 'Depsit' (did you mean 'Deposit'?)" "names the side and suggests"
S race 'Deposit accountId=A amount=1' 'Deposit accountId=A amount=x'
expect_rc 1 "a bad field in the second: exit 1"
expect_contains "$ERR" "amount" "names the field"
S race "Deposit accountId='A amount=1" 'Deposit accountId=A amount=1'
expect_rc 2 "an open quote is a usage error"
expect_contains "$ERR" "the first command: a quote at column 19 is not closed" "says where"
S race 'Deposit accountId=A amount=1 --expect-version 3' 'Deposit accountId=A amount=1'
expect_rc 2 "exec's other options are refused inside a command"
S race '' 'Deposit accountId=A amount=1'
expect_rc 2 "an empty command is a usage error"
after=$("$STRATA" --db "$DB" events | wc -l)
expect_eq "$after" "$before" "bad input appended nothing"
done_testing
