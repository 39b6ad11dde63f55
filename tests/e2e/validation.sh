#!/bin/sh
# validation.sh: every appended event is valid, whatever path it comes by
# (domain-language.md version 2, issue 13): exec (an emit that breaks a minimum,
# an emit that stores a map in a string field), a scenario's given (after its
# upcast), import of canonical NDJSON with a domain (--skip-bad too), a domain
# source, replay; an upcast that produces a wrong type at read time; and a store
# that already holds a poison event: check --db lists it, the rest keeps working,
# a projection is told to skip it and resumes (and a rebuild skips it too). Also
# the store format upgrade on open, and the read-only case.
. "$(dirname "$0")/lib.sh"
D=$ROOT/tests/domains/notes.yaml
unset STRATA_DOMAIN STRATA_DB
count() { "$STRATA" events --db "$1" 2>/dev/null | wc -l | tr -d ' '; }

# ---- exec --------------------------------------------------------------------------
DB=$TMP/exec.db
run "$STRATA" exec --domain "$D" --db "$DB" Create noteId=A title=hello
expect_rc 0 "a valid command appends"
run "$STRATA" exec --domain "$D" --db "$DB" Bump noteId=A by=0
expect_rc 1 "an emit that breaks the event's minimum: exit 1"
expect_eq "$ERR" "strata exec: Bump: emit[0] Bumped: field 'by': 0 is below the minimum 1" "it names the command, the emit, the field and the constraint"
run "$STRATA" exec --domain "$D" --db "$DB" Create noteId=B 'title={"nested":[1,2]}'
expect_rc 1 "an emit that stores a map in a string field (payload any): exit 1"
expect_eq "$ERR" "strata exec: Create: emit[0] Created: field 'title': expected string, got map {\"nested\":[1,2]}" "the wrong type is named"
expect_eq "$(count "$DB")" 1 "nothing was appended by the refused commands"
expect_clean_stderr "exec"

# ---- a scenario's given (checked after its upcast) -----------------------------------
cp "$D" "$TMP/scen.yaml"
cat >>"$TMP/scen.yaml" <<'YAML'
scenarios:
  - name: a v1 note whose name is a number
    given:
      - {stream: Note-A, type: Created, schema: 1, data: {name: 8}}
    when: {command: Copy, payload: {noteId: A}}
    then: {events: []}
YAML
run "$STRATA" test "$TMP/scen.yaml"
expect_rc 1 "a given event invalid after its upcast fails the scenario"
expect_contains "$OUT" "given[0]: event Created (stored at schema 1): upcast step 1->2 (rename name: title): field 'title': expected string, got int 8" "the given event, the upcast step and the field are named"

# ---- import of canonical NDJSON with a domain ----------------------------------------
cat >"$TMP/bad.ndjson" <<'NDJSON'
{"stream":"Note-A","version":1,"type":"Created","schema":2,"time":"2026-01-01T00:00:00Z","data":{"title":"a","count":1}}
{"stream":"Note-A","version":2,"type":"Bumped","schema":1,"time":"2026-01-01T00:00:01Z","data":{"by":0}}
{"stream":"Note-B","version":1,"type":"Created","schema":1,"time":"2026-01-01T00:00:02Z","data":{"name":8}}
{"stream":"Note-C","version":1,"type":"Nope","schema":1,"time":"2026-01-01T00:00:03Z","data":{}}
{"stream":"Note-D","version":1,"type":"Bumped","schema":2,"time":"2026-01-01T00:00:04Z","data":{"by":1}}
{"stream":"Note-E","version":1,"type":"Created","schema":2,"time":"2026-01-01T00:00:05Z","data":{"title":"e","count":1,"colour":"red"}}
{"stream":"Note-F","version":1,"type":"Created","schema":1,"time":"2026-01-01T00:00:06Z","data":{"name":"f","n":3}}
NDJSON
run "$STRATA" import --domain "$D" --db "$TMP/imp.db" "$TMP/bad.ndjson"
expect_rc 1 "import with a domain refuses what it cannot read"
expect_contains "$ERR" "bad.ndjson:2: error: event Bumped: field 'by': 0 is below the minimum 1" "data that fails its fields"
expect_contains "$ERR" "bad.ndjson:3: error: event Created (stored at schema 1): upcast step 1->2 (rename name: title): field 'title': expected string, got int 8" "an upcast that fails"
expect_contains "$ERR" "bad.ndjson:4: error: unknown event type 'Nope'" "an unknown type"
expect_contains "$ERR" "bad.ndjson:5: error: event Bumped: schema version 2, but the domain knows versions 1 to 1 of it" "an unknown schema version"
expect_contains "$ERR" "bad.ndjson:6: error: event Created: unknown field 'colour' of event Created" "an undeclared field"
expect_contains "$ERR" "5 bad records: nothing was imported" "nothing committed"
expect_eq "$(count "$TMP/imp.db")" 0 "the store holds nothing"
run "$STRATA" import --domain "$D" --db "$TMP/imp.db" --skip-bad "$TMP/bad.ndjson"
expect_rc 0 "--skip-bad imports the good records"
expect_contains "$OUT" "imported 2 events" "the two good ones"
expect_contains "$OUT" "5 bad records skipped" "the bad ones counted in the summary"
run "$STRATA" import --db "$TMP/nodomain.db" "$TMP/bad.ndjson"
expect_rc 0 "without a domain the records are taken as they are"
run "$STRATA" import --domain "$D" --db "$TMP/map.db" --map "$ROOT/samples/orders.map.yaml" "$ROOT/samples/orders.cloudevents.ndjson"
expect_rc 0 "a --map import reads the map alone, not checked against the domain"

