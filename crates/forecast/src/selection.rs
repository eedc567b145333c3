//! Model selection: rolling-origin backtest folds, scoring every candidate on them, the
//! ensemble's weights, and the ranking that picks the winner (see the crate docs).

use std::time::Instant;

use rayon::prelude::*;

use crate::config::ENSEMBLE_MEMBERS;
use crate::models::{self, Reuse};
use crate::{DailyHistory, Engine, ForecastError, Holiday, Metrics, ModelKind, TrainConfig};

impl Engine {
    pub(crate) fn folds(
        &self,
        history: &DailyHistory,
        config: &TrainConfig,
    ) -> Result<Vec<(usize, usize)>, ForecastError> {
        let folds = plan_folds(
            history.len(),
            config.backtest_folds,
            config.backtest_horizon,
        );
        if folds.is_empty() {
            return Err(ForecastError::TooLittleHistory {
                days_with_sales: history.days_with_sales(),
                required: config.min_history_days_with_sales,
            });
        }
        Ok(folds)
    }

    /// Fold forecasts of each single model in `kinds`: for every fold, the model is fitted on
    /// the history before the fold and predicts the fold. Models and folds run in parallel
    /// (rayon nests fine inside `train_many`, where the outer loop already keeps all cores
    /// busy).
    pub(crate) fn backtest_singles(
        &self,
        history: &DailyHistory,
        holidays: &[Holiday],
        kinds: &[ModelKind],
        folds: &[(usize, usize)],
        config: &TrainConfig,
    ) -> Vec<SingleRun> {
        kinds
            .par_iter()
            .map(|&kind| {
                let t = Instant::now();
                let fit_fold = |&(cut, h): &(usize, usize), reuse| {
                    let train = history.head(cut);
                    models::fit_predict(self, kind, &train, holidays, h, false, reuse, config)
                };
                // ETS: the oldest window runs AutoETS's search, the later ones refit the
                // structure it chose (a sixth of the cost; the structure comes from data
                // before every later window, so they stay out of sample).
                let preds: Result<Vec<Vec<f64>>, ForecastError> = if kind == ModelKind::Ets {
                    fit_fold(&folds[0], Reuse::default()).and_then(|first| {
                        let rest: Result<Vec<Vec<f64>>, ForecastError> = folds[1..]
                            .par_iter()
                            .map(|f| Ok(points_of(&fit_fold(f, first.reuse)?)))
                            .collect();
                        let mut all = vec![points_of(&first)];
                        all.extend(rest?);
                        Ok(all)
                    })
                } else {
                    folds
                        .par_iter()
                        .map(|f| Ok(points_of(&fit_fold(f, Reuse::default())?)))
                        .collect()
                };
                SingleRun {
                    kind,
                    preds,
                    seconds: t.elapsed().as_secs_f64(),
                }
            })
            .collect()
    }
}

/// Fold forecasts of one single model (see [`Engine::backtest_singles`]).
pub(crate) struct SingleRun {
    kind: ModelKind,
    preds: Result<Vec<Vec<f64>>, ForecastError>,
    seconds: f64,
}

/// Backtest result of one candidate.
pub(crate) struct Scored {
    pub(crate) metrics: Metrics,
    /// Backtest time of the fits it needed, seconds.
    pub(crate) seconds: f64,
    /// The ensemble's member weights.
    pub(crate) weights: Option<[f64; 2]>,
}

fn points_of(fit: &models::Fitted) -> Vec<f64> {
    fit.points.iter().map(|p| p.p).collect()
}

/// Mean metrics over the folds of the fold forecasts `preds`.
fn fold_metrics(history: &DailyHistory, folds: &[(usize, usize)], preds: &[Vec<f64>]) -> Metrics {
    let per_fold: Vec<Metrics> = folds
        .iter()
        .zip(preds)
        .map(|(&(cut, h), pred)| {
            Metrics::evaluate(&history.units[..cut], &history.units[cut..cut + h], pred)
        })
        .collect();
    Metrics::mean(&per_fold)
}

/// Ensemble weights from the members' backtest MASE: inversely proportional to its square
/// (a member twice as accurate gets four times the weight).
pub(crate) fn ensemble_weights(mase: [f64; 2]) -> [f64; 2] {
    let inv = mase.map(|m| 1.0 / m.max(1e-6).powi(2));
    let total = inv[0] + inv[1];
    [inv[0] / total, inv[1] / total]
}

