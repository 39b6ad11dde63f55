# lib.sh: helpers for end-to-end tests, sourced by tests/e2e/*.sh.
# Each check prints a TAP line; tests/run.sh counts them.
#   STRATA  the binary under test (STRATA_BIN from run.sh, else ./strata)
#   TMP     a fresh folder, removed at exit
#   ROOT    the repository
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STRATA=${STRATA_BIN:-$ROOT/strata}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-e2e.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
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
done_testing() { echo "1..$_n"; [ "$_failed" = 0 ]; }
