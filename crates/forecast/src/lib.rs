//! # SIPREMS forecasting engine
//!
//! Daily unit-demand forecasts per SKU with 95% intervals, honest accuracy from rolling-origin
//! backtests, and automatic model selection. Built on the `augurs` crates:
//!
//! | [`ModelKind`] | what it is |
//! | --- | --- |
//! | `prophet` | Prophet (`augurs-prophet`); its Stan model's MAP fit by a native L-BFGS |
//! | `ets` | MSTL decomposition (`augurs-mstl`) + AutoETS trend (`augurs-ets`) |
//! | `naive` | weekly seasonal naive with an empirical interval |
//! | `ensemble` | weighted mean of the `prophet` and `ets` forecasts (weights from their backtests) |
//!
//! Why each default is what it is, with the numbers: `bench/forecast/README.md` ("Engine
//! experiments"), which also keeps the history of the measurements.
//!
//! ## Use
//!
//! ```no_run
//! use forecast::{DailyHistory, Engine, TrainConfig};
//! # fn main() -> Result<(), forecast::ForecastError> {
//! let engine = Engine::new()?; // once per process; clone it freely (cheap, shared)
//! let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
//! let history = DailyHistory::new(start, vec![3.0; 400]);
//! let model = engine.train(&history, &[], &TrainConfig::default())?;
//! println!("{} sMAPE {:.1}%", model.kind, model.metrics.smape);
//! # Ok(()) }
//! ```
//!
//! [`Engine::train`] backtests the candidates, picks one, fits it on all history and returns
//! a [`TrainedModel`] (serde-serialisable, stored as JSON) holding the next
//! [`TrainConfig::horizon_days`] days of forecast, its metrics and every candidate's metrics.
//! [`Engine::train_many`] does the same for many SKUs on all cores (blocking; call it from
//! `spawn_blocking`). [`history_csv`] reads the sales-history CSV format (shared with
//! `siprems import`); the [`files`] module implements `siprems backtest` (CSV in, CSV out).
//!
//! ## Data conventions
//!
//! A [`DailyHistory`] has one value per consecutive day; days without sales are 0 (demand was
//! zero, not unknown). `promo` is the share of the day's units sold on promotion (0..1).
//! [`Holiday`]s are expanded event days (date ranges already split into days); events with the
//! same name share one effect. Forecasts are clamped to >= 0, with `lower <= predicted <=
//! upper`, and are reproducible: the same data and [`TrainConfig::seed`] give the same numbers.
//!
//! ## Prophet
//!
//! Both variants: yearly seasonality (Fourier 10) only with >= 730 days of history, weekly
//! (Fourier 3), changepoint prior 0.05, holidays prior 10, every holiday with a window of 2
//! days before to 1 day after (one feature per event and offset, as Python Prophet's
//! `lower_window=-2, upper_window=1`), the promo share as an extra regressor when it varies in
//! the training data, and a 95% interval simulated as Prophet does it (new trend changepoints
//! plus observation noise) from [`TrainConfig::uncertainty_samples`] seeded draws.
//!
//! * [`ProphetVariant::Additive`] (default): raw y, additive seasonality. Chosen because it
//!   is clearly more accurate on the Kiel benchmark (and matches Python Prophet's default).
//! * [`ProphetVariant::Reference`]: the original system's configuration (SPEC flow 4):
//!   `log1p(y)`, multiplicative seasonality, a 30.5-day Fourier(15) term (>= 61 days), and a
//!   correction factor `median(actual / fitted)` clamped to [0.85, 1.15]. Kept because it fits
//!   multiplicative data better.
//!
//! **Optimizer.** augurs prepares the data and predicts; the fit is the maximum a posteriori
//! estimate of Prophet's Stan model. [`ProphetOptimizer::Native`] (default) computes that
//! objective and its gradient in Rust and minimises it with Stan's L-BFGS settings (see
//! `models::prophet_map`): about 10x cheaper than Stan's WebAssembly build, same optimum, and
//! bit-for-bit reproducible. [`ProphetOptimizer::Stan`] runs Stan's own build (`augurs`'
//! wasmstan; needs the feature below). Backtest fits, which only rank models, cap L-BFGS at 100 iterations; the final
//! fit runs to convergence.
//!
//! **Cargo feature `stan-fallback`** (off by default; the main crate passes it through as
//! `siprems/stan-fallback`): builds Stan's WebAssembly optimizer in (wasmtime + cranelift,
//! a large share of the build time and binary size), as the fallback when the native
//! optimizer fails and for [`ProphetOptimizer::Stan`]. Off because the native optimizer
//! never needed it in the measurements (Kiel and the demo shop: zero fallbacks, see the
//! bench README). Without it, a fit the native optimizer cannot finish fails with an error
//! naming the feature: the engine's selection then skips Prophet (and the ensemble) for that
//! SKU and picks among the other kinds, as for any candidate that fails; only an explicit
//! `ModelChoice::Only(Prophet)` or `ProphetOptimizer::Stan` returns the error. Every failure
//! is logged (`tracing` warn) and counted ([`prophet_fit_counts`]).
//!
//! Future promo: the promo regressor is [`TrainConfig::future_promo`] (default 0) on every
//! forecast day, i.e. the forecast is baseline demand; planned promotions belong in the events.
//!
//! ## ETS
//!
//! MSTL with the weekly period decomposes the series; AutoETS (`ZZN`, chosen by AICc) forecasts
//! the deseasonalised part and the last seasonal cycle is added back. The yearly MSTL period
//! ([`TrainConfig::ets_yearly`]) is off by default because it repeats last year's noise.
//! ETS's own interval ignores the noise MSTL's seasonal parts absorb, so it is widened to the
//! noise level measured from weekly differences (see `models::ets`). In a backtest only the
//! oldest window runs AutoETS's search; later windows refit the structure it chose.
//!
//! ## Backtest, ensemble and selection
//!
//! [`Engine::backtest`] is a rolling-origin backtest over the end of the history:
//! [`TrainConfig::backtest_folds`] consecutive windows of [`TrainConfig::backtest_horizon`]
//! days, each predicted by a fit on everything before it; metrics (see [`metrics`]) are
//! averaged over the windows. Short histories get smaller windows so that every fit sees at
//! least half of the history.
//!
//! [`ModelKind::Ensemble`] forecasts `w * prophet + (1 - w) * ets` for point and bounds alike,
//! with weights inversely proportional to each member's squared backtest MASE; beyond the
//! backtest horizon ETS's weight fades to 0 (over one more horizon), because the weights were
//! only measured that far and ETS has no yearly shape. Its backtest reuses its members' window
//! forecasts (no extra fits).
//!
//! With [`ModelChoice::Auto`] every kind in [`TrainConfig::candidates`] is backtested; the
//! winner has the lowest MASE (scale-free, defined for zero-sale days), ties within 1% go to
//! the lowest sMAPE, and the ensemble wins whenever its MASE is within
//! [`TrainConfig::ensemble_margin`] (10%) of the lowest, because three 28-day windows rank
//! models noisily and the combination is the safer bet. A candidate that fails to fit is
//! skipped; training fails only when every candidate fails.

mod config;
mod engine;
pub mod files;
mod history;
pub mod history_csv;
pub mod metrics;
mod models;
mod selection;

pub use config::{ModelChoice, ModelKind, ProphetOptimizer, ProphetVariant, TrainConfig};
pub use engine::{Engine, ForecastPoint, TrainedModel};
pub use history::{DailyHistory, Holiday};
pub use metrics::Metrics;

/// Prophet fits made by this process so far: (finished by the native optimizer, handed to
/// the fallback because the native optimizer failed).
pub fn prophet_fit_counts() -> (u64, u64) {
    models::prophet::fit_counts()
}

/// Errors of the forecasting engine.
#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    /// Not enough days with sales to fit anything meaningful.
    #[error("too little history: {days_with_sales} days with sales, at least {required} needed")]
    TooLittleHistory {
        /// Days with units > 0 in the history.
        days_with_sales: usize,
        /// [`TrainConfig::min_history_days_with_sales`].
        required: usize,
    },
    /// The input is malformed (lengths, NaN values, CSV content).
    #[error("invalid input: {0}")]
    Input(String),
    /// A model failed to fit or produced an unusable forecast.
    #[error("model error: {0}")]
    Model(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}
