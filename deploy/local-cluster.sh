#!/usr/bin/env bash
# SIPREMS scaled topology on one machine, from Debian packages, loopback only.
#
#   deploy/local-cluster.sh up [--api N] [--workers M] [--base-port P] [--binary PATH]
#                              [--data-dir DIR] [--db-name NAME] [--demo] [--fresh]
#                              [--redis-url URL | --no-redis] [--model-store SPEC]
#                              [--db-url-params QS] [--no-rate-limits] [--timeout SECS]
#                              [--pool-mode transaction|session]
#   deploy/local-cluster.sh down   [--data-dir DIR] [--purge]
#   deploy/local-cluster.sh status [--data-dir DIR]
#   deploy/local-cluster.sh env    [--data-dir DIR]        # sourceable settings for clients
#   deploy/local-cluster.sh stop|start|restart NAME [--data-dir DIR]
#                                  # NAME: api-K, worker-K or scheduler (rolling restarts, kill tests)
#
# Topology (every address is 127.0.0.1; P = --base-port, default 18000):
#
#   client -> nginx :P  --round-robin-->  siprems serve :P+10 .. :P+10+N-1  (api-1..api-N)
#                                               |            siprems worker x M, siprems scheduler
#                                               v                 |
#                                      pgBouncer :P+1 (transaction pooling)
#                                               v
#                                      PostgreSQL :5432 (the machine's, trust auth, user postgres)
#   Redis: the machine's 127.0.0.1:6379, db 1 (REDIS_URL), key prefix per cluster database.
#
# `up` creates the database if missing (--fresh empties it first), runs `siprems migrate`
# directly against PostgreSQL (never through the transaction pooler), loads the demo shop
# directly with --demo, then starts pgBouncer, api-1 (which creates the admin on an empty
# database), the other instances, the workers, the scheduler and nginx, waiting for each to
# be healthy (bounded by --timeout) and stopping everything again, with the failing
# service's log tail, if one is not.
#
# State lives in the data dir (default /tmp/siprems-cluster): cluster.env (ports, URLs),
# jwt_secret and admin_password (generated once per data dir), run/*.pid (with each
# process's start time in run/*.start), log/*.log, and the rendered nginx and pgbouncer
# configs. `down` stops exactly the processes whose pid files are there and that are still
# the processes started then (same pid, same start time).
#
# The admin: SIPREMS_ADMIN_EMAIL (default admin@siprems.local) with SIPREMS_ADMIN_PASSWORD
# or a password generated into DATA_DIR/admin_password. The admin is created only on an
# empty database: reusing a database with another data dir keeps its old password (--fresh).
#
# Other SIPREMS_* / RUST_LOG variables in the caller's environment pass through to every
# siprems process (e.g. SIPREMS_TRAIN_CRON, SIPREMS_FORECAST_MODEL, SIPREMS_DB_MAX_CONNECTIONS).
#
# pgBouncer 1.18 and prepared statements: 1.18 cannot track named prepared statements in
# transaction mode (max_prepared_statements arrived in 1.21), so in transaction mode the
# siprems processes get `?pgbouncer=true` on DATABASE_URL, which makes them use unnamed
# statements inside a transaction each (see src/storage/executor.rs), and
# DATABASE_MIGRATION_URL pointing at PostgreSQL directly. `--pool-mode session` also works.

set -eEuo pipefail
shopt -u patsub_replacement 2>/dev/null || true

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$DEPLOY_DIR/.." && pwd)

# ---- defaults -------------------------------------------------------------------------
API_COUNT=2
WORKER_COUNT=1
BASE_PORT=${SIPREMS_CLUSTER_BASE_PORT:-18000}
BINARY=${SIPREMS_BINARY:-$REPO_DIR/target/release/siprems}
DATA_DIR=${SIPREMS_CLUSTER_DIR:-/tmp/siprems-cluster}
DB_NAME=siprems_cluster
DEMO=0
FRESH=0
PURGE=0
REDIS_URL_VALUE=redis://127.0.0.1:6379/1
MODEL_STORE=database
DB_URL_PARAMS=
RATE_LIMITS=1
POOL_MODE=transaction
TIMEOUT=60
PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres
ADMIN_EMAIL=${SIPREMS_ADMIN_EMAIL:-admin@siprems.local}

die() { echo "local-cluster: error: $*" >&2; exit 1; }
say() { echo "local-cluster: $*"; }

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# ---- argument parsing -----------------------------------------------------------------
COMMAND=${1:-}
[ -n "$COMMAND" ] || { usage; exit 2; }
shift
TARGET=
case "$COMMAND" in
    stop|start|restart) TARGET=${1:-}; [ -n "$TARGET" ] || die "$COMMAND needs a process name (api-K, worker-K, scheduler)"; shift ;;
