#!/bin/sh
# run.sh: runs every test suite and prints the closing "N passed, N failed".
#
# Suites speak TAP ("ok N - name" / "not ok N - name"): the cmocka unit tests
# (CMOCKA_MESSAGE_OUTPUT=TAP), the end-to-end scripts in tests/e2e/, the
# scripted workbench tests in tests/tui/, the verb cases run through both front
# ends (tests/verbs/), and cel-spec's conformance cases
# (tests/cel/run.py, normal build only). Each suite runs against the normal build
# (./strata) and then, unless STRATA_SKIP_ASAN is set, against the sanitizer build
# (build/asan/strata), and the main commands run once more under valgrind
# memcheck (tests/valgrind.sh). A suite that exits non-zero without a failing test line
# counts as one failure (a crash, a sanitizer report, a hang killed by the watchdog).
cd "$(dirname "$0")/.." || exit 2
top=$(pwd)
logs="$top/build/test-logs"
rm -rf "$logs"
mkdir -p "$logs"
passed=0
failed=0
skipped=0
failures=""

# A user's own settings must not leak into the tests.
unset STRATA_DOMAIN STRATA_DB STRATA_SCRIPT STRATA_NOW STRATA_BUSY_TIMEOUT STRATA_MAX_PAGES
# Pinned so that screens and messages are the same on every machine.
export TZ=UTC LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color NO_COLOR=1
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98"
export STRATA_SHARED_DATA="${STRATA_SHARED_DATA:-$top/../shared/data}"
WATCHDOG=${WATCHDOG:-600}

run_suite() { # label, command...
    label=$1
    shift
    log="$logs/$(echo "$label" | tr '/ ' '__').log"
    timeout -k 5 "$WATCHDOG" "$@" >"$log" 2>&1
    rc=$?
    # A skipped test is "ok N # SKIP" in TAP, but cmocka writes "not ok N # SKIP".
    skip=$(grep -c '^\(not \)\{0,1\}ok .*# SKIP' "$log")
    ok=$(grep '^ok ' "$log" | grep -vc '# SKIP')
    bad=$(grep '^not ok ' "$log" | grep -vc '# SKIP')
    if [ "$rc" != 0 ] && [ "$bad" = 0 ]; then
        bad=1
        echo "not ok - $label exited with status $rc" >>"$log"
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    skipped=$((skipped + skip))
    if [ "$bad" != 0 ]; then
        failures="$failures $label"
        echo "FAIL $label ($ok passed, $bad failed); log: $log"
        grep -E '^not ok|ERROR|Sanitizer|runtime error' "$log" | head -20 | sed 's/^/    /'
    else
        echo "pass $label ($ok$([ "$skip" != 0 ] && echo ", $skip skipped"))"
    fi
}

# A throw-away PostgreSQL server (scripts/pg-cluster.sh) for the PostgreSQL half of
# the store's tests: test_store, test_store_gap and the branch tests run their
# cases on it too, the e2e suites in PG_SUITES run again against it
# (STRATA_TEST_DB_KIND=pg), and
# pg_store.sh compares it with SQLite; pg_projections.sh and pg_workbenches.sh use
# it too, and pg_faults.sh starts a server of its own (it crashes it). Stopped and
# removed at exit, failure or not.
# Without a server installed (or with STRATA_SKIP_PG) those parts say they skip.
PG_SUITES="commands export race record project import_dedup lag_age sql doctor log_inspect branch"
# inspect imports BPIC 2012 (262,200 events: 2.5 minutes on PostgreSQL): the normal
# build only.
PG_SUITES_NORMAL="inspect"
pgdir=
if [ -z "$STRATA_SKIP_PG" ] && [ -z "$STRATA_TEST_PG_URI" ] &&
    { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; }; then
    pgdir=$(mktemp -d "${TMPDIR:-/tmp}/strata-pg.XXXXXX")
    trap 'sh "$top/scripts/pg-cluster.sh" stop "$pgdir"' EXIT
    trap 'exit 130' INT TERM
    if STRATA_TEST_PG_URI=$(sh scripts/pg-cluster.sh start "$pgdir" 2>"$logs/pg-cluster.log"); then
        export STRATA_TEST_PG_URI
        echo "PostgreSQL test server up (log: $logs/pg-cluster.log)"
    else
        unset STRATA_TEST_PG_URI
        failed=$((failed + 1))
        failures="$failures pg-cluster"
        echo "FAIL pg-cluster: the PostgreSQL test server did not start; log: $logs/pg-cluster.log"
    fi
fi

builds="build"
[ -z "$STRATA_SKIP_ASAN" ] && [ -x build/asan/strata ] && builds="build build/asan"
for b in $builds; do
    if [ "$b" = build ]; then bin="$top/strata"; else bin="$top/$b/strata"; fi
    export STRATA_BIN="$bin"
    # The gap test's PostgreSQL run appends 20,000 events; under the sanitizers fewer.
    gap=
    [ "$b" != build ] && gap=500
    for t in "$top/$b"/tests/test_*; do
        [ -x "$t" ] || continue
        run_suite "$b/unit/$(basename "$t")" env ${gap:+STRATA_GAP_PER_WRITER=$gap} "$t"
    done
    for t in tests/e2e/*.sh; do
        [ -f "$t" ] || continue
        [ "$(basename "$t")" = lib.sh ] && continue
        run_suite "$b/e2e/$(basename "$t" .sh)" sh "$t"
    done
    if [ -n "$STRATA_TEST_PG_URI" ]; then
        pg_suites=$PG_SUITES
        [ "$b" = build ] && pg_suites="$PG_SUITES $PG_SUITES_NORMAL"
        for t in $pg_suites; do
            run_suite "$b/e2e-pg/$t" env STRATA_TEST_DB_KIND=pg sh "tests/e2e/$t.sh"
        done
    fi
    for t in tests/tui/*.sh; do
        [ -f "$t" ] || continue
        run_suite "$b/tui/$(basename "$t" .sh)" sh "$t"
    done
    # One table of verb cases through both front ends (tests/verbs/cases.txt).
    run_suite "$b/verbs/cases" sh tests/verbs/run.sh
    # cel-spec's conformance cases that fall in the subset (tests/cel/run.py); the
    # normal build is enough: the sanitizers see the same code through the unit tests.
    [ "$b" = build ] && run_suite "$b/cel/conformance" python3 tests/cel/run.py
    # The codebase's shape: no cycles between files, none over 1,000 lines, the
    # layout clang-format's (tests/shape/run.sh; normal build only).
    [ "$b" = build ] && run_suite "$b/shape" sh tests/shape/run.sh
done

# Memcheck over the main commands of the normal build (the sanitizer build cannot
# run under valgrind).
if [ -z "$STRATA_SKIP_VALGRIND" ]; then
    export STRATA_BIN="$top/strata"
    run_suite "build/valgrind" sh tests/valgrind.sh
fi
# Each libFuzzer target briefly (`make fuzz` runs them for longer), after replaying
# the crashing inputs kept in tests/fuzz/regressions/.
if [ -z "$STRATA_SKIP_FUZZ" ]; then
    run_suite "build/fuzz" env FUZZ_RUNS="${STRATA_FUZZ_RUNS:-20000}" FUZZ_SEED=1 sh tests/fuzz/run.sh
fi

echo
[ -n "$failures" ] && echo "failed suites:$failures"
if [ "$skipped" != 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
