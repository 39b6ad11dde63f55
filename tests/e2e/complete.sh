#!/bin/sh
# complete.sh: shell completion. The hidden `strata __complete WHAT` that serves
# the names, then completion/strata.bash sourced in bash and its function called
# with COMP_WORDS/COMP_CWORD set as bash would, then completion/_strata in zsh
# (when zsh is installed) with compadd and _files stubbed to print what they get.
. "$(dirname "$0")/lib.sh"
BANK=$ROOT/domains/bank.yaml
mkdir -p "$TMP/bin"
ln -s "$STRATA" "$TMP/bin/strata"
PATH=$TMP/bin:$PATH
export PATH
unset STRATA_DOMAIN

lines() { printf '%s\n' "$OUT" | tr '\n' ' '; }

run "$STRATA" __complete subcommands
expect_rc 0 "__complete subcommands"
expect_contains " $(lines)" " tui check exec events state project query " "subcommands in --help order"
expect_not_contains "$(lines)" "__complete" "__complete itself is hidden"
run "$STRATA" --help
expect_not_contains "$OUT" "__complete" "strata --help does not list __complete"
run "$STRATA" __complete options exec
expect_contains " $(lines)" " --payload --id --expect-version " "options of exec, from its --help"
expect_contains " $(lines)" " --domain --db --help " "every subcommand has the common options"
run "$STRATA" __complete options
expect_contains " $(lines)" " --domain --db --branch --help --version " "strata's own options"
run "$STRATA" __complete --domain "$BANK" commands
expect_out "OpenAccount
Deposit
Withdraw
CloseAccount" "the domain's commands"
run "$STRATA" __complete --domain "$BANK" aggregates
expect_out "Account" "the domain's aggregates"
run "$STRATA" __complete --domain "$BANK" projections
expect_out "AccountList
BankStats" "the domain's projections"
run "$STRATA" __complete --domain "$BANK" fields Deposit
expect_out "accountId=
amount=" "a command's payload fields as field="
run env STRATA_DOMAIN="$BANK" "$STRATA" __complete types
expect_contains "$(lines)" "MoneyDeposited" "event types, from STRATA_DOMAIN"
run "$STRATA" __complete domains
expect_contains " $(lines)" " bank " "the installed example domains by name"
(cd "$TMP" && "$STRATA" __complete --domain bank commands) >"$TMP/bare" 2>&1
expect_contains "$(cat "$TMP/bare")" "Deposit" "--domain bank finds the example from another folder"
run "$STRATA" __complete --domain "$BANK" fields NoSuchCommand
expect_rc 1 "fields of an unknown command: exit 1"
expect_eq "$ERR" "" "... and nothing on stderr (it would land on the command line)"
run "$STRATA" __complete --domain "$TMP/missing.yaml" commands
expect_rc 1 "a missing domain: exit 1"
expect_eq "$ERR$OUT" "" "... silently"
run "$STRATA" __complete bogus
expect_rc 2 "an unknown WHAT is a usage error"

