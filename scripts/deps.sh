#!/bin/sh
# deps.sh: installs the Debian packages Strata needs, if any are missing.
# Usage: deps.sh run|test. As root with apt-get it installs them; otherwise it
# stops and prints the exact apt-get line to run.
want="gcc make pkg-config libncurses-dev libsqlite3-dev libyaml-dev zlib1g-dev libpq-dev"
if [ "$1" = test ]; then
    # jansson is only the JSON tests' oracle; clang-format checks the layout in make test.
    want="$want libcmocka-dev libjansson-dev sqlite3 tmux clang clang-format libclang-rt-dev valgrind e2fsprogs python3 postgresql"
    # The man pages' lint (mandoc), the completions' tests (bash-completion, zsh)
    # and the Debian package's build and check (dpkg-dev, lintian).
    want="$want mandoc bash-completion zsh dpkg-dev lintian"
fi
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "strata: installing missing packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
        echo "strata: apt-get failed; run: apt-get install$missing" >&2
        exit 1
    }
else
    echo "strata: missing packages. Run:" >&2
    echo "  sudo apt-get install$missing" >&2
    exit 1
fi
