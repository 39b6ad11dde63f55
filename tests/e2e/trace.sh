#!/bin/sh
# trace.sh: `strata trace ID`: the causation tree under a command id, an event id
# (STREAM-VERSION), a position or a correlation id. A three-level chain built with
# --causation-id (A; B caused by A's event; C caused by B) shows as three levels
# of commands; unrelated commands stay out; --json gives one line a node with its
# depth and parent.
. "$(dirname "$0")/lib.sh"
export STRATA_DOMAIN=$ROOT/domains/bank.yaml STRATA_DB=$TMP/t.db
"$STRATA" exec OpenAccount accountId=A owner=Al --id cmdA --correlation-id flow-1 >/dev/null
"$STRATA" exec OpenAccount accountId=X owner=Xo --id other >/dev/null
"$STRATA" exec Deposit accountId=A amount=5 --id cmdB --causation-id Account-A-1 --correlation-id flow-1 >/dev/null
"$STRATA" exec Deposit accountId=X amount=9 --id unrelated --causation-id Account-X-1 >/dev/null
"$STRATA" exec Deposit accountId=A amount=7 --id cmdC --causation-id cmdB --correlation-id flow-1 >/dev/null

run "$STRATA" trace cmdA --json
expect_rc 0 "trace a command id"
cmds=$(printf '%s\n' "$OUT" | grep -c '"kind":"command"')
expect_eq "$cmds" 3 "three commands in the tree"
expect_contains "$OUT" '{"depth":0,"parent":null,"kind":"command","id":"cmdA"' "A is the root"
expect_contains "$OUT" '{"depth":2,"parent":"Account-A-1","kind":"command","id":"cmdB"' "B under A's event"
expect_contains "$OUT" '{"depth":3,"parent":"cmdB","kind":"command","id":"cmdC"' "C under B"
expect_contains "$OUT" '"kind":"event","id":"Account-A-3","position":5' "C's event under C"
expect_not_contains "$OUT" "unrelated" "a command caused by another tree stays out"
lines=$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')
expect_eq "$lines" 6 "one line per node"

run script -qc "$STRATA trace cmdA" /dev/null
expect_contains "$OUT" "OpenAccount cmdA on Account-A [correlation flow-1]" "text on a terminal: the root"
expect_contains "$OUT" "    Deposit cmdB on Account-A" "text: B indented two levels"
expect_contains "$OUT" "      Deposit cmdC on Account-A" "text: C indented three levels"

run "$STRATA" trace Account-A-1 --json
expect_contains "$OUT" '{"depth":0,"parent":null,"kind":"command","id":"cmdA"' "an event id: the tree of the command that appended it"
expect_contains "$OUT" '"id":"cmdC"' "its tree reaches C"
run "$STRATA" trace 1 --json
expect_contains "$OUT" '"id":"Account-A-1"' "a position as the root"
run "$STRATA" trace flow-1 --json
expect_rc 0 "a correlation id"
expect_contains "$OUT" '{"depth":0,"parent":null,"kind":"command","id":"cmdA"' "correlation: A the only root"
expect_contains "$OUT" '"parent":"cmdB","kind":"command","id":"cmdC"' "correlation: C under B"
run "$STRATA" trace nothing-like-this
expect_rc 1 "an unknown id"
expect_contains "$ERR" "is not a command id, an event id (STREAM-VERSION), a position or a correlation id" "says what an id may be"
expect_clean_stderr "trace"
done_testing
