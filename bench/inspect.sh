#!/bin/sh
# inspect.sh: times the log-inspecting verbs (stats, variants, flow, durations,
# and --where on events and export) on the BPIC 2012 log (262,200 events, through
# tests/maps/bpic2012.map.yaml) and on a generated store (BENCH_SCALE bank events
# from samples/make-samples.sh big, default 1,000,000). Each command runs
# BENCH_REPS times (default 3); one line per command, with the medians:
#   bench: STORE wall=S cpu=S (user+sys) lines=N  CMD
#   BENCH_SCALE  events in the generated store (default 1000000)
#   BENCH_REPS   runs per command (default 3)
#   BENCH_DIR    where the stores go (default build/bench/inspect; kept, and
#                reused by the next run, when BENCH_KEEP=1)
#   STRATA_SHARED_DATA  the real logs (default ../shared/data)
set -e
cd "$(dirname "$0")/.."
N=${BENCH_SCALE:-1000000}
REPS=${BENCH_REPS:-3}
DIR=${BENCH_DIR:-build/bench/inspect}
DATA=${STRATA_SHARED_DATA:-../shared/data}
S=./strata
mkdir -p "$DIR"
[ -z "$BENCH_KEEP" ] && trap 'rm -rf "$DIR"' EXIT

BPIC=$DIR/bpic.db
BIG=$DIR/big.db
if [ ! -f "$BPIC" ]; then
    $S import --db "$BPIC" --map tests/maps/bpic2012.map.yaml \
        "$DATA/process_mining/bpic2012.DERIVED.csv.gz" >&2
fi
if [ ! -f "$BIG" ]; then
    sh samples/make-samples.sh big "$N" "$DIR/big.ndjson" >/dev/null
    $S import --db "$BIG" "$DIR/big.ndjson" >&2
    rm -f "$DIR/big.ndjson"
fi

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# t STORE LABEL ARGS...: runs `strata ARGS --db STORE` REPS times
t() {
    db=$1 label=$2
    shift 2
    : >"$DIR/walls"
    : >"$DIR/cpus"
    i=0
    while [ $i -lt "$REPS" ]; do
        /usr/bin/time -f "%e %U %S" -o "$DIR/time" $S "$@" --db "$db" >"$DIR/out" 2>"$DIR/err" ||
            { echo "bench: $label $* failed: $(cat "$DIR/err")" >&2; exit 1; }
        read -r w u s <"$DIR/time"
        echo "$w" >>"$DIR/walls"
        echo "$u + $s" | bc >>"$DIR/cpus"
        i=$((i + 1))
    done
    printf 'bench: %s wall=%ss cpu=%ss lines=%s  strata %s\n' "$label" "$(median <"$DIR/walls")" \
        "$(median <"$DIR/cpus")" "$(wc -l <"$DIR/out" | tr -d ' ')" "$*"
}

for db in "$BPIC" "$BIG"; do
    if [ "$db" = "$BPIC" ]; then
        label=bpic amount=20000 type=A_DECLINED.COMPLETE
    else
        label=big$N amount=100 type=MoneyDeposited
    fi
    t "$db" "$label" stats
    t "$db" "$label" stats --by stream
    t "$db" "$label" stats --over day
    t "$db" "$label" stats --by event.amount --top 5
    t "$db" "$label" stats --where "type == '$type'"
    t "$db" "$label" variants --top 10
    t "$db" "$label" flow
    t "$db" "$label" durations
    t "$db" "$label" flow --where "event.amount >= $amount"
    t "$db" "$label" events --where "type == '$type' && event.amount >= $amount"
    t "$db" "$label" export --where "type == '$type' && event.amount >= $amount"
done
