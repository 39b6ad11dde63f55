#!/bin/sh
# valgrind.sh: the end-to-end suites' main commands under valgrind memcheck, with
# the paths that succeed and the paths that fail (errors are where cleanup is
# forgotten). Each command is one TAP line: ok when it exits as expected and
# memcheck reports no error and no definite leak (--error-exitcode=97).
#
# Slow (about a minute), so not under tests/e2e: tests/run.sh runs it once, for
# the normal build, after the other suites (STRATA_SKIP_VALGRIND=1 skips it).
#   sh tests/valgrind.sh            the normal build (./strata)
#   STRATA_BIN=path sh tests/valgrind.sh
. "$(dirname "$0")/e2e/lib.sh"
# (lib.sh finds the repository from tests/e2e/; this script is one level up)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STRATA=${STRATA_BIN:-$ROOT/strata}
trap 'exit 143' TERM INT HUP
if ! command -v valgrind >/dev/null 2>&1; then
    echo "ok 1 - valgrind # SKIP valgrind is not installed"
    echo "1..1"
    exit 0
fi
export TZ=UTC LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color NO_COLOR=1
BANK="$ROOT/domains/bank.yaml"
DB="$TMP/bank.db"
S="$ROOT/samples"
VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=97 --track-fds=no"
i=0

# vg WANT_RC NAME ARGS...: runs strata ARGS under memcheck in $TMP.
vg() {
    want=$1
    name=$2
    shift 2
    i=$((i + 1))
    log="$TMP/vg.$i.log"
    (cd "$TMP" && $VG --log-file="$log" "$STRATA" "$@" >"$TMP/vg.out" 2>"$TMP/vg.err" </dev/null)
    rc=$?
    if [ "$rc" = 97 ] || [ -s "$log" ]; then
        not_ok "valgrind: $name" "exit $rc" "$(head -c 3000 "$log")"
    elif [ "$rc" != "$want" ]; then
        not_ok "valgrind: $name (exit $want)" "exit $rc" "$(head -c 600 "$TMP/vg.err")"
    else
        ok "valgrind: $name"
    fi
}

printf 'domain: t\naggregates:\n\tA:\n    id: a\n' >"$TMP/tab.yaml"
printf 'account,kind,amount,ts\nA,MoneyDeposited,5,2026-01-01T00:00:00Z\nB,MoneyDeposited,x,2026-01-01T00:00:00Z\n' >"$TMP/bad.csv"
printf '{"stream":"S","version":1,"type":"T","time":"2026-01-01T00:00:00Z","data":{}\n' >"$TMP/bad.ndjson"

vg 0 "check the shipped domains" check "$ROOT/domains/bank.yaml" "$ROOT/domains/cart.yaml" "$ROOT/domains/library.yaml"
vg 1 "check a broken domain" check "$TMP/tab.yaml" "$ROOT/tests/domains/bad/alias_bomb.yaml"
vg 0 "test: the bank's scenarios" test "$BANK"
vg 0 "import canonical NDJSON" --domain "$BANK" --db "$DB" import "$S/bank.ndjson"
vg 1 "import a bad canonical line" --db "$DB" import "$TMP/bad.ndjson"
vg 0 "import a mapped .csv.gz" --domain "$BANK" --db "$TMP/legacy.db" import --source legacy-csv "$S/legacy-accounts.csv.gz"
vg 1 "import a bad CSV record" --domain "$BANK" --db "$TMP/legacy.db" import --source legacy-csv "$TMP/bad.csv"
vg 0 "import with a map file, --sort time" --db "$TMP/orders.db" import --map "$S/orders.map.yaml" --sort time "$S/orders.cloudevents.ndjson"
vg 0 "exec OpenAccount" --domain "$BANK" --db "$DB" exec OpenAccount accountId=V owner=Val initialDeposit=100 --id vg-1
vg 0 "exec Withdraw (two events)" --domain "$BANK" --db "$DB" exec Withdraw accountId=V amount=50
vg 0 "exec a repeated command id" --domain "$BANK" --db "$DB" exec OpenAccount accountId=V owner=Val initialDeposit=100 --id vg-1
vg 3 "exec rejected by a rule" --domain "$BANK" --db "$DB" exec Withdraw accountId=V amount=500
vg 1 "exec with a bad payload" --domain "$BANK" --db "$DB" exec Withdraw accountId=V amount=abc
vg 4 "exec with a wrong expected version" --domain "$BANK" --db "$DB" exec Deposit accountId=V amount=1 --expect-version 1
vg 0 "state now" --domain "$BANK" --db "$DB" state Account A
vg 0 "state --at" --domain "$BANK" --db "$DB" state Account A --at 10
vg 0 "state of an instance with no events (its initial state)" --domain "$BANK" --db "$DB" state Account Nobody
vg 0 "events" --db "$DB" events
vg 0 "events --stream --raw" --domain "$BANK" --db "$DB" events --stream Account-A --raw
vg 0 "export ndjson" --db "$DB" export
vg 0 "export cloudevents" --db "$DB" export --format cloudevents
vg 0 "export csv" --db "$DB" export --format csv
vg 0 "project" --domain "$BANK" --db "$DB" project
vg 0 "project --status --json" --domain "$BANK" --db "$DB" project --status --json
vg 0 "project --rebuild" --domain "$BANK" --db "$DB" project --rebuild AccountList
# every batch's next page read on a thread of its own (read_ahead.c)
export STRATA_PROJECTION_READ_AHEAD=1
vg 0 "project --rebuild, read ahead" --domain "$BANK" --db "$DB" project --rebuild AccountList
unset STRATA_PROJECTION_READ_AHEAD
vg 0 "query" --domain "$BANK" --db "$DB" query AccountList
vg 0 "query --at" --domain "$BANK" --db "$DB" query BankStats --at 20
vg 0 "eval" eval '[1, 2, 3].map(x, x * x).filter(y, y > 1)'
vg 0 "eval --vars" eval 'state.balance >= payload.amount' --vars '{"state":{"balance":150},"payload":{"amount":151}}'
vg 1 "eval an error" eval '1 + 1.5'
vg 1 "eval a parse error" eval '(1 +'
vg 0 "replay" --domain "$BANK" --db "$TMP/replay.db" replay "$S/bank.ndjson" --rate 100000
vg 1 "a text file as the store" --db "$TMP/tab.yaml" events

# One scripted workbench run (the in-memory screen), over the store built above.
cat >"$TMP/vg.script" <<'EOF'
2
<Enter>
:save-display events.txt
3
<Enter>
4
:query AccountList
:exec Deposit accountId=A amount=5
:save-display after.txt
EOF
i=$((i + 1))
(cd "$TMP" && env STRATA_SCRIPT="$TMP/vg.script" STRATA_NO_DISPLAY=1 LINES=24 COLUMNS=80 STRATA_SCRIPT_TIMEOUT=60 HOME="$TMP" \
    timeout -k 5 180 $VG --log-file="$TMP/vg.$i.log" "$STRATA" tui --domain "$BANK" --db "$DB" >"$TMP/vg.out" 2>"$TMP/vg.err")
rc=$?
if [ "$rc" = 0 ] && [ ! -s "$TMP/vg.$i.log" ] && [ -s "$TMP/after.txt" ]; then
    ok "valgrind: a scripted workbench run"
else
    not_ok "valgrind: a scripted workbench run" "exit $rc" "$(head -c 3000 "$TMP/vg.$i.log")" "$(head -c 600 "$TMP/vg.err")"
fi
done_testing
