#!/bin/sh
# check.sh: end-to-end tests of `strata check`: every shipped domain passes with
# its "ok" line; each broken file in tests/domains/bad/ fails (exit 1) with the
# exact FILE:LINE:COL lines; several files at once; usage and --help.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 2

for f in domains/*.yaml; do
    run "$STRATA" check "$f"
    expect_rc 0 "check $f exits 0"
    expect_contains "$OUT" "$f: ok: " "check $f prints its ok line"
    expect_clean_stderr "check $f"
done

run "$STRATA" check domains/bank.yaml
expect_out "domains/bank.yaml: ok: 1 aggregate, 4 commands, 5 events, 2 projections, 13 scenarios" "bank's exact ok line"
run "$STRATA" check domains/library.yaml
expect_out "domains/library.yaml: ok: 1 aggregate, 3 commands, 3 events, 2 projections, 9 scenarios" "library's exact ok line"

run "$STRATA" check tests/domains/no_such_file.yaml
expect_rc 1 "a missing domain file exits 1"
expect_eq "$ERR" "tests/domains/no_such_file.yaml: error: cannot open: No such file or directory" "a missing domain file: its path once"

B=tests/domains/bad
run "$STRATA" check $B/unknown_key.yaml
expect_rc 1 "unknown key exits 1"
expect_eq "$ERR" "$B/unknown_key.yaml:10:9: error: aggregates.A.events.Bumped.aply: unknown key 'aply' (did you mean 'apply'?)" "unknown key: position and did-you-mean"

run "$STRATA" check $B/emit_fields.yaml
expect_rc 1 "emit fields exits 1"
expect_eq "$ERR" "$B/emit_fields.yaml:10:13: error: aggregates.A.commands.Bump.emit[0].Bumped: missing field 'by' of event 'Bumped' (a required int)
$B/emit_fields.yaml:10:22: error: aggregates.A.commands.Bump.emit[0].Bumped.bye: unknown field 'bye' of event 'Bumped' (did you mean 'by'?)" "emit fields: both problems"

run "$STRATA" check $B/upcast_gap.yaml
expect_rc 1 "upcast gap exits 1"
expect_eq "$ERR" "$B/upcast_gap.yaml:11:11: error: aggregates.A.events.Renamed.upcast: event 'Renamed' is at version 3, so it needs an upcast step from each older version (1 to 2); missing from: 2" "upcast gap"

# An upcast chain's output is checked against the current version's fields: the
# step at fault is named (rename to an undeclared name, a default outside the
# enum or of the wrong type, a set of the wrong type, a required field dropped,
# and renames applied in order within one step).
run "$STRATA" check $B/upcast_output.yaml
expect_rc 1 "upcast output exits 1"
expect_eq "$ERR" "$B/upcast_output.yaml:18:28: error: aggregates.A.events.Opened.upcast[0].rename.name: the step from 1 renames 'name' to 'ownr', a field version 3 does not declare (did you mean 'owner'?)
$B/upcast_output.yaml:19:33: error: aggregates.A.events.Opened.upcast[0].default.currency: the default for 'currency' in the step from 1 does not fit version 3: field 'currency': \"GBP\" is not one of [\"EUR\",\"USD\"]
$B/upcast_output.yaml:20:20: error: aggregates.A.events.Opened.upcast[0].drop[0]: the step from 1 drops 'amount', which version 3 requires (a required int), and no later step puts it back
$B/upcast_output.yaml:22:25: error: aggregates.A.events.Opened.upcast[1].set.note: \`1 + 2\` is an int, but field 'note' of version 3 is string
$B/upcast_output.yaml:23:33: error: aggregates.A.events.Opened.upcast[1].default.currency: the default for 'currency' in the step from 2 does not fit version 3: field 'currency': expected string, got int 7
$B/upcast_output.yaml:24:20: error: aggregates.A.events.Opened.upcast[1].drop[0]: the step from 2 drops 'owner', which version 3 requires (a required string), and no later step puts it back
$B/upcast_output.yaml:30:43: error: aggregates.A.events.Closed.upcast[0].rename.reason: the step from 1 renames 'reason' to 'motive', but version 2 requires 'reason' (a required string) and no later step puts it back
$B/upcast_output.yaml:30:43: error: aggregates.A.events.Closed.upcast[0].rename.reason: the step from 1 renames 'reason' to 'motive', a field version 2 does not declare" "upcast output: every step at fault"

# A projection key is compiled against each handled event's fields (a typo is
# found with did-you-mean), and must be a scalar.
run "$STRATA" check $B/projection_key.yaml
expect_rc 1 "projection keys exits 1"
expect_eq "$ERR" "$B/projection_key.yaml:17:16: error: projections.ByBooking.key: unknown field 'bookingID' of event (did you mean 'bookingId'?); the key is read for event 'Made' (line 20)
$B/projection_key.yaml:22:10: error: projections.ByRooms.key: \`event.rooms\` is a list, but a key names one row: it must be a string or a number; the key is read for event 'Made' (line 25)" "projection keys"

# A scenario's when.payload is checked against the command's payload fields
# (not when then expects it refused); 'open' is too far from 'when' to suggest.
run "$STRATA" check $B/scenario_when.yaml
expect_rc 1 "scenario when exits 1"
expect_eq "$ERR" "$B/scenario_when.yaml:18:39: error: scenarios[0].when.payload: missing field 'amount' of command Deposit's payload (a required int)
$B/scenario_when.yaml:18:54: error: scenarios[0].when.payload.amont: unknown field 'amont' of command Deposit's payload (did you mean 'amount'?)
$B/scenario_when.yaml:18:70: error: scenarios[0].when.payload.note: field 'note': expected string, got int 3
$B/scenario_when.yaml:21:39: error: scenarios[1].when.payload: missing field 'accountId' of command Deposit's payload (a required string)
$B/scenario_when.yaml:21:48: error: scenarios[1].when.payload.amount: field 'amount': 0 is below the minimum 1
$B/scenario_when.yaml:27:5: error: scenarios[3].open: unknown key 'open'; expected one of: name, given, when, then
$B/scenario_when.yaml:28:12: error: scenarios[3].then.events: \`events\` needs a \`when\` command (they are what it appends)" "scenario when"

# After an indentation slip the first error reported is its cause.
run "$STRATA" check $B/indent_require.yaml
expect_rc 1 "indentation slip (require) exits 1"
expect_eq "$ERR" "$B/indent_require.yaml:14:7: error: aggregates.A.commands.require: 'require' stands where a command's name goes (column 7), but it is a key of command Withdraw (column 8): indent it 1 space more
$B/indent_require.yaml:14:7: error: aggregates.A.commands.require: command 'require' has no payload field 'x', the aggregate's id: every command needs it to find its stream
$B/indent_require.yaml:15:9: error: aggregates.A.commands.require: expected a command {payload, require, emit} (a mapping), got a list" "indentation slip (require)"

run "$STRATA" check $B/indent_events.yaml
expect_rc 1 "indentation slip (events) exits 1"
expect_eq "$(printf '%s\n' "$ERR" | head -n 1)" "$B/indent_events.yaml:15:7: error: aggregates.A.commands.events: 'events' stands where a command's name goes (column 7), but it is a key of aggregate A (column 5): indent it 2 spaces less" "indentation slip (events): the slip is reported first, before the unknown events it causes"

run "$STRATA" check $B/expression.yaml
expect_rc 1 "expression exits 1"
expect_eq "$ERR" "$B/expression.yaml:11:27: error: aggregates.A.commands.Spend.require[0].rule: unknown field 'balanse' of state (did you mean 'balance'?)
$B/expression.yaml:12:27: error: aggregates.A.commands.Spend.require[1].rule: no such overload: string + timestamp" "expression problems at their columns"

run "$STRATA" check $B/map_keys.yaml
expect_rc 1 "int and bool map keys in stored data exit 1"
expect_eq "$ERR" "$B/map_keys.yaml:12:29: error: aggregates.A.commands.Tag.emit[0].Tagged.tags: a map with int or bool keys cannot be stored (stored maps have string keys: write {'1': ...})
$B/map_keys.yaml:12:51: error: aggregates.A.commands.Tag.emit[0].Tagged.names: a map key that is int cannot be stored (stored maps have string keys: write {'1': ...})
$B/map_keys.yaml:16:25: error: aggregates.A.events.Tagged.apply.seen: a map key that is bool cannot be stored (stored maps have string keys: write {'1': ...})" "int and bool map keys where data is stored, at their columns"

run "$STRATA" check $B/tab.yaml
expect_rc 1 "tab exits 1"
expect_eq "$ERR" "$B/tab.yaml:4:1: error: aggregates.A: a tab is used for indentation; YAML allows only spaces there (replace the tab with spaces)" "tab"

run "$STRATA" check $B/duplicate_key.yaml
expect_rc 1 "duplicate key exits 1"
expect_eq "$ERR" "$B/duplicate_key.yaml:7:5: error: aggregates.A.state: duplicate key 'state' (first defined at line 6, column 5); a key may appear only once" "duplicate key names both places"

run "$STRATA" check $B/alias_bomb.yaml
expect_rc 1 "alias bomb exits 1"
expect_contains "$ERR" "$B/alias_bomb.yaml:6:8: error: e[0]: aliases expand to more than 10000 nodes" "alias bomb refused"
expect_clean_stderr "alias bomb"

printf 'domain: t\naggregates:\n  A\377: {}\n' >"$TMP/latin1.yaml"
run "$STRATA" check "$TMP/latin1.yaml"
expect_rc 1 "invalid UTF-8 exits 1"
expect_eq "$ERR" "$TMP/latin1.yaml:3:4: error: the file is not valid UTF-8 (byte 0xFF); save it as UTF-8" "invalid UTF-8 at its byte"

: >"$TMP/empty.yaml"
run "$STRATA" check "$TMP/empty.yaml"
expect_rc 1 "empty file exits 1"
expect_eq "$ERR" "$TMP/empty.yaml:1:1: error: the file is empty; a domain file is a YAML mapping (domain:, aggregates:, ...)" "empty file"

run "$STRATA" check "$TMP/missing.yaml"
expect_rc 1 "missing file exits 1"
expect_contains "$ERR" "$TMP/missing.yaml: error: " "missing file named"

# A rule's message: each {placeholder} is compiled with the rule's names and a
# problem stands at the placeholder; an unclosed '{' and a lone '}' are refused.
run "$STRATA" check $B/message.yaml
expect_rc 1 "message placeholders exits 1"
expect_eq "$ERR" "$B/message.yaml:12:93: error: aggregates.Room.commands.Book.require[0].message: unknown field 'gust' of state (did you mean 'guest'?)
$B/message.yaml:13:47: error: aggregates.Room.commands.Book.require[1].message: '{' starts a placeholder that is not closed: write {{ for a brace
$B/message.yaml:14:43: error: aggregates.Room.commands.Book.require[2].message: a lone '}' in a message: write }} for a brace" "message placeholders"

# Record types (`types:`): an unknown type name gets "did you mean", an unknown
# element type is refused, and a record's fields are checked through a map of
# records, with their types (a timestamp is not a condition).
run "$STRATA" check $B/record_types.yaml
expect_rc 1 "record types exits 1"
expect_eq "$ERR" "$B/record_types.yaml:9:19: error: types.Stay.booking: unknown type 'Boking' (did you mean 'Booking'?)
$B/record_types.yaml:9:34: error: types.Stay.rooms: unknown element type 'Room' in 'list<Room>': a type of the language (not list or map) or a record declared under \`types:\`
$B/record_types.yaml:19:55: error: aggregates.Room.commands.Cancel.require[0].rule: unknown field 'too' of Booking (did you mean 'to'?)
$B/record_types.yaml:20:20: error: aggregates.Room.commands.Cancel.require[1].rule: \`state.bookings[payload.bookingId].from\` is a timestamp, not a condition (it must be true or false)" "record types"

# Projection rows: for_each must give a list, a keyless projection needs it in
# every handler, `key` is bound only by for_each, a typed column refuses a value
# of another type.
run "$STRATA" check $B/projection_rows.yaml
expect_rc 1 "projection rows exits 1"
expect_eq "$ERR" "$B/projection_rows.yaml:18:19: error: projections.Nights.on.Booked.for_each: \`size(event.nights)\` is an int, but for_each gives a list of row keys
$B/projection_rows.yaml:19:42: error: projections.Nights.on.Booked.set.count: \`event.guest\` is a string, but column 'count' is int
$B/projection_rows.yaml:20:7: error: projections.Nights.on.Cancelled: projection Nights has no \`key:\`, so this handler needs \`for_each:\` like the others (which rows does it change?)
$B/projection_rows.yaml:20:27: error: projections.Nights.on.Cancelled.guest: 'key' is not available in projection; use event, row or meta" "projection rows"

# Several files: every one is checked, good ones still say ok, the status is 1.
run "$STRATA" check domains/cart.yaml $B/unknown_key.yaml domains/bank.yaml
expect_rc 1 "a bad file among good ones exits 1"
expect_contains "$OUT" "domains/cart.yaml: ok:" "the good file before is reported"
expect_contains "$OUT" "domains/bank.yaml: ok:" "the good file after is reported"
expect_contains "$ERR" "$B/unknown_key.yaml:10:9: error:" "the bad file's problem is reported"

# Every line of a failing check has the FILE:LINE:COL: error: shape.
run "$STRATA" check $B/emit_fields.yaml $B/expression.yaml
bad_lines=$(printf '%s\n' "$ERR" | grep -cv '^[^:]*:[0-9]*:[0-9]*: error: ')
expect_eq "$bad_lines" "0" "every problem is FILE:LINE:COL: error: ..."

# Without a file: --domain or STRATA_DOMAIN, else usage.
run "$STRATA" check --domain domains/cart.yaml
expect_rc 0 "--domain is checked"
expect_contains "$OUT" "domains/cart.yaml: ok: 1 aggregate, 5 commands" "--domain ok line"
run env STRATA_DOMAIN=domains/library.yaml "$STRATA" check
expect_rc 0 "STRATA_DOMAIN is checked"
run env -u STRATA_DOMAIN "$STRATA" check
expect_rc 2 "no file is a usage error"
expect_contains "$ERR" "usage: strata check" "usage is printed"
run "$STRATA" check --help
expect_rc 0 "--help exits 0"
expect_contains "$OUT" "usage: strata check" "--help prints usage"

done_testing
