#!/bin/sh
# deb.sh: what `make deb` does once strata is built: a Debian binary package made
# with dpkg-deb from a staged install (make install DESTDIR=... PREFIX=/usr), with
# a stripped binary, gzipped man pages, a copyright file, changelog.Debian.gz,
# md5sums, and Depends computed by dpkg-shlibdeps from the libraries the binary
# links (ncursesw, sqlite3, yaml, zlib today; libpq once it is linked).
#   sh scripts/deb.sh VERSION BINARY      writes build/deb/strata_VERSION-1_ARCH.deb
# DEB_OUT sets the folder; DEB_MAINTAINER the Maintainer field.
set -eu
version=$1
bin=$2
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
umask 022
out=${DEB_OUT:-$top/build/deb}
arch=$(dpkg --print-architecture)
debver=$version-1
maint=${DEB_MAINTAINER:-$(git log -1 --format='%an <%ae>' 2>/dev/null || echo 'Strata maintainers <strata@localhost>')}
stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage/DEBIAN"

# Debian's zsh looks in vendor-completions, not in site-functions.
make -s --no-print-directory install DESTDIR="$stage" PREFIX=/usr INSTALL_BIN="$bin" \
    zshcompdir=/usr/share/zsh/vendor-completions >/dev/null
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/strata"
gzip -9n "$stage"/usr/share/man/man*/*

doc=$stage/usr/share/doc/strata
mkdir -p "$doc"
cat >"$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: strata

Files: *
Copyright: $(date -u +%Y) the Strata authors
License: strata
 The Strata authors have not chosen a licence for this code yet; until they
 do, it may be used and changed for evaluation only.
COPYRIGHT
date=$(git log -1 --format=%aD 2>/dev/null || date -R)
cat >"$stage/changelog" <<CHANGELOG
strata ($debver) unstable; urgency=medium

  * Package of Strata $version, built with make deb.

 -- $maint  $date
CHANGELOG
gzip -9nc "$stage/changelog" >"$doc/changelog.Debian.gz"
rm "$stage/changelog"
# Not uploaded to Debian, so there is no ITP bug for the changelog to close.
mkdir -p "$stage/usr/share/lintian/overrides"
echo "strata: initial-upload-closes-no-bugs" >"$stage/usr/share/lintian/overrides/strata"

# dpkg-shlibdeps wants a source package around it: a stub debian/control.
shl=$out/shlibdeps
rm -rf "$shl"
mkdir -p "$shl/debian"
printf 'Source: strata\n\nPackage: strata\nArchitecture: any\n' >"$shl/debian/control"
depends=$(cd "$shl" && dpkg-shlibdeps -O -e"$stage/usr/bin/strata" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
rm -rf "$shl"
[ -n "$depends" ] || { echo "deb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: strata
Version: $debver
Architecture: $arch
Maintainer: $maint
Installed-Size: $size
Depends: $depends
Section: devel
Priority: optional
Description: event-sourcing workbench for the terminal
 Strata loads a domain described in YAML (aggregates, commands with rules,
 versioned events with upcasters, projections), appends the events of every
 accepted command to an embedded SQLite event store, and shows any aggregate
 and any read model as it was at any point in history, in an ncurses
 workbench or from the command line. It imports, inspects and replays event
 files other systems wrote (NDJSON, JSON, CSV, CloudEvents).
CONTROL
(cd "$stage" && find usr -type f -exec md5sum {} + | sort -k2) >"$stage/DEBIAN/md5sums"
deb=$out/strata_${debver}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
