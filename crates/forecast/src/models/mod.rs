//! The single model families behind one internal entry point, and the ensemble's mixing.

pub(crate) mod ets;
pub(crate) mod lbfgs;
pub(crate) mod naive;
pub(crate) mod prophet;
pub(crate) mod prophet_map;

use serde_json::json;

use crate::{
    DailyHistory, Engine, ForecastError, Holiday, ModelKind, ProphetOptimizer, TrainConfig,
};

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
    /// What a later fit of the same series may reuse.
    pub reuse: Reuse,
}

/// What one fit hands to later fits of the same series (the next backtest windows).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Reuse {
    /// The ETS structure AutoETS chose; a later fit with it skips AutoETS's search.
    pub ets: Option<ets::EtsSpec>,
}

/// Per-day weighted mean of two forecasts of the same days, point and bounds alike (the bounds
/// of a mixture of comonotone forecasts, "Vincentization"), so `lo <= p <= hi` and `lo >= 0`
/// carry over from the members. `weight_a[i]` is the weight of `a` on day `i`.
pub(crate) fn mix(a: &[Point], b: &[Point], weight_a: &[f64]) -> Vec<Point> {
    a.iter()
        .zip(b)
        .zip(weight_a)
        .map(|((a, b), &w)| {
            let v = 1.0 - w;
            let p = (w * a.p + v * b.p).max(0.0);
            Point {
                p,
                lo: (w * a.lo + v * b.lo).clamp(0.0, p),
                hi: (w * a.hi + v * b.hi).max(p),
            }
        })
        .collect()
}

/// Fit the single model `kind` on all of `hist` and forecast `horizon` days after it
/// (`intervals`: with the 95% interval; `reuse`: what an earlier fit of this series found).
#[allow(clippy::too_many_arguments, reason = "one fit's inputs")]
pub(crate) fn fit_predict(
    engine: &Engine,
    kind: ModelKind,
    hist: &DailyHistory,
    holidays: &[Holiday],
    horizon: usize,
    intervals: bool,
    reuse: Reuse,
    config: &TrainConfig,
) -> Result<Fitted, ForecastError> {
    let fitted = match kind {
        ModelKind::SeasonalNaive => Fitted {
            points: naive::fit_predict(&hist.units, horizon, intervals),
            params: json!({ "season": 7 }),
            reuse: Reuse::default(),
        },
        ModelKind::Ets => {
            let (points, params, chosen) = ets::fit_predict(
                &hist.units,
                horizon,
                intervals,
                config.ets_yearly,
                config.ets_log1p,
                reuse.ets,
            )?;
            Fitted {
                points,
                params,
                reuse: Reuse { ets: chosen },
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
                // Backtest fits only score and rank models: cap L-BFGS at 100 iterations
                // (same Kiel metrics to two decimals, about half the cost); the final fit
                // runs to convergence.
                max_iter: (!intervals).then_some(BACKTEST_MAX_ITER),
                native: config.prophet_optimizer == ProphetOptimizer::Native,
            };
            let fit = prophet::fit_predict(engine, hist, holidays, &spec)?;
            Fitted {
                points: fit.points,
                params: fit.params,
                reuse: Reuse::default(),
            }
        }
        ModelKind::Ensemble => {
            return Err(ForecastError::Model(
                "the ensemble is not a single model (fit it through the engine)".into(),
            ));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_is_a_weighted_mean_and_keeps_the_order() {
        let a = [Point {
            p: 10.0,
            lo: 5.0,
            hi: 20.0,
        }];
        let b = [Point {
            p: 20.0,
            lo: 0.0,
            hi: 22.0,
        }];
        let m = mix(&a, &b, &[0.75]);
        assert_eq!(
            m,
            vec![Point {
                p: 12.5,
                lo: 3.75,
                hi: 20.5
            }]
        );
    }
}
