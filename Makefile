# Strata: an event-sourcing workbench for the terminal.
#
#   make          build ./strata
#   make run      install missing Debian packages, build, open the workbench
#   make test     install, build, run every test (also under ASan + UBSan)
#   make bench    benchmarks against raw SQLite (BENCH_SCALE sets the size)
#   make fuzz     libFuzzer targets (FUZZ_SECONDS each)
#
# BUILD names the folder for objects, so a sanitizer build lives beside the normal one.

BUILD    ?= build
CC       ?= cc
PKGS      = ncursesw sqlite3 yaml-0.1 zlib libpq
TEST_PKGS = cmocka jansson
WARN      = -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
OPT      ?= -O2 -g
SAN      ?=
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -D_DEFAULT_SOURCE $(WARN) $(OPT) $(SAN) -I. \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LIBS      = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

CORE_SRC = $(sort $(wildcard core/*.c))
CLI_SRC  = $(sort $(wildcard cli/*.c))
TUI_SRC  = $(sort $(wildcard tui/*.c))
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))

CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/%.o)
APP_OBJ  = $(CLI_SRC:%.c=$(BUILD)/%.o) $(TUI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBCORE  = $(BUILD)/libstrata.a
BIN      = $(if $(filter build,$(BUILD)),strata,$(BUILD)/strata)

.PHONY: all run test test-fast unit deps bench fuzz clean asan format
all: $(BIN)

deps:
	@sh scripts/deps.sh $(if $(NEED_TEST),test,run)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIBCORE): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(APP_OBJ) $(LIBCORE)
	$(CC) $(CFLAGS_ALL) -o $@ $(APP_OBJ) $(LIBCORE) $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) -o $@ $< $(LIBCORE) $(LIBS) $(TEST_LIBS)

unit: $(UNIT_BIN)

# The whole suite: a normal build, then the same tests under AddressSanitizer and
# UndefinedBehaviorSanitizer. tests/run.sh prints the closing "N passed, N failed".
test:
	@$(MAKE) --no-print-directory deps NEED_TEST=1
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all unit
	@sh tests/run.sh

# Only the normal build's tests (quicker while working).
test-fast: all unit
	@STRATA_SKIP_ASAN=1 STRATA_SKIP_VALGRIND=1 STRATA_SKIP_FUZZ=1 sh tests/run.sh

run:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@sh scripts/run.sh

bench:
	@$(MAKE) --no-print-directory deps NEED_TEST=1
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh

fuzz:
	@$(MAKE) --no-print-directory deps NEED_TEST=1
	@sh tests/fuzz/run.sh

format:
	clang-format -i core/*.c core/*.h cli/*.c cli/*.h tui/*.c tui/*.h tests/unit/*.c

clean:
	rm -rf build strata

-include $(CORE_OBJ:.o=.d) $(APP_OBJ:.o=.d)
