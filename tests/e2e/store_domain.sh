#!/bin/sh
# store_domain.sh: a store records the domain it was used with (issue 14, defect
# 4). Writing with a domain to a store used with another, or to an imported log
# (events, no domain), is refused unless --force, which records the new one;
# reading with any domain works and records nothing; a new store takes the
# domain of its first write. (The workbench's question: tests/tui/ask-domain*.)
. "$(dirname "$0")/lib.sh"
BANK=$ROOT/domains/bank.yaml
CART=$ROOT/domains/cart.yaml
FIX=$ROOT/tests/tui/fixture.ndjson
meta() { sqlite3 "$1" "select value from strata_meta where key = 'domain'"; }
tables() { sqlite3 "$1" "select count(*) from sqlite_master where name glob 'proj_*'"; }

# A new store records the domain of its first write.
run "$STRATA" import --domain "$BANK" --db "$TMP/bank.db" "$FIX"
expect_rc 0 "import with a domain into a new store"
expect_eq "$(meta "$TMP/bank.db")" bank "the new store records 'bank'"
run "$STRATA" exec --domain "$BANK" --db "$TMP/bank.db" Deposit accountId=A amount=5
expect_rc 0 "the same domain writes without a word"
expect_eq "$ERR" "" "and says nothing"

# Another domain: refused on the command line, nothing written.
run "$STRATA" project --domain "$CART" --db "$TMP/bank.db"
expect_rc 1 "project with another domain is refused"
expect_contains "$ERR" "strata project: $TMP/bank.db was used with domain 'bank', not 'cart': nothing was written (--force uses it with 'cart' and records that)" "the refusal names both domains and --force"
expect_eq "$(tables "$TMP/bank.db")" 0 "no projection table was made"
run "$STRATA" query --domain "$CART" --db "$TMP/bank.db" Carts
expect_rc 1 "query (which folds) with another domain is refused"
run "$STRATA" events --domain "$CART" --db "$TMP/bank.db" --limit 1
expect_rc 0 "events (a read) works with any domain"
run "$STRATA" export --domain "$CART" --db "$TMP/bank.db"
expect_rc 0 "export (a read) works with any domain"
expect_eq "$(meta "$TMP/bank.db")" bank "reads recorded nothing"

# An imported log: events and no domain.
run "$STRATA" import --db "$TMP/log.db" "$FIX"
expect_rc 0 "import without a domain"
expect_eq "$(meta "$TMP/log.db")" "" "records no domain"
run "$STRATA" exec --domain "$BANK" --db "$TMP/log.db" Deposit accountId=A amount=5
expect_rc 1 "exec with a domain into an imported log is refused"
expect_contains "$ERR" "has 12 events and no domain (an imported log?), not domain 'bank': nothing was written" "the refusal says why"
run "$STRATA" project --domain "$BANK" --db "$TMP/log.db"
expect_rc 1 "so is project"
run "$STRATA" import --domain "$BANK" --db "$TMP/log.db" "$FIX"
expect_rc 1 "so is an import with the domain"
expect_eq "$(tables "$TMP/log.db")" 0 "the log has no projection tables"
expect_eq "$(sqlite3 "$TMP/log.db" 'select count(*) from events')" 12 "and no new events"
run "$STRATA" state --domain "$BANK" --db "$TMP/log.db" Account A
expect_rc 0 "state (a read) works"
run "$STRATA" import --db "$TMP/log.db" "$FIX" --skip-bad
expect_eq "$(meta "$TMP/log.db")" "" "an import without a domain still records none"

# --force: the user says so; the store records the domain from then on.
run "$STRATA" exec --force --domain "$BANK" --db "$TMP/log.db" Deposit accountId=A amount=5
expect_rc 0 "exec --force writes"
expect_eq "$(meta "$TMP/log.db")" bank "and records 'bank'"
run "$STRATA" project --domain "$BANK" --db "$TMP/log.db"
expect_rc 0 "then project needs no --force"
run "$STRATA" project --force --domain "$CART" --db "$TMP/log.db" --status
expect_rc 0 "project --force with another domain"
expect_eq "$(meta "$TMP/log.db")" cart "records the new domain's name"

# Editing a domain keeps its name: the store still opens.
sed 's/^version: 1/version: 2/' "$BANK" >"$TMP/bank2.yaml"
run "$STRATA" exec --domain "$TMP/bank2.yaml" --db "$TMP/bank.db" Deposit accountId=A amount=1
expect_rc 0 "an edited domain of the same name writes"

# The workbench: the question comes before anything is written.
printf ':save-display %s\nn\n' "$TMP/q.txt" >"$TMP/ask.script"
run env STRATA_SCRIPT="$TMP/ask.script" STRATA_NO_DISPLAY=1 TERM=xterm LINES=24 COLUMNS=80 \
    timeout 60 "$STRATA" tui --domain "$CART" --db "$TMP/bank.db" </dev/null
expect_rc 0 "the workbench on a store used with another domain, answered n"
expect_eq "$(meta "$TMP/bank.db")" bank "n recorded nothing"
expect_contains "$(cat "$TMP/q.txt")" "was used with domain 'bank', not 'cart'" "it asked first"
expect_eq "$(tables "$TMP/bank.db")" 0 "n made no projection table"
run env STRATA_SCRIPT="$TMP/ask.script" STRATA_NO_DISPLAY=1 TERM=xterm LINES=24 COLUMNS=80 \
    timeout 60 "$STRATA" tui --force --domain "$CART" --db "$TMP/bank.db" </dev/null
expect_rc 0 "tui --force applies it without asking"
expect_eq "$(meta "$TMP/bank.db")" cart "and records it"

# A store the workbench creates: its first write is the workbench's; the header
# says (new) for as long as it runs.
printf ':save-display %s\n' "$TMP/new.txt" >"$TMP/new.script"
run env STRATA_SCRIPT="$TMP/new.script" STRATA_NO_DISPLAY=1 TERM=xterm LINES=24 COLUMNS=80 \
    NO_COLOR=1 timeout 60 "$STRATA" tui --domain "$BANK" --db "$TMP/new.db" </dev/null
expect_rc 0 "the workbench on a new store"
expect_contains "$(head -1 "$TMP/new.txt")" "new.db (new)" "the header says the store is new"
expect_contains "$(cat "$TMP/new.txt")" "Created a new, empty store" "and the message line"
expect_eq "$(meta "$TMP/new.db")" bank "the new store records the workbench's domain"
done_testing
