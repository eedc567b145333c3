//! The assistant's only way into the shop: a fixed set of read tools over the same domain
//! services as the API, with arguments checked like API input and answers shaped for the
//! caller's role exactly as the API shapes them. A cashier's tools see what a cashier's
//! API calls see: products without cost prices, low stock, events, the dashboard's
//! figures (store totals and its top five products and categories); never forecasts or
//! restock advice.

use chrono::Days;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::catalog::Catalog;
use super::matching::{self, Subject};
use super::periods::Period;
use super::provider::ToolSpec;
use crate::domain::DomainError;
use crate::domain::calendar::{StoreCalendar, format_date};
use crate::domain::changes::{Retraining, Shop};
use crate::domain::dashboard::TopProduct;
use crate::domain::events::{self, EventQuery, EventView};
use crate::domain::forecasting::{Forecaster, Horizon, ModelInfo, RecommendationList};
use crate::domain::money::Money;
use crate::domain::products::{self, Audience, ProductQuery, ProductView};
use crate::domain::recommendations::Recommendation;
use crate::domain::sku::Sku;
use crate::storage::{models, reports, sales_figures};

/// The tools, by the names external models call them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolName {
    LowStock,
    RestockRecommendations,
    Forecast,
    Sales,
    TopSellers,
    UpcomingEvents,
    FindProducts,
    /// Not a read: records a restock for the user to confirm (external models' way to
    /// propose what the built-in assistant proposes itself). Nothing changes here.
    ProposeRestock,
}

impl ToolName {
    pub const ALL: [ToolName; 8] = [
        ToolName::LowStock,
        ToolName::RestockRecommendations,
        ToolName::Forecast,
        ToolName::Sales,
        ToolName::TopSellers,
        ToolName::UpcomingEvents,
        ToolName::FindProducts,
        ToolName::ProposeRestock,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ToolName::LowStock => "low_stock",
            ToolName::RestockRecommendations => "restock_recommendations",
            ToolName::Forecast => "forecast",
            ToolName::Sales => "sales",
            ToolName::TopSellers => "top_sellers",
            ToolName::UpcomingEvents => "upcoming_events",
            ToolName::FindProducts => "find_products",
            ToolName::ProposeRestock => "propose_restock",
        }
    }

    pub fn parse(name: &str) -> Option<ToolName> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Whether `audience` may call this tool at all (the API's admin-only routes).
    pub fn allowed_for(self, audience: Audience) -> bool {
        match self {
            // A cashier may not change stock by hand, so is never offered a restock.
            ToolName::RestockRecommendations | ToolName::Forecast | ToolName::ProposeRestock => {
                audience == Audience::Admin
            }
            _ => true,
        }
    }
}

