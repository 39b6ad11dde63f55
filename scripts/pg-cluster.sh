#!/bin/sh
# pg-cluster.sh: a throw-away PostgreSQL server for tests (and for a person who
# wants a local one), in a folder of its own.
#
#   scripts/pg-cluster.sh start DIR   initdb in DIR/data, start the server, print its URI
#   scripts/pg-cluster.sh stop DIR    stop it and remove DIR
#   scripts/pg-cluster.sh crash DIR   stop it as a power cut would (pg_ctl stop -m immediate)
#   scripts/pg-cluster.sh restart DIR start it again on the same port (after crash)
#
# The server listens on a Unix socket in DIR/sock and on a free TCP port on
# 127.0.0.1 only, with fsync on (the store's durability is tested as it runs in
# production). The superuser is `strata` with a random password (kept in
# DIR/password), so that the printed URI carries a password as real ones do and the
# tests can check that it never shows. PostgreSQL refuses to run as root: as root
# the cluster belongs to the system user `strata-pg` (created if missing), and DIR is
# made readable by it. The binaries are found in /usr/lib/postgresql/<newest>/bin
# (Debian) or on PATH.
set -eu

usage() {
    echo "usage: $0 start DIR | stop DIR | crash DIR | restart DIR" >&2
    exit 2
}
[ $# = 2 ] || usage
cmd=$1
dir=$2

bindir() {
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    echo "pg-cluster: no PostgreSQL server found (Debian: apt-get install postgresql)" >&2
    return 1
}

# as_owner CMD...: runs CMD as the cluster's owner (strata-pg when we are root).
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=strata-pg --regid=strata-pg --init-groups --reset-env -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    bin=$(bindir)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
        id strata-pg >/dev/null 2>&1 ||
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin strata-pg
        # The server must reach DIR: open every folder above it for traversal only.
        d=$dir
        while [ "$d" != / ]; do
            chmod o+x "$d" 2>/dev/null || true
            d=$(dirname "$d")
        done
        chown strata-pg:strata-pg "$dir"
    fi
    chmod 700 "$dir"
    as_owner mkdir -p "$dir/data" "$dir/sock"
    password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    umask 077
    printf '%s\n' "$password" | as_owner sh -c "cat >'$dir/password'"
    as_owner "$bin/initdb" -D "$dir/data" -U strata --pwfile="$dir/password" -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    tries=0
    while :; do
        port=$(free_port)
        as_owner sh -c "cat >>'$dir/data/postgresql.conf'" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/sock'
fsync = on
max_connections = 200
shared_buffers = 64MB
log_min_messages = warning
EOF
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 3 ]; then
            echo "pg-cluster: the server did not start; log:" >&2
            tail -20 "$dir/server.log" >&2
            exit 1
        fi
    done
    echo "$port" >"$dir/port"
    echo "postgresql://strata:$password@127.0.0.1:$port/postgres"
}

stop() {
    [ -d "$dir" ] || exit 0
    if [ -f "$dir/data/postmaster.pid" ]; then
        bin=$(bindir)
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

crash() {
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null
}

restart() {
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
}

case "$cmd" in
start) start ;;
stop) stop ;;
crash) crash ;;
restart) restart ;;
*) usage ;;
esac
