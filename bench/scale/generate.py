#!/usr/bin/env python3
"""Synthetic sales history for the retraining scale benchmark: N SKUs x D days of daily
demand with weekly and yearly seasonality, a trend and Poisson noise, in the import format
(date,sku,quantity). Deterministic for a given seed."""
import argparse
import datetime as dt
import math
import random


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument("--days", type=int, default=3 * 365)
    parser.add_argument("--end", default=None, help="last day, YYYY-MM-DD (default: yesterday)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    end = dt.date.fromisoformat(args.end) if args.end else dt.date.today() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=args.days - 1)
    weekly_shapes = [[1.0, 0.9, 0.95, 1.0, 1.15, 1.5, 1.3], [1.0] * 5 + [0.6, 0.5]]
    with open(args.out, "w") as out:
        out.write("date,sku,quantity\n")
        for s in range(args.skus):
            sku = f"SKU-{s:05d}"
            level = rng.uniform(2, 60)
            weekly = weekly_shapes[s % 2]
            yearly_amp = rng.uniform(0.0, 0.4)
            phase = rng.uniform(0, 2 * math.pi)
            trend = rng.uniform(-0.0002, 0.0006)
            for i in range(args.days):
                day = start + dt.timedelta(days=i)
                mean = level * weekly[day.weekday()]
                mean *= 1 + yearly_amp * math.sin(2 * math.pi * day.timetuple().tm_yday / 365.25 + phase)
                mean *= 1 + trend * i
                quantity = poisson(rng, max(mean, 0.1))
                if quantity > 0:
                    out.write(f"{day.isoformat()},{sku},{quantity}\n")


def poisson(rng: random.Random, mean: float) -> int:
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


if __name__ == "__main__":
    main()
