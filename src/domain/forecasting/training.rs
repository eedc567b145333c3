//! Training: fit a product's model on its history, validate it against the active version
//! and activate it only when it is good enough.

use std::collections::BTreeMap;
use std::sync::Arc;

use forecast::{Metrics, TrainedModel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::calendar::format_date;
use crate::domain::changes::Group;
use crate::domain::sku::Sku;
use crate::domain::{DomainError, DomainResult, settings};
use crate::storage::{StorageError, models, products};

use super::history::{load_history, load_holidays};
use super::{Forecaster, STORED_HORIZON, VersionStatus};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrainingOutcome {
    pub product_sku: String,
    /// `activated`, `rejected` (validation failed; the previous version stays active),
    /// `failed` (training error) or `skipped` (too little history).
    pub outcome: Outcome,
    pub version: Option<i64>,
    pub kind: Option<String>,
    pub detail: String,
}

/// What a training run did with a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The new version validated and is active now.
    Activated,
    /// Validation failed (or another run activated first); the previous version stays.
    Rejected,
    /// Training itself failed; the previous version stays.
    Failed,
    /// Too little history to train.
    Skipped,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Outcome::Activated => "activated",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        };
        f.pad(name)
    }
}

impl Forecaster {
    /// Trains one product now and activates the result if it validates.
    pub async fn train_product(&self, sku: &Sku) -> DomainResult<TrainingOutcome> {
        let product = products::find_by_sku(self.db.pool(), sku.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(format!("product {sku}")))?;
        self.train(&product).await
    }

    pub(super) async fn train(
        &self,
        product: &products::ProductRow,
    ) -> DomainResult<TrainingOutcome> {
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
        self.record(product, trained, started).await
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
            .filter(|p| p.is_active && (!only_stale || stale.contains(&p.id)))
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
                    .insert_version(product.id, "none", VersionStatus::Failed, None, None, &note)
                    .await?;
                tracing::warn!(sku = %product.sku, %error, "training failed; the previous version stays active");
                return Ok(outcome(
                    &product.sku,
                    Outcome::Failed,
                    Some(version),
                    None,
                    note,
                ));
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
                    VersionStatus::Rejected,
                    Some(&model),
                    Some(&metrics_json),
                    &reason,
                )
                .await?;
            tracing::info!(sku = %product.sku, %reason, "new version rejected");
            return Ok(outcome(
                &product.sku,
                Outcome::Rejected,
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
            (VersionStatus::Active, "validated and activated".to_owned())
        } else {
            (
                VersionStatus::Rejected,
                "another training activated a version first".to_owned(),
            )
        };
        let new = models::NewVersion {
            product_id: product.id,
            kind,
            status: status.as_str(),
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
                        VersionStatus::Rejected,
                        Some(&model),
                        Some(&metrics_json),
                        note,
                    )
                    .await?;
                return Ok(outcome(
                    &product.sku,
                    Outcome::Rejected,
                    Some(version),
                    Some(kind),
                    note.into(),
                ));
            }
            other => other?,
        };
        tx.commit().await.map_err(StorageError::from)?;
        let activated = status == VersionStatus::Active;
        if activated {
            models::clear_stale(self.db.pool(), product.id, started).await?;
            self.cache.insert(version, Arc::new(model));
            self.shop.changed(&[Group::Forecasts]).await;
        }
        let outcome_name = if activated {
            Outcome::Activated
        } else {
            Outcome::Rejected
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
        status: VersionStatus,
        model: Option<&TrainedModel>,
        metrics: Option<&str>,
        note: &str,
    ) -> DomainResult<i64> {
        let trained_through = model.map(|m| format_date(m.trained_through));
        let mut tx = self.db.begin_write().await?;
        let version = models::NewVersion {
            product_id,
            kind,
            status: status.as_str(),
            trained_through: trained_through.as_deref(),
            metrics,
            artifact_key: None,
            note: Some(note),
        };
        let id = models::insert(&mut tx, &version).await?;
        tx.commit().await.map_err(StorageError::from)?;
        Ok(id)
    }
}

fn outcome(
    sku: &str,
    outcome: Outcome,
    version: Option<i64>,
    kind: Option<&str>,
    detail: String,
) -> TrainingOutcome {
    TrainingOutcome {
        product_sku: sku.to_owned(),
        outcome,
        version,
        kind: kind.map(str::to_owned),
        detail,
    }
}

fn skipped(sku: &str, days_with_sales: usize) -> TrainingOutcome {
    outcome(
        sku,
        Outcome::Skipped,
        None,
        None,
        format!("{sku} has {days_with_sales} days with sales; a forecast needs at least 14"),
    )
}
