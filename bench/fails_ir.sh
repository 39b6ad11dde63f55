#!/bin/sh
# fails_ir.sh: instruction counts (valgrind --tool=callgrind, steady on a busy
# machine) of bench_core's replay against `bisect --fails` (aggregate and
# projection, with domains/bank.yaml and with why_bisect.sh's edited domain) on
# the same store: the first BENCH_EVENTS (default 100,000) events of the store
# bench/why_bisect.sh builds. Run why_bisect.sh first with BENCH_KEEP=1 and the
# same BENCH_DIR. STRATA: the binary to measure (default ./strata).
set -e
cd "$(dirname "$0")/.."
DIR=${BENCH_DIR:-build/bench/why}
N=${BENCH_EVENTS:-100000}
S=${STRATA:-./strata}
[ -f "$DIR/all.ndjson" ] && [ -f "$DIR/edited.yaml" ] && [ -x build/bench/bench_core ] ||
    { echo "fails_ir: run BENCH_KEEP=1 BENCH_DIR=$DIR sh bench/why_bisect.sh first" >&2; exit 1; }
DB=$DIR/ir$N.db
if [ ! -f "$DB" ]; then
    head -"$N" "$DIR/all.ndjson" >"$DIR/ir.ndjson"
    $S import --domain domains/bank.yaml --db "$DB" "$DIR/ir.ndjson" >&2
fi
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
echo "bench: ir replay $(BENCH_REPLAY_STORE=$DB ir build/bench/bench_core)"
for d in domains/bank.yaml "$DIR/edited.yaml"; do
    echo "bench: ir aggregate_fails $(basename "$d") $(ir $S bisect --domain "$d" --db "$DB" --aggregate Account --fails --json)"
    echo "bench: ir projection_fails $(basename "$d") $(ir $S bisect --domain "$d" --db "$DB" --projection AccountList --fails --json)"
done
