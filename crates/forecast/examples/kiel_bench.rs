//! Kiel bakery benchmark: converts the bakery data to the import format and runs the
//! `siprems backtest` protocol (monthly cutoffs over the last 12 months, 30-day horizon) for
//! every model.
//!
//! ```text
//! cargo run --release -p siprems-forecast --example kiel_bench -- [DATA_DIR] [OUT_DIR] [--convert-only] [--models auto,prophet,...]
//! ```
//! Models: `naive`, `ets` (weekly MSTL, the default), `ets-yearly` (weekly + yearly MSTL),
//! `prophet` (default additive variant), `prophet-reference` (SPEC flow 4 configuration),
//! `prophet-stan` (the default Prophet fitted by Stan's optimizer instead of the native one;
//! needs `--features stan-fallback`, left out of the default list without it),
//! `ensemble` (Prophet + ETS mix), `auto` (default selection), `auto-reference` (selection
//! with the reference Prophet), `auto-no-ensemble` (selection among the single models only),
//! `auto-margin-M` (selection with `ensemble_margin` M, e.g. `auto-margin-0`).
//! DATA_DIR holds `bakery_kiel_sales_to_2017-07-31.csv` (id,Datum,Warengruppe,Umsatz) and
//! `kieler_woche.csv` (Datum,KielerWoche); defaults to `../shared/data`. OUT_DIR (default
//! `target/kiel-bench`) receives `history.csv`, `events.csv` and one forecasts CSV per model.
//! Revenue becomes units with fixed prices per group: quantity = max(1, ceil(revenue/price)).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use common::cpu_seconds;

use chrono::{Datelike, Days, NaiveDate};
use forecast::files::{read_history, run_backtest_files_with};
use forecast::{
    Engine, Metrics, ModelChoice, ModelKind, ProphetOptimizer, ProphetVariant, TrainConfig,
};

const GROUPS: [(u32, &str, f64); 6] = [
    (1, "BRD-001", 4.00),
    (2, "RLL-001", 2.50),
    (3, "CRS-001", 3.50),
    (4, "CNF-001", 5.00),
    (5, "CKE-001", 8.00),
    (6, "SEA-001", 6.00),
];

fn convert(
    data: &Path,
    out: &Path,
) -> Result<(PathBuf, PathBuf, NaiveDate), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(out)?;
    let mut rdr = csv::Reader::from_path(data.join("bakery_kiel_sales_to_2017-07-31.csv"))?;
    let history = out.join("history.csv");
    let mut w = csv::Writer::from_path(&history)?;
    w.write_record(["date", "sku", "quantity", "unit_price"])?;
    let mut last = NaiveDate::MIN;
    for rec in rdr.records() {
        let rec = rec?;
        let date = NaiveDate::parse_from_str(&rec[1], "%Y-%m-%d")?;
        let group: u32 = rec[2].parse()?;
        let revenue: f64 = rec[3].parse()?;
        let Some((_, sku, price)) = GROUPS.iter().find(|g| g.0 == group) else {
            continue;
        };
        let qty = ((revenue / price).ceil() as i64).max(1);
        w.write_record([
            date.to_string(),
            sku.to_string(),
            qty.to_string(),
            format!("{price:.2}"),
        ])?;
        last = last.max(date);
    }
    w.flush()?;
    let mut rdr = csv::Reader::from_path(data.join("kieler_woche.csv"))?;
    let events = out.join("events.csv");
    let mut w = csv::Writer::from_path(&events)?;
    w.write_record(["date", "name", "type"])?;
    for rec in rdr.records() {
        let rec = rec?;
        if rec.get(1).map(str::trim) == Some("1") {
            w.write_record([&rec[0], "Kieler Woche", "seasonal"])?;
        }
    }
    w.flush()?;
    Ok((history, events, last))
}

/// Last day of each of the 12 months before the file's last month.
fn monthly_cutoffs(last: NaiveDate) -> Vec<NaiveDate> {
    let first_of_last_month = NaiveDate::from_ymd_opt(last.year(), last.month(), 1).unwrap();
    let mut out: Vec<NaiveDate> = (1..=12)
        .map(|k| {
            let first = first_of_last_month
                .checked_sub_months(chrono::Months::new(k - 1))
                .unwrap();
            first - Days::new(1)
        })
        .collect();
    out.sort();
    out
}

