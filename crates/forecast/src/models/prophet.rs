//! Prophet via `augurs-prophet`, fitted by the native optimizer (`prophet_map`) or, with the
//! `stan-fallback` feature, by its bundled WebAssembly Stan build.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use augurs::prophet::{
    FeatureMode, Holiday as PHoliday, HolidayOccurrence, IntervalWidth, Prophet, ProphetOptions,
    Regressor, Seasonality, SeasonalityOption, Standardize, TrainingData,
    optimizer::{Data, InitialParams, OptimizeOpts, OptimizedParams, Optimizer},
};
use augurs::prophet::{PositiveFloat, PredictionData};
use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Poisson, StandardNormal};
use serde_json::json;

use super::Point;
use super::prophet_map::NativeOptimizer;
use crate::{DailyHistory, Engine, ForecastError, Holiday, ProphetVariant};

/// Days of history from which yearly seasonality is fitted (Prophet's own rule: two years).
pub(crate) const YEARLY_MIN_DAYS: usize = 730;
/// Days of history from which the 30.5-day seasonality is fitted (two periods).
pub(crate) const MONTHLY_MIN_DAYS: usize = 61;
/// Holiday window: from 2 days before to 1 day after each event day.
const WINDOW: std::ops::RangeInclusive<i64> = -2..=1;

/// What one Prophet fit needs besides the data.
pub(crate) struct ProphetSpec {
    pub variant: ProphetVariant,
    pub horizon: usize,
    /// Uncertainty samples for the interval (0 = no interval).
    pub uncertainty_samples: u32,
    pub future_promo: f64,
    pub seed: u32,
    /// L-BFGS iteration cap (None = Stan's default of 2000).
    pub max_iter: Option<u32>,
    /// Use the native optimizer (falls back to Stan, when built in, if it fails).
    pub native: bool,
}

/// Process-wide counts of Prophet fits, for [`crate::prophet_fit_counts`].
struct FitCounts {
    native: AtomicU64,
    fallbacks: AtomicU64,
}

static FIT_COUNTS: FitCounts = FitCounts {
    native: AtomicU64::new(0),
    fallbacks: AtomicU64::new(0),
};

/// How many Prophet fits in this process the native optimizer finished, and how many it
/// could not (those went to the fallback).
pub(crate) fn fit_counts() -> (u64, u64) {
    (
        FIT_COUNTS.native.load(Ordering::Relaxed),
        FIT_COUNTS.fallbacks.load(Ordering::Relaxed),
    )
}

/// Result of a fit: forecast points plus the fitted parameters.
pub(crate) struct ProphetFit {
    pub points: Vec<Point>,
    pub params: serde_json::Value,
}

/// Optimizer wrapper that keeps a copy of the optimum so it can be stored with the model.
#[derive(Debug)]
struct Capturing<'a> {
    engine: &'a Engine,
    native: bool,
    result: &'a Mutex<Option<OptimizedParams>>,
}

impl Optimizer for Capturing<'_> {
    fn optimize(
        &self,
        init: &InitialParams,
        data: &Data,
        opts: &OptimizeOpts,
    ) -> Result<OptimizedParams, augurs::prophet::optimizer::Error> {
        // The native optimizer handles every model SIPREMS builds (linear trend). What it
        // refuses or fails on goes to Stan when that is built in (feature `stan-fallback`);
        // otherwise the fit fails and the engine's selection uses another model kind.
        let native_error = if self.native {
            match NativeOptimizer.optimize(init, data, opts) {
                Ok(o) => {
                    FIT_COUNTS.native.fetch_add(1, Ordering::Relaxed);
                    return Ok(self.keep(o));
                }
                Err(e) => {
                    FIT_COUNTS.fallbacks.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        error = %e,
                        stan_fallback = cfg!(feature = "stan-fallback"),
                        "native Prophet optimizer failed"
                    );
                    Some(e)
                }
            }
        } else {
            None
        };
        self.stan(init, data, opts, native_error)
            .map(|o| self.keep(o))
    }
}

