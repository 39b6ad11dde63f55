#!/bin/sh
# bench_smoke.sh: `make bench` at a tiny scale, so the benchmarks never rot: every
# figure line is printed and well formed (one TAP line per figure).
. "$(dirname "$0")/lib.sh"

export BENCH_DIR="$TMP/bench" BENCH_SCALE=2000 BENCH_REPS=1 BENCH_SAMPLES=20 BENCH_WRITER_SECONDS=1
# The benchmarks measure the normal build: they link build/libstrata.a and run ./strata.
run sh "$ROOT/bench/run.sh"
expect_rc 0 "bench/run.sh at BENCH_SCALE=2000 runs to the end"
printf '%s\n' "$OUT" >"$TMP/bench.out"

num='[0-9][0-9]*\(\.[0-9][0-9]*\)\{0,1\}'
for name in append_batch exec_latency_p50 exec_latency_p99 replay state_at_p50 state_at_p99 \
    project_catchup project_catchup_scan_limit query_at_p50 query_at_p99 import_csv import_ndjson scrub_frame_p50 \
    scrub_frame_p99 tui_rss; do
    line=$(grep "^bench: $name " "$TMP/bench.out")
    if [ "$(printf '%s\n' "$line" | grep -c .)" != 1 ]; then
        not_ok "figure $name is printed once" "output: $OUT" "stderr: $(tail -20 "$TMP/.err")"
    elif printf '%s\n' "$line" | grep -q "^bench: $name strata=$num [a-zA-Z/]* baseline=$num [a-zA-Z/]* ratio=$num\$"; then
        ok "figure $name: $line"
    else
        not_ok "figure $name is well formed" "got: $line"
    fi
done
# The PostgreSQL figures, or the one line that says they were skipped.
if grep -q "^bench: pg_\* skipped: " "$TMP/bench.out"; then
    ok "the PostgreSQL figures say why they were skipped: $(grep '^bench: pg_\* skipped' "$TMP/bench.out")"
else
    for name in pg_append_batch pg_replay pg_project_catchup pg_exec_latency_p50 pg_exec_latency_p99 \
        pg_writers_1 pg_writers_4 pg_writers_8; do
        line=$(grep "^bench: $name " "$TMP/bench.out")
        if printf '%s\n' "$line" | grep -q "^bench: $name strata=$num [a-zA-Z/]* baseline=$num [a-zA-Z/]* ratio=$num\$"; then
            ok "figure $name: $line"
        else
            not_ok "figure $name is printed once, well formed" "got: $line" "stderr: $(tail -20 "$TMP/.err")"
        fi
    done
fi
# Nothing else on standard output: the lines are the interface.
extra=$(grep -v '^bench: ' "$TMP/bench.out" | grep -c .)
expect_eq "$extra" 0 "standard output holds only figure lines"
done_testing
