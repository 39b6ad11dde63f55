#!/bin/sh
# install.sh: `make install` into a temporary DESTDIR with PREFIX=/usr (the binary
# under test is installed, nothing is rebuilt), the installed binary run from
# another folder on an installed example domain, by path and by bare name, also
# after the whole prefix has moved; then `make uninstall` leaves no file behind.
. "$(dirname "$0")/lib.sh"
unset STRATA_DOMAIN STRATA_DB STRATA_DATA_DIR
D=$TMP/dest
mk() { make -s -C "$ROOT" --no-print-directory DESTDIR="$D" PREFIX=/usr INSTALL_BIN="$STRATA" "$@"; }

run mk install
expect_rc 0 "make install DESTDIR=... PREFIX=/usr"
missing=""
for f in usr/bin/strata usr/share/strata/domains/bank.yaml usr/share/strata/domains/library.yaml \
    usr/share/strata/samples/bank.ndjson usr/share/strata/samples/audit.map.yaml \
    usr/share/man/man1/strata.1 usr/share/man/man5/strata-domain.5 \
    usr/share/man/man7/strata-workbench.7 usr/share/bash-completion/completions/strata \
    usr/share/zsh/site-functions/_strata; do
    [ -f "$D/$f" ] || missing="$missing $f"
done
expect_eq "$missing" "" "the binary, domains, samples, man pages and completions are installed"
[ -x "$D/usr/bin/strata" ] && ok "the binary is executable" || not_ok "the binary is executable"

mkdir -p "$TMP/work"
cd "$TMP/work" || exit 1
BIN=$D/usr/bin/strata
run "$BIN" --domain "$D/usr/share/strata/domains/bank.yaml" --db x.db exec OpenAccount accountId=A owner=Ann initialDeposit=10
expect_rc 0 "the installed binary runs a command on the installed example, from another folder"
run "$BIN" version --verbose
expect_contains "$OUT" "data $(cd "$D/usr/share/strata" && pwd -P)" "it finds its data as ../share/strata beside itself"
run "$BIN" --domain bank --db y.db exec OpenAccount accountId=B owner=Bob
expect_rc 0 "--domain bank (a bare name) finds the installed example"
expect_contains "$OUT" '"stream":"Account-B"' "... and runs the command"
[ -f y.db ] && ok "... with the store where --db says" || not_ok "... with the store where --db says"
run "$BIN" --domain bank exec OpenAccount accountId=C owner=Cy
[ -f bank.db ] && ok "without --db the store is bank.db in the current folder" ||
    not_ok "without --db the store is bank.db in the current folder" "$(ls)"
run "$BIN" --domain nosuchdomain check
expect_rc 1 "an unknown bare name is an error"
expect_contains "$ERR" "nosuchdomain" "... naming it"
# A file of that name here wins over the installed example.
cp "$ROOT/domains/cart.yaml" bank.yaml
run "$BIN" --domain bank __complete commands
expect_not_contains "$OUT" "Deposit" "./bank.yaml wins over the installed bank"

# The prefix moved elsewhere (a relocated install): still found, relative to the binary.
mv "$D/usr" "$TMP/moved"
cd "$TMP" || exit 1
run "$TMP/moved/bin/strata" --domain library check
expect_rc 0 "after moving the prefix, --domain library still finds the example"
run "$TMP/moved/bin/strata" test --domain library
expect_rc 0 "... and its scenarios pass"
mv "$TMP/moved" "$D/usr"

# The installed bash completion, with the installed binary on the PATH.
if command -v bash >/dev/null 2>&1; then
    got=$(PATH="$D/usr/bin:$PATH" bash -c '. "$1"; COMP_WORDS=(strata st); COMP_CWORD=1; _strata
        echo "${COMPREPLY[*]}"' _ "$D/usr/share/bash-completion/completions/strata" 2>&1)
    expect_eq "$got" "state stats" "the installed bash completion: strata st<Tab> offers state and stats"
fi

run mk uninstall
expect_rc 0 "make uninstall"
left=$(cd "$D" && find . -type f)
expect_eq "$left" "" "nothing is left behind"
[ -d "$D/usr/share/strata" ] && not_ok "share/strata is removed" || ok "share/strata is removed"
done_testing