impl Capturing<'_> {
    fn keep(&self, out: OptimizedParams) -> OptimizedParams {
        if let Ok(mut slot) = self.result.lock() {
            *slot = Some(out.clone());
        }
        out
    }

    #[cfg(feature = "stan-fallback")]
    fn stan(
        &self,
        init: &InitialParams,
        data: &Data,
        opts: &OptimizeOpts,
        _native_error: Option<augurs::prophet::optimizer::Error>,
    ) -> Result<OptimizedParams, augurs::prophet::optimizer::Error> {
        self.engine
            .optimizer()
            .map_err(augurs::prophet::optimizer::Error::custom)?
            .optimize(init, data, opts)
    }

    #[cfg(not(feature = "stan-fallback"))]
    fn stan(
        &self,
        _init: &InitialParams,
        _data: &Data,
        _opts: &OptimizeOpts,
        native_error: Option<augurs::prophet::optimizer::Error>,
    ) -> Result<OptimizedParams, augurs::prophet::optimizer::Error> {
        let _ = self.engine;
        Err(augurs::prophet::optimizer::Error::string(
            match native_error {
                Some(e) => format!(
                    "the native optimizer failed ({e}) and this build has no Stan fallback \
                 (cargo feature stan-fallback)"
                ),
                None => "ProphetOptimizer::Stan needs the cargo feature stan-fallback".into(),
            },
        ))
    }
}

pub(crate) fn day_ts(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp())
        .unwrap_or(0)
}

fn pf(v: f64) -> PositiveFloat {
    PositiveFloat::try_from(v).expect("positive constant")
}

