//! Forecasts and model versions: training a product's model from its sales history and
//! the events marked for prediction, activating a version only when it validates, and
//! answering predictions from the active version.
//!
//! - [`training`]: fitting, validating and activating versions;
//! - [`serving`]: predictions and restock advice from the active versions;
//! - [`history`]: the sales history and events a model learns from.

mod history;
mod serving;
mod training;

pub use serving::{
    Accuracy, ChartPoint, ModelInfo, Prediction, RecommendationList, ServedForecast,
};
pub use training::{Outcome, TrainingOutcome};

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use forecast::{Engine, Metrics, ModelChoice, TrainConfig, TrainedModel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::changes::Shop;
use super::sku::Sku;
use super::{DomainError, DomainResult, millis_to_rfc3339};
use crate::infra::model_store::ModelStore;
use crate::storage::{Db, models, products};

/// Forecast horizons the API accepts.
pub const MAX_DAYS: usize = Horizon::MAX_DAYS as usize;

/// Where a model version stands; stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// The one version that answers forecasts for its product.
    Active,
    /// Was active; a newer version replaced it.
    Retired,
    /// Trained but did not validate.
    Rejected,
    /// Training failed; there is no artifact.
    Failed,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Active => "active",
            VersionStatus::Retired => "retired",
            VersionStatus::Rejected => "rejected",
            VersionStatus::Failed => "failed",
        }
    }

    fn parse(stored: &str) -> DomainResult<VersionStatus> {
        [
            VersionStatus::Active,
            VersionStatus::Retired,
            VersionStatus::Rejected,
            VersionStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == stored)
        .ok_or_else(|| DomainError::unexpected(format!("unknown model version status {stored:?}")))
    }
}

/// How many days to forecast, 1 to 365: checked once where a request enters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Horizon(u16);

impl Horizon {
    pub const MAX_DAYS: u16 = 365;
    pub const WEEK: Horizon = Horizon(7);

    pub fn days(self) -> usize {
        usize::from(self.0)
    }
}

impl TryFrom<i64> for Horizon {
    type Error = InvalidHorizon;

    fn try_from(days: i64) -> Result<Self, Self::Error> {
        u16::try_from(days)
            .ok()
            .filter(|days| (1..=Self::MAX_DAYS).contains(days))
            .map(Horizon)
            .ok_or(InvalidHorizon)
    }
}

impl From<Horizon> for i64 {
    fn from(horizon: Horizon) -> i64 {
        i64::from(horizon.0)
    }
}

/// What serde reports for a horizon out of range.
#[derive(Debug, thiserror::Error)]
#[error("days must be between 1 and 365")]
pub struct InvalidHorizon;

impl utoipa::PartialSchema for Horizon {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(1))
            .maximum(Some(Self::MAX_DAYS))
            .into()
    }
}

impl utoipa::ToSchema for Horizon {}
/// How many days of forecast a trained version carries beyond its last day of history,
/// so that a version trained a few weeks ago still covers a 365-day request.
pub(super) const STORED_HORIZON: usize = MAX_DAYS + 35;
/// Days of actual sales shown before the forecast in chart data.
pub(super) const CHART_HISTORY_DAYS: usize = 60;

#[derive(Debug, Clone)]
pub struct ForecastSettings {
    /// A new version is rejected when its holdout MASE exceeds the active one's by more
    /// than this fraction.
    pub tolerance: f64,
    /// A version whose holdout MASE is above this is never activated.
    pub max_mase: f64,
    pub choice: ModelChoice,
}

impl Default for ForecastSettings {
    fn default() -> Self {
        ForecastSettings {
            tolerance: 0.10,
            max_mase: 3.0,
            choice: ModelChoice::Auto,
        }
    }
}

/// Trains, stores and serves models. One per process: the engine's optimizer is expensive
/// to build and is shared by every training.
pub struct Forecaster {
    db: Db,
    store: Arc<dyn ModelStore>,
    /// Compiles its optimizer on first use (on a blocking thread), then shares it.
    engine: Engine,
    /// Loaded artifacts by version id. Versions are immutable, so an entry never goes
    /// stale; a newly activated version simply has a new id.
    cache: moka::sync::Cache<i64, Arc<TrainedModel>>,
    /// The database, and where an activation announces that forecasts changed.
    shop: Shop,
    settings: ForecastSettings,
}

/// An active version with its artifact loaded.
pub(super) struct Loaded {
    pub(super) version: models::ModelVersionRow,
    pub(super) model: Arc<TrainedModel>,
}

