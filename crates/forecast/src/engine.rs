//! The engine: training (backtest, select, final fit) and forecasting, for one SKU or many.

use std::fmt;
#[cfg(feature = "stan-fallback")]
use std::sync::{Arc, OnceLock};

#[cfg(feature = "stan-fallback")]
use augurs::prophet::wasmstan::WasmstanOptimizer;
use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::ENSEMBLE_MEMBERS;
use crate::models::{self, Reuse};
use crate::selection::{plan_folds, rank, score};
use crate::{
    DailyHistory, ForecastError, Holiday, Metrics, ModelChoice, ModelKind, TrainConfig,
    prophet_fit_counts,
};

/// One forecast day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastPoint {
    /// The day.
    pub date: NaiveDate,
    /// Expected units (>= 0).
    pub predicted: f64,
    /// Lower bound of the 95% interval (>= 0, <= predicted).
    pub lower: f64,
    /// Upper bound of the 95% interval (>= predicted).
    pub upper: f64,
}

/// A trained model: what was chosen, how good it is on unseen data, and its forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedModel {
    /// The kind that produced `forecast`.
    pub kind: ModelKind,
    /// Fitted parameters and configuration of that kind (compact JSON).
    pub params: serde_json::Value,
    /// Last day of the history it was trained on.
    pub trained_through: NaiveDate,
    /// The `horizon_days` days after `trained_through`.
    pub forecast: Vec<ForecastPoint>,
    /// Backtest metrics of `kind`.
    pub metrics: Metrics,
    /// Every backtested candidate: kind, metrics, backtest wall time in seconds.
    pub candidates: Vec<(ModelKind, Metrics, f64)>,
}

/// The forecasting engine. Create it once per process and share it (it is cheap to clone:
/// clones share the compiled Stan Prophet optimizer when the `stan-fallback` feature is on).
#[derive(Clone)]
pub struct Engine {
    #[cfg(feature = "stan-fallback")]
    optimizer: Arc<OnceLock<Result<WasmstanOptimizer, String>>>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "stan-fallback")]
        let stan = if self.optimizer.get().is_some() {
            "compiled"
        } else {
            "not compiled yet"
        };
        #[cfg(not(feature = "stan-fallback"))]
        let stan = "not built in";
        f.debug_struct("Engine").field("stan", &stan).finish()
    }
}

impl Engine {
    /// Create the engine. With the `stan-fallback` feature this compiles the Stan Prophet
    /// optimizer now (~0.5-1 s in release builds), so that a broken optimizer fails at
    /// startup rather than at the first forecast; tools that do not need it use
    /// [`Engine::lazy`]. Without the feature there is nothing to prepare.
    pub fn new() -> Result<Engine, ForecastError> {
        let engine = Engine::lazy();
        #[cfg(feature = "stan-fallback")]
        engine.optimizer()?;
        Ok(engine)
    }

    /// Create the engine; the Stan Prophet optimizer (feature `stan-fallback`) is compiled on
    /// first use, i.e. never with the native optimizer unless it fails.
    pub fn lazy() -> Engine {
        Engine {
            #[cfg(feature = "stan-fallback")]
            optimizer: Arc::new(OnceLock::new()),
        }
    }

    /// The Stan optimizer (feature `stan-fallback`), compiled once per engine.
    #[cfg(feature = "stan-fallback")]
    pub(crate) fn optimizer(&self) -> Result<&WasmstanOptimizer, ForecastError> {
        self.optimizer
            .get_or_init(|| {
                std::panic::catch_unwind(WasmstanOptimizer::new)
                    .map_err(|_| "the bundled Prophet optimizer failed to load".to_string())
            })
            .as_ref()
            .map_err(|e| ForecastError::Model(e.clone()))
    }

