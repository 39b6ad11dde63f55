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

run "$STRATA" check $B/expression.yaml
expect_rc 1 "expression exits 1"
expect_eq "$ERR" "$B/expression.yaml:11:27: error: aggregates.A.commands.Spend.require[0].rule: unknown field 'balanse' of state (did you mean 'balance'?)
$B/expression.yaml:12:21: error: aggregates.A.commands.Spend.require[1].rule: now() is only allowed in emit" "expression problems at their columns"

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
