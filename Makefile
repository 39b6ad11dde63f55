# Strata: an event-sourcing workbench for the terminal.
#
#   make          build ./strata
#   make run      install missing Debian packages, build, open the workbench
#   make test     install, build, run every test (also under ASan + UBSan)
#   make bench    benchmarks against raw SQLite (BENCH_SCALE sets the size)
#   make bench-scale  every figure at 100k, 1M and 10M events, as one table
#   make bench-peers  the same workload through Emmett's SQLite event store (Node)
#   make fuzz     libFuzzer targets (FUZZ_SECONDS each)
#   make install  the binary, man pages, completions, example domains and samples
#                 under PREFIX (default /usr/local), staged under DESTDIR if set
#   make uninstall  removes what make install put there
#   make deb      a Debian package, build/deb/strata_VERSION_ARCH.deb
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
VERB_SRC = $(sort $(wildcard verbs/*.c))
CLI_SRC  = $(sort $(wildcard cli/*.c))
TUI_SRC  = $(sort $(wildcard tui/*.c))
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))

# verbs/ (the command layer both front ends call) goes into the binary, not into
# libstrata.a: unit tests exercise core/, and the verbs are tested through both
# front ends (tests/verbs/).
CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/%.o)
APP_OBJ  = $(VERB_SRC:%.c=$(BUILD)/%.o) $(CLI_SRC:%.c=$(BUILD)/%.o) $(TUI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBCORE  = $(BUILD)/libstrata.a
BIN      = $(if $(filter build,$(BUILD)),strata,$(BUILD)/strata)

.PHONY: all run test test-fast unit deps bench bench-scale bench-peers fuzz clean asan format install uninstall deb FORCE
all: $(BIN)

# The version (VERSION) and the commit it was built from, with "modified" when
# the checkout had uncommitted changes; "unknown" outside a git checkout (a
# tarball, even one unpacked inside another repository). strata_version.h is
# rewritten only when this changes, so only cmd_version.o is rebuilt then.
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_TOP := $(shell git rev-parse --show-toplevel 2>/dev/null)
ifeq ($(realpath $(GIT_TOP)),$(realpath $(CURDIR)))
GIT_COMMIT := $(shell git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
GIT_MODIFIED := $(shell git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo 1 || echo 0)
else
GIT_COMMIT := unknown
GIT_MODIFIED := 0
endif

$(BUILD)/gen/strata_version.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define STRATA_VERSION "%s"\n#define STRATA_GIT "%s"\n#define STRATA_GIT_MODIFIED %s\n' \
	    '$(VERSION)' '$(GIT_COMMIT)' '$(GIT_MODIFIED)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/cli/cmd_version.o: $(BUILD)/gen/strata_version.h
$(BUILD)/cli/cmd_version.o: CFLAGS_ALL += -I$(BUILD)/gen

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

# Every figure at 100k, 1M and 10M events (BENCH_SCALES), one table (bench/scale.sh).
bench-scale:
	@$(MAKE) --no-print-directory all
	@sh bench/scale.sh

# The same workload through Emmett's SQLite event store, on Node (bench/peers.sh).
bench-peers:
	@$(MAKE) --no-print-directory all
	@sh bench/peers.sh

fuzz:
	@$(MAKE) --no-print-directory deps NEED_TEST=1
	@sh tests/fuzz/run.sh

# Installing, with GNU's directory variables (as tig's Makefile has them); DESTDIR
# stages the whole tree elsewhere (a package, a test). The binary finds the data
# as ../share/strata beside itself (core/about.h), so a moved prefix still works.
# INSTALL_BIN: the binary to install (the tests install the one they test).
PREFIX      ?= /usr/local
prefix      ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir      ?= $(exec_prefix)/bin
datarootdir ?= $(prefix)/share
datadir     ?= $(datarootdir)/strata
mandir      ?= $(datarootdir)/man
bashcompdir ?= $(datarootdir)/bash-completion/completions
zshcompdir  ?= $(datarootdir)/zsh/site-functions
INSTALL     ?= install
INSTALL_BIN ?= $(BIN)
MAN_PAGES    = man/strata.1 man/strata-domain.5 man/strata-workbench.7
DOMAINS      = $(sort $(wildcard domains/*.yaml))
SAMPLES      = samples/audit.json samples/audit.map.yaml samples/bank.ndjson \
               samples/legacy-accounts.csv samples/legacy-accounts.csv.gz \
               samples/legacy-accounts.map.yaml samples/orders.cloudevents.ndjson \
               samples/orders.map.yaml

install: $(INSTALL_BIN)
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(datadir)/domains $(DESTDIR)$(datadir)/samples \
	    $(DESTDIR)$(mandir)/man1 $(DESTDIR)$(mandir)/man5 $(DESTDIR)$(mandir)/man7 \
	    $(DESTDIR)$(bashcompdir) $(DESTDIR)$(zshcompdir)
	$(INSTALL) -m 755 $(INSTALL_BIN) $(DESTDIR)$(bindir)/strata
	$(INSTALL) -m 644 $(DOMAINS) $(DESTDIR)$(datadir)/domains
	$(INSTALL) -m 644 $(SAMPLES) $(DESTDIR)$(datadir)/samples
	$(INSTALL) -m 644 man/strata.1 $(DESTDIR)$(mandir)/man1
	$(INSTALL) -m 644 man/strata-domain.5 $(DESTDIR)$(mandir)/man5
	$(INSTALL) -m 644 man/strata-workbench.7 $(DESTDIR)$(mandir)/man7
	$(INSTALL) -m 644 completion/strata.bash $(DESTDIR)$(bashcompdir)/strata
	$(INSTALL) -m 644 completion/_strata $(DESTDIR)$(zshcompdir)/_strata

# Removes the files by name, then the folders that only Strata used (rmdir
# leaves a shared folder that still holds something else).
uninstall:
	rm -f $(DESTDIR)$(bindir)/strata $(DESTDIR)$(bashcompdir)/strata $(DESTDIR)$(zshcompdir)/_strata
	rm -f $(DESTDIR)$(mandir)/man1/strata.1 $(DESTDIR)$(mandir)/man5/strata-domain.5 \
	    $(DESTDIR)$(mandir)/man7/strata-workbench.7
	rm -f $(addprefix $(DESTDIR)$(datadir)/,$(DOMAINS) $(SAMPLES))
	-rmdir $(DESTDIR)$(datadir)/domains $(DESTDIR)$(datadir)/samples $(DESTDIR)$(datadir) 2>/dev/null

# A Debian package from a staged install (scripts/deb.sh says how).
deb: all
	@sh scripts/deb.sh $(VERSION) $(BIN)

format:
	clang-format -i core/*.[ch] verbs/*.[ch] cli/*.[ch] tui/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c bench/*.c

clean:
	rm -rf build strata

-include $(CORE_OBJ:.o=.d) $(APP_OBJ:.o=.d)
