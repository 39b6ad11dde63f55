#!/bin/sh
# run.sh: runs each case of tests/verbs/cases.txt through both front ends, the
# command line (`strata VERB ...`) and the workbench's palette in script mode
# (each in a folder holding bank.yaml and the files of tests/verbs/files/)
# (`:VERB ...`, then `:view output` and `:save-display`), on fresh copies of the
# same store, and checks that both end with the case's exit status, both say its
# message, and both print as many result lines. One TAP line per check.
. "$(dirname "$0")/../e2e/lib.sh"
HERE=$ROOT/tests/verbs
cp "$ROOT/domains/bank.yaml" "$TMP/bank.yaml"
(cd "$TMP" && "$STRATA" import --domain bank.yaml --db fixture.db "$ROOT/tests/tui/fixture.ndjson" >/dev/null) ||
    { not_ok "setting up the fixture store"; done_testing; exit 1; }

n=0
grep -v '^#' "$HERE/cases.txt" | grep -v '^[[:space:]]*$' >"$TMP/cases"
while IFS='|' read -r want msg inv; do
    n=$((n + 1))
    want=$(echo "$want" | tr -d ' ')
    msg=$(echo "$msg" | sed 's/^ *//; s/ *$//')
    inv=$(echo "$inv" | sed 's/^ *//; s/ *$//')
    d=$TMP/case$n
    mkdir -p "$d"
    cp "$TMP/bank.yaml" "$HERE"/files/* "$d/"
    cp "$TMP/fixture.db" "$d/cli.db"
    cp "$TMP/fixture.db" "$d/tui.db"
    # The command line.
    (cd "$d" && eval "\"\$STRATA\" --domain bank.yaml --db cli.db $inv" >cli.out 2>cli.err)
    cli_rc=$?
    # The palette: the same words after ':'. At 600x60 the workbench is a
    # dashboard; z zooms the output pane to the whole width, so that a result
    # line is not followed on the screen by the other pane's text.
    printf ':resize 600 60\n:%s\n:view output\nz\n:save-display pane.txt\n' "$inv" >"$d/case.script"
    (cd "$d" && env STRATA_SCRIPT=case.script STRATA_NO_DISPLAY=1 TERM=xterm-256color LINES=24 \
        COLUMNS=80 TZ=UTC LANG=C.UTF-8 LC_ALL=C.UTF-8 HOME="$d" NO_COLOR=1 \
        STRATA_NOW=2020-01-02T00:00:00Z STRATA_SCRIPT_TIMEOUT=20 \
        timeout -k 2 60 "$STRATA" tui --domain bank.yaml --db tui.db >tui.stdout 2>tui.stderr)
    tui_run=$?
    tui_rc=$(sed -n 's/.*(exit status \([0-9]*\):.*/\1/p' "$d/pane.txt" 2>/dev/null | head -1)
    if [ "$tui_run" != 0 ] || [ -z "$tui_rc" ]; then
        not_ok "$inv: the workbench ran it" "status $tui_run" "$(head -c 1500 "$d/tui.stderr")"
        continue
    fi
    if [ "$cli_rc" = "$want" ] && [ "$tui_rc" = "$want" ]; then
        ok "$inv: exit $want from both"
    else
        not_ok "$inv: exit $want from both" "command line: $cli_rc" "palette: $tui_rc" \
            "stderr: $(head -c 600 "$d/cli.err")" "pane: $(head -c 1200 "$d/pane.txt")"
    fi
    if [ -n "$msg" ]; then
        case "$(cat "$d/cli.err")" in
        *"$msg"*) c_ok=1 ;; *) c_ok= ;;
        esac
        case "$(cat "$d/pane.txt")" in
        *"$msg"*) t_ok=1 ;; *) t_ok= ;;
        esac
        # A success's summary is the workbench's: the command line prints the result.
        if [ "$want" = 0 ] && grep -q "appended" <<EOT
$msg
EOT
        then c_ok=1; fi
        if [ -n "$c_ok" ] && [ -n "$t_ok" ]; then
            ok "$inv: both say \"$msg\""
        else
            not_ok "$inv: both say \"$msg\"" "command line said: $(head -c 600 "$d/cli.err")" \
                "palette said: $(grep -v '^ *$' "$d/pane.txt" | head -c 1200)"
        fi
    fi
    # As many result lines (NDJSON objects) from both.
    c_lines=$(grep -c '^{.*}$' "$d/cli.out")
    # The workbench shows why's and bisect's lines readably (each a cursor line that
    # moves the timeline): "#4 Account-A v3 ..." and "breaks at #4 ..." / "holds
    # through #N", one per result line of the command line.
    # A usage text (its examples are JSON too) is not a result.
    t_lines=$(sed '/^usage: /,$d' "$d/pane.txt" |
        grep -cE '^(\{.*\}|#[0-9]+ .*|breaks at #.*|holds through .*)$')
    expect_eq "$t_lines" "$c_lines" "$inv: the same number of result lines ($c_lines)"
done <"$TMP/cases"
done_testing
