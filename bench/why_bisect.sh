#!/bin/sh
# why_bisect.sh: times `strata why` and `strata bisect` on a big bank store
# (BENCH_SCALE events, default 1,000,000: samples/make-samples.sh's bank events
# with a hot account, Account-HOT, interleaved: one event in 100, so its balance
# is touched by BENCH_SCALE/100 events spread through the whole store), and
# `bisect --fails` (a dry-run fold from the start) against `strata replay`'s
# and the aggregate fold's speed. Prints one `bench: NAME ...` line per figure.
#   BENCH_SCALE  events (default 1000000)
#   BENCH_DIR    where the store goes (default build/bench/why; kept when BENCH_KEEP=1)
set -e
cd "$(dirname "$0")/.."
N=${BENCH_SCALE:-1000000}
DIR=${BENCH_DIR:-build/bench/why}
S=./strata
D=domains/bank.yaml
mkdir -p "$DIR"
[ -z "$BENCH_KEEP" ] && trap 'rm -rf "$DIR"' EXIT
DB="$DIR/bank.db"
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

if [ ! -f "$DB" ]; then
    hot=$((N / 100))
    sh samples/make-samples.sh big $((N - hot)) "$DIR/base.ndjson" >/dev/null
    python3 - "$DIR/base.ndjson" "$DIR/all.ndjson" <<'PY'
import json, sys
src, dst = sys.argv[1], sys.argv[2]
out = open(dst, "w")
pos = hv = 0
for i, line in enumerate(open(src)):
    ev = json.loads(line)
    if i % 99 == 98:
        pos += 1; hv += 1
        hot = {"position": pos, "stream": "Account-HOT", "version": hv, "schema": 2 if hv == 1 else 1,
               "time": ev["time"], "meta": {"command": "x", "commandId": "h-%d" % hv}}
        if hv == 1:
            hot.update(type="AccountOpened", data={"owner": "Hot", "initialDeposit": 1000000, "currency": "EUR"})
        else:
            hot.update(type="MoneyDeposited" if hv % 2 else "MoneyWithdrawn", data={"amount": 2 if hv % 2 else 1})
        out.write(json.dumps(hot, separators=(",", ":")) + "\n")
    pos += 1
    ev["position"] = pos
    out.write(json.dumps(ev, separators=(",", ":")) + "\n")
PY
    echo "bench: importing $(wc -l <"$DIR/all.ndjson") events" >&2
    $S import --domain $D --db "$DB" "$DIR/all.ndjson" >&2
    t0=$(now)
    $S project --domain $D --db "$DB" >/dev/null
    echo "bench: projected in $(secs "$t0" "$(now)") s" >&2
fi

time_it() { # NAME CMD...: runs CMD, prints its wall time and its output's line count
    name=$1; shift
    # Wall time, and CPU time (user + system: steadier on a shared machine).
    /usr/bin/time -f "%e %U %S" -o "$DIR/time" "$@" >"$DIR/out" 2>"$DIR/err" ||
        { echo "bench: $name failed: $(cat "$DIR/err")" >&2; exit 1; }
    set -- $(tail -1 "$DIR/time")
    echo "bench: $name wall=${1}s cpu=$(echo "$2 + $3" | bc)s lines=$(wc -l <"$DIR/out") $(tail -c 300 "$DIR/out" | tail -1 | cut -c1-120)"
}
time_it why_projection_hot $S why --domain $D --db "$DB" AccountList HOT balance --json
time_it why_aggregate_hot $S why --domain $D --db "$DB" Account HOT balance --json
time_it why_projection_one $S why --domain $D --db "$DB" AccountList B balance --json
# The hot balance (deposits of 2, withdrawals of 1, alternating) grows by about
# 1 every 2 events: this condition breaks 90% of the way through.
lim=$((1000000 + N / 100 * 9 / 20))
time_it bisect_projection_hot $S bisect --domain $D --db "$DB" --projection AccountList --key HOT "row.balance < $lim" --json
time_it bisect_aggregate_hot $S bisect --domain $D --db "$DB" --aggregate Account --id HOT "state.balance < $lim" --json
time_it bisect_holds_hot $S bisect --domain $D --db "$DB" --projection AccountList --key HOT 'row.balance >= 0' --json

# --fails: an edit of the domain that fails on the hot account's last withdrawal,
# so the dry run folds (nearly) the whole store before it finds it.
last=$(grep -c '"Account-HOT"' "$DIR/all.ndjson")
last=$((last - last % 2)) # even versions are withdrawals
sed -e "s|MoneyWithdrawn: {balance: \"row.balance - event.amount\", lastActivity: meta.time}|MoneyWithdrawn: {balance: \"meta.aggregateId == 'HOT' \&\& meta.version == $last ? 1 / 0 : row.balance - event.amount\", lastActivity: meta.time}|" \
    -e "s|apply: {balance: \"state.balance - event.amount\"}|apply: {balance: \"meta.stream == 'Account-HOT' \&\& meta.version == $last ? 1 / 0 : state.balance - event.amount\"}|" \
    $D >"$DIR/edited.yaml"
time_it bisect_fails_projection $S bisect --domain "$DIR/edited.yaml" --db "$DB" --projection AccountList --fails --json
time_it bisect_fails_aggregate $S bisect --domain "$DIR/edited.yaml" --db "$DB" --aggregate Account --fails --json
time_it bisect_fails_aggregate_all_ok $S bisect --domain $D --db "$DB" --aggregate Account --fails --json
time_it bisect_fails_projection_all_ok $S bisect --domain $D --db "$DB" --projection AccountList --fails --json

# The replay on the same store, for comparison: bench_core's replay (every event
# decoded and folded through apply, nothing written), built as bench/run.sh does.
PKGS="ncursesw sqlite3 yaml-0.1 jansson zlib libpq"
mkdir -p build/bench
if [ ! -x build/bench/bench_core ] || [ -n "$(find bench/bench_core.c bench/common.c bench/bench.h \
        build/libstrata.a -newer build/bench/bench_core 2>/dev/null)" ]; then
    # shellcheck disable=SC2046
    ${CC:-gcc} -std=c11 -D_GNU_SOURCE -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow \
        -Wno-unused-parameter -O2 -g -I. $(pkg-config --cflags $PKGS) -o build/bench/bench_core \
        bench/bench_core.c bench/common.c build/libstrata.a $(pkg-config --libs $PKGS) -lpthread -lm
fi
BENCH_REPLAY_STORE="$DB" build/bench/bench_core