esac
while [ $# -gt 0 ]; do
    case "$1" in
        --api) API_COUNT=$2; shift 2 ;;
        --workers) WORKER_COUNT=$2; shift 2 ;;
        --base-port) BASE_PORT=$2; shift 2 ;;
        --binary) BINARY=$2; shift 2 ;;
        --data-dir) DATA_DIR=$2; shift 2 ;;
        --db-name) DB_NAME=$2; shift 2 ;;
        --demo) DEMO=1; shift ;;
        --fresh) FRESH=1; shift ;;
        --purge) PURGE=1; shift ;;
        --redis-url) REDIS_URL_VALUE=$2; shift 2 ;;
        --no-redis) REDIS_URL_VALUE=; shift ;;
        --model-store) MODEL_STORE=$2; shift 2 ;;
        --db-url-params) DB_URL_PARAMS=$2; shift 2 ;;
        --no-rate-limits) RATE_LIMITS=0; shift ;;
        --pool-mode) POOL_MODE=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

if ! [[ "$API_COUNT" =~ ^[1-9][0-9]?$ && "$API_COUNT" -le 80 ]]; then die "--api must be 1..80"; fi
if ! [[ "$WORKER_COUNT" =~ ^[0-9]+$ && "$WORKER_COUNT" -le 32 ]]; then die "--workers must be 0..32"; fi
if ! [[ "$BASE_PORT" =~ ^[0-9]+$ && "$BASE_PORT" -ge 1024 && "$BASE_PORT" -le 65400 ]]; then
    die "--base-port must be 1024..65400"
