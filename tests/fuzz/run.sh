#!/bin/sh
# run.sh: builds each libFuzzer target (tests/fuzz/fuzz_*.c) with clang, ASan and
# UBSan, and runs it for FUZZ_SECONDS (default 60) seeded from the project's own
# files (samples, domains, test data). Prints a TAP line per target, so tests/run.sh
# can run it briefly and repeatably in every `make test` (FUZZ_RUNS inputs each, a
# fixed seed).
# A crashing input is kept in tests/fuzz/regressions/<target>/ (commit it: every
# later run replays it first, so a fixed crash stays fixed).
#   FUZZ_SECONDS=600 make fuzz          ten minutes each
#   FUZZ_TARGETS="json expr" make fuzz  only these
cd "$(dirname "$0")/../.." || exit 2
secs=${FUZZ_SECONDS:-60}
out=build/fuzz
mkdir -p "$out/obj"
if ! command -v clang >/dev/null 2>&1; then
    echo "ok 1 - fuzz # SKIP clang is not installed"
    exit 0
fi
PKGS="sqlite3 yaml-0.1 jansson zlib libpq"
CFLAGS="-std=c11 -D_GNU_SOURCE -D_DEFAULT_SOURCE -g -O1 -I. -fno-omit-frame-pointer $(pkg-config --cflags $PKGS)"
SAN="-fsanitize=address,undefined"
LIBS="$(pkg-config --libs $PKGS) -lpthread -lm"
n=0
status=0
tap() { n=$((n + 1)); echo "$1 $n - $2"; }

# The engine, compiled once with coverage for every target.
objs=""
for src in core/*.c; do
    o="$out/obj/$(basename "$src" .c).o"
    if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ -n "$(find core -name '*.h' -newer "$o" 2>/dev/null | head -1)" ]; then
        clang $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$o" 2>"$out/build.log" || {
            tap "not ok" "fuzz: compiling $src"; cat "$out/build.log"; exit 1; }
    fi
    objs="$objs $o"
done

targets=${FUZZ_TARGETS:-$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)}
for t in $targets; do
    src=tests/fuzz/fuzz_$t.c
    bin=$out/fuzz_$t
    if ! clang $CFLAGS $SAN -fsanitize=fuzzer "$src" $objs -o "$bin" $LIBS 2>"$out/build.log"; then
        tap "not ok" "fuzz $t: builds"; sed 's/^/#   /' "$out/build.log" | head -20; status=1; continue
    fi
    corpus=$out/corpus-$t
    regress=tests/fuzz/regressions/$t
    mkdir -p "$corpus"
    # Seeds: the project's own files of the kind this target reads.
    case $t in
    domain*) seeds="domains tests/domains bench/counter.yaml" ;;
    expr*) seeds="tests/fuzz/seeds/expr" ;;
    json* | reader_ndjson*) seeds="samples/bank.ndjson samples/orders.cloudevents.ndjson samples/audit.json tests/tui/fixture.ndjson" ;;
    reader_csv*) seeds="samples/legacy-accounts.csv" ;;
    reader_cloudevents*) seeds="samples/orders.cloudevents.ndjson" ;;
    *) seeds="" ;;
    esac
    for s in $seeds; do
        [ -e "$s" ] && find "$s" -type f -size -64k -exec cp {} "$corpus/" \; 2>/dev/null
    done
    # Known crashers first: each must now run clean.
    if [ -d "$regress" ] && [ -n "$(ls "$regress" 2>/dev/null)" ]; then
        if "$bin" -runs=0 "$regress"/* >"$out/fuzz_$t.regress.log" 2>&1; then
            tap ok "fuzz $t: $(ls "$regress" | wc -l) kept crashing inputs run clean"
        else
            tap "not ok" "fuzz $t: a kept crashing input fails again (see $out/fuzz_$t.regress.log)"
            status=1
        fi
    fi
    mkdir -p "$regress"
    # FUZZ_RUNS (with FUZZ_SEED) makes a run repeatable, as `make test` wants;
    # otherwise it runs for FUZZ_SECONDS with a fresh seed, as exploring wants.
    if [ -n "$FUZZ_RUNS" ]; then
        budget="-runs=$FUZZ_RUNS -seed=${FUZZ_SEED:-1}"
        what="$FUZZ_RUNS runs (seed ${FUZZ_SEED:-1})"
    else
        budget="-max_total_time=$secs"
        what="${secs}s"
    fi
    "$bin" $budget -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$regress/" "$corpus" >"$out/fuzz_$t.log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz_$t.log" | grep -o '[0-9]*$')
    if [ $rc = 0 ]; then
        tap ok "fuzz $t: $what, ${execs:-?} inputs, nothing found"
    else
        tap "not ok" "fuzz $t: found a crash after ${execs:-?} inputs (kept in $regress/; log $out/fuzz_$t.log)"
        grep -E "ERROR|SUMMARY" "$out/fuzz_$t.log" | head -5 | sed 's/^/#   /'
        status=1
    fi
done
echo "1..$n"
exit $status
