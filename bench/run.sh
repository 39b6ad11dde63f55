#!/bin/sh
# run.sh: `make bench` -- builds the benchmark programs against build/libstrata.a
# (which `make all` made) and runs them; each figure is one line on standard output:
#   bench: NAME strata=VALUE UNIT baseline=VALUE UNIT ratio=R
# Notes on progress go to standard error. See bench/README.md for what each figure
# measures and bench/RESULTS.md for the latest numbers.
#
#   BENCH_SCALE    events in the benchmark store (default 1000000)
#   BENCH_REPS     repetitions of each throughput, the median printed (default 3)
#   BENCH_SAMPLES  samples per latency (default: by figure, 200-500 at full scale)
#   BENCH_DIR      where the stores and files go (default build/bench/data; removed
#                  at the end unless BENCH_KEEP is set)
#   CC             the compiler (default gcc)
#   BENCH_PG_URI   a PostgreSQL server for the pg_* figures (default: the test
#                  server's STRATA_TEST_PG_URI, else a throw-away one started with
#                  scripts/pg-cluster.sh; without one they are skipped, saying so)
#   BENCH_PG_SCALE events in the PostgreSQL store (default min(BENCH_SCALE, 100000))
#   BENCH_WRITER_SECONDS  how long each pg_writers_N run lasts (default 3; 0: none)
#   BENCH_BUILD_ONLY  compile the programs, run nothing
set -e
cd "$(dirname "$0")/.."
top=$(pwd)

if [ ! -f build/libstrata.a ] || [ ! -x ./strata ]; then
    echo "bench: build/libstrata.a or ./strata is missing: run 'make all' first" >&2
    exit 1
fi

CC=${CC:-gcc}
PKGS="ncursesw sqlite3 yaml-0.1 zlib libpq jansson" # jansson: bench_pg's hand fold (make bench installs it with the test packages)
CFLAGS="-std=c11 -D_GNU_SOURCE -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -O2 -g -I."
cflags=$(pkg-config --cflags $PKGS)
libs="$(pkg-config --libs $PKGS) -lpthread -lm"
out=build/bench
mkdir -p "$out"
for prog in bench_core bench_import bench_tui bench_pg bench_peers query_at_paths; do
    # Rebuild when a source or the library is newer than the program.
    if [ ! -x "$out/$prog" ] || [ -n "$(find bench/$prog.c bench/common.c bench/bench.h \
            build/libstrata.a -newer "$out/$prog" 2>/dev/null)" ]; then
        # shellcheck disable=SC2086
        $CC $CFLAGS $cflags -o "$out/$prog" bench/$prog.c bench/common.c build/libstrata.a $libs
    fi
done

# BENCH_BUILD_ONLY=1: compile the programs and stop (for profiling them by hand).
[ -n "$BENCH_BUILD_ONLY" ] && exit 0

export BENCH_DIR="${BENCH_DIR:-$top/build/bench/data}"
export TZ=UTC LC_ALL=C.UTF-8
mkdir -p "$BENCH_DIR"
pgdir=
cleanup() {
    [ -n "$pgdir" ] && sh "$top/scripts/pg-cluster.sh" stop "$pgdir"
    [ -z "$BENCH_KEEP" ] && rm -rf "$BENCH_DIR"
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "bench: scale ${BENCH_SCALE:-1000000} events, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)" >&2
start=$(date +%s)
"$out/bench_core"
"$out/bench_import"
"$out/bench_tui" "$top/strata"
# PostgreSQL: the given server, the test server, or a throw-away one.
pguri=${BENCH_PG_URI:-$STRATA_TEST_PG_URI}
if [ -z "$pguri" ] && [ -z "$STRATA_SKIP_PG" ]; then
    pgdir=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench-pg.XXXXXX")
    pguri=$(sh scripts/pg-cluster.sh start "$pgdir" 2>"$BENCH_DIR/pg-cluster.log") || pguri=
fi
if [ -n "$pguri" ]; then
    BENCH_PG_URI="$pguri" "$out/bench_pg"
else
    why="no PostgreSQL server could be started (scripts/pg-cluster.sh; Debian: apt-get install postgresql)"
    [ -n "$STRATA_SKIP_PG" ] && why="STRATA_SKIP_PG is set"
    echo "bench: pg_* skipped: $why"
fi
echo "bench: done in $(( $(date +%s) - start )) s" >&2
