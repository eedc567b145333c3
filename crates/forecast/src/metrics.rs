//! Forecast accuracy metrics.
//!
//! All functions take the actual values and the point forecasts for the same days (slices of
//! equal length; extra elements of the longer slice are ignored). They never return NaN or an
//! infinity, so a [`Metrics`] value always serialises to valid JSON:
//!
//! * **sMAPE** (percent): mean over days of `2|F-A| / (|A|+|F|)`, a day where both are 0 counts
//!   as 0 error. Range 0..200.
//! * **MASE**: mean absolute error divided by the in-sample mean absolute error of the weekly
//!   seasonal-naive forecast (`y[t] - y[t-7]`) on the training part. Below 1 means better than
//!   "same weekday last week" was in-sample. When that scale is 0 (a training series that
//!   repeats exactly every week, e.g. all zeros) the mean absolute training value is used
//!   instead, and 1 if that is 0 too.
//! * **WAPE** (percent): `sum|F-A| / sum|A|`; when every actual is 0 it is 0 if every forecast
//!   is 0 and 100 otherwise.
//! * **MAE**: mean absolute error, in units.

use serde::{Deserialize, Serialize};

/// Accuracy of a model measured on days it did not see (rolling-origin backtest).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    /// Symmetric mean absolute percentage error, percent (0..200).
    pub smape: f64,
    /// Mean absolute scaled error against the in-sample weekly seasonal naive.
    pub mase: f64,
    /// Weighted absolute percentage error, percent.
    pub wape: f64,
    /// Mean absolute error, units per day.
    pub mae: f64,
}

impl Metrics {
    /// Compute all four metrics for one forecast window. `train` is the history the model was
    /// fitted on (used for the MASE scale).
    pub fn evaluate(train: &[f64], actual: &[f64], forecast: &[f64]) -> Metrics {
        Metrics {
            smape: smape(actual, forecast),
            mase: mase(train, actual, forecast),
            wape: wape(actual, forecast),
            mae: mae(actual, forecast),
        }
    }

    /// Element-wise mean of several metric sets (e.g. backtest folds). Empty input gives zeros.
    pub fn mean(all: &[Metrics]) -> Metrics {
        if all.is_empty() {
            return Metrics::default();
        }
        let n = all.len() as f64;
        Metrics {
            smape: all.iter().map(|m| m.smape).sum::<f64>() / n,
            mase: all.iter().map(|m| m.mase).sum::<f64>() / n,
            wape: all.iter().map(|m| m.wape).sum::<f64>() / n,
            mae: all.iter().map(|m| m.mae).sum::<f64>() / n,
        }
    }

    /// Round every field to `decimals` decimal places (for compact storage and display).
    pub fn rounded(self, decimals: i32) -> Metrics {
        let f = 10f64.powi(decimals);
        let r = |x: f64| (x * f).round() / f;
        Metrics {
            smape: r(self.smape),
            mase: r(self.mase),
            wape: r(self.wape),
            mae: r(self.mae),
        }
    }
}

fn pairs<'a>(actual: &'a [f64], forecast: &'a [f64]) -> impl Iterator<Item = (f64, f64)> + 'a {
    actual.iter().copied().zip(forecast.iter().copied())
}

/// Symmetric MAPE in percent; days where actual and forecast are both 0 count as 0.
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    let n = actual.len().min(forecast.len());
    if n == 0 {
        return 0.0;
    }
    let total: f64 = pairs(actual, forecast)
        .map(|(a, f)| {
            let den = a.abs() + f.abs();
            if den == 0.0 {
                0.0
            } else {
                2.0 * (f - a).abs() / den
            }
        })
        .sum();
    clean(100.0 * total / n as f64)
}

/// Mean absolute error.
pub fn mae(actual: &[f64], forecast: &[f64]) -> f64 {
    let n = actual.len().min(forecast.len());
    if n == 0 {
        return 0.0;
    }
    clean(
        pairs(actual, forecast)
            .map(|(a, f)| (f - a).abs())
            .sum::<f64>()
            / n as f64,
    )
}

