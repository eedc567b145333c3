#!/usr/bin/env bash
# Latency of the built-in assistant on the demo shop, measured by a client over HTTP
# (keep-alive) against a release `siprems serve` with rate limits off.
#
#   bench/assistant/run.sh [ROUNDS]      (default 100 rounds of every question)
#
# Prints p50/p95/p99 per question and over all of them. The server trains one product
# (BRD-001) before serving so the forecast question is answered from a stored model;
# background warm-up is off so training does not compete with the measurement.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${1:-100}"
PORT="${SIPREMS_BENCH_PORT:-18089}"
WORK="$(mktemp -d)"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/siprems"
export DATABASE_URL="sqlite://$WORK/bench.db" SIPREMS_DEMO=0 SIPREMS_WARM_UP=0 \
  SIPREMS_RATE_LIMITS=0 SIPREMS_ADMIN_PASSWORD=bench-password-123 \
  SIPREMS_BIND="127.0.0.1:$PORT" SIPREMS_LOG_FORMAT=json RUST_LOG=warn
"$BIN" seed --demo >/dev/null
"$BIN" train --sku BRD-001 >/dev/null
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
  sleep 0.2
done

python3 - "$PORT" "$ROUNDS" <<'PY'
import http.client, json, sys, time
port, rounds = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port)
def call(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise SystemExit(f"{method} {path}: {response.status} {data[:200]!r}")
    return json.loads(data)
token = call("POST", "/api/auth/login", {"email": "admin@siprems.local", "password": "bench-password-123"})["access_token"]
questions = [
    "What should I restock this week?",
    "apa yang perlu di-restock minggu ini?",
    "which products are running low?",
    "forecast for BRD-001",
    "prediksi roti tawar 7 hari",
    "How did croissants sell last month?",
    "penjualan kategori roti bulan lalu",
    "sales 2026-11-01 to 2026-11-15",
    "top sellers last month",
    "any upcoming events?",
    "stok brownies berapa?",
    "restock 120 brownies",
    "halo",
]
samples = {q: [] for q in questions}
for q in questions:  # warm-up: first use of each code path, connection pool, caches
    call("POST", "/api/chat", {"message": q}, token)
for _ in range(rounds):
    for q in questions:
        started = time.perf_counter()
        call("POST", "/api/chat", {"message": q}, token)
        samples[q].append((time.perf_counter() - started) * 1000)
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * len(values) + 0.5)) - 1)]
print(f"{'question':42} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
everything = []
for q in questions:
    everything += samples[q]
    print(f"{q[:42]:42} {pct(samples[q], 50):8.2f} {pct(samples[q], 95):8.2f} {pct(samples[q], 99):8.2f}")
print(f"{'all (' + str(len(everything)) + ' requests)':42} {pct(everything, 50):8.2f} {pct(everything, 95):8.2f} {pct(everything, 99):8.2f}")
PY
