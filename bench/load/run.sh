#!/usr/bin/env bash
# Load benchmark: requests/s and latency for /health, GET /api/products (cached),
# POST /api/predict (cached) and POST /api/transactions (checkout), against one instance
# directly and two instances behind nginx, on PostgreSQL (through pgBouncer for the
# cluster), with each instance's resident memory: the peak sampled during each row, and
# at the end the current RSS next to the process's peak (VmHWM). Prints a Markdown table.
#
#   bench/load/run.sh [--duration 5] [--connections 64] [--threads 2] [--runs 3]
#   BASELINE_BIN=/path/to/old/siprems bench/load/run.sh ...
#
# With BASELINE_BIN, every scenario runs against both binaries (the baseline "before",
# SIPREMS_BIN or target/release/siprems "after"), side by side and interleaved run by run
# (before/after, then after/before, ...) so the machine's drift hits both alike; each row
# shows the medians of --runs runs for both and the ratio after/before.
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
  local dir
  for dir in "$work"/cluster-*; do
    [[ -d "$dir" ]] && { deploy/local-cluster.sh down --data-dir "$dir" >/dev/null 2>&1 || true; }
  done
  for db in siprems_load siprems_load_before; do
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

password=load-bench-password
export JWT_SECRET=load-benchmark-secret-that-is-long-enough SIPREMS_ADMIN_PASSWORD=$password
export SIPREMS_DEMO=0 SIPREMS_RATE_LIMITS=0 SIPREMS_LOG_FORMAT=json RUST_LOG=warn
export SIPREMS_IN_PROCESS_JOBS=0 REDIS_URL=redis://127.0.0.1:6379/0 SIPREMS_REDIS_PREFIX="load-$$:"

# One database per binary: each migrates its own (a baseline refuses a database that
# newer migrations have touched).
declare -A db_names=([after]=siprems_load [before]=siprems_load_before)
for db in "${db_names[@]}"; do
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null
done

wait_up() {
  for _ in $(seq 1 100); do curl -fs "$1/health" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "no answer from $1" >&2; return 1
}

