#!/bin/sh
# run.sh: builds each libFuzzer target (tests/fuzz/fuzz_*.c) with clang, ASan and
# UBSan, and runs it for FUZZ_SECONDS (default 60) seeded from the tests' own files.
# Crashing inputs are kept in tests/fuzz/regressions/<target>/ and replayed by
# `make test` (tests/e2e/fuzz_regressions.sh).
#   FUZZ_SECONDS=600 make fuzz        ten minutes each
#   FUZZ_TARGETS="json expr" make fuzz  only these
cd "$(dirname "$0")/../.." || exit 2
secs=${FUZZ_SECONDS:-60}
out=build/fuzz
mkdir -p "$out"
PKGS="sqlite3 yaml-0.1 jansson zlib"
CFLAGS="-std=c11 -D_GNU_SOURCE -D_DEFAULT_SOURCE -g -O1 -I. -fsanitize=fuzzer,address,undefined $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lpthread -lm"
targets=${FUZZ_TARGETS:-$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)}
status=0
for t in $targets; do
    src=tests/fuzz/fuzz_$t.c
    [ -f "$src" ] || { echo "fuzz: no target $t"; status=1; continue; }
    echo "fuzz: building $t"
    clang $CFLAGS core/*.c "$src" -o "$out/fuzz_$t" $LIBS || { status=1; continue; }
    corpus="$out/corpus-$t"
    mkdir -p "$corpus" "tests/fuzz/regressions/$t"
    # Seeds: the tests' own files of the kind this target reads.
    case $t in
    json*|reader_ndjson*) seeds="samples tests/data" ;;
    domain*) seeds="domains tests/domains" ;;
    expr*) seeds="tests/fuzz/seeds/expr" ;;
    reader_csv*) seeds="samples tests/data" ;;
    reader_cloudevents*) seeds="samples tests/data" ;;
    *) seeds="" ;;
    esac
    for s in $seeds; do
        [ -d "$s" ] && find "$s" -type f -size -64k -exec cp {} "$corpus/" \; 2>/dev/null
    done
    [ -d "tests/fuzz/seeds/$t" ] && cp tests/fuzz/seeds/$t/* "$corpus/" 2>/dev/null
    echo "fuzz: running $t for ${secs}s"
    "$out/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="tests/fuzz/regressions/$t/" "$corpus" 2>"$out/fuzz_$t.log"
    rc=$?
    grep -E "stat::number_of_executed_units|stat::peak_rss|ERROR" "$out/fuzz_$t.log" | sed "s/^/fuzz: $t: /"
    [ $rc = 0 ] || { echo "fuzz: $t found a crash; see tests/fuzz/regressions/$t/"; status=1; }
done
exit $status
