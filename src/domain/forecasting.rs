//! Forecasts and model versions: training a product's model from its sales history and
//! the events marked for prediction, activating a version only when it validates, and
//! answering predictions from the active version.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use forecast::{
    DailyHistory, Engine, ForecastPoint, Holiday, Metrics, ModelChoice, TrainConfig, TrainedModel,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::calendar::{StoreCalendar, format_date};
use super::changes::{Group, Shop};
use super::recommendations::{self, DayDemand, Recommendation};
use super::{DomainError, DomainResult, millis_to_rfc3339, settings};
use crate::infra::model_store::ModelStore;
use crate::storage::{Db, StorageError, events, models, products};

/// Forecast horizons the API accepts.
pub const MAX_DAYS: usize = 365;
/// How many days of forecast a trained version carries beyond its last day of history,
/// so that a version trained a few weeks ago still covers a 365-day request.
const STORED_HORIZON: usize = MAX_DAYS + 35;
/// Days of actual sales shown before the forecast in chart data.
const CHART_HISTORY_DAYS: usize = 60;

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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrainingOutcome {
    pub product_sku: String,
    /// `activated`, `rejected` (validation failed; the previous version stays active),
    /// `failed` (training error) or `skipped` (too little history).
    pub outcome: String,
    pub version: Option<i64>,
    pub kind: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Accuracy {
    /// Symmetric mean absolute percentage error on held-out days, percent.
    pub smape: f64,
    /// Mean absolute scaled error against the weekly seasonal-naive forecast.
    pub mase: f64,
    /// Weighted absolute percentage error, percent.
    pub wape: f64,
    pub mae: f64,
    /// 0-100, higher is better: 100 minus WAPE, floored at 0.
    pub score: f64,
}

impl From<&Metrics> for Accuracy {
    fn from(m: &Metrics) -> Self {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        Accuracy {
            smape: round(m.smape),
            mase: round(m.mase),
            wape: round(m.wape),
            mae: round(m.mae),
            score: round((100.0 - m.wape).clamp(0.0, 100.0)),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelInfo {
    pub kind: String,
    pub version: i64,
    pub trained_at: String,
    pub trained_through: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChartPoint {
    pub date: String,
    pub actual: Option<f64>,
    pub predicted: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Prediction {
    pub product_sku: String,
    #[serde(rename = "chartData")]
    pub chart_data: Vec<ChartPoint>,
    pub recommendations: Vec<Recommendation>,
    pub accuracy: Accuracy,
    pub model: ModelInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecommendationList {
    pub horizon_days: usize,
    pub items: Vec<Recommendation>,
    /// Active products without an active model (too little history, or not trained yet).
    pub without_model: Vec<String>,
}

struct Loaded {
    version: models::ModelVersionRow,
    model: Arc<TrainedModel>,
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

    /// Trains one product now and activates the result if it validates.
    pub async fn train_product(&self, sku: &str) -> DomainResult<TrainingOutcome> {
        let product = products::find_by_sku(self.db.pool(), sku)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("product {sku}")))?;
        let calendar = settings::calendar(&self.db).await?;
        let holidays = load_holidays(&self.db).await?;
        let started = crate::storage::now_millis();
        let history = load_history(&self.db, product.id, &calendar).await?;
        let engine = self.engine.clone();
        let config = self.train_config();
        let trained = match history {
            None => Err(forecast::ForecastError::TooLittleHistory {
                days_with_sales: 0,
                required: 14,
            }),
            Some(history) => {
                tokio::task::spawn_blocking(move || engine.train(&history, &holidays, &config))
                    .await
                    .map_err(|e| DomainError::internal("training task", e))?
            }
        };
        self.record(&product, trained, started).await
    }

    /// Trains every active product (or only the stale ones), using all cores.
    pub async fn train_many(&self, only_stale: bool) -> DomainResult<Vec<TrainingOutcome>> {
        let calendar = settings::calendar(&self.db).await?;
        let holidays = load_holidays(&self.db).await?;
        let started = crate::storage::now_millis();
        let stale: Vec<i64> = models::stale_products(self.db.pool())
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let all = products::all(self.db.pool()).await?;
        let targets: Vec<_> = all
            .into_iter()
            .filter(|p| p.is_active == 1 && (!only_stale || stale.contains(&p.id)))
            .collect();
        let mut jobs = Vec::new();
        let mut outcomes = Vec::new();
        let mut by_id = BTreeMap::new();
        for product in targets {
            match load_history(&self.db, product.id, &calendar).await? {
                Some(history) => jobs.push((product.id, history)),
                None => outcomes.push(skipped(&product.sku, 0)),
            }
            by_id.insert(product.id, product);
        }
        if !jobs.is_empty() {
            let engine = self.engine.clone();
            let config = self.train_config();
            let results =
                tokio::task::spawn_blocking(move || engine.train_many(jobs, &holidays, &config))
                    .await
                    .map_err(|e| DomainError::internal("training task", e))?;
            for (product_id, result) in results {
                let product = &by_id[&product_id];
                outcomes.push(self.record(product, result, started).await?);
            }
        }
        Ok(outcomes)
    }

    /// Stores a training result as a new version and activates it when it validates.
    async fn record(
        &self,
        product: &products::ProductRow,
        trained: Result<TrainedModel, forecast::ForecastError>,
        started: i64,
    ) -> DomainResult<TrainingOutcome> {
        let model = match trained {
            Err(forecast::ForecastError::TooLittleHistory {
                days_with_sales, ..
            }) => {
                return Ok(skipped(&product.sku, days_with_sales));
            }
            Err(error) => {
                let note = format!("training failed: {error}");
                let version = self
                    .insert_version(product.id, "none", "failed", None, None, &note)
                    .await?;
                tracing::warn!(sku = %product.sku, %error, "training failed; the previous version stays active");
                return Ok(outcome(&product.sku, "failed", Some(version), None, note));
            }
            Ok(model) => model,
        };
        let kind = model.kind.as_str();
        let metrics_json = serde_json::to_string(&model.metrics)
            .map_err(|e| DomainError::internal("serializing metrics", e))?;
        let active = models::active(self.db.pool(), product.id).await?;
        if let Some(reason) = self.validation_failure(&model, active.as_ref()) {
            let version = self
                .insert_version(
                    product.id,
                    kind,
                    "rejected",
                    Some(&model),
                    Some(&metrics_json),
                    &reason,
                )
                .await?;
            tracing::info!(sku = %product.sku, %reason, "new version rejected");
            return Ok(outcome(
                &product.sku,
                "rejected",
                Some(version),
                Some(kind),
                reason,
            ));
        }

        // The artifact is complete in the store before any row points at it.
        let artifact_key = format!(
            "models/{}/{}.json",
            product.id,
            uuid::Uuid::new_v4().simple()
        );
        let body = serde_json::to_string(&model)
            .map_err(|e| DomainError::internal("serializing a model", e))?;
        self.store.put(&artifact_key, &body).await?;

        let mut tx = self.db.begin_write().await?;
        let expected = active.as_ref().map(|v| v.id);
        let (status, note) = if models::retire(&mut tx, product.id, expected).await? {
            ("active", "validated and activated".to_owned())
        } else {
            (
                "rejected",
                "another training activated a version first".to_owned(),
            )
        };
        let new = models::NewVersion {
            product_id: product.id,
            kind,
            status,
            trained_through: Some(&format_date(model.trained_through)),
            metrics: Some(&metrics_json),
            artifact_key: Some(&artifact_key),
            note: Some(&note),
        };
        let version = match models::insert(&mut tx, &new).await {
            // The one-active index refused a concurrent activation: keep theirs.
            Err(e) if e.is_unique_violation() => {
                drop(tx);
                let note = "another training activated a version first";
                let version = self
                    .insert_version(
                        product.id,
                        kind,
                        "rejected",
                        Some(&model),
                        Some(&metrics_json),
                        note,
                    )
                    .await?;
                return Ok(outcome(
                    &product.sku,
                    "rejected",
                    Some(version),
                    Some(kind),
                    note.into(),
                ));
            }
            other => other?,
        };
        tx.commit().await.map_err(StorageError::from)?;
        if status == "active" {
            models::clear_stale(self.db.pool(), product.id, started).await?;
            self.cache.insert(version, Arc::new(model));
            self.shop.changed(&[Group::Forecasts]).await;
        }
        let outcome_name = if status == "active" {
            "activated"
        } else {
            "rejected"
        };
        Ok(outcome(
            &product.sku,
            outcome_name,
            Some(version),
            Some(kind),
            note,
        ))
    }

    fn validation_failure(
        &self,
        model: &TrainedModel,
        active: Option<&models::ModelVersionRow>,
    ) -> Option<String> {
        let finite = model.forecast.iter().all(|p| {
            [p.predicted, p.lower, p.upper]
                .iter()
                .all(|v| v.is_finite() && *v >= 0.0)
        });
        if !finite || model.forecast.len() < STORED_HORIZON {
            return Some("forecast has missing, negative or non-finite values".into());
        }
        let mase = model.metrics.mase;
        if !mase.is_finite() || mase > self.settings.max_mase {
            return Some(format!(
                "holdout MASE {mase:.3} is above the bound {:.3}",
                self.settings.max_mase
            ));
        }
        let previous = active
            .and_then(|v| v.metrics.as_deref())
            .and_then(|m| serde_json::from_str::<Metrics>(m).ok())?;
        let limit = previous.mase * (1.0 + self.settings.tolerance);
        (mase > limit).then(|| {
            format!(
                "holdout MASE {mase:.3} is worse than the active version's {:.3} by more than {:.0}%",
                previous.mase,
                self.settings.tolerance * 100.0
            )
        })
    }

    async fn insert_version(
        &self,
        product_id: i64,
        kind: &str,
        status: &str,
        model: Option<&TrainedModel>,
        metrics: Option<&str>,
        note: &str,
    ) -> DomainResult<i64> {
        let trained_through = model.map(|m| format_date(m.trained_through));
        let mut tx = self.db.begin_write().await?;
        let version = models::NewVersion {
            product_id,
            kind,
            status,
            trained_through: trained_through.as_deref(),
            metrics,
            artifact_key: None,
            note: Some(note),
        };
        let id = models::insert(&mut tx, &version).await?;
        tx.commit().await.map_err(StorageError::from)?;
        Ok(id)
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

    /// The active model of a product, trained on first use.
    async fn active_model(
        &self,
        product: &products::ProductRow,
        first_day: NaiveDate,
        days: usize,
    ) -> DomainResult<Loaded> {
        let covers = |loaded: &Loaded| {
            let last_needed = first_day + Days::new(days as u64 - 1);
            loaded
                .model
                .forecast
                .first()
                .is_some_and(|p| p.date <= first_day)
                && loaded
                    .model
                    .forecast
                    .last()
                    .is_some_and(|p| p.date >= last_needed)
        };
        if let Some(version) = models::active(self.db.pool(), product.id).await? {
            let loaded = self.load(version).await?;
            if covers(&loaded) {
                return Ok(loaded);
            }
        }
        let result = self.train_product(&product.sku).await?;
        if result.outcome == "skipped" {
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

    pub async fn predict(&self, sku: &str, days: usize) -> DomainResult<Prediction> {
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(DomainError::validation(format!(
                "days must be between 1 and {MAX_DAYS}"
            )));
        }
        let product = products::find_by_sku(self.db.pool(), sku)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("product {sku}")))?;
        let calendar = settings::calendar(&self.db).await?;
        let daily = models::daily_units(self.db.pool(), product.id).await?;
        let last_history_day = daily.last().and_then(|(d, _, _)| parse_day(d));
        let today = calendar.today();
        let first_day = last_history_day.map_or(today, |d| d.max(today)) + Days::new(1);

        let loaded = self.active_model(&product, first_day, days).await?;
        let forecast: Vec<&ForecastPoint> = loaded
            .model
            .forecast
            .iter()
            .filter(|p| p.date >= first_day)
            .take(days)
            .collect();
        let event_days = event_names_by_day(&self.db).await?;

        let actual_by_day: BTreeMap<NaiveDate, f64> = daily
            .iter()
            .filter_map(|(d, units, _)| Some((parse_day(d)?, *units as f64)))
            .collect();
        let history_from = first_day - Days::new(CHART_HISTORY_DAYS as u64);
        let mut chart: Vec<ChartPoint> = history_from
            .iter_days()
            .take_while(|d| *d < first_day)
            .map(|d| ChartPoint {
                date: format_date(d),
                actual: Some(actual_by_day.get(&d).copied().unwrap_or(0.0)),
                predicted: None,
                lower: None,
                upper: None,
                event: event_days.get(&d).cloned(),
            })
            .collect();
        chart.extend(forecast.iter().map(|p| ChartPoint {
            date: format_date(p.date),
            actual: None,
            predicted: Some(round2(p.predicted)),
            lower: Some(round2(p.lower)),
            upper: Some(round2(p.upper)),
            event: event_days.get(&p.date).cloned(),
        }));
        let demand: Vec<DayDemand> = forecast
            .iter()
            .map(|p| DayDemand {
                date: p.date,
                units: p.predicted,
            })
            .collect();
        let recommendation =
            recommendations::recommend(&product.sku, &product.name, product.stock, &demand);

        Ok(Prediction {
            product_sku: product.sku,
            chart_data: chart,
            recommendations: vec![recommendation],
            accuracy: Accuracy::from(&loaded.model.metrics),
            model: model_info(&loaded.version),
        })
    }

    /// Restock advice for every active product with an active model, most urgent first.
    pub async fn recommendations(&self, days: usize) -> DomainResult<RecommendationList> {
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(DomainError::validation(format!(
                "days must be between 1 and {MAX_DAYS}"
            )));
        }
        let calendar = settings::calendar(&self.db).await?;
        let first_day = calendar.today() + Days::new(1);
        let active: BTreeMap<i64, models::ModelVersionRow> = models::all_active(self.db.pool())
            .await?
            .into_iter()
            .map(|v| (v.product_id, v))
            .collect();
        let mut items = Vec::new();
        let mut without_model = Vec::new();
        for product in products::all(self.db.pool())
            .await?
            .into_iter()
            .filter(|p| p.is_active == 1)
        {
            let Some(version) = active.get(&product.id).cloned() else {
                without_model.push(product.sku);
                continue;
            };
            let loaded = self.load(version).await?;
            let demand: Vec<DayDemand> = loaded
                .model
                .forecast
                .iter()
                .filter(|p| p.date >= first_day)
                .take(days)
                .map(|p| DayDemand {
                    date: p.date,
                    units: p.predicted,
                })
                .collect();
            items.push(recommendations::recommend(
                &product.sku,
                &product.name,
                product.stock,
                &demand,
            ));
        }
        recommendations::sort_most_urgent_first(&mut items);
        Ok(RecommendationList {
            horizon_days: days,
            items,
            without_model,
        })
    }

    /// Version history of a product, newest first.
    pub async fn versions(&self, sku: &str) -> DomainResult<Vec<ModelVersionView>> {
        let product = products::find_by_sku(self.db.pool(), sku)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("product {sku}")))?;
        let rows = models::history(self.db.pool(), product.id, 50).await?;
        Ok(rows
            .into_iter()
            .map(|row| ModelVersionView {
                version: row.id,
                kind: row.kind.clone(),
                status: row.status.clone(),
                trained_through: row.trained_through.clone(),
                accuracy: row
                    .metrics
                    .as_deref()
                    .and_then(|m| serde_json::from_str::<Metrics>(m).ok())
                    .map(|m| Accuracy::from(&m)),
                note: row.note.clone(),
                created_at: millis_to_rfc3339(row.created_at),
            })
            .collect())
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelVersionView {
    pub version: i64,
    pub kind: String,
    pub status: String,
    pub trained_through: Option<String>,
    pub accuracy: Option<Accuracy>,
    pub note: Option<String>,
    pub created_at: String,
}

fn model_info(version: &models::ModelVersionRow) -> ModelInfo {
    ModelInfo {
        kind: version.kind.clone(),
        version: version.id,
        trained_at: millis_to_rfc3339(version.created_at),
        trained_through: version.trained_through.clone(),
    }
}

fn outcome(
    sku: &str,
    name: &str,
    version: Option<i64>,
    kind: Option<&str>,
    detail: String,
) -> TrainingOutcome {
    TrainingOutcome {
        product_sku: sku.to_owned(),
        outcome: name.to_owned(),
        version,
        kind: kind.map(str::to_owned),
        detail,
    }
}

fn skipped(sku: &str, days_with_sales: usize) -> TrainingOutcome {
    outcome(
        sku,
        "skipped",
        None,
        None,
        format!("{sku} has {days_with_sales} days with sales; a forecast needs at least 14"),
    )
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// The product's daily demand from its first sale to yesterday (or its last sale day if
/// later), days without sales as zero. `None` without any sale.
async fn load_history(
    db: &Db,
    product_id: i64,
    calendar: &StoreCalendar,
) -> DomainResult<Option<DailyHistory>> {
    let rows = models::daily_units(db.pool(), product_id).await?;
    let days: Vec<(NaiveDate, i64, i64)> = rows
        .iter()
        .filter_map(|(d, units, promo)| Some((parse_day(d)?, *units, *promo)))
        .collect();
    let Some(&(start, _, _)) = days.first() else {
        return Ok(None);
    };
    let yesterday = calendar.today() - Days::new(1);
    let end = days
        .last()
        .map_or(yesterday, |(d, _, _)| (*d).max(yesterday));
    let length = (end - start).num_days() as usize + 1;
    let mut units = vec![0.0; length];
    let mut promo = vec![0.0; length];
    for (date, quantity, promo_quantity) in days {
        let index = (date - start).num_days() as usize;
        units[index] = quantity as f64;
        promo[index] = if quantity > 0 {
            promo_quantity as f64 / quantity as f64
        } else {
            0.0
        };
    }
    Ok(Some(DailyHistory {
        start,
        units,
        promo,
    }))
}

/// Events marked for prediction, each as the list of its days.
async fn load_holidays(db: &Db) -> DomainResult<Vec<Holiday>> {
    let rows = events::list(db.pool(), None, None).await?;
    let mut by_name: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
    for row in rows.iter().filter(|e| e.include_in_prediction == 1) {
        by_name
            .entry(row.name.clone())
            .or_default()
            .extend(event_days(row));
    }
    Ok(by_name
        .into_iter()
        .map(|(name, dates)| Holiday { name, dates })
        .collect())
}

/// Every day an event covers (one day, or its date range).
fn event_days(row: &events::EventRow) -> impl Iterator<Item = NaiveDate> + use<> {
    let first = parse_day(&row.date);
    let last = row.end_date.as_deref().and_then(parse_day).or(first);
    first
        .into_iter()
        .flat_map(|d| d.iter_days())
        .take_while(move |d| last.is_some_and(|last| *d <= last))
}

/// Names of all events by day, for marking chart points.
async fn event_names_by_day(db: &Db) -> DomainResult<BTreeMap<NaiveDate, String>> {
    let mut days: BTreeMap<NaiveDate, String> = BTreeMap::new();
    for row in events::list(db.pool(), None, None).await? {
        for day in event_days(&row) {
            days.entry(day)
                .and_modify(|names| {
                    names.push_str(", ");
                    names.push_str(&row.name);
                })
                .or_insert_with(|| row.name.clone());
        }
    }
    Ok(days)
}
