#!/bin/sh
# peers.sh: `make bench-peers` -- the same workload through Strata's store and
# through Emmett's SQLite event store (@event-driven-io/emmett-sqlite, on Node),
# in one run, on one machine (bench/README.md, "Peers"). One line per figure:
#   bench: peer_emmett_NAME strata=VALUE UNIT peer=VALUE UNIT ratio=R
# R is oriented so that higher is better for Strata (strata/peer for throughputs,
# peer/strata for latencies).
#
#   PEER_EVENTS   events appended in 100-event batches (default 1000000)
#   PEER_STREAMS  streams they are spread over (default 10000)
#   PEER_SINGLES  single-event durable appends (default 2000)
#   PEER_DIR      where Emmett is installed and the stores go (default build/peers)
#
# Emmett is installed with npm into PEER_DIR once (`bench/peers.sh deps` does only
# that); its native sqlite3 module has no prebuilt binary offline, so it is
# compiled from source with node-gyp against the system's Node headers
# (--nodedir=/usr: Debian's libnode-dev). Without Node it says so and stops.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
EVENTS=${PEER_EVENTS:-1000000}
STREAMS=${PEER_STREAMS:-10000}
SINGLES=${PEER_SINGLES:-2000}
DIR=${PEER_DIR:-$top/build/peers}
# Versions that the registry holds as a matching pair (emmett-sqlite's peer
# dependency names its exact emmett version).
EMMETT=0.38.5

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "bench-peers: Node.js (node and npm, version 20 or later) is not installed: nothing to compare with" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "bench-peers: Node.js $(node --version) is too old: Emmett needs 20 or later" >&2
    exit 1
fi

deps() {
    mkdir -p "$DIR"
    if [ ! -f "$DIR/node_modules/sqlite3/build/Release/node_sqlite3.node" ]; then
        [ -f "$DIR/package.json" ] || echo '{"name":"strata-peers","private":true}' >"$DIR/package.json"
        echo "bench-peers: installing @event-driven-io/emmett-sqlite $EMMETT into $DIR" >&2
        (cd "$DIR" && npm install --no-audit --no-fund --ignore-scripts \
            "@event-driven-io/emmett-sqlite@$EMMETT" "@event-driven-io/emmett@$EMMETT" sqlite3@5 >&2)
        if [ ! -f /usr/include/node/node.h ]; then
            echo "bench-peers: the Node headers are missing (/usr/include/node): apt-get install libnode-dev" >&2
            exit 1
        fi
        echo "bench-peers: compiling sqlite3's native module (node-gyp, a few minutes)" >&2
        (cd "$DIR/node_modules/sqlite3" && ../.bin/node-gyp rebuild --nodedir=/usr >&2)
    fi
}
deps
[ "$1" = deps ] && exit 0

if [ ! -f build/libstrata.a ]; then
    echo "bench-peers: build/libstrata.a is missing: run 'make all' first" >&2
    exit 1
fi
BENCH_BUILD_ONLY=1 sh bench/run.sh
cp bench/peers/emmett.mjs "$DIR/emmett.mjs"
rm -f "$DIR"/strata.db* "$DIR"/emmett.db*
echo "bench-peers: $EVENTS events over $STREAMS streams, $SINGLES single appends, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
export TZ=UTC LC_ALL=C.UTF-8
build/bench/bench_peers "$DIR/strata.db" "$EVENTS" "$STREAMS" "$SINGLES" >"$DIR/strata.jsonl"
(cd "$DIR" && node emmett.mjs "$DIR/emmett.db" "$EVENTS" "$STREAMS" "$SINGLES") >"$DIR/emmett.jsonl"
node -e '
const fs = require("fs");
const read = (f) => Object.fromEntries(fs.readFileSync(f, "utf8").trim().split("\n")
    .map((l) => JSON.parse(l)).map((o) => [o.name, o]));
const s = read(process.argv[1]), p = read(process.argv[2]);
const num = (v) => v >= 1000 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(4);
for (const name of ["append_batch", "append_single", "catchup_read", "state_p50"]) {
    const a = s[name], b = p[name];
    const r = a.unit === "ms" ? b.value / a.value : a.value / b.value;
    console.log(`bench: peer_emmett_${name} strata=${num(a.value)} ${a.unit} peer=${num(b.value)} ${b.unit} ratio=${r.toFixed(3)}`);
}' "$DIR/strata.jsonl" "$DIR/emmett.jsonl"
[ -z "$PEER_KEEP" ] && rm -f "$DIR"/strata.db* "$DIR"/emmett.db*
exit 0
