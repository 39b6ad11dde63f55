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
#   BENCH_BUILD_ONLY  compile the programs, run nothing
set -e
cd "$(dirname "$0")/.."
top=$(pwd)

if [ ! -f build/libstrata.a ] || [ ! -x ./strata ]; then
    echo "bench: build/libstrata.a or ./strata is missing: run 'make all' first" >&2
    exit 1
fi

CC=${CC:-gcc}
PKGS="ncursesw sqlite3 yaml-0.1 zlib libpq"
CFLAGS="-std=c11 -D_GNU_SOURCE -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -O2 -g -I."
cflags=$(pkg-config --cflags $PKGS)
libs="$(pkg-config --libs $PKGS) -lpthread -lm"
out=build/bench
mkdir -p "$out"
for prog in bench_core bench_import bench_tui bench_peers; do
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
[ -z "$BENCH_KEEP" ] && trap 'rm -rf "$BENCH_DIR"' EXIT

echo "bench: scale ${BENCH_SCALE:-1000000} events, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)" >&2
start=$(date +%s)
"$out/bench_core"
"$out/bench_import"
"$out/bench_tui" "$top/strata"
echo "bench: done in $(( $(date +%s) - start )) s" >&2