impl Forecaster {
    pub fn new(shop: Shop, store: Arc<dyn ModelStore>, settings: ForecastSettings) -> Self {
        Forecaster {
            db: shop.db.clone(),
            store,
            engine: Engine::lazy(),
            cache: moka::sync::Cache::new(2_000),
            shop,
            settings,
        }
    }

    pub fn store_description(&self) -> String {
        self.store.describe()
    }

    fn train_config(&self) -> TrainConfig {
        TrainConfig {
            choice: self.settings.choice,
            horizon_days: STORED_HORIZON,
            ..TrainConfig::default()
        }
    }

    async fn load(&self, version: models::ModelVersionRow) -> DomainResult<Loaded> {
        if let Some(model) = self.cache.get(&version.id) {
            return Ok(Loaded { version, model });
        }
        let key = version.artifact_key.as_deref().ok_or_else(|| {
            DomainError::unexpected(format!("active version {} has no artifact", version.id))
        })?;
        let body = self.store.get(key).await?.ok_or_else(|| {
            DomainError::unexpected(format!("artifact {key} is missing from the model store"))
        })?;
        let model: TrainedModel = serde_json::from_str(&body)
            .map_err(|e| DomainError::internal(format!("artifact {key} is unreadable"), e))?;
        let model = Arc::new(model);
        self.cache.insert(version.id, model.clone());
        Ok(Loaded { version, model })
    }

    /// The active model of a product if it covers `days` days from `first_day`.
    async fn stored_model(
        &self,
        product: &products::ProductRow,
        first_day: NaiveDate,
        days: usize,
    ) -> DomainResult<Option<Loaded>> {
        match models::active(self.db.pool(), product.id).await? {
            Some(version) => {
                let loaded = self.load(version).await?;
                Ok(covers(&loaded, first_day, days).then_some(loaded))
            }
            None => Ok(None),
        }
    }

    /// The active model of a product, trained on first use.
    async fn active_model(
        &self,
        product: &products::ProductRow,
        first_day: NaiveDate,
        days: usize,
    ) -> DomainResult<Loaded> {
        let covers = |loaded: &Loaded| covers(loaded, first_day, days);
        if let Some(loaded) = self.stored_model(product, first_day, days).await? {
            return Ok(loaded);
        }
        let result = self.train(product).await?;
        if result.outcome == Outcome::Skipped {
            return Err(DomainError::Conflict(result.detail));
        }
        let version = models::active(self.db.pool(), product.id)
            .await?
            .ok_or_else(|| {
                DomainError::Conflict(format!(
                    "no model could be activated for {}: {}",
                    product.sku, result.detail
                ))
            })?;
        let loaded = self.load(version).await?;
        if !covers(&loaded) {
            return Err(DomainError::Conflict(format!(
                "the active model of {} does not cover the requested days; retrain it",
                product.sku
            )));
        }
        Ok(loaded)
    }
    /// Version history of a product, newest first.
    pub async fn versions(&self, sku: &Sku) -> DomainResult<Vec<ModelVersionView>> {
        let product = products::find_by_sku(self.db.pool(), sku.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(format!("product {sku}")))?;
        let rows = models::history(self.db.pool(), product.id, 50).await?;
        rows.into_iter()
            .map(|row| {
                Ok(ModelVersionView {
                    version: row.id,
                    kind: row.kind.clone(),
                    status: VersionStatus::parse(&row.status)?,
                    trained_through: row.trained_through.clone(),
                    accuracy: row
                        .metrics
                        .as_deref()
                        .and_then(|m| serde_json::from_str::<Metrics>(m).ok())
                        .map(|m| Accuracy::from(&m)),
                    note: row.note.clone(),
                    created_at: millis_to_rfc3339(row.created_at),
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelVersionView {
    pub version: i64,
    pub kind: String,
    pub status: VersionStatus,
    pub trained_through: Option<String>,
    pub accuracy: Option<Accuracy>,
    pub note: Option<String>,
    pub created_at: String,
}

pub(super) fn model_info(version: &models::ModelVersionRow) -> ModelInfo {
    ModelInfo {
        kind: version.kind.clone(),
        version: version.id,
        trained_at: millis_to_rfc3339(version.created_at),
        trained_through: version.trained_through.clone(),
    }
}

/// Whether a loaded model's stored forecast covers `days` days from `first_day`.
fn covers(loaded: &Loaded, first_day: NaiveDate, days: usize) -> bool {
    let last_needed = first_day + Days::new(days as u64 - 1);
    let forecast = &loaded.model.forecast;
    forecast.first().is_some_and(|p| p.date <= first_day)
        && forecast.last().is_some_and(|p| p.date >= last_needed)
}

pub(super) fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

pub(super) fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}
