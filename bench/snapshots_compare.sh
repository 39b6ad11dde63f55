#!/bin/sh
# snapshots_compare.sh: `strata snapshots --compare 0,10,100,1000` on two stores of
# about 1,000,000 bank events (bench/RESULTS.md, "Snapshot policies compared"):
#   short  samples/make-samples.sh big 1000000: 25,000 accounts, 40 events each on
#          average (at most 106)
#   long   1,000 accounts of 1 to 1,999 events each (1,012,715 events)
# Neither store is changed by the comparison (the command writes nothing).
#   sh bench/snapshots_compare.sh [DIR]   (default: a new temporary folder)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STRATA=${STRATA_BIN:-$ROOT/strata}
D=$ROOT/domains/bank.yaml
DIR=${1:-$(mktemp -d "${TMPDIR:-/tmp}/strata-snaps.XXXXXX")}
mkdir -p "$DIR"

if [ ! -f "$DIR/short.db" ]; then
    sh "$ROOT/samples/make-samples.sh" big 1000000 "$DIR/short.ndjson" >/dev/null
    "$STRATA" import --domain "$D" --db "$DIR/short.db" "$DIR/short.ndjson"
fi
if [ ! -f "$DIR/long.db" ]; then
    awk 'BEGIN { p = 0
        for (s = 1; s <= 1000; s++) {
            n = 1 + (s * 7919) % 1999
            for (v = 1; v <= n; v++) {
                p++
                if (v == 1)
                    printf "{\"position\":%d,\"stream\":\"Account-L%d\",\"version\":1,\"type\":\"AccountOpened\",\"schema\":2,\"time\":\"2026-01-01T00:00:00.000Z\",\"data\":{\"owner\":\"O%d\",\"initialDeposit\":0,\"currency\":\"EUR\"}}\n", p, s, s
                else
                    printf "{\"position\":%d,\"stream\":\"Account-L%d\",\"version\":%d,\"type\":\"MoneyDeposited\",\"schema\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"data\":{\"amount\":%d}}\n", p, s, v, v
            }
        } }' >"$DIR/long.ndjson"
    "$STRATA" import --domain "$D" --db "$DIR/long.db" "$DIR/long.ndjson"
fi
for s in short long; do
    echo "== $s"
    /usr/bin/time -f "(%e s wall, %U s user, %M kB max RSS)" \
        "$STRATA" snapshots --compare 0,10,100,1000 --table --domain "$D" --db "$DIR/$s.db"
done
