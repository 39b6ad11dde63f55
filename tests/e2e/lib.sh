# lib.sh: helpers for end-to-end tests, sourced by tests/e2e/*.sh.
# Each check prints a TAP line; tests/run.sh counts them.
#   STRATA  the binary under test (STRATA_BIN from run.sh, else ./strata)
#   TMP     a fresh folder, removed at exit
#   ROOT    the repository
# With STRATA_TEST_DB_KIND=pg (and STRATA_TEST_PG_URI, from tests/run.sh), fresh_db
# gives each store a fresh PostgreSQL schema instead of a file, so that the same
# script runs against both backends; skip_on_pg marks what has no PostgreSQL
# meaning (a check through sqlite3, say).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STRATA=${STRATA_BIN:-$ROOT/strata}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-e2e.XXXXXX")
PG_MODE=
[ "$STRATA_TEST_DB_KIND" = pg ] && [ -n "$STRATA_TEST_PG_URI" ] && PG_MODE=1
# The schemas this script made (all named e<pid>_NAME) go with it.
_cleanup() {
    if [ -n "$PG_MODE" ]; then
        psql "$STRATA_TEST_PG_URI" -qAt -c "SELECT 'DROP SCHEMA ' || nspname || ' CASCADE;' FROM pg_namespace WHERE nspname LIKE 'e$$\_%'" 2>/dev/null |
            psql "$STRATA_TEST_PG_URI" -q >/dev/null 2>&1
    fi
    rm -rf "$TMP"
}
trap _cleanup EXIT
_n=0
_failed=0
# SANITIZED is set when the binary under test was built with AddressSanitizer or
# UndefinedBehaviorSanitizer (tests/run.sh's second pass, build/asan/strata). Only
# then can a "sanitizer clean" check fail, so only then is it made and counted.
SANITIZED=
if grep -qa -e __asan_init -e __ubsan_handle "$STRATA" 2>/dev/null; then SANITIZED=1; fi

ok() { _n=$((_n + 1)); echo "ok $_n - $1"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

# run CMD...: runs it, keeping stdout in $OUT, stderr in $ERR, status in $RC.
run() {
    "$@" >"$TMP/.out" 2>"$TMP/.err"
    RC=$?
    OUT=$(cat "$TMP/.out")
    ERR=$(cat "$TMP/.err")
}

# expect_rc N NAME: the last run's status was N.
expect_rc() {
    if [ "$RC" = "$1" ]; then ok "$2"; else not_ok "$2" "expected exit $1, got $RC" "stdout: $(head -c 600 "$TMP/.out")" "stderr: $(head -c 600 "$TMP/.err")"; fi
}
# expect_out TEXT NAME: stdout equals TEXT exactly.
expect_out() {
    if [ "$OUT" = "$1" ]; then ok "$2"; else not_ok "$2" "expected stdout: $1" "got: $OUT" "stderr: $ERR"; fi
}
# expect_contains HAYSTACK NEEDLE NAME
expect_contains() {
    case "$1" in *"$2"*) ok "$3" ;; *) not_ok "$3" "expected to find: $2" "in: $(printf %s "$1" | head -c 800)" ;; esac
}
expect_not_contains() {
    case "$1" in *"$2"*) not_ok "$3" "did not expect: $2" "in: $(printf %s "$1" | head -c 800)" ;; *) ok "$3" ;; esac
}
# expect_eq A B NAME
expect_eq() {
    if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3" "expected: $2" "got: $1"; fi
}
# A sanitizer report anywhere in stderr is a failure even when the exit code was
# fine. Without a sanitizer in the binary nothing could report: no check, no count.
expect_clean_stderr() {
    [ -n "$SANITIZED" ] || return 0
    case "$ERR" in *Sanitizer*|*"runtime error"*) not_ok "$1: sanitizer clean" "$ERR" ;; *) ok "$1: sanitizer clean" ;; esac
}
# fresh_db NAME: a new, empty store: $TMP/NAME.db, or in pg mode the URI of a new
# schema of the test server (NAME: letters, digits and _).
fresh_db() {
    if [ -z "$PG_MODE" ]; then
        echo "$TMP/$1.db"
        return
    fi
    psql "$STRATA_TEST_PG_URI" -q -c "CREATE SCHEMA e$$_$1" >/dev/null || return 1
    case "$STRATA_TEST_PG_URI" in *\?*) sep='&' ;; *) sep='?' ;; esac
    echo "$STRATA_TEST_PG_URI${sep}options=-csearch_path%3De$$_$1"
}
# reset_db NAME: empties the store fresh_db NAME gave (removes the file, or drops
# and makes the schema again).
reset_db() {
    if [ -z "$PG_MODE" ]; then
        rm -f "$TMP/$1.db" "$TMP/$1.db-wal" "$TMP/$1.db-shm"
        return
    fi
    psql "$STRATA_TEST_PG_URI" -q -c "DROP SCHEMA e$$_$1 CASCADE" -c "CREATE SCHEMA e$$_$1" >/dev/null 2>&1
}
# ledger_domain DEPOSITS: prints the small ledger domain (Account, MoneyDeposited,
# and the Balances projection with DEPOSITS as its deposits rule); a caller may
# append more projections after it.
ledger_domain() {
    cat <<EOF
domain: ledger
aggregates:
  Account:
    id: accountId
    state:
      balance: {type: int, default: 0}
    commands:
      Deposit:
        payload: {accountId: string, amount: int}
        emit:
          - MoneyDeposited: {amount: payload.amount}
    events:
      MoneyDeposited:
        fields: {amount: int}
        apply: {balance: "state.balance + event.amount"}
projections:
  Balances:
    key: meta.aggregateId
    columns: {balance: 0, deposits: 0}
    on:
      MoneyDeposited: {balance: "row.balance + event.amount", deposits: "$1"}
EOF
}
# rows_as_sqlite DOMAIN DB NDJSON SQLITE_DB SUFFIX: imports NDJSON into the new
# SQLite store SQLITE_DB and folds it there; expects DB's AccountList and BankStats
# rows to be the same (the checks named "NAME" SUFFIX).
rows_as_sqlite() {
    "$STRATA" import --domain "$1" --db "$4" "$3" >/dev/null
    "$STRATA" --domain "$1" --db "$4" project >/dev/null
    for name in AccountList BankStats; do
        expect_eq "$("$STRATA" --domain "$1" --db "$2" query "$name")" "$("$STRATA" --domain "$1" --db "$4" query "$name")" "$name$5"
    done
}
# needs_pg: for a suite that runs on PostgreSQL only: without STRATA_TEST_PG_URI
# prints a TAP skip and exits; else pg mode (fresh_db gives schemas of the server).
needs_pg() {
    if [ -z "$STRATA_TEST_PG_URI" ]; then
        echo "ok 1 # SKIP STRATA_TEST_PG_URI is not set (tests/run.sh starts a server)"
        echo "1..1"
        exit 0
    fi
    STRATA_TEST_DB_KIND=pg
    PG_MODE=1
}
# skip_on_pg REASON: in pg mode prints a TAP skip and returns 0 (the caller skips).
skip_on_pg() {
    [ -n "$PG_MODE" ] || return 1
    _n=$((_n + 1))
    echo "ok $_n # SKIP on PostgreSQL: $1"
}
done_testing() { echo "1..$_n"; [ "$_failed" = 0 ]; }
