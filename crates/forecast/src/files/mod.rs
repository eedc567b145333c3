//! `siprems backtest`: score forecasts on files alone (no server, no database).
//!
//! * History CSV: the import format, read by [`crate::history_csv`] with its rules (header
//!   `date,sku,quantity[,unit_price][,is_promo]` in any order; a file with a bad row is
//!   refused with line numbers). An RFC 3339 `date` counts for its UTC day (files carry no
//!   store timezone). Rows are summed per SKU and day; the promo share of a day is the share
//!   of its units on rows with a true `is_promo`.
//! * Events CSV: header `date,name` with an optional `type`; every event of the file feeds the
//!   forecast; events with the same name share one effect.
//! * For each cutoff and SKU the model is fitted on the SKU's history from its first sale up
//!   to and including the cutoff (days without sales are zero demand) and forecasts the
//!   `horizon` following days. Output columns: `model,sku,cutoff,date,forecast,lower,upper`,
//!   where `model` is the kind actually used (with `auto`, the selected one).
//! * The [`BacktestReport`] has per-SKU metrics over the forecast days that the history file
//!   covers (up to its last date), averaged over cutoffs, and the fit time.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;
use rayon::prelude::*;

mod read;

pub use read::{HistoryFile, parse_cutoffs, parse_date, read_events, read_history};
use read::{csv_err, io_err};

use crate::{
    Engine, ForecastError, ForecastPoint, Holiday, Metrics, ModelChoice, ModelKind, TrainConfig,
};

/// Accuracy and cost of one SKU over all cutoffs.
#[derive(Debug, Clone, PartialEq)]
pub struct SkuReport {
    /// The SKU.
    pub sku: String,
    /// Cutoffs that produced a forecast.
    pub cutoffs: usize,
    /// How often each kind was used.
    pub models: BTreeMap<ModelKind, usize>,
    /// Metrics averaged over the cutoffs whose forecast days the history file covers (None
    /// when it covers none).
    pub metrics: Option<Metrics>,
    /// Forecast days that had actuals.
    pub scored_days: usize,
    /// Total fit (+ selection) time over all cutoffs, seconds.
    pub fit_seconds: f64,
}

/// Result of [`run_backtest_files`].
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestReport {
    /// Model choice used.
    pub choice: ModelChoice,
    /// Forecast horizon in days.
    pub horizon: usize,
    /// One entry per SKU that produced at least one forecast, sorted by SKU.
    pub skus: Vec<SkuReport>,
    /// (sku, cutoff, reason) for every combination that produced no forecast.
    pub skipped: Vec<(String, NaiveDate, String)>,
    /// Forecast rows written.
    pub rows: usize,
    /// Wall time of the whole run, seconds.
    pub wall_seconds: f64,
}

impl BacktestReport {
    /// Mean of the per-SKU metrics (SKUs with metrics only).
    pub fn mean_metrics(&self) -> Option<Metrics> {
        let all: Vec<Metrics> = self.skus.iter().filter_map(|s| s.metrics).collect();
        (!all.is_empty()).then(|| Metrics::mean(&all))
    }
}

impl fmt::Display for BacktestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "model: {}  horizon: {} days  rows: {}  wall time: {:.2} s",
            self.choice, self.horizon, self.rows, self.wall_seconds
        )?;
        writeln!(
            f,
            "{:<16} {:>7} {:>8} {:>7} {:>8} {:>9} {:>8}  models",
            "sku", "cutoffs", "sMAPE%", "MASE", "WAPE%", "MAE", "fit s"
        )?;
        let num = |m: Option<Metrics>, g: fn(&Metrics) -> f64, w: usize, p: usize| match m {
            Some(m) => format!("{:>w$.p$}", g(&m)),
            None => format!("{:>w$}", "-"),
        };
        let row = |f: &mut fmt::Formatter<'_>,
                   name: &str,
                   cutoffs: String,
                   m: Option<Metrics>,
                   secs: f64,
                   models: String| {
            writeln!(
                f,
                "{:<16} {:>7} {} {} {} {} {:>8.2}  {}",
                name,
                cutoffs,
                num(m, |m| m.smape, 8, 2),
                num(m, |m| m.mase, 7, 3),
                num(m, |m| m.wape, 8, 2),
                num(m, |m| m.mae, 9, 2),
                secs,
                models
            )
        };
        for s in &self.skus {
            let models = s
                .models
                .iter()
                .map(|(k, n)| format!("{k}x{n}"))
                .collect::<Vec<_>>()
                .join(" ");
            row(
                f,
                &s.sku,
                s.cutoffs.to_string(),
                s.metrics,
                s.fit_seconds,
                models,
            )?;
        }
        if self.skus.len() > 1 {
            let secs = self.skus.iter().map(|s| s.fit_seconds).sum();
            row(
                f,
                "mean",
                String::new(),
                self.mean_metrics(),
                secs,
                String::new(),
            )?;
        }
        if !self.skipped.is_empty() {
            writeln!(f, "skipped {} sku/cutoff combinations:", self.skipped.len())?;
            for (sku, cutoff, why) in self.skipped.iter().take(20) {
                writeln!(f, "  {sku} @ {cutoff}: {why}")?;
            }
        }
        Ok(())
    }
}

struct Job<'a> {
    sku: &'a str,
    cutoff: NaiveDate,
}

struct JobOut {
    kind: ModelKind,
    points: Vec<ForecastPoint>,
    metrics: Option<Metrics>,
    scored_days: usize,
    seconds: f64,
}

