#!/bin/sh
# concurrency.sh: concurrent writers on shared aggregates (the shipped bank).
#
# WORKERS processes each issue CMDS random deposits and withdrawals on two shared
# accounts at once, logging each command's id, amount and exit status; a reader
# meanwhile lists and folds in a loop, timing every call. Then:
#   - every exit status is 0, 3 (rejected) or 4 (a conflict retries did not
#     resolve, and it says so); "database is locked" never reaches stderr;
#   - no balance is below zero at any position of either stream (folded here with
#     awk, and asked of `strata state --at` at sampled positions);
#   - the store holds exactly the accepted commands (each commandId once, with its
#     amount), and each final balance is opening + accepted deposits - accepted
#     withdrawals: no lost update, no phantom;
#   - no reader call waited more than a second.
# It also prints, as a TAP comment, how many conflicts and retries the writers met in
# all, counted from their `exec --explain` narrations (and checked against what each
# exec reports with STRATA_REPORT_RETRIES=1): competing writers that wait the same
# backoff collide again, so these numbers show whether they spread.
# Then eight real processes write one stream at once (STRATA_CONC_RACERS, each
# STRATA_CONC_RACER_CMDS deposits): the conflicts and retries their --explain
# narrations report are counted and must add up (every conflict retried but those
# an exit 4 gave up on; each exec's count agrees with its own), and the stream holds
# every deposit once.
# STRATA_CONC_WORKERS, STRATA_CONC_CMDS and STRATA_CONC_SEED change the run.
. "$(dirname "$0")/lib.sh"
D="$ROOT/domains/bank.yaml"
DB="$TMP/bank.db"
WORKERS=${STRATA_CONC_WORKERS:-4}
CMDS=${STRATA_CONC_CMDS:-50}
SEED=${STRATA_CONC_SEED:-$(date +%s)}
OPEN=300
echo "# seed $SEED, $WORKERS workers x $CMDS commands"
trap 'exit 143' TERM INT HUP
now_ms() { echo $(($(date +%s%N) / 1000000)); }

for acc in A B; do
    run "$STRATA" --domain "$D" --db "$DB" exec OpenAccount accountId=$acc owner=Owner$acc initialDeposit=$OPEN --id open-$acc
    [ "$RC" = 0 ] || { not_ok "opening account $acc" "$ERR"; done_testing; exit 1; }
done

# Each worker's plan: KIND ACCOUNT AMOUNT, one command a line (half withdrawals, so
# that some are refused for want of funds).
w=0
while [ $w -lt "$WORKERS" ]; do
    w=$((w + 1))
    awk -v s="$SEED" -v w=$w -v n="$CMDS" 'BEGIN { srand((s % 1000000) * 16 + w);
        for (k = 1; k <= n; k++) printf "%s %s %d\n", (rand() < 0.5 ? "Deposit" : "Withdraw"),
            (rand() < 0.5 ? "A" : "B"), 1 + int(rand() * 150) }' >"$TMP/plan.$w"
done

# The reader: until the writers are done, time one `events --limit 1` and one
# `state` after the other (milliseconds, with the process's own start-up).
(
    while [ ! -e "$TMP/writers-done" ]; do
        t0=$(now_ms)
        "$STRATA" --db "$DB" events --limit 1 >/dev/null 2>>"$TMP/reader.err" || echo "events failed $?" >>"$TMP/reader.err"
        t1=$(now_ms)
        "$STRATA" --domain "$D" --db "$DB" state Account A >/dev/null 2>>"$TMP/reader.err" || echo "state failed $?" >>"$TMP/reader.err"
        t2=$(now_ms)
        echo "$((t1 - t0)) $((t2 - t1))" >>"$TMP/reader.log"
    done
) &
reader=$!

# A workbench open on the same store meanwhile (script mode, in-memory screen),
# moving between views and through time; it logs how long each frame took.
: >"$TMP/tui.script"
i=0
while [ $i -lt 12 ]; do
    printf '2\n[\n]\n3\n4\nL\n' >>"$TMP/tui.script"
    i=$((i + 1))