# bash: COMP_WORDS as bash splits the line (at '=' too), COMP_CWORD the word.
if command -v bash >/dev/null 2>&1; then
    # bash_complete CWORD WORDS...: the replies, one line, space-separated.
    bash_complete() {
        cword=$1
        shift
        bash -c '. "$1"; shift; cword=$1; shift; COMP_WORDS=("$@"); COMP_CWORD=$cword
                 COMP_LINE="$*"; _strata; printf "%s\n" "${COMPREPLY[*]}"' \
            _ "$ROOT/completion/strata.bash" "$cword" "$@" 2>"$TMP/bash.err"
    }
    # `st` starts two subcommands (state, stats): Tab offers both; `sta` and `stat`
    # likewise, and `state` is a word of its own.
    expect_eq "$(bash_complete 1 strata st)" "state stats" "bash: strata st<Tab> offers state and stats"
    expect_eq "$(bash_complete 1 strata stats)" "stats" "bash: strata stats<Tab> -> stats"
    expect_eq "$(STRATA_DOMAIN=$BANK bash_complete 2 strata query Acc)" "AccountList" \
        "bash: strata query Acc<Tab> -> AccountList (STRATA_DOMAIN)"
    expect_eq "$(bash_complete 4 strata --domain "$BANK" state '')" "Account" \
        "bash: state <Tab> -> the aggregates of --domain on the line"
    expect_eq "$(bash_complete 4 strata --domain "$BANK" exec De)" "Deposit" \
        "bash: exec De<Tab> -> Deposit"
    expect_eq "$(bash_complete 5 strata --domain "$BANK" exec Deposit '')" "accountId= amount=" \
        "bash: exec Deposit <Tab> -> its fields as field="
    expect_eq "$(bash_complete 8 strata --domain "$BANK" exec Deposit accountId = A '')" "amount=" \
        "bash: a field already given is not offered again"
    expect_eq "$(bash_complete 2 strata exec --expect)" "--expect-version" "bash: options of exec"
    expect_eq "$(bash_complete 5 strata --domain "$BANK" project --pause B)" "BankStats" \
        "bash: --pause <Tab> -> projections"
    mkdir -p "$TMP/files/sub"
    touch "$TMP/files/a.yaml" "$TMP/files/b.db" "$TMP/files/c.ndjson" "$TMP/files/d.csv.gz" \
        "$TMP/files/e.txt" "$TMP/files/f.map.yaml"
    cd "$TMP/files" || exit 1
    expect_eq "$(bash_complete 2 strata --db '' | tr ' ' '\n' | sort | tr '\n' ' ')" "b.db sub " \
        "bash: --db offers stores (and folders)"
    expect_eq "$(bash_complete 2 strata check '' | tr ' ' '\n' | sort | tr '\n' ' ')" \
        "a.yaml f.map.yaml sub " "bash: check offers domain files"
    expect_eq "$(bash_complete 2 strata import '' | tr ' ' '\n' | sort | tr '\n' ' ')" \
        "c.ndjson d.csv.gz sub " "bash: import offers event files"
    expect_eq "$(bash_complete 3 strata import --map f | tr ' ' '\n' | sort | tr '\n' ' ')" \
        "f.map.yaml " "bash: --map offers maps"
    cd "$ROOT" || exit 1
    expect_eq "$(cat "$TMP/bash.err")" "" "bash: nothing on stderr"
else
    _n=$((_n + 1))
    echo "ok $_n # SKIP bash is not installed"
fi

# zsh: words and CURRENT set by hand; compadd and _files print what they are given
# (compadd's own matching against the word is zsh's, not tested here).
if command -v zsh >/dev/null 2>&1; then
    zsh_complete() {
        current=$1
        shift
        zsh -f -c 'compadd() { while [[ $1 == -* && $1 != -- ]]; do [[ $1 == -S ]] && shift; shift; done
                              [[ $1 == -- ]] && shift; print -rn -- "$* " }
                   _files() { print -rn -- "files($*) " }
                   f=$1; shift; CURRENT=$1; shift; words=("$@"); source $f; print' \
            _ "$ROOT/completion/_strata" "$current" "$@" 2>"$TMP/zsh.err"
    }
    expect_contains "$(zsh_complete 2 strata st)" "state" "zsh: strata st<Tab> offers state"
    expect_eq "$(STRATA_DOMAIN=$BANK zsh_complete 3 strata query Acc)" "AccountList BankStats " \
        "zsh: strata query <Tab> offers the projections (STRATA_DOMAIN)"
    expect_eq "$(zsh_complete 5 strata --domain "$BANK" exec '')" \
        "OpenAccount Deposit Withdraw CloseAccount " "zsh: exec <Tab> offers the commands"
    expect_eq "$(zsh_complete 7 strata --domain "$BANK" exec Deposit accountId=A '')" "amount= " \
        "zsh: the fields not given yet, as field="
    expect_contains "$(zsh_complete 3 strata exec --e)" "--expect-version" "zsh: options of exec"
    expect_eq "$(zsh_complete 3 strata --db '')" "files(-g *.db) " "zsh: --db offers stores"
    expect_eq "$(cat "$TMP/zsh.err")" "" "zsh: nothing on stderr"
else
    _n=$((_n + 1))
    echo "ok $_n # SKIP zsh is not installed (apt-get install zsh)"
fi
done_testing