# ---- a domain source ------------------------------------------------------------------
printf 'id,by\nA,2\nA,0\nB,1\n' >"$TMP/bumps.csv"
run "$STRATA" import --domain "$D" --db "$TMP/src.db" --source bumps "$TMP/bumps.csv"
expect_rc 1 "a source's record that fails the event's fields: exit 1"
expect_contains "$ERR" "bumps.csv:3: error: event Bumped: field 'by': 0 is below the minimum 1" "reported with FILE:LINE"
expect_eq "$(count "$TMP/src.db")" 0 "nothing committed"

# ---- replay --------------------------------------------------------------------------
run "$STRATA" replay --domain "$D" --db "$TMP/rep.db" --rate 1000 "$TMP/bad.ndjson"
expect_rc 1 "replay stops at a record the domain cannot read"
expect_contains "$ERR" "bad.ndjson:2: error: event Bumped: field 'by': 0 is below the minimum 1" "replay names FILE:LINE"
expect_eq "$(count "$TMP/rep.db")" 1 "what came before it stays"

# ---- an upcast that produces a wrong type, at read time ------------------------------
P=$TMP/poison.db
cat >"$TMP/poison.ndjson" <<'NDJSON'
{"stream":"Note-A","version":1,"type":"Created","schema":2,"time":"2026-01-01T00:00:00Z","data":{"title":"first","count":1}}
{"stream":"Note-P","version":1,"type":"Created","schema":1,"time":"2026-01-01T00:00:01Z","data":{"name":8}}
{"stream":"Note-B","version":1,"type":"Created","schema":2,"time":"2026-01-01T00:00:02Z","data":{"title":"second","count":2}}
NDJSON
run "$STRATA" import --db "$P" "$TMP/poison.ndjson"
expect_rc 0 "a poison event gets in through an import without the domain"
run "$STRATA" state --domain "$D" --db "$P" Note P
expect_rc 1 "its stream cannot be loaded"
expect_eq "$ERR" "strata state: event Created at position 2 (stored at schema 1): upcast step 1->2 (rename name: title): field 'title': expected string, got int 8" "the error names the position, the upcast step and the field"
# --force: the imported log is the notes domain's (a store records its domain).
run "$STRATA" exec --force --domain "$D" --db "$P" Copy noteId=P
expect_rc 1 "a command cannot copy the bad value into a new event"
expect_eq "$(count "$P")" 3 "nothing appended"

