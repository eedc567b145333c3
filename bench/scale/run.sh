#!/usr/bin/env bash
# Retraining at scale: N synthetic SKUs x D days of daily history imported into a fresh
# SQLite database, then `siprems train --all` (model selection included), timed with
# /usr/bin/time for wall time and peak memory. Prints a table.
#
#   bench/scale/run.sh [--skus 1000] [--days 1095] [--model auto|prophet|ets|naive]
#
# Needs the release binary (built if missing) and GNU time (apt-get install time).
set -euo pipefail
cd "$(dirname "$0")/../.."

skus=1000 days=1095 model=auto
while [[ $# -gt 0 ]]; do
  case "$1" in
    --skus) skus=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bin=${SIPREMS_BIN:-target/release/siprems}
[[ -x "$bin" ]] || cargo build --release
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/scale.db" SIPREMS_DEMO=0 SIPREMS_ADMIN_PASSWORD=scale-bench-password
export SIPREMS_LOG_FORMAT=json RUST_LOG=warn

python3 bench/scale/generate.py --skus "$skus" --days "$days" --out "$work/history.csv"
rows=$(($(wc -l < "$work/history.csv") - 1))

/usr/bin/time -f '%e %M' -o "$work/import.time" "$bin" import "$work/history.csv" --create-products > "$work/import.log"
read -r import_s import_kb < "$work/import.time"

SIPREMS_FORECAST_MODEL=$model /usr/bin/time -f '%e %M' -o "$work/train.time" "$bin" train --all > "$work/train.log"
read -r train_s train_kb < "$work/train.time"
activated=$(grep -c ' activated ' "$work/train.log" || true)
kinds=$(awk '{print $3}' "$work/train.log" | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}')

cat <<TABLE
Retraining scale benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))

| step | SKUs | days | rows | wall s | peak RSS MB |
|---|---|---|---|---|---|
| import --create-products | $skus | $days | $rows | $import_s | $((import_kb / 1024)) |
| train --all ($model) | $skus | $days | - | $train_s | $((train_kb / 1024)) |

Activated versions: $activated of $skus; selected kinds: ${kinds%, }
TABLE