done
STRATA_SCRIPT="$TMP/tui.script" STRATA_NO_DISPLAY=1 LINES=24 COLUMNS=80 STRATA_SCRIPT_TIMEOUT=2 \
    STRATA_TUI_TIMING="$TMP/tui.timing" timeout 120 "$STRATA" --domain "$D" --db "$DB" tui \
    >/dev/null 2>"$TMP/tui.err" &
tui=$!

t_start=$(now_ms)
pids=""
w=0
while [ $w -lt "$WORKERS" ]; do
    w=$((w + 1))
    (
        k=0
        while read -r kind acc amount; do
            k=$((k + 1))
            STRATA_REPORT_RETRIES=1 "$STRATA" --domain "$D" --db "$DB" exec "$kind" accountId="$acc" amount="$amount" --id "w$w-$k" --explain \
                >"$TMP/out.$w.$k" 2>"$TMP/err.$w.$k"
            echo "w$w-$k $kind $acc $amount $?" >>"$TMP/log.$w"
        done <"$TMP/plan.$w"
    ) &
    pids="$pids $!"
done
for p in $pids; do wait "$p"; done
t_writers=$(($(now_ms) - t_start))
touch "$TMP/writers-done"
wait "$reader"
wait "$tui"
tui_rc=$?

cat "$TMP"/log.* >"$TMP/log"
total=$(wc -l <"$TMP/log" | tr -d ' ')
accepted=$(awk '$5 == 0' "$TMP/log" | wc -l | tr -d ' ')
rejected=$(awk '$5 == 3' "$TMP/log" | wc -l | tr -d ' ')
conflicts=$(awk '$5 == 4' "$TMP/log" | wc -l | tr -d ' ')
other=$(awk '$5 != 0 && $5 != 3 && $5 != 4' "$TMP/log")
reader_calls=$(wc -l <"$TMP/reader.log" | tr -d ' ')
reader_max=$(awk '{ for (i = 1; i <= 2; i++) if ($i > m) m = $i } END { print m + 0 }' "$TMP/reader.log")
echo "# $total commands in $t_writers ms: $accepted accepted, $rejected rejected, $conflicts conflicts (exit 4)"
# Each exec said how many times it decided again after a conflict (retries: N), and
# its --explain narration told each conflict ("conflict on attempt N").
retries=$(cat "$TMP"/err.* 2>/dev/null | awk '/^retries: / { n += $2 } END { print n + 0 }')
explained=$(cat "$TMP"/err.* 2>/dev/null | grep -c '^explain: append .*: conflict on attempt')
echo "# conflicts: $explained (from --explain), retries: $retries, over $total commands"
expect_eq "$explained" $((retries + conflicts)) "--explain told every conflict: each retried, but the $conflicts an exit 4 gave up on"
echo "# reader: $reader_calls rounds of events --limit 1 + state, max wait $reader_max ms"