    /// Backtest the candidates, pick the best (see the crate docs), fit it on all of
    /// `history` and forecast `config.horizon_days` days.
    pub fn train(
        &self,
        history: &DailyHistory,
        holidays: &[Holiday],
        config: &TrainConfig,
    ) -> Result<TrainedModel, ForecastError> {
        check_history(history, config)?;
        let mut kinds: Vec<ModelKind> = match config.choice {
            ModelChoice::Only(k) => vec![k],
            ModelChoice::Auto if config.candidates.is_empty() => ModelKind::ALL.to_vec(),
            ModelChoice::Auto => config.candidates.clone(),
        };
        kinds.dedup();
        let folds = self.folds(history, config)?;
        // Every single model needed (the ensemble needs its members) is backtested once; the
        // ensemble's backtest reuses its members' fold forecasts, so it costs no extra fit.
        let mut singles: Vec<ModelKind> = kinds.iter().flat_map(|k| k.members()).copied().collect();
        singles.sort();
        singles.dedup();
        let runs = self.backtest_singles(history, holidays, &singles, &folds, config);
        let mut candidates = Vec::new();
        let mut weights = None;
        let mut first_err = None;
        for &kind in &kinds {
            match score(history, &folds, kind, &runs) {
                Ok(scored) => {
                    if kind == ModelKind::Ensemble {
                        weights = scored.weights;
                    }
                    candidates.push((kind, scored.metrics.rounded(4), round3(scored.seconds)));
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        if candidates.is_empty() {
            return Err(first_err.unwrap_or_else(|| ForecastError::Model("no candidate".into())));
        }
        let order = rank(&candidates, config.ensemble_margin);
        let trained_through = history.last_date().expect("checked non-empty");
        let mut last_err = None;
        for i in order {
            let (kind, metrics, _) = candidates[i];
            match self.fit_final(
                kind,
                weights.unwrap_or([0.5, 0.5]),
                history,
                holidays,
                config.horizon_days,
                config,
            ) {
                Ok(fit) => {
                    return Ok(TrainedModel {
                        kind,
                        params: fit.params,
                        trained_through,
                        forecast: to_forecast(trained_through, &fit.points),
                        metrics,
                        candidates,
                    });
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| ForecastError::Model("no candidate".into())))
    }

    /// Fit `kind` on all of `history` and forecast `horizon` days after its last day (no
    /// backtest, except for the ensemble, whose weights come from its members' backtests).
    pub fn forecast(
        &self,
        history: &DailyHistory,
        holidays: &[Holiday],
        kind: ModelKind,
        horizon: usize,
        config: &TrainConfig,
    ) -> Result<Vec<ForecastPoint>, ForecastError> {
        check_history(history, config)?;
        let weights = if kind == ModelKind::Ensemble {
            let folds = plan_folds(
                history.len(),
                config.backtest_folds,
                config.backtest_horizon,
            );
            if folds.is_empty() {
                [0.5, 0.5]
            } else {
                let runs =
                    self.backtest_singles(history, holidays, &ENSEMBLE_MEMBERS, &folds, config);
                score(history, &folds, kind, &runs)?
                    .weights
                    .unwrap_or([0.5, 0.5])
            }
        } else {
            [0.5, 0.5]
        };
        let fit = self.fit_final(kind, weights, history, holidays, horizon, config)?;
        Ok(to_forecast(
            history.last_date().expect("checked non-empty"),
            &fit.points,
        ))
    }

    /// Rolling-origin backtest of `kind` over the end of `history` (see the crate docs).
    pub fn backtest(
        &self,
        history: &DailyHistory,
        holidays: &[Holiday],
        kind: ModelKind,
        config: &TrainConfig,
    ) -> Result<Metrics, ForecastError> {
        check_history(history, config)?;
        let folds = self.folds(history, config)?;
        let runs = self.backtest_singles(history, holidays, kind.members(), &folds, config);
        Ok(score(history, &folds, kind, &runs)?.metrics)
    }

    /// Fit `kind` on all of `history` for `horizon` days, intervals included; the ensemble
    /// fits its members in parallel and mixes them with `weights`.
    fn fit_final(
        &self,
        kind: ModelKind,
        weights: [f64; 2],
        history: &DailyHistory,
        holidays: &[Holiday],
        horizon: usize,
        config: &TrainConfig,
    ) -> Result<models::Fitted, ForecastError> {
        // The final fit runs AutoETS's own search on all the data (reusing the oldest
        // window's choice here too saved 0.6 s CPU on Kiel, same metrics for groups 1-5, but
        // group 6 got worse).
        let reuse = Reuse::default();
        if kind != ModelKind::Ensemble {
            return models::fit_predict(
                self, kind, history, holidays, horizon, true, reuse, config,
            );
        }
        let fit = |k| models::fit_predict(self, k, history, holidays, horizon, true, reuse, config);
        let (a, b) = rayon::join(|| fit(ENSEMBLE_MEMBERS[0]), || fit(ENSEMBLE_MEMBERS[1]));
        let (a, b) = (a?, b?);
        // The weights were measured on `backtest_horizon`-day windows. Beyond that there is
        // no evidence for them, and the ETS member (no yearly component) drifts away from
        // the seasonal shape: its weight fades linearly to 0 over the next
        // `backtest_horizon` days, leaving Prophet alone for the long range.
        let fade = config.backtest_horizon.max(1);
        let weight_a: Vec<f64> = (1..=horizon)
            .map(|day| {
                let keep = if day <= fade {
                    1.0
                } else {
                    (1.0 - (day - fade) as f64 / fade as f64).max(0.0)
                };
                1.0 - weights[1] * keep
            })
            .collect();
        Ok(models::Fitted {
            reuse,
            points: models::mix(&a.points, &b.points, &weight_a),
            params: serde_json::json!({
                "weights": {
                    ENSEMBLE_MEMBERS[0].as_str(): round3(weights[0]),
                    ENSEMBLE_MEMBERS[1].as_str(): round3(weights[1]),
                },
                "fade_after_days": fade,
                "fade_days": fade,
                ENSEMBLE_MEMBERS[0].as_str(): a.params,
                ENSEMBLE_MEMBERS[1].as_str(): b.params,
            }),
        })
    }

    /// [`Engine::train`] for many SKUs at once, on all cores.
    ///
    /// Uses rayon's global pool: fits are CPU-bound and independent, their durations vary a
    /// lot between SKUs (Prophet vs. a short naive series), and rayon's work stealing keeps
    /// every core busy without a hand-written queue; nested parallelism inside `train`
    /// (candidates, folds) shares the same pool instead of oversubscribing. This call blocks:
    /// from async code run it in `spawn_blocking`. Results come back in input order.
    pub fn train_many<K: Send>(
        &self,
        jobs: Vec<(K, DailyHistory)>,
        holidays: &[Holiday],
        config: &TrainConfig,
    ) -> Vec<(K, Result<TrainedModel, ForecastError>)> {
        let before = prophet_fit_counts();
        let out = jobs
            .into_par_iter()
            .map(|(key, hist)| {
                let r = self.train(&hist, holidays, config);
                (key, r)
            })
            .collect();
        let after = prophet_fit_counts();
        tracing::debug!(
            native = after.0 - before.0,
            fallback = after.1 - before.1,
            "train_many: Prophet fits by optimizer (process-wide counts)"
        );
        out
    }
}

pub(crate) fn check_history(
    history: &DailyHistory,
    config: &TrainConfig,
) -> Result<(), ForecastError> {
    history.validate()?;
    let days = history.days_with_sales();
    let required = config.min_history_days_with_sales.max(1);
    if days < required || history.len() < 7 {
        return Err(ForecastError::TooLittleHistory {
            days_with_sales: days,
            required,
        });
    }
    Ok(())
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

fn to_forecast(last: NaiveDate, points: &[models::Point]) -> Vec<ForecastPoint> {
    points
        .iter()
        .enumerate()
        .map(|(i, p)| ForecastPoint {
            date: last + chrono::Days::new(i as u64 + 1),
            predicted: round3(p.p),
            lower: round3(p.lo),
            upper: round3(p.hi),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_sync_and_lazy() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Engine>();
        check::<TrainedModel>();
        let e = Engine::lazy();
        #[cfg(feature = "stan-fallback")]
        assert!(e.optimizer.get().is_none());
        assert!(format!("{e:?}").contains("stan"));
    }
}
