#!/usr/bin/env bash
# Load benchmark: requests/s and latency for /health, GET /api/products (cached),
# POST /api/predict (cached) and POST /api/transactions (checkout), against one instance
# directly and two instances behind nginx, on PostgreSQL (through pgBouncer for the
# cluster), with each instance's resident memory. Prints a Markdown table.
#
#   bench/load/run.sh [--duration 5] [--connections 64] [--threads 2] [--runs 3]
#
# Loopback only; every run is bounded by --duration. Needs wrk (installed if missing),
# the release binary (built if missing), PostgreSQL on 127.0.0.1:5432 and Redis on 6379.
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=5 connections=64 threads=2 runs=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bin=${SIPREMS_BIN:-target/release/siprems}
[[ -x "$bin" ]] || cargo build --release
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

work=$(mktemp -d)
chmod 755 "$work" # pgBouncer runs as postgres when we are root and reads its config below
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/local-cluster.sh down --data-dir "$work/cluster" >/dev/null 2>&1 || true
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS siprems_load" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

password=load-bench-password
export JWT_SECRET=load-benchmark-secret-that-is-long-enough SIPREMS_ADMIN_PASSWORD=$password
export SIPREMS_DEMO=0 SIPREMS_RATE_LIMITS=0 SIPREMS_LOG_FORMAT=json RUST_LOG=warn
export SIPREMS_IN_PROCESS_JOBS=0 REDIS_URL=redis://127.0.0.1:6379/0 SIPREMS_REDIS_PREFIX="load-$$:"

psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS siprems_load" >/dev/null
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE siprems_load" >/dev/null
direct_db=postgres://postgres@127.0.0.1:5432/siprems_load

wait_up() {
  for _ in $(seq 1 100); do curl -fs "$1/health" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "no answer from $1" >&2; return 1
}

token_for() {
  curl -fs "$1/api/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"admin@siprems.local\",\"password\":\"$password\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

prepare() {
  local base=$1 token=$2
  local n
  for n in $(seq -f '%03g' 1 50); do
    curl -fs "$base/api/products" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"sku\":\"LOAD-$n\",\"name\":\"Load test product $n\",\"price\":\"15000\",\"stock\":1000000000}" >/dev/null
  done
  # 120 days of history so the forecast has a model to serve.
  python3 - "$work/history.csv" <<'PY'
import datetime, sys
today = datetime.date.today()
with open(sys.argv[1], "w") as out:
    out.write("date,sku,quantity\n")
    for back in range(120, 0, -1):
        day = today - datetime.timedelta(days=back)
        out.write(f"{day},LOAD-001,{20 + 10 * (day.weekday() >= 5) + back % 3}\n")
PY
  DATABASE_URL=$direct_db "$bin" import "$work/history.csv" >/dev/null
  # Training is a worker's job in a deployment; an instance that trains in process keeps
  # the Prophet optimizer (a compiled WebAssembly component) in memory afterwards.
  DATABASE_URL=$direct_db "$bin" train --sku LOAD-001 >/dev/null
}

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
hwm_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

rows=()
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# wrk reports latencies as 1.23ms / 456.78us / 1.02s: milliseconds, for sorting.
to_ms() { awk '{v = $1; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; printf "%.2f\n", v}'; }
measure() { # LABEL TARGET URL TOKEN [SCRIPT]: the median of $runs wrk runs
  local label=$1 target=$2 url=$3 token=$4 script=${5:-}
  local args=(-t"$threads" -c"$connections" -d"${duration}s" --latency -H "Authorization: Bearer $token")
  [[ -n "$script" ]] && args+=(-s "bench/load/$script")
  local out rps=() p50=() p99=() errors=0 run
  for ((run = 1; run <= runs; run++)); do
    out=$(wrk "${args[@]}" "$url" 2>&1)
    rps+=("$(awk '/Requests\/sec/ {print $2}' <<<"$out")")
    p50+=("$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms)")
    p99+=("$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)")
    # Non-2xx answers plus socket errors (connect, read, write, timeout).
    errors=$((errors + $(awk '/Non-2xx/ {n += $5} /Socket errors/ {for (i = 3; i <= NF; i++) n += $i + 0} END {print n + 0}' <<<"$out")))
  done
  rows+=("| $target | $label | $(printf '%s\n' "${rps[@]}" | median) | $(printf '%s\n' "${p50[@]}" | median) ms | $(printf '%s\n' "${p99[@]}" | median) ms | $errors | $(printf '%s ' "${rps[@]}")|")
}

# --- one instance, direct, on PostgreSQL ---
DATABASE_URL=$direct_db SIPREMS_BIND=127.0.0.1:18181 "$bin" serve >"$work/single.log" 2>&1 &
single=$!
pids+=("$single")
wait_up http://127.0.0.1:18181
token=$(token_for http://127.0.0.1:18181)
prepare http://127.0.0.1:18181 "$token"
curl -fs http://127.0.0.1:18181/api/predict -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"product_sku":"LOAD-001","days":30}' >/dev/null
base=http://127.0.0.1:18181
measure "GET /health" "1 instance" "$base/health" "$token"
measure "GET /api/products (cached)" "1 instance" "$base/api/products" "$token"
measure "POST /api/predict (cached)" "1 instance" "$base/api/predict" "$token" predict.lua
measure "POST /api/transactions" "1 instance" "$base/api/transactions" "$token" checkout.lua
single_rss="$(rss_mb "$single") MB now, $(hwm_mb "$single") MB peak"
kill "$single"; wait "$single" 2>/dev/null || true

# --- two instances behind nginx, PostgreSQL through pgBouncer ---
cluster_rss="not measured"
if [[ -x deploy/local-cluster.sh ]]; then
  deploy/local-cluster.sh up --api 2 --workers 0 --base-port 18300 --db-name siprems_load \
    --no-rate-limits --binary "$bin" --data-dir "$work/cluster" \
    >"$work/cluster.log" 2>&1 || { cat "$work/cluster.log"; exit 1; }
  base=http://127.0.0.1:18300
  wait_up "$base"
  token=$(curl -fs "$base/api/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"admin@siprems.local\",\"password\":\"$password\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -fs "$base/api/predict" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"product_sku":"LOAD-001","days":30}' >/dev/null
  measure "GET /health" "2 instances + nginx" "$base/health" "$token"
  measure "GET /api/products (cached)" "2 instances + nginx" "$base/api/products" "$token"
  measure "POST /api/predict (cached)" "2 instances + nginx" "$base/api/predict" "$token" predict.lua
  measure "POST /api/transactions" "2 instances + nginx" "$base/api/transactions" "$token" checkout.lua
  cluster_rss=$(for f in "$work"/cluster/run/api-*.pid; do p=$(cat "$f"); printf '%s MB now / %s MB peak; ' "$(rss_mb "$p")" "$(hwm_mb "$p")"; done)
fi

cat <<TABLE
Load benchmark, $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),
wrk -t$threads -c$connections -d${duration}s, median of $runs runs, PostgreSQL $(psql -h 127.0.0.1 -U postgres -Atc 'SHOW server_version'), Redis cache.

| target | request | requests/s (median) | p50 | p99 | errors | requests/s, each run |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")

RSS, one instance under load: $single_rss
RSS per instance in the cluster: $cluster_rss
TABLE
