#!/usr/bin/env bash
# A scripted user session through nginx against a cluster started by local-cluster.sh:
#
#   deploy/cluster-smoke.sh [--data-dir DIR]
#
# Checks: /health and /ready through nginx with the edge headers (security headers,
# X-Request-ID passed through and logged, X-Cache-Status); the web app at / (its CSP, a
# compressed bundle, a client-side route, /api misses still JSON); admin login; product creation;
# an assistant answer streamed through nginx and its conversation on every instance;
# a checkout with an Idempotency-Key, retried through nginx and on every instance directly
# (same sale, stock taken once); repeated GET /api/products; gzip; that requests were spread
# over every instance (each instance's /metrics); and that nginx answers 429 beyond a burst.
# Prints one line per check and "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail

DATA_DIR=${SIPREMS_CLUSTER_DIR:-/tmp/siprems-cluster}
while [ $# -gt 0 ]; do
    case "$1" in
        --data-dir) DATA_DIR=$2; shift 2 ;;
        *) echo "usage: $0 [--data-dir DIR]" >&2; exit 2 ;;
    esac
done
[ -f "$DATA_DIR/cluster.env" ] || { echo "no cluster in $DATA_DIR" >&2; exit 2; }
# shellcheck disable=SC1091
. "$DATA_DIR/cluster.env"
BASE=$SIPREMS_CLUSTER_URL
read -r -a APIS <<<"$SIPREMS_CLUSTER_API_URLS"
PASSWORD=$(cat "$SIPREMS_ADMIN_PASSWORD_FILE")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0
check() { # DESCRIPTION CONDITION...
    local what=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok   $what"
    else
        failed=$((failed + 1))
        echo "FAIL $what"
    fi
}
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$@"; }
header() { grep -i "^$2:" "$1" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ //'; }
# request NAME curl-args...: body in $TMP/NAME.json, headers in $TMP/NAME.h, prints the status
request() {
    local name=$1
    shift
    curl -s -m 15 -D "$TMP/$name.h" -o "$TMP/$name.json" -w '%{http_code}' "$@"
}
total_requests() { curl -s -m 5 "$1/metrics" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_requests"])'; }

declare -A before
for api in "${APIS[@]}"; do before[$api]=$(total_requests "$api"); done

# ---- edge ---------------------------------------------------------------------------------
status=$(request health "$BASE/health" -H 'X-Request-ID: smoke-req-0001')
check "GET /health through nginx: 200 (got $status)" [ "$status" = 200 ]
check "X-Request-ID passed through: $(header "$TMP/health.h" X-Request-ID)" [ "$(header "$TMP/health.h" X-Request-ID)" = smoke-req-0001 ]
check "X-Request-ID in the access log" grep -q '"request_id":"smoke-req-0001"' "$DATA_DIR/log/nginx-access.log"
status=$(request health2 "$BASE/health" -H 'X-Request-ID: bad id with spaces')
rid=$(header "$TMP/health2.h" X-Request-ID)
check "malformed X-Request-ID replaced by nginx's ($rid)" [ -n "$rid" ] && [ "$rid" != "bad id with spaces" ]
check "X-Content-Type-Options: nosniff" [ "$(header "$TMP/health.h" X-Content-Type-Options)" = nosniff ]
check "X-Frame-Options: DENY" [ "$(header "$TMP/health.h" X-Frame-Options)" = DENY ]
check "Content-Security-Policy present" grep -qi "^Content-Security-Policy: default-src 'none'" "$TMP/health.h"
check "Referrer-Policy present" grep -qi '^Referrer-Policy:' "$TMP/health.h"
check "X-Cache-Status present" grep -qi '^X-Cache-Status:' "$TMP/health.h"
status=$(request ready "$BASE/ready")
check "GET /ready through nginx: 200 (got $status)" [ "$status" = 200 ]

# ---- web app ----------------------------------------------------------------------------------
status=$(request web "$BASE/" -H 'Accept-Encoding: gzip')
check "GET / through nginx: the web app (got $status)" [ "$status" = 200 ] && grep -qi '^Content-Type: text/html' "$TMP/web.h"
check "the app's CSP allows its own scripts and API only" \
    grep -qi "^Content-Security-Policy: default-src 'self'; script-src 'self';.*connect-src 'self'" "$TMP/web.h"
check "one CSP header on the app, not the API's and the app's" [ "$(grep -ci '^Content-Security-Policy:' "$TMP/web.h")" = 1 ]
curl -s -m 15 --compressed "$BASE/" -o "$TMP/index.html"
script=$(grep -o 'src="/assets/[^"]*\.js"' "$TMP/index.html" | head -1 | cut -d'"' -f2)
status=$(request script "$BASE$script" -H 'Accept-Encoding: br, gzip')
check "the app's script $script: 200, compressed (got $status)" [ "$status" = 200 ] && grep -qiE '^Content-Encoding: (br|gzip)' "$TMP/script.h"
status=$(request deep "$BASE/products")
check "a client-side route (/products) reloads into the app (got $status)" [ "$status" = 200 ] && grep -qi '^Content-Type: text/html' "$TMP/deep.h"
status=$(request apimiss "$BASE/api/no-such-thing")
check "an unknown /api path stays a JSON 404 (got $status)" [ "$status" = 404 ] && grep -q '"code"' "$TMP/apimiss.json"

# ---- session --------------------------------------------------------------------------------
status=$(request login "$BASE/api/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$SIPREMS_ADMIN_EMAIL\",\"password\":\"$PASSWORD\"}")
check "admin login: 200 (got $status)" [ "$status" = 200 ]
TOKEN=$(json "$TMP/login.json" 'd.get("access_token","")' 2>/dev/null)
AUTH=(-H "Authorization: Bearer $TOKEN")

SKU="SMOKE-$(date +%s)-$RANDOM"
status=$(request create "$BASE/api/products" "${AUTH[@]}" -H 'Content-Type: application/json' \
    -d "{\"sku\":\"$SKU\",\"name\":\"Smoke bread\",\"category\":\"Bread\",\"price\":\"18500\",\"cost_price\":\"11000\",\"stock\":10}")
check "create product $SKU: 201 (got $status)" [ "$status" = 201 ]

KEY="smoke-$SKU"
SALE=(-H 'Content-Type: application/json' -H "Idempotency-Key: $KEY"
    -d "{\"items\":[{\"product_sku\":\"$SKU\",\"quantity\":2}],\"paid_amount\":\"50000\"}")
status=$(request sale1 "$BASE/api/transactions" "${AUTH[@]}" "${SALE[@]}")
check "checkout with Idempotency-Key: 201 (got $status)" [ "$status" = 201 ]
tx=$(json "$TMP/sale1.json" 'd.get("transaction_id")' 2>/dev/null)
status=$(request sale2 "$BASE/api/transactions" "${AUTH[@]}" "${SALE[@]}")
tx2=$(json "$TMP/sale2.json" 'd.get("transaction_id")' 2>/dev/null)
check "same checkout retried through nginx: same sale ($tx / $tx2, status $status)" [ -n "$tx" ] && [ "$tx" = "$tx2" ]
for api in "${APIS[@]}"; do
    status=$(request sale3 "$api/api/transactions" "${AUTH[@]}" "${SALE[@]}")
    tx3=$(json "$TMP/sale3.json" 'd.get("transaction_id")' 2>/dev/null)
    check "same checkout retried on $api directly: same sale ($tx3, status $status)" [ "$tx" = "$tx3" ]
done
request product "$BASE/api/products/$SKU" "${AUTH[@]}" >/dev/null
stock=$(json "$TMP/product.json" 'd.get("stock")' 2>/dev/null)
check "stock taken once: 10 - 2 = $stock" [ "$stock" = 8 ]

ok=0
for _ in $(seq 1 12); do
    status=$(request list "$BASE/api/products?limit=5" "${AUTH[@]}")
    [ "$status" = 200 ] && ok=$((ok + 1))
    sleep 0.12 # stay under the 10 r/s limit
done
check "12 x GET /api/products through nginx: all 200 ($ok)" [ "$ok" = 12 ]
check "X-Cache-Status on an API response: $(header "$TMP/list.h" X-Cache-Status)" grep -qi '^X-Cache-Status:' "$TMP/list.h"

status=$(request big "$BASE/api/openapi.json" -H 'Accept-Encoding: gzip')
check "gzip on JSON: GET /api/openapi.json $status, Content-Encoding: $(header "$TMP/big.h" Content-Encoding), $(wc -c <"$TMP/big.json") bytes" \
    grep -qi '^Content-Encoding: gzip' "$TMP/big.h"

# ---- assistant ----------------------------------------------------------------------------------
# The streamed answer must pass nginx event by event (no buffering): the tokens, then done.
curl -s -N -m 20 "$BASE/api/chat/stream" "${AUTH[@]}" -H 'Content-Type: application/json' \
    -H 'Accept: text/event-stream' -D "$TMP/stream.h" -o "$TMP/stream.txt" \
    -d '{"message": "which products are running low?"}'
check "POST /api/chat/stream through nginx: text/event-stream" grep -qi '^Content-Type: text/event-stream' "$TMP/stream.h"
check "the stream carries token events, then done" \
    bash -c "grep -q '^event: token' '$TMP/stream.txt' && tail -n 5 '$TMP/stream.txt' | grep -q '^event: done'"
session=$(sed -n 's/^data: \(.*\)$/\1/p' "$TMP/stream.txt" | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin).get("session_id",""))' 2>/dev/null)
continued=0
for api in "${APIS[@]}"; do
    status=$(request history "$api/api/chat/history/$session" "${AUTH[@]}")
    [ "$status" = 200 ] && continued=$((continued + 1))
done
check "the conversation ($session) is readable on every instance ($continued of ${#APIS[@]})" [ "$continued" = "${#APIS[@]}" ]

# ---- spread -------------------------------------------------------------------------------------
for api in "${APIS[@]}"; do
    after=$(total_requests "$api")
    # The /metrics call itself counts once; the direct checkout retry counted once too.
    delta=$((after - before[$api] - 1))
    check "requests reached $api (requests since start of smoke: $delta)" [ "$delta" -ge 3 ]
done
echo "upstreams in the access log (this run's /api/products requests):"
grep '"uri":"/api/products?limit=5"' "$DATA_DIR/log/nginx-access.log" | tail -12 |
    grep -o '"upstream":"[^"]*"' | sort | uniq -c | sed 's/^/     /'

# ---- rate limit -------------------------------------------------------------------------------
if [ "${SIPREMS_CLUSTER_RATE_LIMITS:-1}" = 1 ]; then
    sleep 2.5 # let the bucket refill
    mkdir -p "$TMP/burst"
    seq 1 40 | xargs -P 20 -I{} curl -s -o /dev/null -D "$TMP/burst/{}.h" -w '%{http_code}\n' \
        "$BASE/api/products?limit=1" "${AUTH[@]}" >"$TMP/burst.txt"
    n429=$(grep -c '^429$' "$TMP/burst.txt")
    n200=$(grep -c '^200$' "$TMP/burst.txt")
    check "40 parallel GETs: $n200 x 200, $n429 x 429 (limit 10 r/s, burst 20)" [ "$n429" -gt 0 ] && [ "$n200" -ge 20 ]
    limited=0
    with_retry=0
    for h in "$TMP"/burst/*.h; do
        grep -q '^HTTP/1.1 429' "$h" || continue
        limited=$((limited + 1))
        grep -qi '^Retry-After:' "$h" && with_retry=$((with_retry + 1))
    done
    check "every 429 carries Retry-After ($with_retry of $limited)" [ "$limited" -gt 0 ] && [ "$with_retry" = "$limited" ]
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