/// Weighted absolute percentage error in percent.
pub fn wape(actual: &[f64], forecast: &[f64]) -> f64 {
    let err: f64 = pairs(actual, forecast).map(|(a, f)| (f - a).abs()).sum();
    let den: f64 = pairs(actual, forecast).map(|(a, _)| a.abs()).sum();
    if den == 0.0 {
        return if err == 0.0 { 0.0 } else { 100.0 };
    }
    clean(100.0 * err / den)
}

/// In-sample mean absolute error of the weekly seasonal naive (`y[t] - y[t-7]`), with the
/// fallbacks described in the module docs so that it is always > 0.
pub fn naive_scale(train: &[f64]) -> f64 {
    let diffs: Vec<f64> = train.windows(8).map(|w| (w[7] - w[0]).abs()).collect();
    if !diffs.is_empty() {
        let s = diffs.iter().sum::<f64>() / diffs.len() as f64;
        if s > 1e-12 && s.is_finite() {
            return s;
        }
    }
    if !train.is_empty() {
        let m = train.iter().map(|v| v.abs()).sum::<f64>() / train.len() as f64;
        if m > 1e-12 && m.is_finite() {
            return m;
        }
    }
    1.0
}

/// Mean absolute scaled error against the weekly seasonal naive on `train`.
pub fn mase(train: &[f64], actual: &[f64], forecast: &[f64]) -> f64 {
    clean(mae(actual, forecast) / naive_scale(train))
}

fn clean(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn smape_hand_computed() {
        // day 1: 2*|12-10|/(10+12) = 4/22; day 2: both zero -> 0; day 3: 2*5/5 = 2
        let s = smape(&[10.0, 0.0, 0.0], &[12.0, 0.0, 5.0]);
        assert!(close(s, 100.0 * (4.0 / 22.0 + 0.0 + 2.0) / 3.0), "{s}");
        assert_eq!(smape(&[], &[]), 0.0);
    }

    #[test]
    fn wape_and_mae_hand_computed() {
        let a = [10.0, 20.0, 30.0];
        let f = [12.0, 18.0, 33.0];
        assert!(close(mae(&a, &f), 7.0 / 3.0));
        assert!(close(wape(&a, &f), 100.0 * 7.0 / 60.0));
        assert_eq!(wape(&[0.0, 0.0], &[0.0, 0.0]), 0.0);
        assert_eq!(wape(&[0.0, 0.0], &[1.0, 0.0]), 100.0);
    }

    #[test]
    fn mase_hand_computed() {
        // Training: two weeks; weekly differences are all 2 -> scale 2.
        let train: Vec<f64> = (0..14).map(|i| if i < 7 { 5.0 } else { 7.0 }).collect();
        assert!(close(naive_scale(&train), 2.0));
        // MAE 1 -> MASE 0.5
        assert!(close(mase(&train, &[7.0, 7.0], &[8.0, 6.0]), 0.5));
        // Weekly-constant training -> fall back to mean |y| (= 4 here).
        let flat = vec![4.0; 21];
        assert!(close(mase(&flat, &[4.0], &[6.0]), 0.5));
        // All-zero training -> scale 1.
        assert!(close(mase(&[0.0; 21], &[0.0], &[3.0]), 3.0));
    }

    #[test]
    fn metrics_mean_and_evaluate() {
        let train: Vec<f64> = (0..14).map(|i| if i < 7 { 5.0 } else { 7.0 }).collect();
        let m = Metrics::evaluate(&train, &[10.0, 20.0], &[10.0, 10.0]);
        assert!(close(m.mae, 5.0));
        assert!(close(m.mase, 2.5));
        assert!(close(m.wape, 100.0 * 10.0 / 30.0));
        assert!(close(m.smape, 100.0 * (0.0 + 20.0 / 30.0) / 2.0));
        let avg = Metrics::mean(&[m, Metrics::default()]);
        assert!(close(avg.mae, 2.5));
        assert_eq!(Metrics::mean(&[]), Metrics::default());
    }
}
