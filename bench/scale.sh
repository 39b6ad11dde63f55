#!/bin/sh
# scale.sh: `make bench-scale` -- every figure of `make bench` at several store
# sizes in one run, and one table of them (bench/RESULTS.md, "Scale"):
#
#   BENCH_SCALES  the sizes, in events (default "100000 1000000 10000000")
#   BENCH_REPS    repetitions of each throughput below 10,000,000 events (default
#                 3); one at 10,000,000 and above
#   BENCH_TABLE   where the table goes as well (default build/bench/scale.md)
#
# About 30 minutes on an idle 2-core machine, nearly all of it at 10M. Each size's
# lines go to build/bench/scale-SIZE.txt; the table, a row per figure and a
# column per size (with the ratio), is printed and written to BENCH_TABLE.
set -e
cd "$(dirname "$0")/.."
SCALES=${BENCH_SCALES:-100000 1000000 10000000}
TABLE=${BENCH_TABLE:-build/bench/scale.md}
mkdir -p build/bench
start=$(date +%s)
files=""
for n in $SCALES; do
    reps=${BENCH_REPS:-3}
    [ "$n" -ge 10000000 ] && reps=1
    echo "bench-scale: $n events, $reps repetition(s), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    BENCH_SCALE=$n BENCH_REPS=$reps sh bench/run.sh >"build/bench/scale-$n.txt"
    files="$files build/bench/scale-$n.txt"
done
{
    printf '| figure |'
    for n in $SCALES; do printf ' %s events |' "$n"; done
    printf '\n| --- |'
    for n in $SCALES; do printf ' --- |'; done
    printf '\n'
    # shellcheck disable=SC2086
    awk '
        FNR == 1 { col++ }
        /^bench: / {
            name = $2
            v = $3; sub(/^strata=/, "", v)
            r = $NF; sub(/^ratio=/, "", r)
            if (!(name in seen)) { seen[name] = 1; order[++n] = name }
            cell[name, col] = v " " $4 " (" r ")"
        }
        END {
            for (i = 1; i <= n; i++) {
                line = "| " order[i] " |"
                for (c = 1; c <= col; c++) line = line " " cell[order[i], c] " |"
                print line
            }
        }' $files
} | tee "$TABLE"
echo "bench-scale: done in $(( $(date +%s) - start )) s; the table is in $TABLE" >&2
