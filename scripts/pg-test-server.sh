#!/usr/bin/env bash
# A throwaway PostgreSQL for the storage suite, from Debian's postgresql package.
#   eval "$(scripts/pg-test-server.sh start)"   -> exports MAILGATE_TEST_POSTGRES_URL and PGTEST_DIR
#   scripts/pg-test-server.sh stop "$PGTEST_DIR"
# Runs the server as the `postgres` user (PostgreSQL refuses to run as root), on 127.0.0.1 and a
# free port, with trust authentication: it holds nothing but test databases and dies with the run.
set -euo pipefail

bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    echo "pg-test-server: PostgreSQL is not installed; run scripts/install-test-deps.sh (as root)" >&2
    return 1
}

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "${1:-}" in
start)
    bin=$(bindir)
    dir=$(mktemp -d /tmp/mailgate-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    port=$(free_port)
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { echo "pg-test-server: initdb failed, see $dir/initdb.log" >&2; cat "$dir/initdb.log" >&2; exit 1; }
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c max_connections=200" \
        start </dev/null >/dev/null 2>&1 \
        || { echo "pg-test-server: PostgreSQL did not start, see $dir/server.log" >&2; tail -20 "$dir/server.log" >&2; exit 1; }
    echo "export PGTEST_DIR=$dir"
    echo "export MAILGATE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    dir=${2:?usage: pg-test-server.sh stop DIR}
    bin=$(bindir)
    [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