expect_eq "$total" $((WORKERS * CMDS)) "every worker ran every command"
expect_eq "$other" "" "every exit status is 0, 3 or 4"
locked=$(cat "$TMP"/err.* "$TMP/reader.err" 2>/dev/null | grep -i 'database is locked' | head -3)
expect_eq "$locked" "" "'database is locked' never reaches the user"
bad4=""
for id in $(awk '$5 == 4 { print $1 }' "$TMP/log"); do
    w=${id%%-*}; w=${w#w}; k=${id#*-}
    grep -q 'gave up after' "$TMP/err.$w.$k" || bad4="$bad4 $id: $(cat "$TMP/err.$w.$k")"
done
expect_eq "$bad4" "" "exit 4 only when retries were exhausted ($conflicts times), and it says so"
bad3=""
for id in $(awk '$5 == 3 { print $1 }' "$TMP/log"); do
    w=${id%%-*}; w=${w#w}; k=${id#*-}
    grep -q 'insufficient funds' "$TMP/err.$w.$k" || bad3="$bad3 $id: $(cat "$TMP/err.$w.$k")"
done
expect_eq "$bad3" "" "every refusal is for want of funds ($rejected times)"
crashed=$(cat "$TMP"/err.* "$TMP/reader.err" 2>/dev/null | grep -E 'Sanitizer|runtime error|failed [0-9]' | head -3)
expect_eq "$crashed" "" "no writer or reader crashed or failed"

# The store, as NDJSON: exactly the accepted commands, each once, with its amount.
"$STRATA" --db "$DB" events >"$TMP/events" 2>"$TMP/events.err"
# commandId kind account amount, from the store (one line per money event)
sed -n 's/.*"stream":"Account-\([A-Z]\)".*"type":"Money\(Deposited\|Withdrawn\)".*"data":{"amount":\([0-9]*\)}.*"commandId":"\([^"]*\)".*/\4 \2 \1 \3/p' \
    "$TMP/events" | sed 's/ Deposited / Deposit /; s/ Withdrawn / Withdraw /' | sort >"$TMP/stored"
awk '$5 == 0 { print $1, $2, $3, $4 }' "$TMP/log" | sort >"$TMP/accepted"
if cmp -s "$TMP/stored" "$TMP/accepted"; then
    ok "the store holds exactly the $accepted accepted commands, each once, with its amount"
else
    not_ok "the store holds exactly the accepted commands" "$(diff "$TMP/accepted" "$TMP/stored" | head -10)"
fi
half=$(sqlite3 "$DB" "SELECT json_extract(meta,'\$.commandId') id, count(*) c, group_concat(type) FROM events
                     GROUP BY id HAVING NOT (c = 1 OR (c = 2 AND group_concat(type) = 'MoneyWithdrawn,LowBalanceWarned'))")
expect_eq "$half" "" "each command's events are all there (a warning only beside its withdrawal)"
expect_eq "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok "integrity_check is ok"

for acc in A B; do
    want=$(awk -v a=$acc -v o=$OPEN 'BEGIN { b = o } $5 == 0 && $3 == a { b += ($2 == "Deposit" ? $4 : -$4) } END { print b }' "$TMP/log")
    run "$STRATA" --domain "$D" --db "$DB" state Account $acc
    expect_contains "$OUT" "\"balance\":$want}" "Account $acc ends at opening + accepted deposits - accepted withdrawals ($want)"
    # Balance after every event of the stream, folded here: never below zero.
    grep "\"stream\":\"Account-$acc\"" "$TMP/events" | awk '
        /"type":"AccountOpened"/ { match($0, /"initialDeposit":[0-9]+/); b = substr($0, RSTART + 17, RLENGTH - 17) + 0 }
        /"type":"MoneyDeposited"/ { match($0, /"amount":[0-9]+/); b += substr($0, RSTART + 9, RLENGTH - 9) }
        /"type":"MoneyWithdrawn"/ { match($0, /"amount":[0-9]+/); b -= substr($0, RSTART + 9, RLENGTH - 9) }
        { match($0, /"position":[0-9]+/); print substr($0, RSTART + 11, RLENGTH - 11), b }' >"$TMP/fold.$acc"
    neg=$(awk '$2 < 0' "$TMP/fold.$acc" | head -3)
    expect_eq "$neg" "" "Account $acc: no balance below zero at any of its $(wc -l <"$TMP/fold.$acc" | tr -d ' ') positions"
    last=$(tail -1 "$TMP/fold.$acc" | cut -d' ' -f2)
    expect_eq "$last" "$want" "Account $acc: the fold of its events agrees"
    # strata's own view of the past at every third position agrees with the fold
    differ=""
    n=0
    while read -r pos bal; do
        n=$((n + 1))
        [ $((n % 3)) = 1 ] || continue
        got=$("$STRATA" --domain "$D" --db "$DB" state Account $acc --at "$pos" 2>&1)
        case "$got" in *"\"balance\":$bal}"*) ;; *) differ="$differ at $pos: want $bal, got $got" ;; esac
    done <"$TMP/fold.$acc"
    expect_eq "$differ" "" "Account $acc: state --at agrees with the fold at sampled positions"
done

frames=$(grep -c '^draw' "$TMP/tui.timing" 2>/dev/null || echo 0)
frame_max=$(awk '/^draw/ { if ($2 > m) m = $2 } END { printf "%d", m + 0 }' "$TMP/tui.timing" 2>/dev/null)
echo "# workbench (started with the writers): $frames frames, slowest ${frame_max:-?} ms"
expect_eq "$tui_rc" 0 "the workbench open on the store during the writes exits cleanly"
if [ "$frames" -gt 0 ] && [ "${frame_max:-0}" -le 1000 ]; then
    ok "the workbench never stalled for a second (slowest of $frames frames: $frame_max ms)"
else
    not_ok "the workbench never stalled for a second" "frames $frames, slowest ${frame_max:-?} ms" "$(cat "$TMP/tui.err" | head -5)"
fi
if [ "$reader_max" -le 1000 ]; then
    ok "a reader never waited more than a second (max $reader_max ms over $reader_calls rounds)"
else
    not_ok "a reader never waited more than a second" "max $reader_max ms" "$(sort -n "$TMP/reader.log" | tail -5)"
fi
# Eight real processes on one stream at once, each narrating with --explain.
RACERS=${STRATA_CONC_RACERS:-8}
RCMDS=${STRATA_CONC_RACER_CMDS:-12}
run "$STRATA" --domain "$D" --db "$DB" exec OpenAccount accountId=R owner=Racers initialDeposit=0 --id open-R
pids=""
w=0
while [ $w -lt "$RACERS" ]; do
    w=$((w + 1))
    (
        k=0
        while [ $k -lt "$RCMDS" ]; do
            k=$((k + 1))
            STRATA_REPORT_RETRIES=1 "$STRATA" --domain "$D" --db "$DB" exec Deposit accountId=R amount=1 --id "r$w-$k" --explain \
                >/dev/null 2>"$TMP/rerr.$w.$k"
            echo "r$w-$k $?" >>"$TMP/rlog.$w"
        done
    ) &
    pids="$pids $!"
done
for p in $pids; do wait "$p"; done
cat "$TMP"/rlog.* >"$TMP/rlog"
r_total=$(wc -l <"$TMP/rlog" | tr -d ' ')
r_ok=$(awk '$2 == 0' "$TMP/rlog" | wc -l | tr -d ' ')
r_gave=$(awk '$2 == 4' "$TMP/rlog" | wc -l | tr -d ' ')
r_conflicts=$(cat "$TMP"/rerr.* | grep -c '^explain: append to Account-R .*: conflict on attempt')
r_retries=$(cat "$TMP"/rerr.* | awk '/^explain: outcome: accepted after [0-9]+ conflict/ { n += $5 }
    /^explain: outcome: rejected .* after [0-9]+ conflicts? \(retried/ { sub(/.* after /, ""); n += $1 } END { print n + 0 }')
r_locked=$(cat "$TMP"/rerr.* | grep -c '^explain: after [0-9]* conflicts: decided under the write lock')
echo "# $RACERS processes x $RCMDS deposits on one stream: $r_ok accepted, $r_gave gave up; --explain told $r_conflicts conflicts, $r_retries retries ($r_locked decided under the write lock)"
expect_eq "$r_total" $((RACERS * RCMDS)) "every racer ran every deposit"
expect_eq "$(awk '$2 != 0 && $2 != 4' "$TMP/rlog")" "" "every racer's deposit is accepted or gives up (exit 4)"
if [ "$RACERS" -ge 4 ] && [ "$r_conflicts" -lt 1 ]; then
    not_ok "$RACERS writers on one stream meet at least one conflict" "--explain told none"
else
    ok "$RACERS writers on one stream met $r_conflicts conflicts, as --explain told"
fi
expect_eq "$r_conflicts" $((r_retries + r_gave)) "each conflict was retried ($r_retries), but the $r_gave an exit 4 gave up on"
differ=""
for f in "$TMP"/rerr.*; do
    told=$(grep -c '^explain: append .*: conflict on attempt' "$f")
    own=$(sed -n 's/^retries: //p' "$f")
    grep -q 'gave up after' "$f" && own=$((own + 1))
    [ "$told" = "$own" ] || differ="$differ ${f##*/}: told $told, counted $own"
done
expect_eq "$differ" "" "each exec's --explain told as many conflicts as it counted"
run "$STRATA" --domain "$D" --db "$DB" state Account R
expect_contains "$OUT" "\"balance\":$r_ok}" "Account R holds every accepted deposit once ($r_ok)"
done_testing