/// Share (%) of actuals of groups 1-5 inside the forecast's 95% interval.
fn coverage_1_5(
    file: &forecast::files::HistoryFile,
    forecasts: &Path,
) -> Result<f64, Box<dyn std::error::Error>> {
    let mut rdr = csv::Reader::from_path(forecasts)?;
    let (mut inside, mut total) = (0usize, 0usize);
    for rec in rdr.records() {
        let rec = rec?;
        if &rec[1] == "SEA-001" {
            continue;
        }
        let date = NaiveDate::parse_from_str(&rec[3], "%Y-%m-%d")?;
        let Some(actual) = file.actual(&rec[1], date) else {
            continue;
        };
        let (lo, hi): (f64, f64) = (rec[5].parse()?, rec[6].parse()?);
        total += 1;
        inside += usize::from(actual >= lo - 1e-9 && actual <= hi + 1e-9);
    }
    Ok(100.0 * inside as f64 / total.max(1) as f64)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name);
    let positional: Vec<&String> = {
        let mut skip_next = false;
        args.iter()
            .filter(|a| {
                if skip_next {
                    skip_next = false;
                    return false;
                }
                if *a == "--models" {
                    skip_next = true;
                    return false;
                }
                !a.starts_with("--")
            })
            .collect()
    };
    let data = PathBuf::from(positional.first().map_or("../shared/data", |s| s.as_str()));
    let out = PathBuf::from(
        positional
            .get(1)
            .map_or("target/kiel-bench", |s| s.as_str()),
    );
    let (history, events, last) = convert(&data, &out)?;
    println!(
        "converted -> {} and {} (last day {last})",
        history.display(),
        events.display()
    );
    if flag("--convert-only").is_some() {
        return Ok(());
    }
    let models: Vec<String> = match flag("--models") {
        Some(i) => args[i + 1].split(',').map(str::to_string).collect(),
        None => [
            "naive",
            "ets",
            "ets-yearly",
            "prophet",
            "prophet-stan",
            "prophet-reference",
            "ensemble",
            "auto",
            "auto-reference",
            "auto-no-ensemble",
        ]
        .map(String::from)
        .into_iter()
        .filter(|m| cfg!(feature = "stan-fallback") || m != "prophet-stan")
        .collect(),
    };
    let cutoffs = monthly_cutoffs(last);
    println!(
        "cutoffs: {} .. {} ({}), horizon 30 days\n",
        cutoffs[0],
        cutoffs[cutoffs.len() - 1],
        cutoffs.len()
    );
    let t = Instant::now();
    let engine = Engine::new()?;
    println!("engine ready in {:.2} s\n", t.elapsed().as_secs_f64());

    let file = read_history(&history)?;
    #[allow(clippy::type_complexity, reason = "a local table row")]
    let mut summary: BTreeMap<String, (Metrics, Metrics, f64, f64, f64, (u64, u64))> =
        BTreeMap::new();
    let mut order = Vec::new();
    for name in &models {
        let mut config = TrainConfig {
            horizon_days: 30,
            ..TrainConfig::default()
        };
        match name.as_str() {
            "ets-yearly" => {
                config.choice = ModelChoice::Only(ModelKind::Ets);
                config.ets_yearly = true;
            }
            "prophet-reference" => {
                config.choice = ModelChoice::Only(ModelKind::Prophet);
                config.prophet_variant = ProphetVariant::Reference;
            }
            "prophet-stan" => {
                config.choice = ModelChoice::Only(ModelKind::Prophet);
                config.prophet_optimizer = ProphetOptimizer::Stan;
            }
            "auto-reference" => config.prophet_variant = ProphetVariant::Reference,
            m if m.starts_with("auto-margin-") => {
                config.ensemble_margin = m["auto-margin-".len()..].parse()?;
            }
            "auto-no-ensemble" => {
                config.candidates =
                    vec![ModelKind::Prophet, ModelKind::Ets, ModelKind::SeasonalNaive]
            }
            other => config.choice = other.parse()?,
        }
        let out_csv = out.join(format!("forecasts-{name}.csv"));
        let cpu0 = cpu_seconds();
        let fits0 = forecast::prophet_fit_counts();
        let report = run_backtest_files_with(
            &history,
            Some(&events),
            &cutoffs,
            &config,
            &out_csv,
            &engine,
        )?;
        let cpu = cpu_seconds() - cpu0;
        let fits1 = forecast::prophet_fit_counts();
        let fits = (fits1.0 - fits0.0, fits1.1 - fits0.1);
        println!("== {name}\n{report}");
        let g15: Vec<Metrics> = report
            .skus
            .iter()
            .filter(|s| s.sku != "SEA-001")
            .filter_map(|s| s.metrics)
            .collect();
        summary.insert(
            name.clone(),
            (
                Metrics::mean(&g15),
                report.mean_metrics().unwrap_or_default(),
                coverage_1_5(&file, &out_csv)?,
                report.wall_seconds,
                cpu,
                fits,
            ),
        );
        order.push(name.clone());
    }
    println!(
        "== summary (mean over groups; wall and CPU time of the whole backtest incl. selection)"
    );
    println!(
        "{:<18} {:>10} {:>9} {:>9} {:>10} {:>9} {:>8} {:>8} {:>8} {:>17}",
        "model",
        "sMAPE 1-5",
        "MASE 1-5",
        "WAPE 1-5",
        "sMAPE 1-6",
        "MASE 1-6",
        "cov 1-5",
        "wall s",
        "cpu s",
        "native/fallback"
    );
    for name in order {
        let (a, b, cov, wall, cpu, fits) = summary[&name];
        println!(
            "{name:<18} {:>10.2} {:>9.3} {:>9.2} {:>10.2} {:>9.3} {:>8.1} {:>8.2} {:>8.2} {:>17}",
            a.smape,
            a.mase,
            a.wape,
            b.smape,
            b.mase,
            cov,
            wall,
            cpu,
            format!("{}/{}", fits.0, fits.1)
        );
    }
    Ok(())
}