/// Fit Prophet on `hist` and forecast `spec.horizon` days after its last day.
pub(crate) fn fit_predict(
    engine: &Engine,
    hist: &DailyHistory,
    holidays: &[Holiday],
    spec: &ProphetSpec,
) -> Result<ProphetFit, ForecastError> {
    let n = hist.units.len();
    let err = |e: augurs::prophet::Error| ForecastError::Model(format!("prophet: {e}"));
    let log = spec.variant == ProphetVariant::Reference;
    let mode = if log {
        FeatureMode::Multiplicative
    } else {
        FeatureMode::Additive
    };
    let ds: Vec<i64> = (0..n as i64)
        .map(|i| day_ts(hist.start + chrono::Days::new(i as u64)))
        .collect();
    let y: Vec<f64> = hist
        .units
        .iter()
        .map(|&v| if log { v.max(0.0).ln_1p() } else { v.max(0.0) })
        .collect();

    // Prophet's scales (AbsMax scaling, floor 0): y / y_scale, t = day index / (n - 1).
    let y_scale = match y.iter().fold(0.0f64, |a, v| a.max(v.abs())) {
        s if s > 0.0 && s.is_finite() => s,
        _ => 1.0,
    };
    let yearly = n >= YEARLY_MIN_DAYS;
    // The 30.5-day Fourier(15) seasonality belongs to the reference configuration only: on
    // the Kiel bakery benchmark it overfits (worse sMAPE and MASE in both variants).
    let monthly = log && n >= MONTHLY_MIN_DAYS;
    let first_ts = ds.first().copied().unwrap_or(0);
    let train_end_ts = ds.last().copied().unwrap_or(0) + 86_400;
    let future_end_ts = train_end_ts + 86_400 * spec.horizon as i64;

    // Holidays: one feature per (event, day offset in the window), as Python Prophet does with
    // lower_window=-2, upper_window=1. Features that never occur in the training range are
    // dropped (their coefficient could not be estimated anyway).
    let mut pholidays: HashMap<String, PHoliday> = HashMap::new();
    let mut holiday_names = Vec::new();
    for h in holidays {
        for off in WINDOW {
            let occ: Vec<i64> = h
                .dates
                .iter()
                .map(|d| day_ts(*d) + off * 86_400)
                .filter(|t| *t >= first_ts && *t < future_end_ts)
                .collect();
            if !occ.iter().any(|t| *t < train_end_ts) {
                continue;
            }
            let name = format!("{}{:+}", h.name, off);
            let occurrences = occ.into_iter().map(HolidayOccurrence::for_day).collect();
            holiday_names.push(name.clone());
            pholidays.insert(name, PHoliday::new(occurrences));
        }
    }

    // Intervals are simulated here (`predictive_interval`), with a seeded generator.
    let opts = ProphetOptions {
        yearly_seasonality: SeasonalityOption::Manual(yearly),
        weekly_seasonality: SeasonalityOption::Manual(n >= 14),
        daily_seasonality: SeasonalityOption::Manual(false),
        seasonality_mode: mode,
        changepoint_prior_scale: pf(0.05),
        holidays_prior_scale: pf(10.0),
        interval_width: IntervalWidth::try_new(0.95).map_err(err)?,
        uncertainty_samples: 0,
        holidays: pholidays,
        ..ProphetOptions::default()
    };
    let slot = Mutex::new(None);
    let capturing = Capturing {
        engine,
        native: spec.native,
        result: &slot,
    };
    let mut prophet = Prophet::new(opts, capturing);
    if monthly {
        prophet
            .add_seasonality(
                "monthly".into(),
                Seasonality::new(pf(30.5), NonZeroU32::new(15).expect("non-zero")),
            )
            .map_err(err)?;
    }
    // Promo regressor only when it varies in the training data (a constant column carries no
    // information and would only be confounded with the trend).
    let promo_train: Vec<f64> = hist.promo_or_zero();
    let use_promo = {
        let lo = promo_train.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = promo_train
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        hi - lo > 1e-9
    };
    let mut data = TrainingData::new(ds, y).map_err(err)?;
    if use_promo {
        let reg = match mode {
            FeatureMode::Multiplicative => Regressor::multiplicative(),
            FeatureMode::Additive => Regressor::additive(),
        };
        prophet.add_regressor("promo".into(), reg.with_standardize(Standardize::No));
        data = data
            .with_regressors(HashMap::from([("promo".to_string(), promo_train)]))
            .map_err(err)?;
    }
    prophet
        .fit(
            data,
            OptimizeOpts {
                seed: Some(spec.seed),
                iter: spec.max_iter,
                ..Default::default()
            },
        )
        .map_err(err)?;

    let back = |v: f64| -> f64 {
        let v = if log { v.exp_m1() } else { v };
        if v.is_finite() { v.max(0.0) } else { f64::NAN }
    };

    // Correction factor: median(actual / fitted) over training days with a positive fit,
    // clamped to [0.85, 1.15] (SPEC flow 4). Reference variant only: the log fit estimates the
    // median, which this re-levels; on the raw-y additive fit it made the Kiel benchmark
    // slightly worse (sMAPE 22.25% vs 22.00%, MASE 0.751 vs 0.742).
    let correction = if log {
        let in_sample = prophet.predict(None::<PredictionData>).map_err(err)?;
        let mut ratios: Vec<f64> = in_sample
            .yhat
            .point
            .iter()
            .zip(&hist.units)
            .filter_map(|(&f, &a)| {
                let f = back(f);
                (f > 1e-6).then(|| a.max(0.0) / f)
            })
            .filter(|r| r.is_finite())
            .collect();
        ratios.sort_by(f64::total_cmp);
        if ratios.is_empty() {
            1.0
        } else {
            super::naive::quantile(&ratios, 0.5).clamp(0.85, 1.15)
        }
    } else {
        1.0
    };

    // Future.
    let last = hist.start + chrono::Days::new(n.saturating_sub(1) as u64);
    let future_ds: Vec<i64> = (1..=spec.horizon as u64)
        .map(|i| day_ts(last + chrono::Days::new(i)))
        .collect();
    let mut pred = PredictionData::new(future_ds);
    if use_promo {
        pred = pred
            .with_regressors(HashMap::from([(
                "promo".to_string(),
                vec![spec.future_promo; spec.horizon],
            )]))
            .map_err(err)?;
    }
    let fc = prophet.predict(pred).map_err(err)?;
    let opt = slot.lock().ok().and_then(|o| o.clone());
    let bounds = match &opt {
        Some(o) if spec.uncertainty_samples > 0 => {
            let t_future: Vec<f64> = (1..=spec.horizon)
                .map(|i| (n - 1 + i) as f64 / (n.max(2) - 1) as f64)
                .collect();
            Some(predictive_interval(
                &Components {
                    trend: &fc.trend.point,
                    additive: &fc.additive.point,
                    multiplicative: &fc.multiplicative.point,
                    t: &t_future,
                },
                &o.delta,
                *o.sigma_obs,
                y_scale,
                spec.uncertainty_samples,
                spec.seed,
            ))
        }
        _ => None,
    };
    let mut points = Vec::with_capacity(spec.horizon);
    for i in 0..spec.horizon {
        let p = back(fc.yhat.point[i]) * correction;
        let (lo, hi) = bounds.as_ref().map_or((p, p), |(l, u)| {
            (back(l[i]) * correction, back(u[i]) * correction)
        });
        if !(p.is_finite() && lo.is_finite() && hi.is_finite()) {
            return Err(ForecastError::Model("prophet: non-finite forecast".into()));
        }
        points.push(Point {
            p,
            lo: lo.min(p),
            hi: hi.max(p),
        });
    }

    drop(prophet);
    let r6 = |x: f64| (x * 1e6).round() / 1e6;
    let params = json!({
        "variant": spec.variant,
        "yearly": yearly,
        "monthly": monthly,
        "promo_regressor": use_promo,
        "holidays": holiday_names,
        "correction": r6(correction),
        "k": opt.as_ref().map(|o| r6(o.k)),
        "m": opt.as_ref().map(|o| r6(o.m)),
        "sigma_obs": opt.as_ref().map(|o| r6(*o.sigma_obs)),
        "delta": opt.as_ref().map(|o| o.delta.iter().map(|v| r6(*v)).collect::<Vec<_>>()),
        "beta": opt.as_ref().map(|o| o.beta.iter().map(|v| r6(*v)).collect::<Vec<_>>()),
    });
    Ok(ProphetFit { points, params })
}

