#!/bin/sh
# workbench_beside_writers.sh: the workbench (with its projection runner, a second
# connection in the same process) open on a store while four `strata exec`
# processes append. Regression test: the store used to peek at the file's header
# with open()/close() when a connection opened, and closing any descriptor of a
# file drops every POSIX lock the process holds on it; another process closing its
# connection then thought it was the last one, checkpointed and deleted the WAL
# under the workbench, and the store was corrupt (3 runs in 8 before the fix).
. "$(dirname "$0")/lib.sh"
D="$ROOT/domains/bank.yaml"
RUNS=${STRATA_BESIDE_RUNS:-6}
i=0
bad=0
while [ $i -lt "$RUNS" ]; do
    i=$((i + 1))
    DB="$TMP/r$i.db"
    "$STRATA" --domain "$D" --db "$DB" exec OpenAccount accountId=A owner=A initialDeposit=300 >/dev/null || bad=1
    : >"$TMP/s$i"
    j=0
    while [ $j -lt 12 ]; do
        printf '2\n[\n]\n3\n4\nL\n' >>"$TMP/s$i"
        j=$((j + 1))
    done
    STRATA_SCRIPT="$TMP/s$i" STRATA_NO_DISPLAY=1 LINES=24 COLUMNS=80 STRATA_SCRIPT_TIMEOUT=2 \
        timeout 60 "$STRATA" --domain "$D" --db "$DB" tui >/dev/null 2>"$TMP/tui$i.err" &
    tui=$!
    for w in 1 2 3 4; do
        (
            k=0
            while [ $k -lt 40 ]; do
                k=$((k + 1))
                # Exit 4 (the conflict outlasted exec's own retries, which a loaded
                # machine can cause) appended nothing: a client sends the same command
                # id again, as any client of an event store would. Anything else is a
                # failure of the test.
                tries=0
                while :; do
                    tries=$((tries + 1))
                    "$STRATA" --domain "$D" --db "$DB" exec Deposit accountId=A amount=5 --id "w$w-$k" \
                        >/dev/null 2>"$TMP/w$i-$w.last"
                    rc=$?
                    [ $rc = 4 ] && [ $tries -lt 5 ] && { echo x >>"$TMP/resent$i"; continue; }
                    [ $rc = 0 ] || { cat "$TMP/w$i-$w.last"; echo "exec failed: $rc"; } >>"$TMP/w$i.err"
                    break
                done
            done
        ) &
    done
    wait
    wait "$tui" 2>/dev/null
    integrity=$(sqlite3 "$DB" 'PRAGMA integrity_check' 2>&1)
    count=$(sqlite3 "$DB" "select count(*) from events where type = 'MoneyDeposited'" 2>&1)
    [ -f "$TMP/resent$i" ] && echo "# run $i: $(wc -l <"$TMP/resent$i") commands sent again after exit 4"
    if [ "$integrity" = ok ] && [ "$count" = 160 ] && [ ! -s "$TMP/w$i.err" ] && ! grep -q . "$TMP/tui$i.err"; then
        ok "run $i: the store is intact and holds all 160 deposits"
    else
        not_ok "run $i: the store is intact and holds all 160 deposits" "integrity: $integrity" \
            "deposits: $count" "writers: $(head -3 "$TMP/w$i.err")" "workbench: $(head -3 "$TMP/tui$i.err")"
    fi
done
done_testing
