#!/bin/sh
# crash.sh: crash safety. Kills `strata exec` loops, `strata import` and
# `strata project` with SIGKILL at random moments and checks, after every kill,
# what design.md's "Guarantees" promise:
#   - the store passes `PRAGMA integrity_check`, positions have no gaps;
#   - (exec) every event an exec printed before it died is in the store, verbatim;
#     no command is half there: every commandId appears exactly 3 times (the
#     domain tests/domains/triple.yaml emits 3 events per command), contiguously;
#   - (import) a large canonical NDJSON file is all there or not at all;
#   - (project) after a kill, `project` again gives the same rows as a rebuild
#     from scratch (`project --rebuild NAME`), and as a fold done in SQL.
# The kill moments come from awk's rand() seeded with STRATA_CRASH_SEED (default:
# the clock; printed, so a failure can be replayed). STRATA_CRASH_KILLS=N sets the
# number of kills (default 60: half exec, a quarter import, a quarter project).
. "$(dirname "$0")/lib.sh"
# On a watchdog's SIGTERM, still remove $TMP: an exec loop left behind then stops at
# its next command (its output files can no longer be opened).
trap 'exit 143' TERM INT HUP
D="$ROOT/tests/domains/triple.yaml"
KILLS=${STRATA_CRASH_KILLS:-60}
SEED=${STRATA_CRASH_SEED:-$(date +%s)}
echo "# seed $SEED (STRATA_CRASH_SEED=$SEED replays these kill moments), $KILLS kills"

n_exec=$((KILLS / 2))
n_import=$((KILLS / 4))
n_project=$((KILLS - n_exec - n_import))
survived=0   # kills after which every check passed
landed=0     # kills that hit a strata process still running
checked=0    # events checked in all
bad=0        # failed checks, reported one TAP line per kind at the end of a part

# sleep_rand MIN MAX: sleeps a random number of milliseconds from the seeded
# stream (not in a subshell: the stream's index must advance in this shell).
awk -v s="$SEED" -v n=$((KILLS + 10)) 'BEGIN { srand(s); for (i = 0; i < n; i++) print rand() }' >"$TMP/rand"
_ri=0
sleep_rand() {
    _ri=$((_ri + 1))
    sleep "$(sed -n "${_ri}p" "$TMP/rand" | awk -v lo="$1" -v hi="$2" '{ printf "%.3f\n", (lo + $1 * (hi - lo)) / 1000 }')"
}

