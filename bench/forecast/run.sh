#!/usr/bin/env bash
# SIPREMS forecast benchmark -- entry point.
#
#   bench/forecast/run.sh [--skip-python] [--build] [bench.py options...]
#
# What it does (details in bench/forecast/README.md):
#   1. converts ../shared/data/bakery_kiel_sales_to_2017-07-31.csv (daily revenue of a Kiel
#      bakery per product group) into SIPREMS import format and kieler_woche.csv into events;
#   2. rolling-origin backtest: 12 monthly cutoffs (month-ends whose next 30 days are in the
#      file), 30-day horizon, every SKU, fit on all history up to and including the cutoff;
#   3. ours:  `siprems backtest ... --model M` for M in auto, prophet, ets, naive, ensemble (timed,
#      repeated, median reported; determinism and look-ahead checked);
#      peers: Python Prophet 1.1 reference config, Prophet default config, statsforecast
#      AutoETS(season_length=7), in a virtualenv created here (.venv, pinned requirements.txt);
#   4. scores every model with the same code (score.py): sMAPE, MASE, WAPE, 95% coverage,
#      fit time; prints Markdown tables and writes them to bench/forecast/out/report.md.
#
# Options handled here:
#   --skip-python   run and score only our binary (otherwise a peer that fails to install or
#                   run is an error and the script exits non-zero)
#   --build         run `cargo build --release` even if the binary exists
# Options passed on to bench.py:
#   --models auto,prophet,ets,naive,ensemble   which of our models to run
#   --peers prophet_ref,prophet_default,autoets
#   --repeat N        timed runs per model of ours (default 3, median reported)
#   --py-repeat N     timed runs per Python peer (default 3, median reported)
#   --max-minutes M   time budget for the whole benchmark (default 25)
#   --no-leak-check   skip the look-ahead check
#   --seed S          seed for the peers (default 20170731)
#
# Environment:
#   SIPREMS_BIN          binary to benchmark (default target/release/siprems, relative to the
#                        repo root; built with `cargo build --release` when missing)
#   SIPREMS_BENCH_DATA   folder with the two CSVs (default ../shared/data from the repo root)
#   SIPREMS_BENCH_OUT    output folder (default bench/forecast/out)
#   PYTHON               python used to create the virtualenv and run the orchestrator (python3)
#
# Exit status: 0 all ran and every forecast file is complete; 1 setup error (data missing,
# build failed, Python peers not installable); 2 a run failed, a forecast file was incomplete
# or a check failed (the tables are still printed).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-python3}"
DATA="${SIPREMS_BENCH_DATA:-$ROOT/../shared/data}"
OUT="${SIPREMS_BENCH_OUT:-$HERE/out}"
BIN="${SIPREMS_BIN:-target/release/siprems}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac

SKIP_PYTHON=0
FORCE_BUILD=0
PASS=()
for a in "$@"; do
  case "$a" in
    --skip-python) SKIP_PYTHON=1; PASS+=("$a") ;;
    --build) FORCE_BUILD=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) PASS+=("$a") ;;
  esac
done

die() { printf '\n!!!!!!!!!!\n!! %s\n!!!!!!!!!!\n\n' "$*" >&2; exit 1; }

[ -f "$DATA/bakery_kiel_sales_to_2017-07-31.csv" ] && [ -f "$DATA/kieler_woche.csv" ] \
  || die "data not found in $DATA (set SIPREMS_BENCH_DATA)"

# ---------------------------------------------------------------- Python peers
VENV="$HERE/.venv"
VPY="$VENV/bin/python"
if [ "$SKIP_PYTHON" = 0 ]; then
  want="$(sha256sum "$HERE/requirements.txt" | cut -c1-16)-$("$PY" -c 'import platform;print(platform.python_version())')"
  have="$(cat "$VENV/.installed" 2>/dev/null || true)"
  if [ "$want" != "$have" ]; then
    echo ">> creating $VENV from PyPI (pinned requirements.txt)" >&2
    "$PY" -m venv --clear "$VENV" || die "could not create a virtualenv with $PY (pass --skip-python to run without the Python peers)"
    "$VPY" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt" \
      || die "pip could not install the Python peers (prophet, statsforecast...) -- see above; pass --skip-python to run without them"
    echo "$want" > "$VENV/.installed"
  fi
  # Smoke test: a tiny Prophet fit (exercises the bundled CmdStan model) and an AutoETS fit.
  "$VPY" - <<'EOF' || die "the Python peers are installed but do not work (see the error above); pass --skip-python to run without them"
import logging, warnings
warnings.simplefilter("ignore")
for n in ("cmdstanpy", "prophet", "prophet.plot"):
    lg = logging.getLogger(n); lg.addHandler(logging.NullHandler()); lg.setLevel(logging.CRITICAL); lg.propagate = False
import numpy as np, pandas as pd
from prophet import Prophet
from statsforecast.models import AutoETS
y = 10 + 3 * np.sin(np.arange(60) * 2 * np.pi / 7)
m = Prophet(weekly_seasonality=True, yearly_seasonality=False, daily_seasonality=False)
m.fit(pd.DataFrame({"ds": pd.date_range("2020-01-01", periods=60), "y": y}), seed=1)
f = m.predict(m.make_future_dataframe(7))
assert np.isfinite(f["yhat"]).all()
r = AutoETS(season_length=7).forecast(y=y, h=7, level=[95])
assert np.isfinite(r["mean"]).all()
EOF
fi

# ---------------------------------------------------------------- our binary
if [ "$FORCE_BUILD" = 1 ] || [ ! -x "$BIN" ]; then
  if [ "$BIN" = "$ROOT/target/release/siprems" ]; then
    echo ">> building $BIN (cargo build --release)" >&2
    (cd "$ROOT" && cargo build --release --bin siprems) || die "cargo build --release failed"
  else
    [ -x "$BIN" ] || die "SIPREMS_BIN=$BIN is not an executable file"
  fi
fi
"$BIN" backtest --help >/dev/null 2>&1 \
  || die "$BIN has no working 'backtest' subcommand (\`$BIN backtest --help\` failed)"

mkdir -p "$OUT"
exec "$PY" "$HERE/bench.py" --root "$ROOT" --data-dir "$DATA" --out-dir "$OUT" --bin "$BIN" \
  --venv-python "$VPY" "${PASS[@]}"
