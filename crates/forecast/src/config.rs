//! What to fit and how: model kinds, the automatic choice, Prophet's variant and optimizer,
//! and the training settings ([`TrainConfig`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ForecastError;

/// A model family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ModelKind {
    /// Prophet (augurs-prophet), configuration per [`ProphetVariant`].
    #[serde(rename = "prophet")]
    Prophet,
    /// MSTL + AutoETS (augurs-mstl, augurs-ets).
    #[serde(rename = "ets")]
    Ets,
    /// Weekly seasonal naive.
    #[serde(rename = "naive")]
    SeasonalNaive,
    /// Weighted mean of the Prophet and ETS forecasts (point and interval bounds), weights
    /// inversely proportional to their squared backtest MASE.
    #[serde(rename = "ensemble")]
    Ensemble,
}

impl ModelKind {
    /// All kinds, in the default candidate order.
    pub const ALL: [ModelKind; 4] = [
        ModelKind::Prophet,
        ModelKind::Ets,
        ModelKind::SeasonalNaive,
        ModelKind::Ensemble,
    ];

    /// The wire name: `prophet`, `ets`, `naive` or `ensemble`.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Prophet => "prophet",
            ModelKind::Ets => "ets",
            ModelKind::SeasonalNaive => "naive",
            ModelKind::Ensemble => "ensemble",
        }
    }

    /// The single models whose forecasts this kind needs (itself, or the ensemble's members).
    pub(crate) fn members(self) -> &'static [ModelKind] {
        match self {
            ModelKind::Prophet => &[ModelKind::Prophet],
            ModelKind::Ets => &[ModelKind::Ets],
            ModelKind::SeasonalNaive => &[ModelKind::SeasonalNaive],
            ModelKind::Ensemble => &ENSEMBLE_MEMBERS,
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelKind {
    type Err = ForecastError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "prophet" => Ok(ModelKind::Prophet),
            "ets" | "mstl" => Ok(ModelKind::Ets),
            "naive" | "seasonal_naive" | "snaive" => Ok(ModelKind::SeasonalNaive),
            "ensemble" | "combination" => Ok(ModelKind::Ensemble),
            other => Err(ForecastError::Input(format!(
                "unknown model '{other}' (expected prophet, ets, naive or ensemble)"
            ))),
        }
    }
}

/// Which model(s) to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelChoice {
    /// Backtest all candidates and keep the best.
    #[default]
    Auto,
    /// Use this kind only (still backtested, for its metrics).
    Only(ModelKind),
}

impl FromStr for ModelChoice {
    type Err = ForecastError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("auto") {
            Ok(ModelChoice::Auto)
        } else {
            s.parse().map(ModelChoice::Only)
        }
    }
}

impl fmt::Display for ModelChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelChoice::Auto => f.write_str("auto"),
            ModelChoice::Only(k) => k.fmt(f),
        }
    }
}

/// The ensemble's members, in the order of the ensemble weights.
pub(crate) const ENSEMBLE_MEMBERS: [ModelKind; 2] = [ModelKind::Prophet, ModelKind::Ets];

/// How Prophet's parameters are estimated (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProphetOptimizer {
    /// L-BFGS in Rust on the same objective as Prophet's Stan model (falls back to Stan when
    /// it fails and the `stan-fallback` feature is on); about 10x faster than Stan here.
    #[default]
    Native,
    /// Stan's L-BFGS in the bundled WebAssembly build (`augurs-prophet`'s wasmstan). Needs the
    /// `stan-fallback` feature; without it a fit with this optimizer returns an error.
    Stan,
}

/// Prophet configuration variant (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProphetVariant {
    /// SPEC flow 4: log1p(y), multiplicative seasonality, 30.5-day Fourier(15) seasonality.
    Reference,
    /// Prophet's default shape: raw y, additive seasonality, yearly + weekly only (the
    /// measured default).
    #[default]
    Additive,
}

/// Training settings. `TrainConfig::default()` is the production configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Auto-select or force a model kind.
    pub choice: ModelChoice,
    /// Days forecast after the last day of history (default 365).
    pub horizon_days: usize,
    /// Rolling-origin backtest windows (default 3).
    pub backtest_folds: usize,
    /// Days per backtest window (default 28).
    pub backtest_horizon: usize,
    /// Fewer days with sales than this -> [`ForecastError::TooLittleHistory`] (default 14).
    pub min_history_days_with_sales: usize,
    /// Candidates for [`ModelChoice::Auto`] (default: all kinds).
    pub candidates: Vec<ModelKind>,
    /// Prophet configuration (default [`ProphetVariant::Additive`], chosen by measurement).
    pub prophet_variant: ProphetVariant,
    /// Prophet uncertainty draws for the 95% interval (default 200).
    pub uncertainty_samples: u32,
    /// Prophet's optimizer (default [`ProphetOptimizer::Native`]).
    pub prophet_optimizer: ProphetOptimizer,
    /// With [`ModelChoice::Auto`], a single model replaces the ensemble only when its backtest
    /// MASE is lower than the ensemble's by more than this share (default 0.1, i.e. 10%).
    pub ensemble_margin: f64,
    /// Promo share assumed on forecast days (default 0: baseline demand).
    pub future_promo: f64,
    /// Add a yearly (365-day) period to the MSTL decomposition when the history has at least
    /// two years (default false: on the Kiel benchmark repeating last year's noisy seasonal
    /// component is worse than the weekly-only decomposition).
    pub ets_yearly: bool,
    /// Fit MSTL+ETS on `log1p(units)` and transform back (default false).
    pub ets_log1p: bool,
    /// Seed of the Prophet optimizer (default 42; results are reproducible up to the random
    /// draws of the interval).
    pub seed: u32,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            choice: ModelChoice::Auto,
            horizon_days: 365,
            backtest_folds: 3,
            backtest_horizon: 28,
            min_history_days_with_sales: 14,
            candidates: ModelKind::ALL.to_vec(),
            prophet_variant: ProphetVariant::Additive,
            uncertainty_samples: 200,
            prophet_optimizer: ProphetOptimizer::Native,
            ensemble_margin: 0.1,
            future_promo: 0.0,
            ets_yearly: false,
            ets_log1p: false,
            seed: 42,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_serialise() {
        assert_eq!(
            "naive".parse::<ModelKind>().unwrap(),
            ModelKind::SeasonalNaive
        );
        assert_eq!("auto".parse::<ModelChoice>().unwrap(), ModelChoice::Auto);
        assert_eq!(
            serde_json::to_string(&ModelKind::SeasonalNaive).unwrap(),
            "\"naive\""
        );
        assert_eq!(
            "ensemble".parse::<ModelKind>().unwrap(),
            ModelKind::Ensemble
        );
        for k in ModelKind::ALL {
            assert_eq!(k.as_str().parse::<ModelKind>().unwrap(), k);
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{k}\""));
            assert_eq!(serde_json::from_str::<ModelKind>(&json).unwrap(), k);
        }
        assert!("arima".parse::<ModelKind>().is_err());
    }
}
