//! MSTL decomposition (weekly and, with enough history, yearly) + AutoETS on the
//! deseasonalised series, via `augurs-mstl` / `augurs-ets`.

use std::sync::Mutex;

use augurs::{
    Fit, Forecast, Predict,
    ets::{AutoETS, FittedAutoETS},
    mstl::{FittedTrendModel, MSTLModel, TrendModel},
};
use serde_json::json;

use super::Point;
use crate::ForecastError;

/// Days of history from which the yearly period (365) is added to the decomposition.
pub(crate) const YEARLY_MIN_DAYS: usize = 2 * 365 + 28;

/// An ETS model structure as AutoETS chose it: error and trend letters (`A`, `M`, `N`) and
/// whether the trend is damped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EtsSpec {
    error: char,
    trend: char,
    damped: bool,
}

impl EtsSpec {
    /// The AutoETS search that refits this structure: its specification string and damping.
    /// augurs 0.10's AutoETS finds no candidate for a fixed `N` trend (its candidate list for
    /// it is empty), so a no-trend structure is searched as "no or additive trend, undamped"
    /// (two models instead of six).
    fn search(self) -> (String, Option<bool>) {
        let trend = if self.trend == 'N' { 'Z' } else { self.trend };
        (format!("{}{trend}N", self.error), Some(self.damped))
    }

    /// The usual short name, e.g. `AAdN`.
    fn name(self) -> String {
        let d = if self.damped { "d" } else { "" };
        format!("{}{}{d}N", self.error, self.trend)
    }
}

/// Fit on `y` and forecast `horizon` days with a 95% interval (when `intervals`).
/// Returns the points, a compact description of the fitted configuration and the ETS
/// structure AutoETS chose. With `structure`, only that structure is fitted (no search).
pub(crate) fn fit_predict(
    y: &[f64],
    horizon: usize,
    intervals: bool,
    yearly: bool,
    log: bool,
    structure: Option<EtsSpec>,
) -> Result<(Vec<Point>, serde_json::Value, Option<EtsSpec>), ForecastError> {
    let n = y.len();
    let transformed: Vec<f64>;
    let y = if log {
        transformed = y.iter().map(|v| v.max(0.0).ln_1p()).collect();
        &transformed[..]
    } else {
        y
    };
    let mut periods = Vec::new();
    if n > 2 * 7 {
        periods.push(7);
    }
    if yearly && n >= YEARLY_MIN_DAYS {
        periods.push(365);
    }
    let level = intervals.then_some(0.95);
    let mut last_err = String::new();
    // "ZZN" lets AutoETS choose error/trend/damping by AICc (or the given structure is fitted
    // alone); if that fails (e.g. numerically), fall back to additive error with an undamped
    // trend or none.
    let first = structure.map_or_else(|| (String::from("ZZN"), None), EtsSpec::search);
    for (spec, damped) in [first, (String::from("AZN"), Some(false))] {
        let mut ets =
            AutoETS::new(1, spec.as_str()).map_err(|e| ForecastError::Model(e.to_string()))?;
        if let Some(d) = damped {
            ets = ets
                .damped(d)
                .map_err(|e| ForecastError::Model(e.to_string()))?;
        }
        let trend = Recording {
            ets,
            chosen: Mutex::new(None),
        };
        let result = if periods.is_empty() {
            trend
                .fit_ets(y)
                .map_err(|e| e.to_string())
                .and_then(|f| f.predict(horizon, level).map_err(|e| e.to_string()))
        } else {
            MSTLModel::new(periods.clone(), &trend)
                .fit(y)
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    let mut fc = f.predict(horizon, level).map_err(|e| e.to_string())?;
                    calibrate_interval(&mut fc, y, &periods);
                    Ok(fc)
                })
        };
        match result {
            Ok(fc) => {
                let points = to_points(&fc, horizon, log)?;
                let chosen = trend.chosen.lock().ok().and_then(|c| *c);
                return Ok((
                    points,
                    json!({
                        "periods": periods,
                        "trend": chosen.map_or(spec, EtsSpec::name),
                        "log1p": log,
                    }),
                    chosen,
                ));
            }
            Err(e) => last_err = e,
        }
    }
    Err(ForecastError::Model(format!("MSTL/ETS: {last_err}")))
}

/// AutoETS as MSTL's trend model, remembering the structure it chose.
#[derive(Debug)]
struct Recording {
    ets: AutoETS,
    chosen: Mutex<Option<EtsSpec>>,
}