q() { sqlite3 -batch "$1" "$2" 2>&1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# nevents DB [CONDITION]: how many events (0 when a kill came before the schema).
nevents() {
    if [ "$(q "$1" "SELECT count(*) FROM sqlite_master WHERE name = 'events'")" = 1 ]; then
        q "$1" "SELECT count(*) FROM events WHERE ${2:-1}"
    else
        echo 0
    fi
}

# store_ok DB WHAT: integrity_check and gap-free positions; prints a problem or nothing.
store_ok() {
    ic=$(q "$1" 'PRAGMA integrity_check')
    [ "$ic" = ok ] || { echo "integrity_check after $2: $ic"; return; }
    [ "$(nevents "$1")" = 0 ] && return
    gaps=$(q "$1" 'SELECT count(*) = coalesce(max(position), 0) FROM events')
    [ "$gaps" = 1 ] || echo "positions have gaps after $2: $(q "$1" 'SELECT count(*), max(position) FROM events')"
}

T0=$(now_ms)
# ---- (a) exec loops -------------------------------------------------------------------
A="$TMP/a.db"
mkdir -p "$TMP/out"
: >"$TMP/acked"
next=1
problems=""
i=0
while [ $i -lt "$n_exec" ]; do
    i=$((i + 1))
    # Restart from the command that was in flight when the last kill came: if it
    # committed, running it again with the same id appends nothing.
    rm -f "$TMP/pg"
    setsid sh -c '
        echo $$ >"$0/pg.new" && mv "$0/pg.new" "$0/pg"
        i=$1; shift
        end=$((i + 2000))
        while [ $i -lt $end ]; do
            echo $i >"$0/cur"
            "$@" Tick counterId=c$((i % 5)) n=$((i % 7 + 1)) --id cmd-$i >"$0/out/cmd-$i" 2>"$0/out/cmd-$i.err" || exit 1
            i=$((i + 1))
        done' "$TMP" "$next" "$STRATA" --domain "$D" --db "$A" exec &
    bg=$!
    # The loop leads its own session: its id names the process group to kill
    # (setsid may have forked, so $! is not always it).
    w=0
    while [ ! -s "$TMP/pg" ] && [ $w -lt 500 ]; do sleep 0.01; w=$((w + 1)); done
    pg=$(cat "$TMP/pg")
    sleep_rand 30 400
    # (dash's kill takes no "--"; a negative id names a process group)
    kill -9 "-$pg" 2>/dev/null && landed=$((landed + 1))
    wait "$bg" 2>/dev/null
    # The loop's shell may be reaped before its strata has finished dying (a zombie
    # left for init to reap holds nothing, so it does not count).
    w=0
    while [ $w -lt 500 ] && ps -eo pgid=,stat= | awk -v g="$pg" '$1 == g && $2 !~ /Z/ { f = 1 } END { exit !f }'; do
        sleep 0.01
        w=$((w + 1))
    done
    # (empty when the kill came between the truncation and the write of cur)
    first=$next
    cur=$(cat "$TMP/cur" 2>/dev/null)
    case "$cur" in '' | *[!0-9]*) ;; *) next=$cur ;; esac
    p=$(store_ok "$A" "exec kill $i")
    # Acknowledged: whole lines the execs of this round printed (a file cut mid-line
    # loses its last line). The round's first id re-ran the last round's last one.
    k=$first
    while [ $k -le "$next" ]; do
        f="$TMP/out/cmd-$k"
        k=$((k + 1))
        [ -s "$f" ] || continue
        if [ -z "$(tail -c 1 "$f")" ]; then cat "$f"; else sed '$d' "$f"; fi
    done >>"$TMP/acked"
    sort -u -o "$TMP/acked" "$TMP/acked"
    "$STRATA" export --db "$A" >"$TMP/export" 2>"$TMP/export.err" || p="$p export failed: $(cat "$TMP/export.err")"
    lost=$(grep -Fxv -f "$TMP/export" "$TMP/acked" | head -3)
    [ -n "$lost" ] && p="$p acknowledged events missing or changed: $lost"
    half=$(q "$A" "SELECT json_extract(meta,'\$.commandId') AS id, count(*), max(position) - min(position)
                   FROM events GROUP BY id HAVING count(*) != 3 OR max(position) - min(position) != 2 LIMIT 3")
    [ -n "$half" ] && p="$p commands not exactly 3 contiguous events (id|count|span): $half"
    # (a repeated id says so on stderr; only crashes and raw SQLite errors count)
    stderr_bad=$(cat "$TMP"/out/*.err 2>/dev/null | grep -E 'Sanitizer|runtime error|database is locked|malformed' | head -3)
    [ -n "$stderr_bad" ] && p="$p exec wrote to stderr: $stderr_bad"
    if [ -z "$p" ]; then
        survived=$((survived + 1))
    else
        bad=$((bad + 1))
        problems="$problems
exec kill $i: $p"
    fi
done
acked_events=$(wc -l <"$TMP/acked" | tr -d ' ')
checked=$((checked + acked_events))
acked_cmds=$((acked_events / 3))
stored=$(q "$A" 'SELECT count(*) FROM events')
if [ -z "$problems" ]; then
    ok "exec: $n_exec kills, $acked_cmds acknowledged commands all there, $stored events, none half there"
else
    not_ok "exec: every acknowledged event kept, no command half there" "$problems"
fi
# The state each counter reached is the fold of the stored events (no torn snapshot).
st_bad=""
for c in 0 1 2 3 4; do
    want=$(q "$A" "SELECT coalesce(sum(json_extract(data,'\$.n')), 0) FROM events WHERE stream = 'Counter-c$c' AND type = 'TickCounted'")
    [ "$want" = 0 ] && continue
    got=$("$STRATA" --domain "$D" --db "$A" state Counter "c$c" 2>&1)
    case "$got" in *"\"total\":$want}"* | *"\"total\":$want,"*) ;; *) st_bad="$st_bad c$c: want total $want, got $got" ;; esac
done
expect_eq "$st_bad" "" "exec: each counter's state is the fold of its stored events"

echo "# exec part: $(($(now_ms) - T0)) ms"; T0=$(now_ms)
# ---- (b) import of a large canonical file -------------------------------------------
B="$TMP/b.db"
BATCH=20000
problems=""
i=0
finished=0
# gen_batch I: a batch of new streams (Bulk-I-J), valid whatever earlier kills left.
gen_batch() {
    awk -v n=$BATCH -v b="$1" 'BEGIN { for (k = 0; k < n; k++) { s = "Bulk-" b "-" (k % 40); v[s]++;
        printf "{\"position\":%d,\"stream\":\"%s\",\"version\":%d,\"type\":\"Bulk\",\"schema\":1,\"time\":\"2026-01-01T00:00:%02d.%03dZ\",\"data\":{\"k\":%d,\"pad\":\"%s\"},\"meta\":{\"batch\":%d}}\n",
            k + 1, s, v[s], k % 60, k % 1000, k, "abcdefghijklmnopqrstuvwxyz0123456789", b } }' >"$TMP/batch.ndjson"
}
# Kill moments spread over how long one import takes here (this build, this load).
gen_batch 0
t0=$(now_ms)
"$STRATA" import --db "$TMP/calibrate.db" "$TMP/batch.ndjson" >/dev/null 2>&1
took=$(($(now_ms) - t0))
span=$((took * 2 + 20))
echo "# import of $BATCH events takes $took ms here; kills within 0-$span ms"
while [ $i -lt "$n_import" ]; do
    i=$((i + 1))
    gen_batch $i
    before=0
    [ -f "$B" ] && before=$(nevents "$B")
    "$STRATA" import --db "$B" "$TMP/batch.ndjson" >"$TMP/imp.out" 2>"$TMP/imp.err" &
    pid=$!
    sleep_rand 0 $span
    kill -9 "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    [ "$rc" = 137 ] && landed=$((landed + 1))
    [ "$rc" = 0 ] && finished=$((finished + 1))
    p=""
    if [ "$rc" != 137 ] && [ "$rc" != 0 ]; then p="import exited $rc: $(head -c 300 "$TMP/imp.err")"; fi
    if [ -f "$B" ]; then
        p="$p$(store_ok "$B" "import kill $i")"
        got=$(nevents "$B" "stream LIKE 'Bulk-$i-%'")
        after=$(nevents "$B")
        case "$got" in
        0) [ -s "$TMP/imp.out" ] && p="$p import printed '$(cat "$TMP/imp.out")' but none of its events are there" ;;
        $BATCH) ;;
        *) p="$p import of $BATCH events left $got of them (half there)" ;;
        esac
        [ "$after" = $((before + got)) ] || p="$p store had $before events, the batch added $got, now $after"
        if [ "$got" = $BATCH ]; then
            # what is there is exactly the file (data and meta byte for byte)
            "$STRATA" export --db "$B" --from $((before + 1)) | sed 's/^{"position":[0-9]*,/{/' >"$TMP/b.exp"
            sed 's/^{"position":[0-9]*,/{/' "$TMP/batch.ndjson" | cmp -s - "$TMP/b.exp" || p="$p imported events differ from the file"
        fi
        checked=$((checked + BATCH))
    elif [ "$rc" = 0 ]; then
        p="$p import succeeded but there is no store"
    fi
    if [ -z "$p" ]; then survived=$((survived + 1)); else bad=$((bad + 1)); problems="$problems
import kill $i: $p"; fi
done
if [ -z "$problems" ]; then
    ok "import: $n_import kills of a $BATCH-event import, each all or nothing ($finished finished before the kill)"
else
    not_ok "import: all or nothing under SIGKILL" "$problems"
fi

echo "# import part: $(($(now_ms) - T0)) ms"; T0=$(now_ms)
# ---- (c) projections catching up ----------------------------------------------------
C="$TMP/c.db"
TICKS=1500 # commands per batch: 4500 events
problems=""
i=0
# --force: the batches are imported without the domain (as exec would have written
# them, and faster), so the store records none until the first project records it.
S() { cmd=$1; shift; "$STRATA" --domain "$D" --db "$C" "$cmd" --force "$@"; }
# gen_ticks I: TICKS Tick commands' events in ten new streams, as exec would write them.
gen_ticks() {
    awk -v n=$TICKS -v b="$1" 'BEGIN { for (c = 0; c < n; c++) { s = "Counter-b" b "x" (c % 10); m = c % 9 + 1;
        for (j = 0; j < 3; j++) { v[s]++;
            if (j == 0) { t = "TickStarted"; d = "{\"n\":" m "}" }
            else if (j == 1) { t = "TickCounted"; d = "{\"n\":" m ",\"before\":" (tot[s] + 0) "}"; tot[s] += m }
            else { t = "TickFinished"; d = "{\"after\":" tot[s] "}" }
            printf "{\"position\":1,\"stream\":\"%s\",\"version\":%d,\"type\":\"%s\",\"schema\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"data\":%s,\"meta\":{\"command\":\"Tick\",\"commandId\":\"b%d-%d\"}}\n",
                s, v[s], t, d, b, c } } }' >"$TMP/ticks.ndjson"
}
# The projections' rows, folded in SQL straight from the events table: a rebuild
# from scratch that shares no code with Strata's.
sql_totals() {
    q "$C" "SELECT '{\"key\":' || json_quote(substr(stream, 9)) || ',\"ticks\":' || count(*) || ',\"total\":' ||
                   sum(json_extract(data,'\$.n')) || ',\"last\":' || max(position) || '}'
            FROM events WHERE type = 'TickCounted' GROUP BY stream ORDER BY substr(stream, 9)"
}
sql_overall() {
    q "$C" "SELECT '{\"events\":' || count(*) || ',\"finished\":' || sum(type = 'TickFinished') || '}'
            FROM events WHERE type IN ('TickStarted','TickCounted','TickFinished')"
}
# Kill moments spread over how long catching up one batch takes here.
gen_ticks 0
"$STRATA" import --db "$TMP/calibrate-c.db" "$TMP/ticks.ndjson" >/dev/null 2>&1
t0=$(now_ms)
"$STRATA" --domain "$D" --db "$TMP/calibrate-c.db" project --force >/dev/null 2>&1
took=$(($(now_ms) - t0))
span=$((took * 3 / 2 + 20))
echo "# catching up $((TICKS * 3)) events takes $took ms here; kills within 0-$span ms"
while [ $i -lt "$n_project" ]; do
    i=$((i + 1))
    gen_ticks $i
    if ! "$STRATA" import --db "$C" "$TMP/ticks.ndjson" >/dev/null 2>"$TMP/imp.err"; then
        problems="$problems
importing batch $i failed: $(tail -3 "$TMP/imp.err")"
        break
    fi
    # Every third kill lands in a rebuild (the old table must stay until the swap).
    if [ $((i % 3)) = 0 ]; then what="project --rebuild-all"; else what="project"; fi
    # (not through S: a backgrounded function is a subshell, and the kill would miss strata)
    "$STRATA" --domain "$D" --db "$C" $what --force >"$TMP/p.out" 2>"$TMP/p.err" &
    pid=$!
    sleep_rand 0 $span
    kill -9 "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    [ "$rc" = 137 ] && landed=$((landed + 1))
    p=$(store_ok "$C" "$what kill $i")
    [ "$rc" != 137 ] && [ "$rc" != 0 ] && p="$p $what exited $rc: $(head -c 300 "$TMP/p.err")"
    S project >"$TMP/p.out" 2>"$TMP/p.err" || p="$p project after the kill failed: $(cat "$TMP/p.err" "$TMP/p.out")"
    sql_totals >"$TMP/sql.Totals"
    sql_overall >"$TMP/sql.Overall"
    for name in Totals Overall; do
        S query $name >"$TMP/caught.$name" 2>&1
        cmp -s "$TMP/sql.$name" "$TMP/caught.$name" ||
            p="$p $name caught up after the kill differs from the fold in SQL: $(diff "$TMP/sql.$name" "$TMP/caught.$name" | head -4)"
        # Strata's own rebuild every third kill and at the end (it costs the whole store).
        if [ $((i % 3)) = 0 ] || [ $i = "$n_project" ]; then
            S project --rebuild $name >/dev/null 2>"$TMP/p.err" || p="$p project --rebuild $name failed: $(cat "$TMP/p.err")"
            S query $name >"$TMP/rebuilt.$name" 2>&1
            cmp -s "$TMP/caught.$name" "$TMP/rebuilt.$name" ||
                p="$p $name caught up after the kill differs from a rebuild: $(diff "$TMP/caught.$name" "$TMP/rebuilt.$name" | head -4)"
        fi
    done
    if [ -z "$p" ]; then survived=$((survived + 1)); else bad=$((bad + 1)); problems="$problems
project kill $i: $p"; fi
done
if [ -z "$problems" ]; then
    ok "project: $n_project kills while catching up or rebuilding; caught up equals the SQL fold and a rebuild"
else
    not_ok "project: caught up after a kill equals a rebuild" "$problems"
fi

checked=$((checked + $(q "$C" 'SELECT count(*) FROM events')))
echo "# project part: $(($(now_ms) - T0)) ms"
# events checked: acknowledged exec events, every killed import's batch, and the
# projection store's events folded by the compared projections
echo "# kills survived: $survived of $KILLS ($landed landed on a running strata), events checked: $checked"
expect_eq "$survived" "$KILLS" "every kill survived with nothing lost"
done_testing
