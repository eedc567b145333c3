#!/bin/sh
# Renders /etc/pgbouncer/pgbouncer.ini.template into /run/pgbouncer and runs pgBouncer in the
# foreground (logs to stderr). Settings come from the environment (see docker-compose.yml).
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
export PG_HOST="${PG_HOST:-postgres}"
export PG_PORT="${PG_PORT:-5432}"
export PG_DBNAME="${PG_DBNAME:-siprems}"
export PGB_LISTEN_ADDR="${PGB_LISTEN_ADDR:-0.0.0.0}"
export PGB_LISTEN_PORT="${PGB_LISTEN_PORT:-6432}"
export PGB_POOL_MODE="${PGB_POOL_MODE:-transaction}"
export PGB_AUTH_TYPE="${PGB_AUTH_TYPE:-scram-sha-256}"
export PGB_AUTH_FILE=/run/pgbouncer/userlist.txt
export PGB_LOG_FILE=
export PGB_PID_FILE=
umask 077
# Plain password in the userlist: pgBouncer uses it both to check clients (SCRAM) and to log
# in to PostgreSQL (SCRAM), which a stored verifier alone cannot do.
printf '"postgres" "%s"\n' "$(printf '%s' "$POSTGRES_PASSWORD" | sed 's/"/""/g')" > "$PGB_AUTH_FILE"
envsubst '${PG_HOST} ${PG_PORT} ${PG_DBNAME} ${PGB_LISTEN_ADDR} ${PGB_LISTEN_PORT} ${PGB_POOL_MODE} ${PGB_AUTH_TYPE} ${PGB_AUTH_FILE} ${PGB_LOG_FILE} ${PGB_PID_FILE}' \
    < /etc/pgbouncer/pgbouncer.ini.template > /run/pgbouncer/pgbouncer.ini
exec pgbouncer /run/pgbouncer/pgbouncer.ini