# ---- the poison event: check --db, the rest works, skip it ---------------------------
run "$STRATA" check --domain "$D" --db "$P"
expect_rc 1 "check --db: exit 1 when a poison event is stored"
expect_eq "$OUT" "position 2: stream Note-P, Created schema 1: upcast step 1->2 (rename name: title): field 'title': expected string, got int 8" "it lists position, stream, type, schema and the reason"
expect_contains "$ERR" "1 of 3 events in $P cannot be read by domain notes" "and sums them up"
run "$STRATA" check --db "$TMP/imp.db" "$D"
expect_rc 0 "check --db with the domain as FILE: a valid store"
expect_contains "$OUT" "ok: 2 events, every one valid for domain notes" "its ok line"
run "$STRATA" events --domain "$D" --db "$P"
expect_rc 0 "events does not stop at a poison event"
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 3 "every event is listed"
expect_contains "$OUT" '"stream":"Note-P","version":1,"type":"Created","schema":1,"time":"2026-01-01T00:00:01.000Z","data":{"name":8}' "the poison one as stored"
expect_contains "$ERR" "strata events: warning: event Created at position 2 (stored at schema 1)" "with a warning on stderr"
run "$STRATA" state --domain "$D" --db "$P" Note A
expect_rc 0 "another stream's state loads"
run "$STRATA" exec --domain "$D" --db "$P" Bump noteId=B by=2
expect_rc 0 "commands on other streams work"
run "$STRATA" project --domain "$D" --db "$P"
expect_rc 1 "the projections fail at the poison event"
expect_contains "$OUT" "Titles: failed at position 2" "Titles stopped at it"
run "$STRATA" project --domain "$D" --db "$P" --skip Titles=2
expect_rc 0 "--skip NAME=POSITION"
expect_contains "$OUT" "Titles: passes over position 2 from now on (projections.Titles.on.Created: event Created at position 2" "it records the failure as the reason"
run "$STRATA" project --domain "$D" --db "$P" --skip Titles=99
expect_rc 2 "a position that is not in the store is a usage error"
run "$STRATA" project --domain "$D" --db "$P"
expect_rc 1 "Counts, not told to skip, still fails"
expect_contains "$OUT" "Titles: live at 4" "Titles resumed past the poison event"
run "$STRATA" query --domain "$D" --db "$P" Titles
expect_eq "$OUT" '{"key":"A","title":"first"}
{"key":"B","title":"second"}' "its rows leave the poison event out"
run "$STRATA" project --domain "$D" --db "$P" --status
expect_contains "$OUT" "1 skipped" "--status shows the skipped count"
run "$STRATA" project --domain "$D" --db "$P" --status --json
expect_contains "$OUT" '"name":"Titles","status":"live"' "JSON status"
expect_contains "$OUT" '"skipped":1' "JSON status has the count"
run "$STRATA" project --domain "$D" --db "$P" --rebuild Titles
expect_rc 0 "a rebuild skips the recorded position too"
run "$STRATA" query --domain "$D" --db "$P" Titles
expect_eq "$OUT" '{"key":"A","title":"first"}
{"key":"B","title":"second"}' "same rows after the rebuild"
expect_eq "$(sqlite3 "$P" "select projection || ' ' || position from projection_skips" 2>/dev/null)" "Titles 2" "the skip is recorded in projection_skips"
expect_clean_stderr "poison workflow"

# ---- store formats: an older store is read as is, upgraded when opened to write ------
O=$TMP/old.db
"$STRATA" exec --domain "$D" --db "$O" Create noteId=A title=x >/dev/null
latest=$(sqlite3 "$O" "PRAGMA user_version") # the newest format, whatever its number
sqlite3 "$O" "DROP TABLE projection_skips; DROP TABLE append_times; DROP TABLE import_ledger; DROP TABLE IF EXISTS branches; DROP TABLE IF EXISTS branch_events; UPDATE strata_meta SET value = '1' WHERE key = 'format_version'; PRAGMA user_version = 1;"
run "$STRATA" events --domain "$D" --db "$O"
expect_rc 0 "a format-1 store is read as it is by a read-only command"
expect_eq "$(sqlite3 "$O" "PRAGMA user_version")" 1 "reading did not upgrade it"
run "$STRATA" project --domain "$D" --db "$O" --status
expect_rc 0 "a writing command on a format-1 store"
expect_eq "$(sqlite3 "$O" "PRAGMA user_version")" "$latest" "upgraded it in place to the newest format"
expect_eq "$(sqlite3 "$O" "select value from strata_meta where key = 'format_version'")" "$latest" "strata_meta says so too"
expect_eq "$(count "$O")" 1 "its events are intact"
newer=$((latest + 1))
sqlite3 "$O" "PRAGMA user_version = $newer;"
run "$STRATA" events --db "$O"
expect_rc 1 "a newer store is refused"
expect_contains "$ERR" "was written by a newer Strata (store format $newer; this build reads up to $latest)" "plainly"

done_testing
