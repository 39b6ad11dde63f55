#!/bin/sh
# deb.sh: `make deb`'s script builds a Debian package from the binary under test
# (scripts/deb.sh, nothing rebuilt), which dpkg -x unpacks into a temporary root;
# the unpacked binary runs (--version, check and test on the installed example,
# found beside it), and lintian, when installed, reports no error. Once is enough:
# the sanitizer build's pass skips it.
. "$(dirname "$0")/lib.sh"
if [ -n "$SANITIZED" ]; then
    echo "ok 1 # SKIP the package is built from the normal build"
    echo "1..1"
    exit 0
fi
for t in dpkg-deb dpkg-shlibdeps strip; do
    if ! command -v $t >/dev/null 2>&1; then
        echo "ok 1 # SKIP $t is not installed (apt-get install dpkg-dev binutils)"
        echo "1..1"
        exit 0
    fi
done
version=$(cat "$ROOT/VERSION")
run env DEB_OUT="$TMP/deb" sh "$ROOT/scripts/deb.sh" "$version" "$STRATA"
expect_rc 0 "scripts/deb.sh builds the package"
deb=$OUT
case "$deb" in *.deb) [ -f "$deb" ] && ok "the package is $(basename "$deb")" || not_ok "the package exists" "$deb" ;;
*) not_ok "deb.sh prints the package's path" "$OUT" ;; esac

deps=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libncursesw6 libsqlite3-0 libyaml-0-2 zlib1g; do
    expect_contains "$deps" "$lib" "Depends (from dpkg-shlibdeps) names $lib"
done
expect_eq "$(dpkg-deb -f "$deb" Version)" "$version-1" "Version is VERSION-1"
files=$(dpkg-deb -c "$deb")
for f in ./usr/bin/strata ./usr/share/man/man1/strata.1.gz ./usr/share/man/man5/strata-domain.5.gz \
    ./usr/share/man/man7/strata-workbench.7.gz ./usr/share/doc/strata/copyright \
    ./usr/share/doc/strata/changelog.Debian.gz ./usr/share/strata/domains/bank.yaml \
    ./usr/share/bash-completion/completions/strata ./usr/share/zsh/vendor-completions/_strata; do
    expect_contains "$files" " $f" "the package holds $f"
done
expect_contains "$files" "root/root" "files are owned by root"

mkdir -p "$TMP/root" "$TMP/work"
dpkg -x "$deb" "$TMP/root"
BIN=$TMP/root/usr/bin/strata
if readelf -S "$BIN" 2>/dev/null | grep -q '\.symtab'; then not_ok "the binary is stripped"; else ok "the binary is stripped"; fi
cd "$TMP/work" || exit 1
run "$BIN" --version
expect_rc 0 "the unpacked strata --version"
expect_contains "$OUT" "strata $version (git " "... prints the version and the commit"
run "$BIN" check --domain bank
expect_rc 0 "the unpacked strata check --domain bank finds the packaged example"
expect_contains "$OUT" "ok:" "... and it is good"
run "$BIN" test "$TMP/root/usr/share/strata/domains/library.yaml"
expect_rc 0 "the packaged library example's scenarios pass"

if command -v lintian >/dev/null 2>&1; then
    lintian "$deb" >"$TMP/lintian" 2>&1
    errors=$(grep '^E:' "$TMP/lintian")
    expect_eq "$errors" "" "lintian reports no error"
    grep '^W:' "$TMP/lintian" | sed 's/^/# lintian: /'
else
    _n=$((_n + 1))
    echo "ok $_n # SKIP lintian is not installed"
fi
done_testing
