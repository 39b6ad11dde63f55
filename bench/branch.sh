#!/bin/sh
# branch.sh: what a what-if branch costs on a big bank store (BENCH_SCALE events,
# default 1,000,000, samples/make-samples.sh's): `branch create` (one row, no
# copy), then `state` and `query --key` on the branch, the first query on the
# branch (which seeds the branch's read model from main's rows at the fork point)
# and the next one, an `exec` on the branch and `diff` against main. Main's read
# models are brought up to date first (untimed), as they would be in use. Prints
# one `bench: NAME wall=..s cpu=..s` line per figure.
#   BENCH_SCALE  events (default 1000000)
#   BENCH_DIR    where the store goes (default build/bench/branch; kept when BENCH_KEEP=1)
#   BENCH_DB     a store to use instead (a PostgreSQL URI: branches there); filled
#                with BENCH_SCALE events when it has none
set -e
cd "$(dirname "$0")/.."
N=${BENCH_SCALE:-1000000}
DIR=${BENCH_DIR:-build/bench/branch}
S=./strata
D=domains/bank.yaml
mkdir -p "$DIR"
[ -z "$BENCH_KEEP" ] && trap 'rm -rf "$DIR"' EXIT
DB=${BENCH_DB:-$DIR/bank.db}
have=0
if [ -n "$BENCH_DB" ]; then
    have=$($S events --domain $D --db "$DB" --limit 1 2>/dev/null | wc -l)
elif [ -f "$DB" ]; then
    have=1
fi

if [ "$have" = 0 ]; then
    sh samples/make-samples.sh big "$N" "$DIR/all.ndjson" >/dev/null
    echo "bench: importing $(wc -l <"$DIR/all.ndjson") events" >&2
    $S import --domain $D --db "$DB" "$DIR/all.ndjson" >&2
    $S project --domain $D --db "$DB" >/dev/null
fi
$S branch drop --domain $D --db "$DB" what-if >/dev/null 2>&1 || true

time_it() { # NAME CMD...: runs CMD, prints its wall and CPU time
    name=$1
    shift
    /usr/bin/time -f "%e %U %S" -o "$DIR/time" "$@" >"$DIR/out" 2>"$DIR/err" ||
        { echo "bench: $name failed: $(cat "$DIR/err")" >&2; exit 1; }
    set -- $(tail -1 "$DIR/time")
    echo "bench: $name wall=${1}s cpu=$(echo "$2 + $3" | bc)s $(head -c 120 "$DIR/out" | head -1)"
}
# An account that exists: the first one opened.
id=$($S events --domain $D --db "$DB" --type AccountOpened --limit 1 |
    python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["stream"].split("-",1)[1])')
head=$($S sql --domain $D --db "$DB" --timeout 600 --json "SELECT max(position) AS h FROM events" |
    python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["h"])')
echo "bench: $head events, account $id" >&2
time_it branch_create $S branch create --domain $D --db "$DB" what-if
time_it branch_state $S state --domain $D --db "$DB" --branch what-if Account "$id"
time_it main_state $S state --domain $D --db "$DB" Account "$id"
time_it branch_query_first $S query --domain $D --db "$DB" --branch what-if AccountList --key "$id"
time_it branch_query $S query --domain $D --db "$DB" --branch what-if AccountList --key "$id"
time_it main_query $S query --domain $D --db "$DB" AccountList --key "$id"
time_it branch_exec $S exec --domain $D --db "$DB" --branch what-if Deposit accountId="$id" amount=1
time_it branch_query_after_exec $S query --domain $D --db "$DB" --branch what-if AccountList --key "$id"
time_it diff_aggregate $S diff --domain $D --db "$DB" --to what-if Account "$id"
time_it branch_drop $S branch drop --domain $D --db "$DB" what-if
