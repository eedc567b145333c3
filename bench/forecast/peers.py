"""Python peers for the forecast benchmark (runs inside bench/forecast/.venv).

  prophet_ref      Prophet 1.1 in the SIPREMS reference configuration (SPEC flow 4):
                   fit on log1p(y), multiplicative seasonality, yearly + weekly + 30.5-day
                   Fourier(15), changepoint_prior_scale 0.05, holidays_prior_scale 10,
                   Kiel Week holidays with window -2..+1, interval_width 0.95; expm1,
                   clamp >= 0, times a correction factor = median(actual / fitted) over the
                   training days with fitted > 0, clamped to [0.85, 1.15] (applied to the
                   forecast and both interval bounds).
  prophet_default  Prophet 1.1 defaults (raw y, additive, automatic seasonalities) with the
                   same holidays; interval_width 0.95 so coverage is comparable; forecasts and
                   bounds clamped >= 0 (demand is never negative).
  autoets          statsforecast AutoETS(season_length=7), 95% level; clamped >= 0.

Each (cutoff, SKU) is one fit on the zero-filled series from the SKU's first sale up to
and including the cutoff, then a 30-day forecast. The per-fit time is fit + predict
(for prophet_ref including the in-sample prediction the correction factor needs). Fits
run one after another in this process (cmdstan runs as a child process of it).

Writes DIR/forecasts_<peer>.csv (same format as `siprems backtest`) and DIR/peers_<peer>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import resource
import sys
import time
import traceback
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PEERS = ("prophet_ref", "prophet_default", "autoets")


def cpu_seconds():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--history", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--cutoffs", required=True)
    ap.add_argument("--horizon", type=int, default=common.HORIZON)
    ap.add_argument("--peer", required=True, choices=PEERS)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--seed", type=int, default=20170731)
    ap.add_argument("--deadline", type=float, default=0.0, help="unix time after which no new fit starts")
    args = ap.parse_args()

    t_import = time.perf_counter()
    import numpy as np
    import pandas as pd

    if args.peer.startswith("prophet"):
        # cmdstanpy installs its own INFO handler unless the logger already has one.
        for name in ("cmdstanpy", "prophet", "prophet.plot"):
            lg = logging.getLogger(name)
            lg.addHandler(logging.NullHandler())
            lg.setLevel(logging.ERROR)
            lg.propagate = False
        from prophet import Prophet
    else:
        from statsforecast.models import AutoETS
    import_s = time.perf_counter() - t_import
    warnings.simplefilter("ignore")

    cutoffs = [common.parse_date(c) for c in args.cutoffs.split(",")]
    hist = common.read_history(args.history)
    last_day = max(max(d) for d in hist.values())
    series, _ = common.dense_series(hist, last_day)
    H = args.horizon

    events = pd.read_csv(args.events)
    holidays = pd.DataFrame(
        {
            "holiday": events["name"].astype(str),
            "ds": pd.to_datetime(events["date"]),
            "lower_window": common.HOLIDAY_LOWER_WINDOW,
            "upper_window": common.HOLIDAY_UPPER_WINDOW,
        }
    )

    def fit_prophet_ref(ds_train, y_train, ds_future):
        m = Prophet(
            growth="linear",
            yearly_seasonality=True,
            weekly_seasonality=True,
            daily_seasonality=False,
            seasonality_mode="multiplicative",
            changepoint_prior_scale=0.05,
            holidays_prior_scale=10.0,
            holidays=holidays,
            interval_width=0.95,
        )
        m.add_seasonality(name="monthly", period=30.5, fourier_order=15)
        m.fit(pd.DataFrame({"ds": ds_train, "y": np.log1p(y_train)}), seed=args.seed)
        np.random.seed(args.seed)
        p = m.predict(pd.DataFrame({"ds": ds_train.append(ds_future)}))
        n = len(ds_train)
        back = lambda a: np.maximum(np.expm1(np.asarray(a, dtype=float)), 0.0)  # noqa: E731
        fitted = back(p["yhat"].values[:n])
        ok = fitted > 0
        cf = float(np.median(y_train[ok] / fitted[ok])) if ok.any() else 1.0
        cf = min(1.15, max(0.85, cf)) if math.isfinite(cf) else 1.0
        return (
            back(p["yhat"].values[n:]) * cf,
            back(p["yhat_lower"].values[n:]) * cf,
            back(p["yhat_upper"].values[n:]) * cf,
        )

    def fit_prophet_default(ds_train, y_train, ds_future):
        m = Prophet(holidays=holidays, interval_width=0.95)
        m.fit(pd.DataFrame({"ds": ds_train, "y": y_train}), seed=args.seed)
        np.random.seed(args.seed)
        p = m.predict(pd.DataFrame({"ds": ds_future}))
        clamp = lambda a: np.maximum(np.asarray(a, dtype=float), 0.0)  # noqa: E731
        return clamp(p["yhat"].values), clamp(p["yhat_lower"].values), clamp(p["yhat_upper"].values)

    def fit_autoets(ds_train, y_train, ds_future):
        r = AutoETS(season_length=7).forecast(y=y_train.astype(float), h=len(ds_future), level=[95])
        clamp = lambda a: np.maximum(np.asarray(a, dtype=float), 0.0)  # noqa: E731
        return clamp(r["mean"]), clamp(r["lo-95"]), clamp(r["hi-95"])

    fit = {"prophet_ref": fit_prophet_ref, "prophet_default": fit_prophet_default, "autoets": fit_autoets}[
        args.peer
    ]

    rows = []
    fits = []
    failures = []
    skipped_deadline = 0
    cpu0 = cpu_seconds()
    wall0 = time.perf_counter()
    for c in cutoffs:
        for sku, (start, ys) in series.items():
            if args.deadline and time.time() > args.deadline:
                skipped_deadline += 1
                continue
            n = (c - start).days + 1
            if n <= 0:
                failures.append({"sku": sku, "cutoff": c.isoformat(), "error": "no history before cutoff"})
                continue
            ds_train = pd.date_range(start, periods=n, freq="D")
            ds_future = pd.date_range(c + dt.timedelta(days=1), periods=H, freq="D")
            y_train = np.asarray(ys[:n], dtype=float)
            t0 = time.perf_counter()
            try:
                f, lo, hi = fit(ds_train, y_train, ds_future)
            except Exception as e:  # recorded and reported loudly, never skipped silently
                failures.append({"sku": sku, "cutoff": c.isoformat(), "error": repr(e)})
                print(f"!! {args.peer} FAILED on {sku} @ {c}: {e!r}", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
                continue
            secs = time.perf_counter() - t0
            fits.append({"sku": sku, "cutoff": c.isoformat(), "seconds": secs})
            for d, a, b, u in zip(ds_future, f, lo, hi):
                rows.append((args.peer, sku, c, d.date(), float(a), float(b), float(u)))
        print(f"   {args.peer}: cutoff {c} done ({time.perf_counter() - wall0:.1f} s)", file=sys.stderr, flush=True)
    wall = time.perf_counter() - wall0
    cpu = cpu_seconds() - cpu0

    os.makedirs(args.out_dir, exist_ok=True)
    common.write_forecasts(os.path.join(args.out_dir, f"forecasts_{args.peer}.csv"), rows)
    with open(os.path.join(args.out_dir, f"peers_{args.peer}.json"), "w") as fh:
        json.dump(
            {
                "peer": args.peer,
                "import_seconds": import_s,
                "wall_seconds": wall,
                "cpu_seconds": cpu,
                "fits": fits,
                "failures": failures,
                "skipped_deadline": skipped_deadline,
                "seed": args.seed,
            },
            fh,
            indent=1,
        )
    if failures or skipped_deadline:
        print(
            f"!! {args.peer}: {len(failures)} failed fits, {skipped_deadline} not run (deadline)",
            file=sys.stderr,
        )
        sys.exit(3)


if __name__ == "__main__":
    main()
