#!/bin/sh
# eval.sh: end-to-end tests of `strata eval EXPR [--vars JSON]`: the JSON it prints
# (ints without '.', doubles always with '.' or an exponent), errors with the
# expression and column on stderr and exit 1, --vars, and usage errors (exit 2).
. "$(dirname "$0")/lib.sh"

# value EXPR WANT: prints WANT and exits 0
value() {
    run "$STRATA" eval "$1"
    if [ "$RC" = 0 ] && [ "$OUT" = "$2" ]; then
        ok "eval $1 = $2"
    else
        not_ok "eval $1 = $2" "exit $RC" "stdout: $OUT" "stderr: $ERR"
    fi
}

# ints never with '.', doubles always with '.' or an exponent
value '1 + 2 * 3' '7'
value '7 / 2' '3'
value '-7 % 3' '-1'
value '1.0' '1.0'
value '1.5 + 1.5' '3.0'
value 'double(1) + 1.5' '2.5'
value '1e300 * 10.0' '1e+301'
value '9223372036854775807' '9223372036854775807'
value '-9223372036854775808' '-9223372036854775808'
value "'a' + 'b'" '"ab"'
value "[1, 2] + [3]" '[1,2,3]'
value "{'a': 1, 'b': [true, null]}" '{"a":1,"b":[true,null]}'
value "[1, 2, 3].map(x, x * x)" '[1,4,9]'
value "[1, 2, 3].filter(x, x > 1)" '[2,3]'
value "'Hello'.lowerAscii().startsWith('he')" 'true'
value "string(1.5)" '"1.5"'
value "int('42')" '42'
value "1 == 1.0" 'true'
value "[1] == [1.0]" 'true'
value "1 < 1.5" 'true'
value "'1' == 1" 'false'
value "false && 1 / 0 == 1" 'false'
value "'horses' || true" 'true'
value ".99 > 9.9e-1" 'false'
value "{'if': 1}.if" '1'
value "bool('True')" 'true'
value "'a b c'.split(' ', 2)" '["a","b c"]'
value "'a a a'.replace('a', 'b', 2)" '"b b a"'
value "{1: 'one', true: 'yes'}" '{"1":"one","true":"yes"}'
value "{1: 'one', 2: 'two'}[2]" '"two"'
value "true in {true: 1}" 'true'
value "'a\\tb'" '"a\tb"'
value "size('héllo')" '5'
value "put({'a': 1}, 'b', 2)" '{"a":1,"b":2}'
value "remove([1, 2, 1], 1)" '[2]'

# an expression that starts with '-' is not an option
value '-1 + 2' '1'
value '--1' '1'

# errors: the expression, the column, what; exit 1
run "$STRATA" eval '1 + 1.5'
expect_rc 1 "1 + 1.5 exits 1"
expect_contains "$ERR" '`1 + 1.5`: column 3: no such overload: int + double' "1 + 1.5 names the overload"
expect_eq "$OUT" "" "1 + 1.5 prints nothing on stdout"
expect_clean_stderr "1 + 1.5"

run "$STRATA" eval 'true && 32'
expect_rc 1 "a non-bool operand that matters exits 1"
expect_contains "$ERR" "column 6: '&&' needs a bool, got int" "a non-bool operand that matters is refused"

run "$STRATA" eval "{1: 'a'}['1']"
expect_rc 1 "an int key is not a string key"
expect_contains "$ERR" "column 9: no such key: 1" "{1: 'a'}['1'] is no such key"

run "$STRATA" eval '9223372036854775807 + 1'
expect_rc 1 "overflow exits 1"
expect_contains "$ERR" "column 21: integer overflow" "overflow is reported"

run "$STRATA" eval '10 / (5 - 5)'
expect_rc 1 "division by zero exits 1"
expect_contains "$ERR" "column 4: division by zero" "division by zero is reported with its column"

run "$STRATA" eval "{'a': 1}.b"
expect_rc 1 "missing key exits 1"
expect_contains "$ERR" "no such key: b" "missing key is reported"

run "$STRATA" eval 'sise([1])'
expect_rc 1 "unknown function exits 1"
expect_contains "$ERR" "unknown function 'sise' (did you mean 'size'?)" "unknown function suggests"

run "$STRATA" eval '(1 + 2'
expect_rc 1 "syntax error exits 1"
expect_contains "$ERR" "column 7: expected ')'" "syntax error names the column"

run "$STRATA" eval '[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c, [1,2,3,4,5,6,7,8,9,10].map(d, [1,2,3,4,5,6,7,8,9,10].map(e, [1,2,3,4,5,6,7,8,9,10].map(f, [1,2,3,4,5,6,7,8,9,10].map(g, g)))))))'
expect_rc 1 "hostile nesting exits 1"
expect_contains "$ERR" "evaluation budget exhausted" "hostile nesting hits the budget"
expect_clean_stderr "hostile nesting"

# --vars
run "$STRATA" eval 'state.balance >= payload.amount' --vars '{"state":{"balance":150},"payload":{"amount":151}}'
expect_rc 0 "--vars after the expression"
expect_out "false" "--vars values are used"

run "$STRATA" eval --vars '{"state":{"lines":{"p1":2}}}' "put(state.lines, 'p2', 1)"
expect_rc 0 "--vars before the expression"
expect_out '{"p1":2,"p2":1}' "--vars map is used"

run "$STRATA" eval "--vars={\"event\":{\"amount\":2.5}}" 'event.amount * 2.0'
expect_out "5.0" "--vars=JSON form"

run "$STRATA" eval 'state.missing' --vars '{"state":{}}'
expect_rc 1 "missing field in --vars exits 1"
expect_contains "$ERR" "no such key: missing" "missing field is named"

run "$STRATA" eval 'state == null'
expect_out "true" "names not given are null"

run "$STRATA" eval '1' --vars '{"state": '
expect_rc 1 "bad --vars JSON exits 1"
expect_contains "$ERR" "--vars: invalid JSON" "bad --vars JSON is named"

run "$STRATA" eval '1' --vars '[1]'
expect_rc 1 "--vars not an object exits 1"
expect_contains "$ERR" "expected a JSON object" "--vars must be an object"

run "$STRATA" eval '1' --vars '{"stat": {}}'
expect_rc 1 "unknown --vars name exits 1"
expect_contains "$ERR" "unknown name 'stat' (did you mean 'state'?)" "unknown --vars name is named"

run "$STRATA" eval 'string(now()).startsWith("20")'
expect_out "true" "now() is allowed in eval"

# usage
run "$STRATA" eval
expect_rc 2 "no expression: exit 2"
expect_contains "$ERR" "usage: strata eval" "no expression prints usage"

run "$STRATA" eval '1' '2'
expect_rc 2 "two expressions: exit 2"

run "$STRATA" eval '1' --bogus
expect_rc 2 "unknown option: exit 2"
expect_contains "$ERR" "unknown option '--bogus'" "unknown option is named"

run "$STRATA" eval '1' --vars
expect_rc 2 "--vars without a value: exit 2"

run "$STRATA" eval --help
expect_rc 0 "--help exits 0"
expect_contains "$OUT" "usage: strata eval EXPR [--vars JSON]" "--help prints usage"

done_testing
