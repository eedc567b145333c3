//! MSTL decomposition (weekly and, with enough history, yearly) + AutoETS on the
//! deseasonalised series, via `augurs-mstl` / `augurs-ets`.

use augurs::{
    Fit, Predict,
    ets::{AutoETS, trend::AutoETSTrendModel},
    mstl::MSTLModel,
};
use serde_json::json;

use super::Point;
use crate::ForecastError;

/// Days of history from which the yearly period (365) is added to the decomposition.
pub(crate) const YEARLY_MIN_DAYS: usize = 2 * 365 + 28;

/// Fit on `y` and forecast `horizon` days with a 95% interval (when `intervals`).
/// Returns the points and a compact description of the fitted configuration.
pub(crate) fn fit_predict(
    y: &[f64],
    horizon: usize,
    intervals: bool,
    yearly: bool,
    log: bool,
) -> Result<(Vec<Point>, serde_json::Value), ForecastError> {
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
    // "ZZN" lets AutoETS choose error/trend/damping; if that fails (e.g. numerically), fall
    // back to the simplest additive-error, no-trend model.
    for spec in ["ZZN", "ANN"] {
        let ets = AutoETS::new(1, spec).map_err(|e| ForecastError::Model(e.to_string()))?;
        let result = if periods.is_empty() {
            ets.fit(y)
                .map_err(|e| e.to_string())
                .and_then(|f| f.predict(horizon, level).map_err(|e| e.to_string()))
        } else {
            MSTLModel::new(periods.clone(), AutoETSTrendModel::from(ets))
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
                return Ok((
                    points,
                    json!({ "periods": periods, "trend": spec, "log1p": log }),
                ));
            }
            Err(e) => last_err = e,
        }
    }
    Err(ForecastError::Model(format!("MSTL/ETS: {last_err}")))
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