/// Tool specifications for external models: the tools `audience` may call, each with its
/// JSON-Schema parameters (the same rules the arguments are checked against).
pub fn specs(audience: Audience) -> Vec<ToolSpec> {
    let date = json!({"type": "string", "format": "date", "description": "YYYY-MM-DD, a business day in the store's timezone"});
    ToolName::ALL
        .into_iter()
        .filter(|t| t.allowed_for(audience))
        .map(|tool| {
            let (description, parameters) = match tool {
                ToolName::LowStock => (
                    "Active products at or below the store's low-stock threshold, with their stock.",
                    json!({"type": "object", "properties": {}, "additionalProperties": false}),
                ),
                ToolName::RestockRecommendations => (
                    "Restock advice for every product with a forecast model, most urgent first: current stock, optimal stock, gap (units to order), urgency, expected stock-out day.",
                    json!({"type": "object", "properties": {"days": {"type": "integer", "minimum": 1, "maximum": 365, "description": "horizon in days, default 7"}}, "additionalProperties": false}),
                ),
                ToolName::Forecast => (
                    "A product's forecast daily demand for the next N days from its trained model, with restock advice.",
                    json!({"type": "object", "properties": {"sku": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}, "days": {"type": "integer", "minimum": 1, "maximum": 90}}, "required": ["sku", "days"], "additionalProperties": false}),
                ),
                ToolName::Sales => (
                    "Units sold and revenue from `from` to `to` (inclusive) of one product (sku), one category, or the whole store (neither).",
                    json!({"type": "object", "properties": {"sku": {"type": "string"}, "category": {"type": "string", "maxLength": 100}, "from": date, "to": date}, "required": ["from", "to"], "additionalProperties": false}),
                ),
                ToolName::TopSellers => (
                    "Best-selling products by revenue from `from` to `to` (inclusive).",
                    json!({"type": "object", "properties": {"from": date, "to": date, "limit": {"type": "integer", "minimum": 1, "maximum": 20}}, "required": ["from", "to"], "additionalProperties": false}),
                ),
                ToolName::UpcomingEvents => (
                    "Holidays, promotions and other events in the next N days.",
                    json!({"type": "object", "properties": {"days": {"type": "integer", "minimum": 1, "maximum": 366, "description": "default 30"}}, "additionalProperties": false}),
                ),
                ToolName::FindProducts => (
                    "Products whose SKU or name matches the words given (typos forgiven), with price and stock.",
                    json!({"type": "object", "properties": {"query": {"type": "string", "minLength": 1, "maxLength": 100}}, "required": ["query"], "additionalProperties": false}),
                ),
                ToolName::ProposeRestock => (
                    "Propose restocking a product: the user sees the proposal and confirms it in the app; nothing changes until then. Use the SKU from another tool's answer.",
                    json!({"type": "object", "properties": {"sku": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}, "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_PROPOSED_UNITS}, "reason": {"type": "string", "minLength": 1, "maxLength": 200}}, "required": ["sku", "quantity", "reason"], "additionalProperties": false}),
                ),
            };
            ToolSpec {
                name: tool.as_str().to_owned(),
                description: description.to_owned(),
                parameters,
            }
        })
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RestockArgs {
    days: Option<Horizon>,
}

/// Days of a forecast the assistant tells: 1 to 90.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct ForecastDays(u8);

impl TryFrom<i64> for ForecastDays {
    type Error = String;

    fn try_from(days: i64) -> Result<Self, Self::Error> {
        u8::try_from(days)
            .ok()
            .filter(|d| (1..=90).contains(d))
            .map(ForecastDays)
            .ok_or_else(|| "days must be between 1 and 90".to_owned())
    }
}

impl ForecastDays {
    pub fn days(self) -> u8 {
        self.0
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForecastArgs {
    sku: Sku,
    days: ForecastDays,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SalesArgs {
    sku: Option<Sku>,
    category: Option<String>,
    from: String,
    to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopArgs {
    from: String,
    to: String,
    limit: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventArgs {
    days: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FindArgs {
    query: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposeArgs {
    sku: Sku,
    quantity: i64,
    reason: String,
}

/// The largest restock a model may propose (the stock endpoint would refuse more anyway).
const MAX_PROPOSED_UNITS: i64 = 1_000_000;

/// Why a tool gave no figures. Only `Failed` is the server's fault; the others are
/// answers the user (or the model) can act on.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("invalid arguments: {0}")]
    Invalid(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Failed(DomainError),
}

impl From<DomainError> for ToolError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Validation { message, .. } => ToolError::Invalid(message),
            DomainError::NotFound(what) => ToolError::NotFound(format!("{what} not found")),
            other => ToolError::Failed(other),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ForecastDay {
    pub date: String,
    pub predicted: f64,
    pub lower: f64,
    pub upper: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ForecastFigures {
    pub sku: String,
    pub name: String,
    pub days: u8,
    /// False when the product has no trained model yet.
    pub available: bool,
    /// A training was queued because there was no model.
    pub training_queued: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_units: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub daily: Vec<ForecastDay>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Store,
    Product,
    Category,
}

#[derive(Debug, Clone, Serialize)]
pub struct SalesFigures {
    pub scope: Scope,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub units: i64,
    pub revenue: Money,
    /// Store scope only: number of sales.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LowStockFigures {
    pub threshold: i64,
    pub total: i64,
    pub items: Vec<ProductView>,
}

/// What a tool found.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Figures {
    LowStock(LowStockFigures),
    Restock(RecommendationList),
    Forecast(Box<ForecastFigures>),
    Sales(SalesFigures),
    TopSellers { items: Vec<TopProduct> },
    Events { items: Vec<EventView> },
    Products { items: Vec<ProductView> },
    Proposal(ProposalFigures),
}

/// A restock proposed for the user to confirm.
#[derive(Debug, Serialize)]
pub struct ProposalFigures {
    pub sku: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variation: Option<String>,
    pub current_stock: i64,
    pub quantity: i64,
    pub reason: String,
    pub note: &'static str,
}

/// A tool's answer and the business days it covers.
#[derive(Debug)]
pub struct ToolResult {
    pub figures: Figures,
    pub period: Option<Period>,
}

/// The tools bound to one chat turn: the caller's audience and the shop as it is now.
pub struct Toolbox<'a> {
    pub shop: &'a Shop,
    pub forecaster: &'a Forecaster,
    pub audience: Audience,
    pub calendar: StoreCalendar,
    pub catalog: &'a Catalog,
}

fn args<T: DeserializeOwned>(arguments: &Value) -> Result<T, ToolError> {
    // A model may send `null` or nothing for a tool without parameters.
    let arguments = if arguments.is_null() {
        &json!({})
    } else {
        arguments
    };
    T::deserialize(arguments).map_err(|e| ToolError::Invalid(e.to_string()))
}

/// Most products a lookup or a low-stock answer lists.
const MAX_ITEMS: usize = 50;

impl Toolbox<'_> {
    pub async fn run(&self, tool: ToolName, arguments: &Value) -> Result<ToolResult, ToolError> {
        if !tool.allowed_for(self.audience) {
            return Err(ToolError::Forbidden(match tool {
                ToolName::Forecast => "forecasts are only for admins".into(),
                _ => "restock advice is only for admins".into(),
            }));
        }
        match tool {
            ToolName::LowStock => {
                let NoArgs {} = args(arguments)?;
                self.low_stock().await
            }
            ToolName::RestockRecommendations => {
                let RestockArgs { days } = args(arguments)?;
                let list = self
                    .forecaster
                    .recommendations(days.unwrap_or(Horizon::WEEK))
                    .await?;
                let missing: Vec<i64> = self
                    .catalog
                    .rows
                    .iter()
                    .filter(|p| list.without_model.contains(&p.sku))
                    .map(|p| p.id)
                    .collect();
                self.queue_training(&missing).await?;
                Ok(self.ahead(list.horizon_days as u64, Figures::Restock(list)))
            }
            ToolName::Forecast => {
                let ForecastArgs { sku, days } = args(arguments)?;
                self.forecast(&sku, days).await
            }
            ToolName::Sales => {
                let a: SalesArgs = args(arguments)?;
                let period = Period::parse(&a.from, &a.to)?;
                self.sales(a.sku.as_ref(), a.category.as_deref(), period)
                    .await
            }
            ToolName::TopSellers => {
                let a: TopArgs = args(arguments)?;
                let period = Period::parse(&a.from, &a.to)?;
                let limit = a.limit.unwrap_or(5);
                if !(1..=20).contains(&limit) {
                    return Err(ToolError::Invalid("limit must be between 1 and 20".into()));
                }
                self.top_sellers(period, limit).await
            }
            ToolName::UpcomingEvents => {
                let EventArgs { days } = args(arguments)?;
                let days = days.unwrap_or(30);
                if !(1..=366).contains(&days) {
                    return Err(ToolError::Invalid("days must be between 1 and 366".into()));
                }
                self.events(days as u64).await
            }
            ToolName::ProposeRestock => {
                let ProposeArgs {
                    sku,
                    quantity,
                    reason,
                } = args(arguments)?;
                if !(1..=MAX_PROPOSED_UNITS).contains(&quantity) {
                    return Err(ToolError::Invalid(format!(
                        "quantity must be between 1 and {MAX_PROPOSED_UNITS}"
                    )));
                }
                let reason = crate::domain::required_text("reason", &reason, 200)?;
                let product = self
                    .catalog
                    .product(&sku)
                    .ok_or_else(|| ToolError::NotFound(format!("no active product {sku}")))?;
                Ok(ToolResult {
                    figures: Figures::Proposal(ProposalFigures {
                        sku: product.sku.clone(),
                        name: product.name.clone(),
                        variation: product.variation.clone(),
                        current_stock: product.stock,
                        quantity,
                        reason,
                        note: "proposed only: the user confirms it in the app",
                    }),
                    period: None,
                })
            }
            ToolName::FindProducts => {
                let FindArgs { query } = args(arguments)?;
                let query = crate::domain::required_text("query", &query, 100)?;
                Ok(ToolResult {
                    figures: Figures::Products {
                        items: self.find_products(&query),
                    },
                    period: None,
                })
            }
        }
    }

    /// From tomorrow through `days` days ahead.
    fn ahead(&self, days: u64, figures: Figures) -> ToolResult {
        let today = self.calendar.today();
        ToolResult {
            figures,
            period: Some(Period {
                from: today + Days::new(1),
                to: today + Days::new(days.max(1)),
            }),
        }
    }

    /// Never train inside a chat turn: products without a model are marked for the
    /// queued retraining (the path a history change takes), which trains them shortly.
    async fn queue_training(&self, product_ids: &[i64]) -> Result<(), ToolError> {
        // Marked already: its training is on its way; a read spares the write.
        let marked: Vec<i64> = models::stale_products(self.shop.db.pool())
            .await
            .map_err(|e| ToolError::Failed(e.into()))?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let product_ids: Vec<i64> = product_ids
            .iter()
            .copied()
            .filter(|id| !marked.contains(id))
            .collect();
        if product_ids.is_empty() {
            return Ok(());
        }
        models::mark_stale(self.shop.db.pool(), Some(&product_ids), "asked in chat")
            .await
            .map_err(|e| ToolError::Failed(e.into()))?;
        self.shop.retrain_stale(Retraining::Debounced).await?;
        Ok(())
    }

    async fn low_stock(&self) -> Result<ToolResult, ToolError> {
        let filter = ProductQuery {
            low_stock: Some(true),
            limit: Some(MAX_ITEMS as i64),
            ..Default::default()
        }
        .normalise()?;
        let page = products::list(&self.shop.db, filter, self.audience).await?;
        Ok(ToolResult {
            figures: Figures::LowStock(LowStockFigures {
                threshold: self.catalog.low_stock_threshold,
                total: page.total,
                items: page.items,
            }),
            period: None,
        })
    }

    async fn forecast(&self, sku: &Sku, days: ForecastDays) -> Result<ToolResult, ToolError> {
        let product = self
            .catalog
            .product(sku)
            .ok_or_else(|| ToolError::NotFound(format!("product {sku} not found")))?;
        let horizon = Horizon::try_from(i64::from(days.days()))
            .map_err(|e| ToolError::Invalid(e.to_string()))?;
        let served = self.forecaster.forecast_served(sku, horizon).await?;
        let mut figures = ForecastFigures {
            sku: product.sku.clone(),
            name: product.name.clone(),
            days: days.days(),
            available: false,
            training_queued: false,
            total_units: None,
            daily: Vec::new(),
            recommendation: None,
            model: None,
        };
        let Some(served) = served else {
            self.queue_training(std::slice::from_ref(&product.id))
                .await?;
            figures.training_queued = true;
            return Ok(self.ahead(u64::from(days.days()), Figures::Forecast(Box::new(figures))));
        };
        figures.daily = served
            .days
            .iter()
            .filter_map(|p| {
                Some(ForecastDay {
                    date: p.date.clone(),
                    predicted: p.predicted?,
                    lower: p.lower?,
                    upper: p.upper?,
                })
            })
            .collect();
        let total: f64 = figures.daily.iter().map(|d| d.predicted.max(0.0)).sum();
        figures.total_units = Some((total * 100.0).round() / 100.0);
        figures.available = true;
        figures.recommendation = Some(served.recommendation);
        figures.model = Some(served.model);
        let period = match (figures.daily.first(), figures.daily.last()) {
            (Some(first), Some(last)) => Period::parse(&first.date, &last.date).ok(),
            _ => None,
        };
        Ok(ToolResult {
            figures: Figures::Forecast(Box::new(figures)),
            period,
        })
    }

    async fn sales(
        &self,
        sku: Option<&Sku>,
        category: Option<&str>,
        period: Period,
    ) -> Result<ToolResult, ToolError> {
        let (from, to) = (format_date(period.from), format_date(period.to));
        let pool = self.shop.db.pool();
        let figures = match (sku, category) {
            (Some(_), Some(_)) => {
                return Err(ToolError::Invalid(
                    "give a sku or a category, not both".into(),
                ));
            }
            (Some(sku), None) => {
                let product = self
                    .catalog
                    .product(sku)
                    .ok_or_else(|| ToolError::NotFound(format!("product {sku} not found")))?;
                if self.audience == Audience::Cashier {
                    let top = reports::top_products(pool, &from, &to, 5)
                        .await
                        .map_err(|e| ToolError::Failed(e.into()))?;
                    if !top.iter().any(|t| t.sku == product.sku) {
                        return Err(ToolError::Forbidden(
                            "a cashier sees a product's sales only when the dashboard's top five show it".into(),
                        ));
                    }
                }
                let (units, cents) = sales_figures::of_product(pool, product.id, &from, &to)
                    .await
                    .map_err(|e| ToolError::Failed(e.into()))?;
                SalesFigures {
                    scope: Scope::Product,
                    sku: Some(product.sku.clone()),
                    name: Some(product.name.clone()),
                    category: product.category.clone(),
                    units,
                    revenue: Money::from_cents(cents),
                    transactions: None,
                }
            }
            (None, Some(category)) => {
                let category = crate::domain::required_text("category", category, 100)?;
                let name = self
                    .catalog
                    .categories
                    .iter()
                    .find(|c| c.eq_ignore_ascii_case(&category))
                    .cloned()
                    .ok_or_else(|| ToolError::NotFound(format!("category {category} not found")))?;
                if self.audience == Audience::Cashier {
                    let top = reports::top_categories(pool, &from, &to, 5)
                        .await
                        .map_err(|e| ToolError::Failed(e.into()))?;
                    if !top
                        .iter()
                        .any(|t| t.category.as_deref() == Some(name.as_str()))
                    {
                        return Err(ToolError::Forbidden(
                            "a cashier sees a category's sales only when the dashboard's top five show it".into(),
                        ));
                    }
                }
                let (units, cents) = sales_figures::of_category(pool, &name, &from, &to)
                    .await
                    .map_err(|e| ToolError::Failed(e.into()))?;
                SalesFigures {
                    scope: Scope::Category,
                    sku: None,
                    name: None,
                    category: Some(name),
                    units,
                    revenue: Money::from_cents(cents),
                    transactions: None,
                }
            }
            (None, None) => {
                // The dashboard's own sums, so the figures agree with it.
                let totals = reports::totals_by_day(pool, &from, &to)
                    .await
                    .map_err(|e| ToolError::Failed(e.into()))?;
                let units = reports::units_by_day(pool, &from, &to)
                    .await
                    .map_err(|e| ToolError::Failed(e.into()))?;
                SalesFigures {
                    scope: Scope::Store,
                    sku: None,
                    name: None,
                    category: None,
                    units: units.iter().map(|r| r.units).sum(),
                    revenue: Money::from_cents(totals.iter().map(|r| r.revenue_cents).sum()),
                    transactions: Some(totals.iter().map(|r| r.transactions).sum()),
                }
            }
        };
        Ok(ToolResult {
            figures: Figures::Sales(figures),
            period: Some(period),
        })
    }

    async fn top_sellers(&self, period: Period, limit: i64) -> Result<ToolResult, ToolError> {
        // The dashboard shows a cashier five.
        let limit = if self.audience == Audience::Cashier {
            limit.min(5)
        } else {
            limit
        };
        let rows = reports::top_products(
            self.shop.db.pool(),
            &format_date(period.from),
            &format_date(period.to),
            limit,
        )
        .await
        .map_err(|e| ToolError::Failed(e.into()))?;
        Ok(ToolResult {
            figures: Figures::TopSellers {
                items: rows.into_iter().map(TopProduct::from).collect(),
            },
            period: Some(period),
        })
    }

    async fn events(&self, days: u64) -> Result<ToolResult, ToolError> {
        let today = self.calendar.today();
        let period = Period {
            from: today,
            to: today + Days::new(days - 1),
        };
        let items = events::list(
            &self.shop.db,
            EventQuery {
                from: Some(format_date(period.from)),
                to: Some(format_date(period.to)),
            },
        )
        .await?;
        Ok(ToolResult {
            figures: Figures::Events { items },
            period: Some(period),
        })
    }

    /// Products named by `query`: an SKU, or name words with typos forgiven.
    pub fn find_products(&self, query: &str) -> Vec<ProductView> {
        let words = matching::words_of(query);
        match matching::find(&words, &self.catalog.entries, &[], false) {
            Subject::Products(found) => found
                .into_iter()
                .take(MAX_ITEMS)
                .map(|i| self.catalog.view(i, self.audience))
                .collect(),
            _ => Vec::new(),
        }
    }
}
