//! The three model families behind one internal entry point.

pub(crate) mod ets;
pub(crate) mod naive;
pub(crate) mod prophet;

use augurs::prophet::optimizer::InitialParams;
use serde_json::json;

use crate::{DailyHistory, Engine, ForecastError, Holiday, ModelKind, TrainConfig};

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
    /// Prophet's optimum, usable as a warm start for a fit on similar data.
    pub warm: Option<InitialParams>,
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
    warm: Option<&InitialParams>,
) -> Result<Fitted, ForecastError> {
    let fitted = match kind {
        ModelKind::SeasonalNaive => Fitted {
            points: naive::fit_predict(&hist.units, horizon, intervals),
            params: json!({ "season": 7 }),
            warm: None,
        },
        ModelKind::Ets => {
            let (points, params) = ets::fit_predict(
                &hist.units,
                horizon,
                intervals,
                config.ets_yearly,
                config.ets_log1p,
            )?;
            Fitted {
                points,
                params,
                warm: None,
            }
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
                warm_start: warm,
            };
            let fit = prophet::fit_predict(engine.optimizer()?, hist, holidays, &spec)?;
            Fitted {
                points: fit.points,
                params: fit.params,
                warm: fit.optimized,
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
