# Sourced by .ci/run: a throw-away PostgreSQL server for the tests (initdb/pg_ctl in a temporary
# folder, listening on 127.0.0.1 and a private socket folder only, a free port). On success it
# exports LLMREC_TEST_PG_URL; on failure LLMREC_TEST_PG_ERROR with the reason, so that the
# PostgreSQL tests FAIL with it instead of skipping. `pg_stop` (run from a trap) always stops it.

pg_start() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$bin" ] && command -v pg_ctl >/dev/null; then bin=$(dirname "$(command -v pg_ctl)"); fi
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        export LLMREC_TEST_PG_ERROR="no PostgreSQL server binaries (initdb, pg_ctl) found; install the postgresql package"
        return 1
    fi
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/llmrec-pg.XXXXXX")
    local as=()
    if [ "$(id -u)" = 0 ]; then   # initdb refuses to run as root: run the server as an unprivileged user
        local user=postgres
        id -u "$user" >/dev/null 2>&1 || user=nobody
        chown "$user" "$PG_DIR"
        as=(runuser -u "$user" --)
    fi
    PG_AS=("${as[@]}") PG_BIN=$bin   # for pg_stop, whatever happens next
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if ! "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U llmrec -A trust -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1; then
        export LLMREC_TEST_PG_ERROR="initdb failed: $(tail -n 3 "$PG_DIR/initdb.log" | tr '\n' ' ')"
        return 1
    fi
    mkdir -p "$PG_DIR/sock" && [ ${#as[@]} -eq 0 ] || chown "${as[2]}" "$PG_DIR/sock"
    if ! "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null 2>&1; then
        export LLMREC_TEST_PG_ERROR="pg_ctl start failed: $(tail -n 3 "$PG_DIR/server.log" 2>/dev/null | tr '\n' ' ')"
        return 1
    fi
    export LLMREC_TEST_PG_URL="postgresql+psycopg://llmrec@127.0.0.1:$port/postgres"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$port"
}

pg_stop() {
    if [ -n "${PG_DIR:-}" ] && [ -n "${PG_BIN:-}" ] && [ -d "$PG_DIR/data" ]; then
        ${PG_AS[@]+"${PG_AS[@]}"} "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    [ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
    return 0
}