/// Score `kind` from the single models' fold forecasts in `runs`.
pub(crate) fn score(
    history: &DailyHistory,
    folds: &[(usize, usize)],
    kind: ModelKind,
    runs: &[SingleRun],
) -> Result<Scored, ForecastError> {
    let run = |k: ModelKind| -> Result<&SingleRun, ForecastError> {
        let r = runs
            .iter()
            .find(|r| r.kind == k)
            .ok_or_else(|| ForecastError::Model(format!("{k} was not backtested")))?;
        match &r.preds {
            Ok(_) => Ok(r),
            Err(e) => Err(ForecastError::Model(format!("{k}: {e}"))),
        }
    };
    let preds = |r: &SingleRun| -> Vec<Vec<f64>> { r.preds.as_ref().cloned().unwrap_or_default() };
    if kind != ModelKind::Ensemble {
        let r = run(kind)?;
        return Ok(Scored {
            metrics: fold_metrics(history, folds, &preds(r)),
            seconds: r.seconds,
            weights: None,
        });
    }
    let (a, b) = (run(ENSEMBLE_MEMBERS[0])?, run(ENSEMBLE_MEMBERS[1])?);
    let (pa, pb) = (preds(a), preds(b));
    let weights = ensemble_weights([
        fold_metrics(history, folds, &pa).mase,
        fold_metrics(history, folds, &pb).mase,
    ]);
    let mixed: Vec<Vec<f64>> = pa
        .iter()
        .zip(&pb)
        .map(|(x, y)| {
            x.iter()
                .zip(y)
                .map(|(x, y)| weights[0] * x + weights[1] * y)
                .collect()
        })
        .collect();
    Ok(Scored {
        metrics: fold_metrics(history, folds, &mixed),
        seconds: a.seconds + b.seconds,
        weights: Some(weights),
    })
}

/// Backtest windows as (training length, window length), oldest first. Every training part
/// keeps at least half of the history (and at least 7 days).
pub(crate) fn plan_folds(n: usize, folds: usize, horizon: usize) -> Vec<(usize, usize)> {
    if folds == 0 || horizon == 0 {
        return Vec::new();
    }
    let min_train = (n / 2).max(7);
    if n <= min_train {
        return Vec::new();
    }
    let avail = n - min_train;
    let (folds, h) = if avail / folds == 0 {
        (avail, 1)
    } else {
        (folds, horizon.min(avail / folds))
    };
    (0..folds).map(|i| (n - (folds - i) * h, h)).collect()
}

/// Candidate indices, best first: lowest MASE; within 1% of the best MASE, lowest sMAPE; the
/// ensemble goes first whenever its MASE is within `ensemble_margin` (relative) of the best.
pub(crate) fn rank(candidates: &[(ModelKind, Metrics, f64)], ensemble_margin: f64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..candidates.len()).collect();
    idx.sort_by(|&a, &b| candidates[a].1.mase.total_cmp(&candidates[b].1.mase));
    let best = candidates[idx[0]].1.mase;
    let tied = idx
        .iter()
        .take_while(|&&i| candidates[i].1.mase <= best * 1.01 + 1e-12)
        .count();
    idx[..tied].sort_by(|&a, &b| candidates[a].1.smape.total_cmp(&candidates[b].1.smape));
    if let Some(pos) = idx
        .iter()
        .position(|&i| candidates[i].0 == ModelKind::Ensemble)
        && candidates[idx[pos]].1.mase <= best * (1.0 + ensemble_margin.max(0.0)) + 1e-12
    {
        let e = idx.remove(pos);
        idx.insert(0, e);
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_cover_the_end() {
        assert_eq!(
            plan_folds(1000, 3, 28),
            vec![(916, 28), (944, 28), (972, 28)]
        );
        // short history: windows shrink so the training part keeps half the data
        assert_eq!(plan_folds(40, 3, 28), vec![(22, 6), (28, 6), (34, 6)]);
        assert_eq!(plan_folds(9, 3, 28), vec![(7, 1), (8, 1)]);
        assert!(plan_folds(7, 3, 28).is_empty());
    }

    #[test]
    fn ranking_uses_mase_then_smape() {
        let m = |mase, smape| Metrics {
            smape,
            mase,
            wape: 0.0,
            mae: 0.0,
        };
        let c = vec![
            (ModelKind::Prophet, m(0.80, 30.0), 0.1),
            (ModelKind::Ets, m(0.805, 20.0), 0.1),
            (ModelKind::SeasonalNaive, m(1.0, 10.0), 0.0),
        ];
        assert_eq!(rank(&c, 0.1), vec![1, 0, 2]);
        // The ensemble goes first when within the margin of the best MASE, otherwise it keeps
        // its place.
        let mut c = c;
        c.push((ModelKind::Ensemble, m(0.87, 25.0), 0.2));
        assert_eq!(rank(&c, 0.1), vec![3, 1, 0, 2]);
        assert_eq!(rank(&c, 0.05), vec![1, 0, 3, 2]);
    }

    #[test]
    fn ensemble_weights_follow_inverse_squared_mase() {
        let w = ensemble_weights([0.5, 1.0]);
        assert!(
            (w[0] - 0.8).abs() < 1e-12 && (w[1] - 0.2).abs() < 1e-12,
            "{w:?}"
        );
        let w = ensemble_weights([0.0, 0.0]);
        assert_eq!(w, [0.5, 0.5]);
    }
}
