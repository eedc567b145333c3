"""Shared, dependency-free pieces of the forecast benchmark (standard library only).

- converting the Kiel bakery data into the SIPREMS import format (`date,sku,quantity`)
  and the Kiel Week dates into the events format (`date,name,type`);
- the rolling-origin protocol (which cutoffs, which horizon);
- reading a history file back into zero-filled daily series.

Every model -- ours and the Python peers -- reads the *same* converted files, so they
all see exactly the same numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections import defaultdict
from decimal import ROUND_CEILING, Decimal

# Warengruppe (product group) -> SKU, and the unit prices used to turn revenue into units.
GROUP_SKU = {
    1: "BRD-001",
    2: "RLL-001",
    3: "CRS-001",
    4: "CNF-001",
    5: "CKE-001",
    6: "SEA-001",
}
SKU_GROUP = {sku: g for g, sku in GROUP_SKU.items()}
PRICES = {1: "4.00", 2: "2.50", 3: "3.50", 4: "5.00", 5: "8.00", 6: "6.00"}

HORIZON = 30
N_CUTOFFS = 12
EVENT_NAME = "Kieler Woche"
EVENT_TYPE = "holiday"
# Holiday window used by every model that takes holidays (SPEC flow 4: -2..+1 days).
HOLIDAY_LOWER_WINDOW = -2
HOLIDAY_UPPER_WINDOW = 1


def parse_date(s: str) -> dt.date:
    return dt.date.fromisoformat(s.strip()[:10])


def daterange(start: dt.date, end: dt.date):
    """Inclusive range of days."""
    d = start
    one = dt.timedelta(days=1)
    while d <= end:
        yield d
        d += one


def revenue_to_units(revenue: str, group: int) -> int:
    """quantity = max(1, ceil(revenue / price)), computed exactly in decimal."""
    q = (Decimal(revenue.strip()) / Decimal(PRICES[group])).to_integral_value(rounding=ROUND_CEILING)
    return max(1, int(q))


def convert_sales(src: str, dst: str) -> dict:
    """bakery CSV (id,Datum,Warengruppe,Umsatz) -> SIPREMS import CSV (date,sku,quantity).

    Returns facts about the file (date range, rows per SKU, duplicate keys)."""
    rows: dict[tuple[str, str], int] = {}
    duplicates = 0
    with open(src, newline="") as f:
        reader = csv.DictReader(f)
        need = {"Datum", "Warengruppe", "Umsatz"}
        if not need.issubset(reader.fieldnames or []):
            raise SystemExit(f"{src}: expected columns {sorted(need)}, got {reader.fieldnames}")
        for line, r in enumerate(reader, start=2):
            group = int(r["Warengruppe"])
            if group not in GROUP_SKU:
                raise SystemExit(f"{src}:{line}: unknown Warengruppe {group}")
            day = parse_date(r["Datum"]).isoformat()
            key = (day, GROUP_SKU[group])
            q = revenue_to_units(r["Umsatz"], group)
            if key in rows:
                duplicates += 1
                rows[key] += q
            else:
                rows[key] = q
    with open(dst, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["date", "sku", "quantity"])
        for (day, sku), q in sorted(rows.items()):
            w.writerow([day, sku, q])
    days = sorted({d for d, _ in rows})
    per_sku: dict[str, list[str]] = defaultdict(list)
    for d, sku in rows:
        per_sku[sku].append(d)
    return {
        "rows": len(rows),
        "duplicate_keys_summed": duplicates,
        "first_day": days[0],
        "last_day": days[-1],
        "sku_days": {sku: (min(ds), max(ds), len(ds)) for sku, ds in sorted(per_sku.items())},
    }


def convert_events(src: str, dst: str) -> int:
    """kieler_woche.csv (Datum,KielerWoche) -> events CSV (date,name,type)."""
    days = []
    with open(src, newline="") as f:
        for r in csv.DictReader(f):
            if str(r.get("KielerWoche", "1")).strip() in ("1", "1.0", "true", "True"):
                days.append(parse_date(r["Datum"]).isoformat())
    with open(dst, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["date", "name", "type"])
        for d in sorted(set(days)):
            w.writerow([d, EVENT_NAME, EVENT_TYPE])
    return len(set(days))


def month_end(d: dt.date) -> dt.date:
    nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def monthly_cutoffs(last_day: dt.date, horizon: int = HORIZON, n: int = N_CUTOFFS) -> list[dt.date]:
    """The n most recent month-ends D whose following `horizon` days lie inside the file
    (D + horizon <= last_day). For a file ending 2017-07-31 with horizon 30 this gives
    2016-07-31 .. 2017-06-30: twelve forecast windows covering the file's last 12 months."""
    out = []
    d = month_end(last_day)
    while len(out) < n:
        if d + dt.timedelta(days=horizon) <= last_day:
            out.append(d)
        d = d.replace(day=1) - dt.timedelta(days=1)  # previous month-end
    return sorted(out)


def read_history(path: str) -> dict[str, dict[dt.date, float]]:
    """History in the import format -> {sku: {date: quantity}} (quantities on one day summed)."""
    out: dict[str, dict[dt.date, float]] = defaultdict(dict)
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            d = parse_date(r["date"])
            s = out[r["sku"]]
            s[d] = s.get(d, 0.0) + float(r["quantity"])
    return dict(out)


def dense_series(hist: dict[str, dict[dt.date, float]], end: dt.date):
    """{sku: (first_day, [y...])}: each SKU from its first sale to `end`, days without
    sales filled with 0 (zero demand), plus a count of the filled days per SKU."""
    series = {}
    filled = {}
    for sku, days in sorted(hist.items()):
        start = min(days)
        ys = [days.get(d, 0.0) for d in daterange(start, end)]
        series[sku] = (start, ys)
        filled[sku] = sum(1 for d in daterange(start, end) if d not in days)
    return series, filled


def read_forecasts(path: str):
    """Forecast CSV (model,sku,cutoff,date,forecast,lower,upper) -> list of dicts with parsed fields."""
    out = []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        need = ["model", "sku", "cutoff", "date", "forecast", "lower", "upper"]
        cols = [c.strip() for c in (reader.fieldnames or [])]
        if cols != need:
            raise ValueError(f"{path}: header {cols} != expected {need}")
        for line, r in enumerate(reader, start=2):
            r = {k.strip(): v for k, v in r.items()}

            def num(k):
                try:
                    return float(r[k])
                except (TypeError, ValueError):
                    return math.nan

            out.append(
                {
                    "line": line,
                    "model": r["model"].strip(),
                    "sku": r["sku"].strip(),
                    "cutoff": parse_date(r["cutoff"]),
                    "date": parse_date(r["date"]),
                    "forecast": num("forecast"),
                    "lower": num("lower"),
                    "upper": num("upper"),
                }
            )
    return out


def write_forecasts(path: str, rows) -> None:
    """rows: iterable of (model, sku, cutoff, date, forecast, lower, upper)."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["model", "sku", "cutoff", "date", "forecast", "lower", "upper"])
        for m, sku, c, d, y, lo, hi in rows:
            w.writerow([m, sku, c.isoformat(), d.isoformat(), f"{y:.6f}", f"{lo:.6f}", f"{hi:.6f}"])