/// Point components of Prophet's forecast for the future days (unscaled, as `predict` returns
/// them) and the days' scaled times.
struct Components<'a> {
    trend: &'a [f64],
    additive: &'a [f64],
    multiplicative: &'a [f64],
    t: &'a [f64],
}

/// Prophet's 95% predictive interval, computed the way Prophet computes it (Python's
/// `sample_predictive_trend` / augurs' `predict_uncertainty`): each draw adds new trend
/// changepoints on the future part (a Poisson process with the rate of the fitted
/// changepoints, Laplace-distributed rate changes with the mean absolute fitted change as
/// scale) and Gaussian observation noise with the fitted `sigma_obs`; the bounds are the 2.5%
/// and 97.5% percentiles of `samples` draws. Unlike augurs' version (thread-local RNG) the
/// generator is seeded, so the same data give the same interval.
fn predictive_interval(
    c: &Components<'_>,
    delta: &[f64],
    sigma_obs: f64,
    y_scale: f64,
    samples: u32,
    seed: u32,
) -> (Vec<f64>, Vec<f64>) {
    let h = c.t.len();
    let samples = samples.max(2) as usize;
    let t_max = c.t.iter().copied().fold(1.0f64, f64::max);
    let rate = delta.len() as f64 * (t_max - 1.0);
    let scale = delta.iter().map(|d| d.abs()).sum::<f64>() / delta.len().max(1) as f64 + 1e-8;
    let mut rng = ChaCha8Rng::seed_from_u64(u64::from(seed));
    let changepoints = Poisson::new(rate).ok();
    // A Laplace(0, scale) change is an Exp(1 / scale) size with a random sign.
    let change_size = Exp::new(1.0 / scale).expect("scale is positive");
    // draws[i * samples + s]: day i, draw s.
    let mut draws = vec![0.0; h * samples];
    let mut changes: Vec<(f64, f64)> = Vec::new();
    for s in 0..samples {
        changes.clear();
        let count = changepoints.map_or(0.0, |p| p.sample(&mut rng)) as usize;
        for _ in 0..count {
            let at = 1.0 + rng.random::<f64>() * (t_max - 1.0);
            let size = change_size.sample(&mut rng);
            changes.push((at, if rng.random::<bool>() { size } else { -size }));
        }
        for i in 0..h {
            let extra: f64 = changes
                .iter()
                .filter(|(at, _)| c.t[i] >= *at)
                .map(|(at, d)| d * (c.t[i] - at))
                .sum();
            let trend = c.trend[i] + extra * y_scale;
            let noise: f64 = rng.sample::<f64, _>(StandardNormal) * sigma_obs * y_scale;
            draws[i * samples + s] = trend * (1.0 + c.multiplicative[i]) + c.additive[i] + noise;
        }
    }
    let (mut lower, mut upper) = (Vec::with_capacity(h), Vec::with_capacity(h));
    for day in draws.chunks_mut(samples) {
        day.sort_by(f64::total_cmp);
        lower.push(percentile(day, 2.5));
        upper.push(percentile(day, 97.5));
    }
    (lower, upper)
}

/// Linear-interpolated percentile of sorted data (numpy's default, as Prophet uses).
fn percentile(sorted: &[f64], pct: f64) -> f64 {
    super::naive::quantile(sorted, pct / 100.0)
}