fi
[[ "$DB_NAME" =~ ^[a-z_][a-z0-9_]*$ ]] || die "--db-name must be a plain lower-case identifier"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "--timeout must be seconds"
case "$POOL_MODE" in transaction|session) ;; *) die "--pool-mode must be transaction or session" ;; esac
[ "$COMMAND" = up ] && mkdir -p "$DATA_DIR"
if [ -d "$DATA_DIR" ]; then DATA_DIR=$(cd "$DATA_DIR" && pwd); fi
case "$DATA_DIR" in /*) ;; *) DATA_DIR=$PWD/$DATA_DIR ;; esac
RUN_DIR=$DATA_DIR/run
LOG_DIR=$DATA_DIR/log
STATE_FILE=$DATA_DIR/cluster.env

# ---- state ------------------------------------------------------------------------------
# `up` writes everything the other commands need into cluster.env; they read it back so
# `down`/`status` need only --data-dir.
load_state() {
    [ -f "$STATE_FILE" ] || return 1
    # shellcheck disable=SC1090
    . "$STATE_FILE"
    API_COUNT=$SIPREMS_CLUSTER_API_COUNT
    WORKER_COUNT=$SIPREMS_CLUSTER_WORKER_COUNT
    BASE_PORT=$SIPREMS_CLUSTER_BASE_PORT
    BINARY=$SIPREMS_CLUSTER_BINARY
    DB_NAME=$SIPREMS_CLUSTER_DB_NAME
    REDIS_URL_VALUE=$SIPREMS_CLUSTER_REDIS_URL
    MODEL_STORE=$SIPREMS_CLUSTER_MODEL_STORE
    DB_URL_PARAMS=$SIPREMS_CLUSTER_DB_URL_PARAMS
    RATE_LIMITS=$SIPREMS_CLUSTER_RATE_LIMITS
    POOL_MODE=${SIPREMS_CLUSTER_POOL_MODE:-transaction}
    ADMIN_EMAIL=$SIPREMS_ADMIN_EMAIL
    derive_ports
}

derive_ports() {
    NGINX_PORT=$BASE_PORT
    PGB_PORT=$((BASE_PORT + 1))
    API_PORT0=$((BASE_PORT + 10))
}
api_port() { echo $((API_PORT0 + $1 - 1)); }

process_names() {
    # Start order; `down` walks it backwards.
    echo pgbouncer
    local i
    for ((i = 1; i <= API_COUNT; i++)); do echo "api-$i"; done
    for ((i = 1; i <= WORKER_COUNT; i++)); do echo "worker-$i"; done
    echo scheduler
    echo nginx
}

# The pid in NAME's pid file, if that process is alive and is ours (pids get reused; we
# never signal a stranger). Ours means: the same start time as the process `spawn` started
# (run/NAME.start). The start time never changes; the command line and environment do, and
# read back *empty* while a process execs (the kernel swaps in the new memory before it
# writes the new arguments), which happens three times right after spawn (subshell ->
# setsid -> env -> siprems): checking those made a healthy, just-started process look
# dead now and then. Pid files without a start time (an older script's) fall back to the
# command line or environment naming this data dir.
owned_pid() {
    local file=$RUN_DIR/$1.pid pid started=
    [ -f "$file" ] || return 1
    pid=$(cat "$file" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    alive "$pid" || return 1
    if [ -s "$RUN_DIR/$1.start" ]; then
        started=$(start_time "$pid") || return 1
        [ "$started" = "$(cat "$RUN_DIR/$1.start" 2>/dev/null)" ] || return 1
    elif ! grep -qzF -- "$DATA_DIR" "/proc/$pid/cmdline" 2>/dev/null &&
        ! grep -qzxF -- "SIPREMS_CLUSTER_DIR=$DATA_DIR" "/proc/$pid/environ" 2>/dev/null; then
        return 1
    fi
    echo "$pid"
}

# PID's start time, in clock ticks since boot (/proc/PID/stat field 22).
start_time() {
    local stat fields
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    # Field 2, the command name in parentheses, may contain spaces: split after it.
    read -ra fields <<<"${stat##*) }"
    [[ "${fields[19]:-}" =~ ^[0-9]+$ ]] || return 1
    echo "${fields[19]}"
}

# Why NAME's process is gone, when this shell started it: " (exit status N)" or
# " (killed by signal N, NAME)" in EXIT_REASON, else nothing. Not in a command
# substitution: a subshell cannot wait for its parent's children.
exit_reason() {
    local pid rc=0
    EXIT_REASON=
    pid=$(cat "$RUN_DIR/$1.pid" 2>/dev/null) || return 0
    [[ "$pid" =~ ^[0-9]+$ ]] && ! alive "$pid" || return 0
    wait "$pid" 2>/dev/null || rc=$?
    if [ "$rc" = 127 ]; then return 0; fi # not our child (another invocation started it)
    if [ "$rc" -gt 128 ]; then
        EXIT_REASON=" (killed by signal $((rc - 128)), SIG$(kill -l "$((rc - 128))" 2>/dev/null || echo '?'))"
    else
        EXIT_REASON=" (exit status $rc)"
    fi
}

log_tail() {
    local name=$1 file=$LOG_DIR/$1.log
    echo "----- last 40 lines of $file -----" >&2
    tail -n 40 "$file" >&2 2>/dev/null || echo "(no log)" >&2
    echo "-----" >&2
}

# ---- tools ------------------------------------------------------------------------------
ensure_package() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    [ -x "/usr/sbin/$1" ] && return 0
    [ "$(id -u)" -eq 0 ] || die "$1 is missing: apt-get install -y $2 (as root)"
    say "installing $2 (Debian package)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >"$LOG_DIR/apt-$2.log" 2>&1; then
        apt-get update >>"$LOG_DIR/apt-$2.log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >>"$LOG_DIR/apt-$2.log" 2>&1 ||
            { tail -20 "$LOG_DIR/apt-$2.log" >&2; die "could not install $2"; }
    fi
}

port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

psql_pg() { psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$@"; }
psql_admin() { psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -U postgres -d pgbouncer "$@"; }

# render TEMPLATE OUT KEY=VALUE...: replaces ${KEY}; refuses to leave a placeholder behind.
render() {
    local template=$1 out=$2 text key value
    shift 2
    text=$(<"$template")
    for pair in "$@"; do
        key=${pair%%=*}
        value=${pair#*=}
        text=${text//"\${$key}"/"$value"}
    done
    if grep -qE '\$\{(NGINX|PGB|PG)_[A-Z_]+\}' <<<"$text"; then
        die "unrendered placeholder in $template: $(grep -oE '\$\{(NGINX|PGB|PG)_[A-Z_]+\}' <<<"$text" | sort -u | tr '\n' ' ')"
    fi
    printf '%s\n' "$text" >"$out"
}

# wait_until NAME DESCRIPTION COMMAND...: polls COMMAND every 0.25 s until it succeeds; fails
# loudly (log tail) when NAME's process dies or the deadline passes.
wait_until() {
    local name=$1 what=$2 deadline=$((SECONDS + TIMEOUT))
    shift 2
    while :; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        if ! owned_pid "$name" >/dev/null; then
            exit_reason "$name"
            echo "local-cluster: error: $name exited$EXIT_REASON while waiting for $what" >&2
            log_tail "$name"
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "local-cluster: error: $name: $what not reached within ${TIMEOUT}s" >&2
            log_tail "$name"
            return 1
        fi
        sleep 0.25
    done
}

http_ok() { curl -fsS -m 2 -o /dev/null "$1"; }

# ---- starting processes ---------------------------------------------------------------
# spawn NAME COMMAND...: runs COMMAND in its own session, output to log/NAME.log, pid file.
spawn() {
    local name=$1
    shift
    local shown=() arg
    for arg in "$@"; do
        case "$arg" in
            JWT_SECRET=*|SIPREMS_ADMIN_PASSWORD=*) shown+=("${arg%%=*}=***") ;;
            *) shown+=("$arg") ;;
        esac
    done
    echo "=== $(date -Is) starting: ${shown[*]}" >>"$LOG_DIR/$name.log"
    setsid "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1 &
    local pid=$!
    echo "$pid" >"$RUN_DIR/$name.pid"
    # The start time identifies the process for good (see owned_pid); read at once, while
    # the pid can only be this child's.
    start_time "$pid" >"$RUN_DIR/$name.start" || rm -f "$RUN_DIR/$name.start"
}

database_url_pooled() {
    local url="postgres://$PG_USER@127.0.0.1:$PGB_PORT/$DB_NAME" params=$DB_URL_PARAMS
    if [ "$POOL_MODE" = transaction ]; then params="pgbouncer=true${params:+&$params}"; fi
    [ -n "$params" ] && url="$url?$params"
    echo "$url"
}
database_url_direct() { echo "postgres://$PG_USER@$PG_HOST:$PG_PORT/$DB_NAME"; }

# The environment every siprems process of this cluster runs with.
siprems_env() {
    local -a e=(
        "SIPREMS_CLUSTER_DIR=$DATA_DIR"
        "DATABASE_URL=$(database_url_pooled)"
        "DATABASE_MIGRATION_URL=$(database_url_direct)"
        "JWT_SECRET=$(cat "$DATA_DIR/jwt_secret")"
        "SIPREMS_ADMIN_EMAIL=$ADMIN_EMAIL"
        "SIPREMS_ADMIN_PASSWORD=$(cat "$DATA_DIR/admin_password")"
        "SIPREMS_DEMO=0"
        "SIPREMS_IN_PROCESS_JOBS=0"
        "SIPREMS_TRUST_PROXY=1"
        "SIPREMS_RATE_LIMITS=$RATE_LIMITS"
        "SIPREMS_MODEL_STORE=$MODEL_STORE"
        "SIPREMS_LOG_FORMAT=${SIPREMS_LOG_FORMAT:-json}"
        "SIPREMS_REDIS_PREFIX=${SIPREMS_REDIS_PREFIX:-siprems:$DB_NAME:$(cat "$DATA_DIR/redis_epoch"):}"
    )
    if [ -n "$REDIS_URL_VALUE" ]; then e+=("REDIS_URL=$REDIS_URL_VALUE"); fi
    # Session pooling pins one server connection per client connection for its lifetime:
    # keep the processes' pools small enough to fit default_pool_size + reserve (30).
    if [ "$POOL_MODE" = session ] && [ -z "${SIPREMS_DB_MAX_CONNECTIONS:-}" ]; then
        local per=$((25 / (API_COUNT + WORKER_COUNT + 1)))
        [ "$per" -ge 2 ] || per=2
        e+=("SIPREMS_DB_MAX_CONNECTIONS=$per")
    fi
    printf '%s\0' "${e[@]}"
}

start_siprems() { # NAME
    local name=$1 cmd
    local -a envs=()
    mapfile -d '' envs < <(siprems_env)
    case "$name" in
        api-*) cmd=(serve); envs+=("SIPREMS_BIND=127.0.0.1:$(api_port "${name#api-}")") ;;
        worker-*) cmd=(worker) ;;
        scheduler) cmd=(scheduler) ;;
        *) die "unknown process $name" ;;
    esac
    # REDIS_URL must not leak in from the caller when --no-redis was asked for.
    spawn "$name" env -u REDIS_URL "${envs[@]}" "$BINARY" "${cmd[@]}"
}

wait_siprems() { # NAME
    local name=$1 port
    case "$name" in
        api-*)
            port=$(api_port "${name#api-}")
            wait_until "$name" "GET /health on :$port" http_ok "http://127.0.0.1:$port/health" &&
                wait_until "$name" "GET /ready on :$port" http_ok "http://127.0.0.1:$port/ready"
            ;;
        *)
            # No HTTP endpoint: alive after a grace period (it connected and did not exit).
            local until=$((SECONDS + 2))
            while [ "$SECONDS" -lt "$until" ]; do
                if ! owned_pid "$name" >/dev/null; then
                    exit_reason "$name"
                    echo "local-cluster: error: $name exited$EXIT_REASON" >&2
                    log_tail "$name"
                    return 1
                fi
                sleep 0.25
            done
            ;;
    esac
}

# Alive and not a zombie (an exited process nobody has reaped yet still answers kill -0).
alive() {
    local stat
    kill -0 "$1" 2>/dev/null || return 1
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

stop_one() { # NAME -> stops it if it is ours and alive
    local name=$1 pid sig=TERM deadline started=$EPOCHREALTIME
    pid=$(owned_pid "$name") || { rm -f "$RUN_DIR/$name.pid" "$RUN_DIR/$name.start"; return 0; }
    # nginx: QUIT is its graceful shutdown (finish in-flight requests); the others shut
    # down gracefully on TERM.
    [ "$name" = nginx ] && sig=QUIT
    kill -"$sig" "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 15))
    while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
    if alive "$pid"; then
        say "$name (pid $pid) did not stop in 15 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    rm -f "$RUN_DIR/$name.pid" "$RUN_DIR/$name.start"
    say "stopped $name (pid $pid) in $(elapsed_since "$started") s"
}

elapsed_since() { # EPOCHREALTIME value -> seconds since, one decimal
    local now=$EPOCHREALTIME
    awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

stop_all() {
    local names name
    mapfile -t names < <(process_names)
    for ((i = ${#names[@]} - 1; i >= 0; i--)); do
        name=${names[$i]}
        stop_one "$name"
    done
    # Anything left from a larger earlier cluster in the same data dir.
    local file
    for file in "$RUN_DIR"/*.pid; do
        [ -e "$file" ] || continue
        stop_one "$(basename "$file" .pid)"
    done
}

any_running() {
    local file
    for file in "$RUN_DIR"/*.pid; do
        [ -e "$file" ] || continue
        owned_pid "$(basename "$file" .pid)" >/dev/null && return 0
    done
    return 1
}

write_state() {
    local urls="" i
    for ((i = 1; i <= API_COUNT; i++)); do urls="$urls http://127.0.0.1:$(api_port "$i")"; done
    cat >"$STATE_FILE" <<EOF
# Written by deploy/local-cluster.sh up on $(date -Is); source it to talk to the cluster.
SIPREMS_CLUSTER_DIR='$DATA_DIR'
SIPREMS_CLUSTER_URL='http://127.0.0.1:$NGINX_PORT'
SIPREMS_CLUSTER_API_URLS='${urls# }'
SIPREMS_CLUSTER_PGBOUNCER_URL='postgres://$PG_USER@127.0.0.1:$PGB_PORT/$DB_NAME'
SIPREMS_CLUSTER_DATABASE_URL='$(database_url_direct)'
SIPREMS_CLUSTER_API_COUNT=$API_COUNT
SIPREMS_CLUSTER_WORKER_COUNT=$WORKER_COUNT
SIPREMS_CLUSTER_BASE_PORT=$BASE_PORT
SIPREMS_CLUSTER_NGINX_PORT=$NGINX_PORT
SIPREMS_CLUSTER_PGBOUNCER_PORT=$PGB_PORT
SIPREMS_CLUSTER_BINARY='$BINARY'
SIPREMS_CLUSTER_DB_NAME='$DB_NAME'
SIPREMS_CLUSTER_REDIS_URL='$REDIS_URL_VALUE'
SIPREMS_CLUSTER_MODEL_STORE='$MODEL_STORE'
SIPREMS_CLUSTER_DB_URL_PARAMS='$DB_URL_PARAMS'
SIPREMS_CLUSTER_RATE_LIMITS=$RATE_LIMITS
SIPREMS_CLUSTER_POOL_MODE=$POOL_MODE
SIPREMS_ADMIN_EMAIL='$ADMIN_EMAIL'
SIPREMS_ADMIN_PASSWORD_FILE='$DATA_DIR/admin_password'
EOF
}

# ---- commands ---------------------------------------------------------------------------
fail_up() {
    trap - ERR
    echo "local-cluster: up failed; stopping what was started (logs stay in $LOG_DIR)" >&2
    stop_all
    exit 1
}

cmd_up() {
    derive_ports
    mkdir -p "$RUN_DIR" "$DATA_DIR/nginx/tmp" "$DATA_DIR/pgbouncer"
    if any_running; then
        echo "local-cluster: a cluster is already running from $DATA_DIR; run 'down' first (or 'status')" >&2
        exit 1
    fi
    # Fresh logs for each `up`; the previous run's stay in log.prev/.
    if [ -d "$LOG_DIR" ]; then rm -rf "$LOG_DIR.prev"; mv "$LOG_DIR" "$LOG_DIR.prev"; fi
    mkdir -p "$LOG_DIR"
    [ -x "$BINARY" ] || die "no siprems binary at $BINARY (cargo build --release, or --binary PATH)"
    ensure_package psql postgresql-client
    ensure_package pgbouncer pgbouncer
    ensure_package nginx nginx
    command -v curl >/dev/null || ensure_package curl curl
    local PGBOUNCER NGINX
    PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)

    local i port
    for port in "$NGINX_PORT" "$PGB_PORT"; do
        port_in_use "$port" && die "port $port is already in use (choose another --base-port)"
    done
    for ((i = 1; i <= API_COUNT; i++)); do
        port=$(api_port "$i")
        port_in_use "$port" && die "port $port is already in use (choose another --base-port)"
    done

    # Secrets, once per data dir.
    if [ ! -s "$DATA_DIR/jwt_secret" ]; then
        (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$DATA_DIR/jwt_secret")
    fi
    if [ -n "${SIPREMS_ADMIN_PASSWORD:-}" ]; then
        (umask 077; printf '%s' "$SIPREMS_ADMIN_PASSWORD" >"$DATA_DIR/admin_password")
    elif [ ! -s "$DATA_DIR/admin_password" ]; then
        (umask 077; head -c 24 /dev/urandom | base64 | tr -d '\n/+=' >"$DATA_DIR/admin_password")
        GENERATED_PASSWORD=1
    fi

    # PostgreSQL: the machine's server, direct.
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 5 || die "PostgreSQL is not accepting connections on $PG_HOST:$PG_PORT"
    if [ "$(psql_pg -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]; then
        say "creating database $DB_NAME"
        psql_pg -d postgres -c "CREATE DATABASE $DB_NAME" >/dev/null
        rm -f "$DATA_DIR/redis_epoch"
    elif [ "$FRESH" = 1 ]; then
        # Emptied in place rather than dropped: DROP DATABASE makes the whole server run an
        # immediate checkpoint, which takes minutes on a busy machine (CI, parallel tests).
        # Every schema goes (public, the job queue's, extensions with them); the migrations
        # recreate what SIPREMS needs.
        say "emptying database $DB_NAME (--fresh)"
        psql_pg -d "$DB_NAME" -c "SET lock_timeout = '15s'" -c "DO \$\$
            DECLARE s text;
            BEGIN
                FOR s IN SELECT nspname FROM pg_namespace
                         WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP
                    EXECUTE format('DROP SCHEMA %I CASCADE', s);
                END LOOP;
                CREATE SCHEMA public;
            END \$\$" >/dev/null
        rm -f "$DATA_DIR/redis_epoch"
    fi
    # Redis keys carry a prefix naming this database *and* its creation (the epoch), so a
    # recreated database never sees cache entries or counters left by its predecessor; old
    # keys simply expire (no KEYS/SCAN deletes).
    if [ ! -s "$DATA_DIR/redis_epoch" ]; then
        head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DATA_DIR/redis_epoch"
    fi
    if [ -n "$REDIS_URL_VALUE" ] && command -v redis-cli >/dev/null; then
        [ "$(redis-cli -u "$REDIS_URL_VALUE" ping 2>&1)" = PONG ] || die "Redis does not answer PING at $REDIS_URL_VALUE (or use --no-redis)"
    fi
    # Migrations go straight to PostgreSQL: sqlx's migrator holds a session-level advisory
    # lock across statements, which a transaction pooler cannot keep on one server connection.
    say "migrating (direct to PostgreSQL $PG_HOST:$PG_PORT)"
    if ! env SIPREMS_CLUSTER_DIR="$DATA_DIR" DATABASE_URL="$(database_url_direct)" SIPREMS_LOG_FORMAT=json \
        "$BINARY" migrate >"$LOG_DIR/migrate.log" 2>&1; then
        log_tail migrate
        die "siprems migrate failed"
    fi
    if [ "$DEMO" = 1 ]; then
        if [ "$(psql_pg -d "$DB_NAME" -Atc 'SELECT count(*) FROM products')" = 0 ]; then
            say "loading the demo shop (direct to PostgreSQL; takes a while)"
            env SIPREMS_CLUSTER_DIR="$DATA_DIR" DATABASE_URL="$(database_url_direct)" SIPREMS_LOG_FORMAT=json \
                "$BINARY" seed --demo >"$LOG_DIR/seed.log" 2>&1 || { log_tail seed; die "siprems seed --demo failed"; }
        else
            say "database $DB_NAME already has products: not loading the demo shop"
        fi
    fi
    if [ "${GENERATED_PASSWORD:-0}" = 1 ] && [ "$(psql_pg -d "$DB_NAME" -Atc 'SELECT count(*) FROM users')" != 0 ]; then
        say "warning: $DB_NAME already has users; the admin keeps the password it was created with (use --fresh)"
    fi

    write_state
    # From here on, any failure stops whatever was started (logs stay).
    trap 'fail_up' ERR

    # pgBouncer. It refuses to run as root: as root, switch to the postgres (or nobody) user.
    local pgb_user=() run_as=""
    if [ "$(id -u)" -eq 0 ]; then
        run_as=postgres
        id -u postgres >/dev/null 2>&1 || run_as=nobody
        pgb_user=(-u "$run_as")
    fi
    printf '"%s" ""\n' "$PG_USER" >"$DATA_DIR/pgbouncer/userlist.txt"
    render "$DEPLOY_DIR/pgbouncer/pgbouncer.ini.template" "$DATA_DIR/pgbouncer/pgbouncer.ini" \
        "PG_DBNAME=$DB_NAME" "PG_HOST=$PG_HOST" "PG_PORT=$PG_PORT" \
        "PGB_LISTEN_ADDR=127.0.0.1" "PGB_LISTEN_PORT=$PGB_PORT" \
        "PGB_AUTH_TYPE=trust" "PGB_POOL_MODE=$POOL_MODE" "PGB_AUTH_FILE=$DATA_DIR/pgbouncer/userlist.txt" \
        "PGB_LOG_FILE=" "PGB_PID_FILE="
    chmod 755 "$DATA_DIR/pgbouncer"
    chmod 644 "$DATA_DIR/pgbouncer/"*
    [ -n "$run_as" ] && chown -R "$run_as" "$DATA_DIR/pgbouncer"
    say "starting pgbouncer on 127.0.0.1:$PGB_PORT ($POOL_MODE pooling)"
    spawn pgbouncer "$PGBOUNCER" "${pgb_user[@]}" "$DATA_DIR/pgbouncer/pgbouncer.ini"
    wait_until pgbouncer "SHOW POOLS on :$PGB_PORT" psql_admin -c 'SHOW POOLS' || fail_up
    wait_until pgbouncer "SELECT 1 through :$PGB_PORT" \
        psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -U "$PG_USER" -d "$DB_NAME" -c 'SELECT 1' || fail_up

    # api-1 first: on an empty database it creates the admin; the others then find it.
    say "starting api-1 on 127.0.0.1:$(api_port 1)"
    start_siprems api-1
    wait_siprems api-1 || fail_up
    for ((i = 2; i <= API_COUNT; i++)); do
        say "starting api-$i on 127.0.0.1:$(api_port "$i")"
        start_siprems "api-$i"
    done
    for ((i = 2; i <= API_COUNT; i++)); do wait_siprems "api-$i" || fail_up; done
    for ((i = 1; i <= WORKER_COUNT; i++)); do
        say "starting worker-$i"
        start_siprems "worker-$i"
    done
    say "starting scheduler"
    start_siprems scheduler
    for ((i = 1; i <= WORKER_COUNT; i++)); do wait_siprems "worker-$i" || fail_up; done
    wait_siprems scheduler || fail_up

    # nginx: its own config, pid, logs and temp dirs; not the system service.
    local upstreams="" exempt="" user_line
    for ((i = 1; i <= API_COUNT; i++)); do
        upstreams+="        server 127.0.0.1:$(api_port "$i") max_fails=1 fail_timeout=5s;"$'\n'
    done
    [ "$RATE_LIMITS" = 0 ] && exempt="        127.0.0.0/8 0;"
    user_line="$(id -un) $(id -gn)"
    [ "$(id -u)" -eq 0 ] && user_line="nobody nogroup"
    render "$DEPLOY_DIR/nginx/nginx.conf.template" "$DATA_DIR/nginx/nginx.conf" \
        "NGINX_USER=$user_line" \
        "NGINX_PID_FILE=$DATA_DIR/nginx/nginx.pid" \
        "NGINX_ERROR_LOG=$LOG_DIR/nginx.log" \
        "NGINX_ACCESS_LOG=$LOG_DIR/nginx-access.log" \
        "NGINX_TEMP_DIR=$DATA_DIR/nginx/tmp" \
        "NGINX_LISTEN=127.0.0.1:$NGINX_PORT" \
        "NGINX_UPSTREAM_SERVERS=${upstreams%$'\n'}" \
        "NGINX_LIMIT_EXEMPT=$exempt"
    if ! "$NGINX" -t -q -p "$DATA_DIR/nginx/" -c "$DATA_DIR/nginx/nginx.conf" -e stderr >>"$LOG_DIR/nginx.log" 2>&1; then
        log_tail nginx
        fail_up
    fi
    say "starting nginx on 127.0.0.1:$NGINX_PORT"
    spawn nginx "$NGINX" -p "$DATA_DIR/nginx/" -c "$DATA_DIR/nginx/nginx.conf" -e "$LOG_DIR/nginx.log" -g 'daemon off;'
    wait_until nginx "GET /health through nginx" http_ok "http://127.0.0.1:$NGINX_PORT/health" || fail_up
    wait_until nginx "GET /ready through nginx" http_ok "http://127.0.0.1:$NGINX_PORT/ready" || fail_up
    trap - ERR

    say "up: $API_COUNT api, $WORKER_COUNT worker(s), 1 scheduler"
    say "  nginx      http://127.0.0.1:$NGINX_PORT"
    say "  pgbouncer  127.0.0.1:$PGB_PORT (psql -h 127.0.0.1 -p $PGB_PORT -U postgres pgbouncer -c 'SHOW POOLS')"
    for ((i = 1; i <= API_COUNT; i++)); do say "  api-$i      http://127.0.0.1:$(api_port "$i")"; done
    say "  admin      $ADMIN_EMAIL / password in $DATA_DIR/admin_password"
    say "  settings   source $STATE_FILE   (or: $0 env --data-dir $DATA_DIR)"
}

cmd_down() {
    if ! load_state; then
        # Never started here (or purged): nothing of ours can run.
        say "nothing to stop in $DATA_DIR"
        return 0
    fi
    stop_all
    if [ "$PURGE" = 1 ]; then
        say "dropping database $DB_NAME and removing $DATA_DIR (--purge)"
        psql_pg -d postgres -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null || true
        rm -rf "$DATA_DIR"
    fi
    say "down"
}

cmd_status() {
    load_state || { say "no cluster in $DATA_DIR"; return 3; }
    local name pid health bad=0 port
    printf '%-11s %-8s %-8s %s\n' PROCESS PID STATE HEALTH
    while read -r name; do
        if pid=$(owned_pid "$name"); then
            case "$name" in
                api-*)
                    port=$(api_port "${name#api-}")
                    health="127.0.0.1:$port /health $(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")"
                    health+=" /ready $(curl -s -m 2 -w ' %{http_code}' "http://127.0.0.1:$port/ready" | tr -d '\n')"
                    http_ok "http://127.0.0.1:$port/ready" || bad=1
                    ;;
                nginx)
                    health="127.0.0.1:$NGINX_PORT /health $(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NGINX_PORT/health")"
                    http_ok "http://127.0.0.1:$NGINX_PORT/health" || bad=1
                    ;;
                pgbouncer)
                    local pools
                    if pools=$(psql_admin -A -F'|' -c 'SHOW POOLS' 2>&1); then
                        # Columns by name (they differ between pgBouncer versions).
                        health=$(awk -F'|' -v db="$DB_NAME" '
                            NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
                            $col["database"] == db {
                                printf "pool %s/%s %s cl_active=%s cl_waiting=%s sv_active=%s sv_idle=%s sv_used=%s; ",
                                    $col["database"], $col["user"], $col["pool_mode"], $col["cl_active"],
                                    $col["cl_waiting"], $col["sv_active"], $col["sv_idle"], $col["sv_used"] }' <<<"$pools")
                        health="127.0.0.1:$PGB_PORT ${health:-up (no pool for $DB_NAME yet)}"
                    else
                        health="SHOW POOLS failed: $pools"
                        bad=1
                    fi
                    ;;
                *) health="running (no HTTP endpoint)" ;;
            esac
            printf '%-11s %-8s %-8s %s\n' "$name" "$pid" up "$health"
        else
            printf '%-11s %-8s %-8s %s\n' "$name" - down -
            bad=1
        fi
    done < <(process_names)
    return "$bad"
}

cmd_env() {
    load_state || die "no cluster in $DATA_DIR"
    grep -v '^#' "$STATE_FILE"
}

cmd_single() { # stop|start|restart NAME
    load_state || die "no cluster in $DATA_DIR"
    case "$TARGET" in
        api-[0-9]*|worker-[0-9]*|scheduler) ;;
        *) die "$COMMAND works on api-K, worker-K or scheduler, not $TARGET" ;;
    esac
    case "$COMMAND" in
        stop) stop_one "$TARGET" ;;
        start|restart)
            [ "$COMMAND" = restart ] && stop_one "$TARGET"
            owned_pid "$TARGET" >/dev/null && die "$TARGET is already running"
            start_siprems "$TARGET"
            wait_siprems "$TARGET" || { stop_one "$TARGET"; exit 1; }
            say "started $TARGET (pid $(owned_pid "$TARGET"))"
            ;;
    esac
}

case "$COMMAND" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    stop|start|restart) cmd_single ;;
    -h|--help|help) usage ;;
    *) usage; exit 2 ;;
esac
