//! Serving: predictions and restock advice from the active model versions.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use forecast::{ForecastPoint, Metrics};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::calendar::format_date;
use crate::domain::recommendations::{self, DayDemand, Recommendation};
use crate::domain::{DomainError, DomainResult, settings};
use crate::storage::{models, products};

use crate::domain::sku::Sku;

use super::history::event_names_by_day;
use super::{CHART_HISTORY_DAYS, Forecaster, Horizon, model_info, parse_day, round2};

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

/// A forecast as the stored model gives it, without the chart's history: what a chat
/// turn needs, fast.
#[derive(Debug, Clone)]
pub struct ServedForecast {
    /// Point forecast and 95% interval per day, rounded as `predict` rounds them.
    pub days: Vec<ChartPoint>,
    pub recommendation: Recommendation,
    pub model: ModelInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecommendationList {
    pub horizon_days: usize,
    pub items: Vec<Recommendation>,
    /// Active products without an active model (too little history, or not trained yet).
    pub without_model: Vec<String>,
}

impl Forecaster {
    pub async fn predict(&self, sku: &Sku, horizon: Horizon) -> DomainResult<Prediction> {
        let days = horizon.days();
        let product = products::find_by_sku(self.db.pool(), sku.as_str())
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
        let recommendation = recommendations::recommend(
            &product.sku,
            &product.name,
            product.variation.as_deref(),
            product.stock,
            &demand,
        );

        Ok(Prediction {
            product_sku: product.sku,
            chart_data: chart,
            recommendations: vec![recommendation],
            accuracy: Accuracy::from(&loaded.model.metrics),
            model: model_info(&loaded.version),
        })
    }

    /// The forecast `predict` would answer, from the stored active model only and never
    /// training: `None` when the product has no active model covering the horizon. The
    /// same days, figures and advice as `predict`, without its chart history.
    pub async fn forecast_served(
        &self,
        sku: &Sku,
        horizon: Horizon,
    ) -> DomainResult<Option<ServedForecast>> {
        let days = horizon.days();
        let product = products::find_by_sku(self.db.pool(), sku.as_str())
            .await?
            .ok_or_else(|| DomainError::not_found(format!("product {sku}")))?;
        let calendar = settings::calendar(&self.db).await?;
        let last_history_day = models::last_sale_day(self.db.pool(), product.id)
            .await?
            .as_deref()
            .and_then(parse_day);
        let today = calendar.today();
        let first_day = last_history_day.map_or(today, |d| d.max(today)) + Days::new(1);
        let Some(loaded) = self.stored_model(&product, first_day, days).await? else {
            return Ok(None);
        };
        let forecast: Vec<&ForecastPoint> = loaded
            .model
            .forecast
            .iter()
            .filter(|p| p.date >= first_day)
            .take(days)
            .collect();
        let demand: Vec<DayDemand> = forecast
            .iter()
            .map(|p| DayDemand {
                date: p.date,
                units: p.predicted,
            })
            .collect();
        Ok(Some(ServedForecast {
            days: forecast
                .iter()
                .map(|p| ChartPoint {
                    date: format_date(p.date),
                    actual: None,
                    predicted: Some(round2(p.predicted)),
                    lower: Some(round2(p.lower)),
                    upper: Some(round2(p.upper)),
                    event: None,
                })
                .collect(),
            recommendation: recommendations::recommend(
                &product.sku,
                &product.name,
                product.variation.as_deref(),
                product.stock,
                &demand,
            ),
            model: model_info(&loaded.version),
        }))
    }

    /// Restock advice for every active product with an active model, most urgent first.
    pub async fn recommendations(&self, horizon: Horizon) -> DomainResult<RecommendationList> {
        let days = horizon.days();
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
            .filter(|p| p.is_active)
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
                product.variation.as_deref(),
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
}
