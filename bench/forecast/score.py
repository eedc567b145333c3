"""Scoring for the forecast benchmark -- one module, used for every model (ours and peers).

Standard library only. Definitions (per model and SKU, over all cutoffs x horizon days):

- sMAPE  = mean over points of 200*|F-A|/(|A|+|F|), a point where A = F = 0 counts 0.
- MASE   = for each cutoff: MAE over its horizon / in-sample MAE of the weekly seasonal
           naive (|y[t] - y[t-7]|) on the training part (SKU's first day .. cutoff);
           then the mean over cutoffs.
- WAPE   = 100 * sum|F-A| / sum|A| (n/a if every actual is 0).
- cov95  = % of points with lower <= A <= upper.

Actuals are the zero-filled daily series (days without sales are zero demand).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict

from common import SKU_GROUP


def expected_keys(series, cutoffs, horizon):
    keys = set()
    for sku in series:
        for c in cutoffs:
            for h in range(1, horizon + 1):
                keys.add((sku, c, c + dt.timedelta(days=h)))
    return keys


def validate(rows, series, cutoffs, horizon):
    """Check a forecast file against the protocol. Returns (clean_rows_by_key, problems dict)."""
    want = expected_keys(series, cutoffs, horizon)
    by_key = {}
    dup = 0
    extra = 0
    nonfinite = 0
    negative = 0
    bad_interval = 0
    for r in rows:
        k = (r["sku"], r["cutoff"], r["date"])
        if k not in want:
            extra += 1
            continue
        if k in by_key:
            dup += 1
            continue
        f, lo, hi = r["forecast"], r["lower"], r["upper"]
        if not all(math.isfinite(v) for v in (f, lo, hi)):
            nonfinite += 1
        if f < 0 or lo < 0:
            negative += 1
        if not (lo <= f + 1e-9 and f <= hi + 1e-9):
            bad_interval += 1
        by_key[k] = r
    missing = len(want) - len(by_key)
    problems = {
        "expected_rows": len(want),
        "rows": len(rows),
        "missing": missing,
        "duplicates": dup,
        "unexpected": extra,
        "non_finite": nonfinite,
        "negative": negative,
        "lower>forecast_or_upper<forecast": bad_interval,
    }
    return by_key, problems


def problems_are_fatal(p):
    return any(p[k] for k in ("missing", "duplicates", "unexpected", "non_finite"))


def seasonal_naive_scale(ys, start: dt.date, cutoff: dt.date, season=7):
    """In-sample MAE of y[t] - y[t-season] over the training part [start, cutoff]."""
    n = (cutoff - start).days + 1
    n = min(n, len(ys))
    diffs = [abs(ys[t] - ys[t - season]) for t in range(season, n)]
    return sum(diffs) / len(diffs) if diffs else math.nan


def score(by_key, series, cutoffs, horizon):
    """Returns {sku: {smape, mase, wape, cov95, points}} over the rows present."""
    out = {}
    for sku, (start, ys) in series.items():
        sm_terms = []
        abs_err = 0.0
        abs_act = 0.0
        inside = 0
        points = 0
        mase_per_cutoff = []
        for c in cutoffs:
            errs = []
            for h in range(1, horizon + 1):
                d = c + dt.timedelta(days=h)
                r = by_key.get((sku, c, d))
                if r is None:
                    continue
                a = ys[(d - start).days]
                f = r["forecast"]
                e = abs(f - a)
                den = abs(a) + abs(f)
                sm_terms.append(0.0 if den == 0 else 200.0 * e / den)
                errs.append(e)
                abs_err += e
                abs_act += abs(a)
                inside += 1 if r["lower"] <= a <= r["upper"] else 0
                points += 1
            if errs:
                scale = seasonal_naive_scale(ys, start, c)
                mae = sum(errs) / len(errs)
                mase_per_cutoff.append(mae / scale if scale and scale > 0 else math.nan)
        out[sku] = {
            "smape": sum(sm_terms) / len(sm_terms) if sm_terms else math.nan,
            "mase": sum(mase_per_cutoff) / len(mase_per_cutoff) if mase_per_cutoff else math.nan,
            "wape": 100.0 * abs_err / abs_act if abs_act > 0 else math.nan,
            "cov95": 100.0 * inside / points if points else math.nan,
            "points": points,
        }
    return out


def mean_over_groups(per_sku, metric, groups=(1, 2, 3, 4, 5)):
    vals = [v[metric] for sku, v in per_sku.items() if SKU_GROUP.get(sku) in groups]
    if len(vals) != len(groups) or any(not math.isfinite(x) for x in vals):
        return math.nan
    return sum(vals) / len(vals)


def chosen_models(rows):
    """For a run: which model label was written per (sku, cutoff) -- shows auto's picks."""
    picks = {}
    for r in rows:
        picks[(r["sku"], r["cutoff"])] = r["model"]
    per_sku = defaultdict(Counter)
    for (sku, _), m in picks.items():
        per_sku[sku][m] += 1
    return per_sku


# ---------------------------------------------------------------- formatting


def fmt(x, nd=2):
    if x is None:
        return "n/a"
    if isinstance(x, float) and not math.isfinite(x):
        return "n/a"
    return f"{x:.{nd}f}"


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


def group_table(scores_by_model, fit_times):
    """Long table: one row per model x group."""
    rows = []
    for model, per_sku in scores_by_model.items():
        for sku in sorted(per_sku, key=lambda s: SKU_GROUP.get(s, 99)):
            v = per_sku[sku]
            rows.append(
                [
                    model,
                    f"{SKU_GROUP.get(sku, '?')} {sku}",
                    fmt(v["smape"]),
                    fmt(v["mase"], 3),
                    fmt(v["wape"]),
                    fmt(v["cov95"], 1),
                    v["points"],
                    fit_times.get(model, {}).get(sku, "n/a"),
                ]
            )
    return md_table(
        ["model", "group", "sMAPE %", "MASE", "WAPE %", "95% cov %", "points", "fit time / fit (s)"], rows
    )


def matrix_table(scores_by_model, metric, nd=2):
    skus = sorted({s for m in scores_by_model.values() for s in m}, key=lambda s: SKU_GROUP.get(s, 99))
    header = ["model"] + [f"{SKU_GROUP.get(s, '?')} {s}" for s in skus] + ["mean 1-5"]
    rows = []
    for model, per_sku in scores_by_model.items():
        rows.append(
            [model]
            + [fmt(per_sku.get(s, {}).get(metric, math.nan), nd) for s in skus]
            + [fmt(mean_over_groups(per_sku, metric), nd)]
        )
    return md_table(header, rows)
