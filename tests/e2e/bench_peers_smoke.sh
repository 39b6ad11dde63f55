#!/bin/sh
# bench_peers_smoke.sh: `make bench-peers` at a tiny scale (bench/peers.sh), so the
# comparison with Emmett never rots: each peer line is printed once and well formed.
# Skipped unless Node and an Emmett install with its compiled sqlite3 module are
# already there (`sh bench/peers.sh deps` makes one in build/peers): the test never
# downloads or compiles anything itself.
. "$(dirname "$0")/lib.sh"

dir=${PEER_DIR:-$ROOT/build/peers}
if ! command -v node >/dev/null 2>&1 || [ ! -f "$dir/node_modules/sqlite3/build/Release/node_sqlite3.node" ]; then
    echo "ok 1 # SKIP no Node, or no Emmett install in $dir (sh bench/peers.sh deps)"
    echo "1..1"
    exit 0
fi
PEER_DIR=$dir PEER_EVENTS=2000 PEER_STREAMS=20 PEER_SINGLES=20 run sh "$ROOT/bench/peers.sh"
expect_rc 0 "bench/peers.sh at 2,000 events runs to the end"
printf '%s\n' "$OUT" >"$TMP/peers.out"
num='[0-9][0-9]*\(\.[0-9][0-9]*\)\{0,1\}'
for name in append_batch append_single catchup_read state_p50; do
    line=$(grep "^bench: peer_emmett_$name " "$TMP/peers.out")
    if [ "$(printf '%s\n' "$line" | grep -c .)" != 1 ]; then
        not_ok "peer figure $name is printed once" "output: $OUT"
    elif printf '%s\n' "$line" | grep -q "^bench: peer_emmett_$name strata=$num [a-zA-Z/]* peer=$num [a-zA-Z/]* ratio=$num\$"; then
        ok "peer figure $name: $line"
    else
        not_ok "peer figure $name is well formed" "got: $line"
    fi
done
done_testing
