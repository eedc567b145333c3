"""Forecast benchmark orchestrator (standard library only; run it through run.sh).

1. converts the Kiel bakery data into SIPREMS import/events CSVs (common.py);
2. runs `siprems backtest` for each of our models (timed, repeated, checked for
   determinism and for look-ahead leakage);
3. runs the Python peers (peers.py, in bench/forecast/.venv);
4. scores every forecast file with the same code (score.py) and prints Markdown tables.

Exit status: 0 when everything ran and every forecast file is complete; 1 on a setup error;
2 when a run failed, a forecast file is incomplete/invalid, or a check (leak, determinism)
failed -- the tables are still printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402
import score  # noqa: E402

OUR_MODELS = ("auto", "prophet", "ets", "naive", "ensemble")
PEERS = ("prophet_ref", "prophet_default", "autoets")
REF = "py:prophet_ref"
OURS_MAIN = "siprems:auto"

report_lines: list[str] = []
failures: list[str] = []


def out(s: str = "") -> None:
    print(s, flush=True)
    report_lines.append(s)


def loud(msg: str) -> None:
    failures.append(msg)
    bar = "!" * 78
    print(f"\n{bar}\n!! {msg}\n{bar}\n", file=sys.stderr, flush=True)
    report_lines.append(f"\n**FAILURE: {msg}**\n")


def children_cpu():
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return c.ru_utime + c.ru_stime


def sh(cmd, **kw):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
        return p.stdout.strip() or (f"(exit {p.returncode}: {p.stderr.strip()[:200]})" if p.returncode else "")
    except Exception as e:  # informational only
        return f"({e})"


def machine_info(args):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "date (UTC)": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "nproc": sh(["nproc"]),
        "CPU": cpu,
        "memory": sh(["sh", "-c", "free -g | awk '/Mem:/{print $2\" GiB\"}'"]),
        "kernel": platform.release(),
        "load average at start (1/5/15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "repo commit": sh(["git", "-C", args.root, "rev-parse", "--short", "HEAD"])
        + (" (dirty tree)" if sh(["git", "-C", args.root, "status", "--porcelain"]) else ""),
        "siprems binary": args.bin,
        "siprems --version": sh([args.bin, "--version"]) or "(no output)",
        "orchestrator python": platform.python_version(),
    }
    if args.venv_python and not args.skip_python:
        code = (
            "import importlib.metadata as m, platform;"
            "print(platform.python_version());"
            "[print(p, m.version(p)) for p in ('prophet','cmdstanpy','statsforecast','pandas','numpy')]"
        )
        lines = sh([args.venv_python, "-c", code]).splitlines()
        if lines:
            info["peers python"] = lines[0]
            for l in lines[1:]:
                k, _, v = l.partition(" ")
                info[k] = v
    return info


def file_hash(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()[:16]


def run_ours(args, model, history, events, cutoffs, out_csv, log_path, deadline):
    cmd = [
        args.bin, "backtest",
        "--history", history,
        "--events", events,
        "--cutoffs", ",".join(c.isoformat() for c in cutoffs),
        "--horizon", str(args.horizon),
        "--out", out_csv,
        "--model", model,
    ]
    remaining = deadline - time.time()
    if remaining <= 0:
        return None, None, "time budget exhausted before the run started"
    cpu0 = children_cpu()
    t0 = time.perf_counter()
    try:
        with open(log_path, "w") as log:
            log.write("$ " + " ".join(cmd) + "\n")
            log.flush()
            p = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=remaining, cwd=args.root)
    except subprocess.TimeoutExpired:
        return None, None, f"timed out (time budget, {remaining:.0f} s left)"
    wall = time.perf_counter() - t0
    cpu = children_cpu() - cpu0
    if p.returncode != 0:
        return wall, cpu, f"exit status {p.returncode} (see {log_path})"
    if not os.path.exists(out_csv):
        return wall, cpu, f"exit 0 but wrote no {out_csv}"
    return wall, cpu, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True, help="repository root")
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--venv-python", default="")
    ap.add_argument("--models", default=",".join(OUR_MODELS))
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--skip-python", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each of our models (median reported)")
    ap.add_argument("--repeat-max-seconds", type=float, default=120.0,
                    help="do not repeat a run of ours that took longer than this")
    ap.add_argument("--py-repeat", type=int, default=3,
                    help="timed runs of each Python peer (median reported; each run is 20-60 s)")
    ap.add_argument("--horizon", type=int, default=common.HORIZON)
    ap.add_argument("--max-minutes", type=float, default=25.0, help="time budget for the whole benchmark")
    ap.add_argument("--no-leak-check", action="store_true")
    ap.add_argument("--seed", type=int, default=20170731)
    args = ap.parse_args()

    start = time.time()
    deadline = start + args.max_minutes * 60
    os.makedirs(args.out_dir, exist_ok=True)
    models = [m for m in args.models.split(",") if m]
    peers = [] if args.skip_python else [p for p in args.peers.split(",") if p]
    for p in peers:
        if p not in PEERS:
            raise SystemExit(f"unknown peer {p!r}; known: {', '.join(PEERS)}")

    out("# SIPREMS forecast benchmark")
    out()
    out("## Machine")
    out()
    info = machine_info(args)
    out(score.md_table(["", ""], [[k, v] for k, v in info.items()]))
    out()

    # ------------------------------------------------------------ data + protocol
    sales_src = os.path.join(args.data_dir, "bakery_kiel_sales_to_2017-07-31.csv")
    kw_src = os.path.join(args.data_dir, "kieler_woche.csv")
    for p in (sales_src, kw_src):
        if not os.path.exists(p):
            raise SystemExit(f"missing data file {p} (set SIPREMS_BENCH_DATA to the folder holding it)")
    history = os.path.join(args.out_dir, "history.csv")
    events = os.path.join(args.out_dir, "events.csv")
    facts = common.convert_sales(sales_src, history)
    n_events = common.convert_events(kw_src, events)
    last_day = common.parse_date(facts["last_day"])
    cutoffs = common.monthly_cutoffs(last_day, args.horizon)
    hist = common.read_history(history)
    series, filled = common.dense_series(hist, last_day)
    n_fits = len(cutoffs) * len(series)

    out("## Protocol")
    out()
    out(f"- data: `{os.path.relpath(sales_src, args.root)}` -> {facts['rows']} rows of `date,sku,quantity` "
        f"({facts['first_day']} .. {facts['last_day']}); quantity = max(1, ceil(revenue / price)), "
        f"prices {{{', '.join(f'{g}: {p}' for g, p in common.PRICES.items())}}}")
    out(f"- events: {n_events} Kiel Week days -> `date,name,type` (\"{common.EVENT_NAME}\", holiday), "
        f"window {common.HOLIDAY_LOWER_WINDOW}..+{common.HOLIDAY_UPPER_WINDOW} days for the peers")
    out(f"- rolling origin, horizon {args.horizon} days, {len(cutoffs)} monthly cutoffs (month-ends whose "
        f"next {args.horizon} days are inside the file; the windows cover the file's last 12 months):")
    out(f"  `{','.join(c.isoformat() for c in cutoffs)}`")
    out(f"- each fit uses all history of the SKU up to and including the cutoff; {len(cutoffs)} cutoffs x "
        f"{len(series)} SKUs = {n_fits} fits per model")
    out("- days without a row are zero demand for every model and for scoring; zero-filled days per SKU "
        "(SKU's first sale .. file end):")
    rows = []
    for sku, (start_day, ys) in sorted(series.items(), key=lambda kv: common.SKU_GROUP[kv[0]]):
        f, l, n = facts["sku_days"][sku]
        in_windows = sum(
            1 for c in cutoffs for h in range(1, args.horizon + 1)
            if (c + dt.timedelta(days=h)) not in hist[sku]
        )
        rows.append([f"{common.SKU_GROUP[sku]} {sku}", f, l, n, filled[sku], in_windows])
    out()
    out(score.md_table(["group", "first sale", "last sale", "days with sales", "zero-filled days",
                        "zero days in forecast windows"], rows))
    out()

    flags: dict[str, list[str]] = {}  # label -> problems that invalidate its numbers
    timings = {}      # label -> dict(walls=[...], cpus=[...], fits=n, per_fit_median=..., per_sku={})
    forecasts = {}    # label -> csv path
    run_labels = []

    # Python peers first: they are the reference and their run time is known (~2 min); our
    # runs then get the rest of the time budget.
    out("## Runs")
    out()
    # ------------------------------------------------------------ Python peers
    if args.skip_python:
        out()
        out("- **Python peers SKIPPED (--skip-python)**: no speed ratio against Python Prophet")
        print("!! Python peers skipped (--skip-python)", file=sys.stderr)
    elif peers and not (args.venv_python and os.path.exists(args.venv_python)):
        loud(f"Python peers requested but no virtualenv python at {args.venv_python!r}")
        peers = []
    for peer in peers:
        label = f"py:{peer}"
        metas, hashes = [], []
        for i in range(max(1, args.py_repeat)):
            dir_i = args.out_dir if i == 0 else os.path.join(args.out_dir, ".peer_repeat")
            cmd = [
                args.venv_python, os.path.join(HERE, "peers.py"),
                "--history", history, "--events", events,
                "--cutoffs", ",".join(c.isoformat() for c in cutoffs),
                "--horizon", str(args.horizon),
                "--peer", peer, "--out-dir", dir_i,
                "--seed", str(args.seed), "--deadline", str(deadline),
            ]
            print(f"   {label}: run {i + 1}/{args.py_repeat}, {n_fits} fits ...", file=sys.stderr, flush=True)
            remaining = deadline - time.time()
            if remaining <= 0:
                loud(f"{label}: not run, time budget exhausted")
                break
            try:
                p = subprocess.run(cmd, timeout=remaining + 120, cwd=args.root,
                                   env=dict(os.environ, PYTHONHASHSEED=str(args.seed)))
            except subprocess.TimeoutExpired:
                loud(f"{label}: timed out")
                break
            meta_path = os.path.join(dir_i, f"peers_{peer}.json")
            if p.returncode != 0:
                loud(f"{label}: peers.py exited {p.returncode}")
            if not os.path.exists(meta_path):
                break
            with open(meta_path) as f:
                metas.append(json.load(f))
            hashes.append(file_hash(os.path.join(dir_i, f"forecasts_{peer}.csv")))
            if p.returncode != 0:
                break
        shutil.rmtree(os.path.join(args.out_dir, ".peer_repeat"), ignore_errors=True)
        if not metas:
            continue
        if len(set(hashes)) > 1:
            loud(f"{label}: repeated runs wrote different forecasts (not deterministic): {hashes}")
            flags.setdefault(label, []).append("NONDETERMINISTIC")
        meta = metas[0]
        per_sku = {}
        for sku in series:
            secs = [x["seconds"] for m in metas for x in m["fits"] if x["sku"] == sku]
            per_sku[sku] = f"{statistics.median(secs):.3f}" if secs else "n/a"
        all_secs = [x["seconds"] for m in metas for x in m["fits"]]
        walls = [m["wall_seconds"] for m in metas]
        timings[label] = {
            "walls": walls,
            "cpus": [m["cpu_seconds"] for m in metas],
            "fits": len(meta["fits"]),
            "per_fit": statistics.median(all_secs) if all_secs else float("nan"),
            "per_fit_note": "median of per-fit (fit+predict) times",
            "per_sku": per_sku,
            "import": meta["import_seconds"],
        }
        forecasts[label] = os.path.join(args.out_dir, f"forecasts_{peer}.csv")
        run_labels.append(label)
        rep = (f"{len(walls)} runs, protocol wall {', '.join(f'{w:.2f}' for w in walls)} s "
               f"(median {statistics.median(walls):.2f} s), identical output across runs: {len(set(hashes)) == 1}"
               if len(walls) > 1 else f"protocol wall {walls[0]:.2f} s")
        out(f"- `{label}`: {len(meta['fits'])} fits, {rep} (+ {meta['import_seconds']:.2f} s imports, "
            f"not counted), median fit+predict {timings[label]['per_fit']:.3f} s, seed {meta['seed']}")

    # ------------------------------------------------------------ ours
    if not os.path.exists(args.bin):
        loud(f"siprems binary {args.bin} does not exist")
        models = []
    for model in models:
        label = f"siprems:{model}"
        walls, cpus, hashes = [], [], []
        csv_path = os.path.join(args.out_dir, f"forecasts_siprems_{model}.csv")
        err = None
        for i in range(max(1, args.repeat)):
            path_i = csv_path if i == 0 else os.path.join(args.out_dir, f".repeat_{model}.csv")
            if os.path.exists(path_i):
                os.remove(path_i)
            wall, cpu, err = run_ours(args, model, history, events, cutoffs, path_i,
                                      os.path.join(args.out_dir, f"siprems_{model}.log"), deadline)
            if err:
                break
            walls.append(wall)
            cpus.append(cpu)
            hashes.append(file_hash(path_i))
            print(f"   {label}: run {i + 1}/{args.repeat} {wall:.2f} s wall", file=sys.stderr, flush=True)
            if wall > args.repeat_max_seconds:
                print(f"   {label}: slower than {args.repeat_max_seconds:.0f} s, not repeated", file=sys.stderr)
                break
        if err:
            loud(f"{label}: `siprems backtest --model {model}` failed: {err}")
            continue
        if os.path.exists(os.path.join(args.out_dir, f".repeat_{model}.csv")):
            os.remove(os.path.join(args.out_dir, f".repeat_{model}.csv"))
        if len(set(hashes)) > 1:
            loud(f"{label}: repeated runs wrote different forecasts (not deterministic): {hashes}")
            flags.setdefault(label, []).append("NONDETERMINISTIC")
        timings[label] = {
            "walls": walls,
            "cpus": cpus,
            "fits": n_fits,
            "per_fit": statistics.median(walls) / n_fits,
            "per_fit_note": "amortized (whole run / fits)",
        }
        forecasts[label] = csv_path
        run_labels.append(label)
        out(f"- `{label}`: {len(walls)} timed run(s), wall {', '.join(f'{w:.2f}' for w in walls)} s "
            f"(median {statistics.median(walls):.2f} s), identical output across runs: {len(set(hashes)) == 1}")

        # look-ahead check: the first cutoff's forecasts must not change when the history
        # file stops at that cutoff.
        if not args.no_leak_check:
            c0 = cutoffs[0]
            trunc = os.path.join(args.out_dir, "history_to_first_cutoff.csv")
            if not os.path.exists(trunc):
                with open(history) as src, open(trunc, "w") as dst:
                    for k, line in enumerate(src):
                        if k == 0 or line[:10] <= c0.isoformat():
                            dst.write(line)
            leak_csv = os.path.join(args.out_dir, f".leak_{model}.csv")
            _, _, lerr = run_ours(args, model, trunc, events, [c0], leak_csv,
                                  os.path.join(args.out_dir, f"siprems_{model}_leakcheck.log"), deadline)
            if lerr:
                loud(f"{label}: leak-check run failed: {lerr}")
            else:
                full = {(r["sku"], r["date"]): r["forecast"] for r in common.read_forecasts(csv_path)
                        if r["cutoff"] == c0}
                cut = {(r["sku"], r["date"]): r["forecast"] for r in common.read_forecasts(leak_csv)}
                common_keys = set(full) & set(cut)
                diff = max((abs(full[k] - cut[k]) / max(1.0, abs(full[k])) for k in common_keys), default=0.0)
                if set(full) != set(cut) or diff > 1e-6:
                    loud(f"{label}: forecasts for cutoff {c0} change when the history stops at the cutoff "
                         f"(max relative difference {diff:.3g}, rows {len(full)} vs {len(cut)}): "
                         "data after the cutoff is used, or the run is not deterministic")
                    flags.setdefault(label, []).append("LOOK-AHEAD")
                else:
                    out(f"  - look-ahead check at {c0}: identical forecasts with history truncated at the cutoff")
                os.remove(leak_csv)

    # ------------------------------------------------------------ scoring
    run_labels.sort(key=lambda l: (not l.startswith("siprems:"), 0))
    scores = {}
    validity_rows = []
    picks_lines = []
    for label in run_labels:
        rows_ = common.read_forecasts(forecasts[label])
        by_key, problems = score.validate(rows_, series, cutoffs, args.horizon)
        if score.problems_are_fatal(problems):
            flags.setdefault(label, []).append("INCOMPLETE")
            loud(f"{label}: forecast file incomplete or invalid: {problems}")
        validity_rows.append([label] + [problems[k] for k in problems])
        scores[label] = score.score(by_key, series, cutoffs, args.horizon)
        if label.startswith("siprems:"):
            picks = score.chosen_models(rows_)
            picks_lines.append(
                f"- `{label}` model column per SKU (counts over cutoffs): "
                + "; ".join(f"{sku}: " + ", ".join(f"{m} x{n}" for m, n in sorted(c.items()))
                            for sku, c in sorted(picks.items(), key=lambda kv: common.SKU_GROUP.get(kv[0], 99)))
            )

    out()
    out("## Validity of the forecast files")
    out()
    if validity_rows:
        keys = ["expected_rows", "rows", "missing", "duplicates", "unexpected", "non_finite", "negative",
                "lower>forecast_or_upper<forecast"]
        out(score.md_table(["run"] + keys, validity_rows))
        out()
    for l in picks_lines:
        out(l)
    out()

    fit_cols = {}
    for label, t in timings.items():
        if "per_sku" in t:
            fit_cols[label] = t["per_sku"]
        else:
            fit_cols[label] = {sku: f"{t['per_fit']:.3f}*" for sku in series}
    out("## Accuracy per model and group")
    out()
    out("Over all cutoffs x 30 days. Fit time: median fit+predict per fit for the Python peers; "
        "`*` = whole `siprems backtest` run / fits (ours does not time single fits).")
    out()
    out(score.group_table(scores, fit_cols))
    out()
    out("### sMAPE % by group")
    out()
    out(score.matrix_table(scores, "smape"))
    out()
    out("### MASE by group")
    out()
    out(score.matrix_table(scores, "mase", 3))
    out()

    # ------------------------------------------------------------ summary
    ref_wall = statistics.median(timings[REF]["walls"]) if REF in timings else None
    srows = []
    for label in run_labels:
        t = timings[label]
        wall = statistics.median(t["walls"])
        cpu = statistics.median(t["cpus"])
        s = scores[label]
        srows.append([
            label + (f" ({', '.join(flags[label])})" if label in flags else ""),
            score.fmt(score.mean_over_groups(s, "smape")),
            score.fmt(score.mean_over_groups(s, "mase"), 3),
            score.fmt(score.mean_over_groups(s, "wape")),
            score.fmt(score.mean_over_groups(s, "cov95"), 1),
            f"{wall:.2f}" + (f" (median of {len(t['walls'])})" if len(t["walls"]) > 1 else ""),
            f"{cpu:.2f}",
            t["fits"],
            f"{t['per_fit']:.3f}",
            f"{ref_wall / wall:.1f}x" if ref_wall and wall > 0 else "n/a",
        ])
    out("## Summary (groups 1-5)")
    out()
    out(score.md_table(
        ["model", "mean sMAPE % (1-5)", "mean MASE (1-5)", "mean WAPE % (1-5)", "mean 95% cov % (1-5)",
         "whole protocol wall s", "CPU s", "fits", "s / fit", f"speed vs {REF}"],
        srows,
    ))
    out()
    out(f"Wall time = the whole `siprems backtest` process for ours (start-up, reading, model selection, "
        f"writing included); for the Python peers the fit loop in one process, fits run one after another "
        f"(interpreter start and imports excluded). CPU s = user+sys including child processes; "
        f"this machine has {info['nproc']} cores. Speed = {REF} wall / model wall.")
    out()

    # ------------------------------------------------------------ targets
    peer_labels = [l for l in run_labels if l.startswith("py:")]
    if OURS_MAIN in scores and peer_labels:
        ours = scores[OURS_MAIN]
        out("## Targets (issue 3, item 8)")
        out()
        missing_peers = [p for p in PEERS if f"py:{p}" not in scores]
        if missing_peers:
            out(f"- **peers not measured: {', '.join(missing_peers)}** -- the comparison below is incomplete")
        for metric in ("smape", "mase"):
            best = min(peer_labels, key=lambda l: score.mean_over_groups(scores[l], metric))
            b = score.mean_over_groups(scores[best], metric)
            o = score.mean_over_groups(ours, metric)
            verdict = "MET" if o < b else "NOT MET"
            if OURS_MAIN in flags:
                verdict = f"NOT MEASURED ({', '.join(flags[OURS_MAIN])})"
            out(f"- mean {metric.upper()} over groups 1-5: {OURS_MAIN} {score.fmt(o, 3)} vs best peer "
                f"{best} {score.fmt(b, 3)} -> {verdict}")
        if ref_wall:
            ratio = ref_wall / statistics.median(timings[OURS_MAIN]["walls"])
            out(f"- whole backtest >= 5x faster than {REF}: {ratio:.1f}x -> {'MET' if ratio >= 5 else 'NOT MET'}")
        out()

    shown = os.path.relpath(args.out_dir, args.root)
    if shown.startswith(".."):
        shown = os.path.abspath(args.out_dir)
    out(f"Benchmark finished in {time.time() - start:.0f} s. Outputs in `{shown}/`.")
    if failures:
        out()
        out("## FAILURES")
        out()
        for f in failures:
            out(f"- {f}")
    with open(os.path.join(args.out_dir, "report.md"), "w") as f:
        f.write("\n".join(report_lines) + "\n")
    sys.exit(2 if failures else 0)


if __name__ == "__main__":
    main()