impl Recording {
    fn fit_ets(&self, y: &[f64]) -> Result<FittedAutoETS, augurs::ets::Error> {
        let fitted = self.ets.fit(y)?;
        let model = fitted.model();
        let kind = model.model_type();
        let letter = |s: String| s.chars().next().unwrap_or('N');
        if let Ok(mut slot) = self.chosen.lock() {
            *slot = Some(EtsSpec {
                error: letter(kind.error.to_string()),
                trend: letter(kind.trend.to_string()),
                damped: model.damped(),
            });
        }
        Ok(fitted)
    }
}

impl TrendModel for &Recording {
    fn name(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed("AutoETS")
    }

    fn fit(
        &self,
        y: &[f64],
    ) -> Result<Box<dyn FittedTrendModel + Sync + Send>, Box<dyn std::error::Error + Send + Sync>>
    {
        Ok(Box::new(FittedEts(self.fit_ets(y)?)))
    }
}

#[derive(Debug)]
struct FittedEts(FittedAutoETS);

impl FittedTrendModel for FittedEts {
    fn predict_inplace(
        &self,
        horizon: usize,
        level: Option<f64>,
        forecast: &mut Forecast,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.0.predict_inplace(horizon, level, forecast)?)
    }

    fn predict_in_sample_inplace(
        &self,
        level: Option<f64>,
        forecast: &mut Forecast,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.0.predict_in_sample_inplace(level, forecast)?)
    }

    fn training_data_size(&self) -> Option<usize> {
        Some(self.0.training_data_size())
    }
}

/// MSTL's decomposition absorbs part of the day-to-day noise into the seasonal components
/// (with only two or three yearly cycles, each day's yearly value is an average of two or three
/// noisy days), so the remainder that ETS sees, and hence its interval, understates the noise
/// (about 80% coverage for a nominal 95% on synthetic data), and the repeated seasonal
/// estimate adds error of its own. The noise is therefore estimated from the data itself,
/// sigma^2 = mean((y[t] - y[t-7])^2) / 2 over the last year (weekly differences cancel the
/// weekly pattern and nearly all of the yearly one), the seasonal-estimate error is added as
/// sigma^2 / cycles (cycles of the longest period in the history), and when the ETS one-step
/// interval is narrower than that, every interval is widened by the same factor (which keeps
/// ETS's growth with the horizon).
fn calibrate_interval(fc: &mut augurs::Forecast, y: &[f64], periods: &[usize]) {
    let Some(iv) = fc.intervals.as_mut() else {
        return;
    };
    let n = y.len();
    if n < 15 || iv.lower.is_empty() {
        return;
    }
    let from = 7.max(n.saturating_sub(365));
    let d2: Vec<f64> = (from..n).map(|t| (y[t] - y[t - 7]).powi(2)).collect();
    let noise = d2.iter().sum::<f64>() / d2.len() as f64 / 2.0;
    let cycles = periods
        .iter()
        .max()
        .map_or(f64::INFINITY, |p| n as f64 / *p as f64);
    let target_sd = (noise * (1.0 + 1.0 / cycles)).sqrt();
    let sd1 = ((iv.upper[0] - iv.lower[0]) / (2.0 * 1.96)).max(0.0);
    if !(target_sd.is_finite() && target_sd > sd1) {
        return;
    }
    let factor = if sd1 > 1e-12 {
        target_sd / sd1
    } else {
        f64::NAN
    };
    for ((p, lo), hi) in fc
        .point
        .iter()
        .zip(iv.lower.iter_mut())
        .zip(iv.upper.iter_mut())
    {
        let half = if factor.is_finite() {
            ((*hi - *lo) / 2.0).max(0.0) * factor
        } else {
            1.96 * target_sd
        };
        *lo = p - half;
        *hi = p + half;
    }
}

fn to_points(
    fc: &augurs::Forecast,
    horizon: usize,
    log: bool,
) -> Result<Vec<Point>, ForecastError> {
    let back = |v: f64| if log { v.exp_m1() } else { v };
    if fc.point.len() < horizon {
        return Err(ForecastError::Model("MSTL/ETS: short forecast".into()));
    }
    let mut out = Vec::with_capacity(horizon);
    for i in 0..horizon {
        let p = back(fc.point[i]);
        let (lo, hi) = match &fc.intervals {
            Some(iv) if iv.lower.len() > i && iv.upper.len() > i => {
                (back(iv.lower[i]), back(iv.upper[i]))
            }
            _ => (p, p),
        };
        if !(p.is_finite() && lo.is_finite() && hi.is_finite()) {
            return Err(ForecastError::Model("MSTL/ETS: non-finite forecast".into()));
        }
        let p = p.max(0.0);
        out.push(Point {
            p,
            lo: lo.max(0.0).min(p),
            hi: hi.max(p),
        });
    }
    Ok(out)
}