token_for() {
  curl -fs "$1/api/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"admin@siprems.local\",\"password\":\"$password\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

prepare() { # BASE TOKEN BIN DATABASE_URL
  local base=$1 token=$2 bin=$3 direct_db=$4
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

# The binaries under test: "after" alone, or "before" (BASELINE_BIN) and "after".
variants=(after)
declare -A bins=([after]=$bin)
if [[ -n "${BASELINE_BIN:-}" ]]; then
  [[ -x "$BASELINE_BIN" ]] || { echo "BASELINE_BIN=$BASELINE_BIN is not an executable" >&2; exit 2; }
  variants=(before after)
  bins[before]=$BASELINE_BIN
fi
# Per variant: the base URL and the pids whose memory counts, set per topology below.
declare -A bases=() procs=()

declare -A results=() # "$row|$variant|rps" etc.: the medians
row_order=()
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# wrk reports latencies as 1.23ms / 456.78us / 1.02s: milliseconds, for sorting.
to_ms() { awk '{v = $1; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; printf "%.2f\n", v}'; }
# The largest VmRSS of PIDS, sampled every 0.1 s, in kB, into FILE until killed.
sample_rss() { # FILE PID...
  local file=$1 pid
  shift
  while :; do
    for pid in "$@"; do awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null; done >>"$file"
    sleep 0.1
  done
}
measure() { # TARGET LABEL PATH TOKEN-VAR [SCRIPT]: $runs wrk runs per variant, interleaved
  local target=$1 label=$2 path=$3 script=${4:-}
  local row="$target|$label" run variant order out sampler
  local -A rps=() p50=() p99=() rss=() errors=()
  row_order+=("$row")
  for ((run = 1; run <= runs; run++)); do
    order=("${variants[@]}")
    if ((run % 2 == 0)) && ((${#variants[@]} == 2)); then order=(after before); fi
    for variant in "${order[@]}"; do
      local args=(-t"$threads" -c"$connections" -d"${duration}s" --latency -H "Authorization: Bearer ${tokens[$variant]}")
      [[ -n "$script" ]] && args+=(-s "bench/load/$script")
      : >"$work/rss.samples"
      # shellcheck disable=SC2086 # procs holds a list of pids
      sample_rss "$work/rss.samples" ${procs[$variant]} &
      sampler=$!
      out=$(wrk "${args[@]}" "${bases[$variant]}$path" 2>&1)
      kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
      rps[$variant]+="$(awk '/Requests\/sec/ {print $2}' <<<"$out") "
      p50[$variant]+="$(awk '$1=="50%" {print $2}' <<<"$out" | to_ms) "
      p99[$variant]+="$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms) "
      rss[$variant]+="$(sort -g "$work/rss.samples" | tail -1 | awk '{printf "%.1f", $1/1024}') "
      # Non-2xx answers plus socket errors (connect, read, write, timeout).
      errors[$variant]=$((${errors[$variant]:-0} + $(awk '/Non-2xx/ {n += $5} /Socket errors/ {for (i = 3; i <= NF; i++) n += $i + 0} END {print n + 0}' <<<"$out")))
    done
  done
  for variant in "${variants[@]}"; do
    results["$row|$variant|rps"]=$(tr ' ' '\n' <<<"${rps[$variant]}" | grep . | median)
    results["$row|$variant|p50"]=$(tr ' ' '\n' <<<"${p50[$variant]}" | grep . | median)
    results["$row|$variant|p99"]=$(tr ' ' '\n' <<<"${p99[$variant]}" | grep . | median)
    results["$row|$variant|rss"]=$(tr ' ' '\n' <<<"${rss[$variant]}" | grep . | median)
    results["$row|$variant|errors"]=${errors[$variant]}
    results["$row|$variant|runs"]=${rps[$variant]}
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0) printf "%.2f", b / a; else print "-" }'; }
declare -A tokens=()
scenarios() { # TARGET
  measure "$1" "GET /health" /health
  measure "$1" "GET /api/products (cached)" /api/products
  measure "$1" "POST /api/predict (cached)" /api/predict predict.lua
  measure "$1" "POST /api/transactions" /api/transactions checkout.lua
}
warm() { # VARIANT: log in and warm the forecast cache
  local base=${bases[$1]}
  tokens[$1]=$(token_for "$base")
  curl -fs "$base/api/predict" -H "Authorization: Bearer ${tokens[$1]}" -H 'Content-Type: application/json' \
    -d '{"product_sku":"LOAD-001","days":30}' >/dev/null
}
memory_line() { # PID...: "X MB now / Y MB peak" per pid
  local pid
  for pid in "$@"; do printf '%s MB now / %s MB peak (VmHWM); ' "$(rss_mb "$pid")" "$(hwm_mb "$pid")"; done
}

# --- one instance per binary, direct, on PostgreSQL ---
# Each binary has its own port, database and Redis key prefix, and prepares its data.
declare -A single_pids=() memory=()
port=18181
for variant in "${variants[@]}"; do
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE ${db_names[$variant]}" >/dev/null
  SIPREMS_REDIS_PREFIX="load-$$-$variant:" DATABASE_URL=postgres://postgres@127.0.0.1:5432/${db_names[$variant]} \
    SIPREMS_BIND=127.0.0.1:$port \
    "${bins[$variant]}" serve >"$work/single-$variant.log" 2>&1 &
  single_pids[$variant]=$!
  pids+=("$!")
  bases[$variant]=http://127.0.0.1:$port
  procs[$variant]=$!
  wait_up "${bases[$variant]}"
  port=$((port + 1))
done
for variant in "${variants[@]}"; do
  prepare "${bases[$variant]}" "$(token_for "${bases[$variant]}")" "${bins[$variant]}" \
    "postgres://postgres@127.0.0.1:5432/${db_names[$variant]}"
done
for variant in "${variants[@]}"; do warm "$variant"; done
scenarios "1 instance"
for variant in "${variants[@]}"; do
  memory["single|$variant"]=$(memory_line "${single_pids[$variant]}")
  kill "${single_pids[$variant]}"; wait "${single_pids[$variant]}" 2>/dev/null || true
done

# --- two instances behind nginx per binary, PostgreSQL through pgBouncer ---
if [[ -x deploy/local-cluster.sh ]]; then
  cluster_port=18300
  for variant in "${variants[@]}"; do
    SIPREMS_REDIS_PREFIX="load-$$-cluster-$variant:" deploy/local-cluster.sh up --api 2 --workers 0 \
      --base-port "$cluster_port" --db-name "${db_names[$variant]}" --no-rate-limits --binary "${bins[$variant]}" \
      --data-dir "$work/cluster-$variant" >"$work/cluster-$variant.log" 2>&1 ||
      { cat "$work/cluster-$variant.log"; exit 1; }
    bases[$variant]=http://127.0.0.1:$cluster_port
    procs[$variant]=$(cat "$work/cluster-$variant"/run/api-*.pid | tr '\n' ' ')
    wait_up "${bases[$variant]}"
    warm "$variant"
    cluster_port=$((cluster_port + 100))
  done
  scenarios "2 instances + nginx"
  for variant in "${variants[@]}"; do
    # shellcheck disable=SC2086
    memory["cluster|$variant"]=$(memory_line ${procs[$variant]})
    deploy/local-cluster.sh down --data-dir "$work/cluster-$variant" >/dev/null 2>&1 || true
  done
fi

echo "Load benchmark, $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
echo "wrk -t$threads -c$connections -d${duration}s, median of $runs runs, PostgreSQL $(psql -h 127.0.0.1 -U postgres -Atc 'SHOW server_version'), Redis cache."
echo "Peak RSS: the largest resident memory of the instance(s), sampled every 0.1 s during the row's runs."
echo
if ((${#variants[@]} == 2)); then
  echo "before: ${bins[before]}"
  echo "after:  ${bins[after]}"
  echo
  echo "| target | request | req/s before | req/s after | ratio | p50 before | p50 after | ratio | p99 before | p99 after | ratio | peak RSS before | peak RSS after | ratio | errors before/after |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for row in "${row_order[@]}"; do
    line="| ${row%%|*} | ${row#*|} |"
    for metric in rps p50 p99 rss; do
      b=${results["$row|before|$metric"]} a=${results["$row|after|$metric"]}
      unit=; [[ $metric == p* ]] && unit=" ms"; [[ $metric == rss ]] && unit=" MB"
      line+=" $b$unit | $a$unit | $(ratio "$b" "$a") |"
    done
    echo "$line ${results["$row|before|errors"]}/${results["$row|after|errors"]} |"
  done
  echo
  for row in "${row_order[@]}"; do
    echo "requests/s each run, ${row%%|*}, ${row#*|}: before ${results["$row|before|runs"]}; after ${results["$row|after|runs"]}"
  done
else
  echo "| target | request | requests/s (median) | p50 | p99 | peak RSS | errors | requests/s, each run |"
  echo "|---|---|---|---|---|---|---|---|"
  for row in "${row_order[@]}"; do
    echo "| ${row%%|*} | ${row#*|} | ${results["$row|after|rps"]} | ${results["$row|after|p50"]} ms | ${results["$row|after|p99"]} ms | ${results["$row|after|rss"]} MB | ${results["$row|after|errors"]} | ${results["$row|after|runs"]}|"
  done
fi
echo
for variant in "${variants[@]}"; do
  echo "RSS at the end, one instance ($variant): ${memory["single|$variant"]}"
  echo "RSS at the end, per instance in the cluster ($variant): ${memory["cluster|$variant"]:-not measured}"
done
