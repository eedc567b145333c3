//! The three model families behind one internal entry point.

pub(crate) mod ets;
pub(crate) mod naive;
pub(crate) mod prophet;

use serde_json::json;

use crate::{DailyHistory, Engine, ForecastError, Holiday, ModelKind, TrainConfig};

/// L-BFGS iteration cap of Prophet fits made for backtests.
const BACKTEST_MAX_ITER: u32 = 100;

/// One forecast day: point and 95% interval, already >= 0 and finite.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Point {
    pub p: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Output of one fit.
pub(crate) struct Fitted {
    pub points: Vec<Point>,
    pub params: serde_json::Value,
}

/// Fit `kind` on all of `hist` and forecast `horizon` days after it.
pub(crate) fn fit_predict(
    engine: &Engine,
    kind: ModelKind,
    hist: &DailyHistory,
    holidays: &[Holiday],
    horizon: usize,
    intervals: bool,
    config: &TrainConfig,
) -> Result<Fitted, ForecastError> {
    let fitted = match kind {
        ModelKind::SeasonalNaive => Fitted {
            points: naive::fit_predict(&hist.units, horizon, intervals),
            params: json!({ "season": 7 }),
        },
        ModelKind::Ets => {
            let (points, params) = ets::fit_predict(
                &hist.units,
                horizon,
                intervals,
                config.ets_yearly,
                config.ets_log1p,
            )?;
            Fitted { points, params }
        }
        ModelKind::Prophet => {
            let spec = prophet::ProphetSpec {
                variant: config.prophet_variant,
                horizon,
                uncertainty_samples: if intervals {
                    config.uncertainty_samples
                } else {
                    0
                },
                future_promo: config.future_promo,
                seed: config.seed,
                // Backtest fits only score and rank models: cap L-BFGS at 100 iterations
                // (same Kiel metrics to two decimals, about half the cost); the final fit
                // runs to convergence.
                max_iter: (!intervals).then_some(BACKTEST_MAX_ITER),
            };
            let fit = prophet::fit_predict(engine.optimizer()?, hist, holidays, &spec)?;
            Fitted {
                points: fit.points,
                params: fit.params,
            }
        }
    };
    if fitted.points.len() != horizon
        || fitted
            .points
            .iter()
            .any(|p| !(p.p.is_finite() && p.lo.is_finite() && p.hi.is_finite()) || p.lo < 0.0)
    {
        return Err(ForecastError::Model(format!(
            "{kind}: invalid forecast (wrong length, negative or non-finite values)"
        )));
    }
    Ok(fitted)
}