/// Run the file backtest and write the forecasts CSV; see the module docs.
pub fn run_backtest_files(
    history_csv: &Path,
    events_csv: Option<&Path>,
    cutoffs: &[NaiveDate],
    horizon: usize,
    choice: ModelChoice,
    out_csv: &Path,
    engine: &Engine,
) -> Result<BacktestReport, ForecastError> {
    let config = TrainConfig {
        choice,
        horizon_days: horizon,
        ..TrainConfig::default()
    };
    run_backtest_files_with(history_csv, events_csv, cutoffs, &config, out_csv, engine)
}

/// [`run_backtest_files`] with a full [`TrainConfig`] (`choice` and `horizon_days` are taken
/// from it).
pub fn run_backtest_files_with(
    history_csv: &Path,
    events_csv: Option<&Path>,
    cutoffs: &[NaiveDate],
    config: &TrainConfig,
    out_csv: &Path,
    engine: &Engine,
) -> Result<BacktestReport, ForecastError> {
    let started = Instant::now();
    let horizon = config.horizon_days;
    if horizon == 0 {
        return Err(ForecastError::Input(
            "horizon must be at least 1 day".into(),
        ));
    }
    if cutoffs.is_empty() {
        return Err(ForecastError::Input("no cutoffs given".into()));
    }
    let file = read_history(history_csv)?;
    let holidays = match events_csv {
        Some(p) => read_events(p)?,
        None => Vec::new(),
    };
    let mut cutoffs = cutoffs.to_vec();
    cutoffs.sort();
    cutoffs.dedup();
    let jobs: Vec<Job<'_>> = file
        .skus()
        .flat_map(|sku| cutoffs.iter().map(move |&cutoff| Job { sku, cutoff }))
        .collect();

    // SKU x cutoff fits are independent and CPU-bound: spread them over all cores.
    let outs: Vec<Result<JobOut, ForecastError>> = jobs
        .par_iter()
        .map(|job| run_job(&file, &holidays, job, config, engine))
        .collect();

    let mut wtr = csv::Writer::from_path(out_csv).map_err(|e| csv_err(out_csv, e))?;
    wtr.write_record([
        "model", "sku", "cutoff", "date", "forecast", "lower", "upper",
    ])
    .map_err(|e| csv_err(out_csv, e))?;
    let mut per_sku: BTreeMap<&str, (SkuReport, Vec<Metrics>)> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut rows = 0;
    for (job, out) in jobs.iter().zip(outs) {
        let out = match out {
            Ok(o) => o,
            Err(e @ (ForecastError::Io { .. } | ForecastError::Input(_))) => return Err(e),
            Err(e) => {
                skipped.push((job.sku.to_string(), job.cutoff, e.to_string()));
                continue;
            }
        };
        let cutoff = job.cutoff.to_string();
        for p in &out.points {
            wtr.write_record([
                out.kind.as_str(),
                job.sku,
                &cutoff,
                &p.date.to_string(),
                &fmt_num(p.predicted),
                &fmt_num(p.lower),
                &fmt_num(p.upper),
            ])
            .map_err(|e| csv_err(out_csv, e))?;
            rows += 1;
        }
        let (rep, ms) = per_sku.entry(job.sku).or_insert_with(|| {
            (
                SkuReport {
                    sku: job.sku.to_string(),
                    cutoffs: 0,
                    models: BTreeMap::new(),
                    metrics: None,
                    scored_days: 0,
                    fit_seconds: 0.0,
                },
                Vec::new(),
            )
        });
        rep.cutoffs += 1;
        *rep.models.entry(out.kind).or_default() += 1;
        rep.scored_days += out.scored_days;
        rep.fit_seconds += out.seconds;
        ms.extend(out.metrics);
    }
    wtr.flush().map_err(io_err(out_csv))?;
    let skus = per_sku
        .into_values()
        .map(|(mut rep, ms)| {
            rep.metrics = (!ms.is_empty()).then(|| Metrics::mean(&ms));
            rep
        })
        .collect();
    Ok(BacktestReport {
        choice: config.choice,
        horizon,
        skus,
        skipped,
        rows,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.3}");
    if s == "-0.000" { "0.000".into() } else { s }
}

fn run_job(
    file: &HistoryFile,
    holidays: &[Holiday],
    job: &Job<'_>,
    config: &TrainConfig,
    engine: &Engine,
) -> Result<JobOut, ForecastError> {
    let history = file
        .history(job.sku, job.cutoff)
        .ok_or(ForecastError::TooLittleHistory {
            days_with_sales: 0,
            required: config.min_history_days_with_sales,
        })?;
    let t = Instant::now();
    let (kind, points) = match config.choice {
        ModelChoice::Auto => {
            let m = engine.train(&history, holidays, config)?;
            (m.kind, m.forecast)
        }
        ModelChoice::Only(kind) => (
            kind,
            engine.forecast(&history, holidays, kind, config.horizon_days, config)?,
        ),
    };
    let seconds = t.elapsed().as_secs_f64();
    let mut actual = Vec::new();
    let mut pred = Vec::new();
    for p in &points {
        if let Some(a) = file.actual(job.sku, p.date) {
            actual.push(a);
            pred.push(p.predicted);
        }
    }
    let metrics = (!actual.is_empty()).then(|| Metrics::evaluate(&history.units, &actual, &pred));
    Ok(JobOut {
        kind,
        points,
        metrics,
        scored_days: actual.len(),
        seconds,
    })
}
