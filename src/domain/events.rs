//! Calendar events (holidays, promotions, seasons) that can feed the forecast.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::calendar::{format_date, parse_date};
use super::changes::{Group, Retraining, Shop};
use super::{DomainError, DomainResult, optional_text, required_text};
use crate::storage::{Db, events, models};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Holiday,
    Promotion,
    Seasonal,
    Custom,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Holiday => "holiday",
            EventType::Promotion => "promotion",
            EventType::Seasonal => "seasonal",
            EventType::Custom => "custom",
        }
    }

    fn parse(value: &str) -> EventType {
        match value {
            "holiday" => EventType::Holiday,
            "promotion" => EventType::Promotion,
            "seasonal" => EventType::Seasonal,
            _ => EventType::Custom,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub event_id: i64,
    pub name: String,
    pub date: String,
    pub end_date: Option<String>,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub description: Option<String>,
    pub include_in_prediction: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    #[schema(schema_with = super::schema::name_200)]
    pub name: String,
    /// First day, YYYY-MM-DD.
    #[schema(schema_with = super::schema::date)]
    pub date: String,
    /// Last day for a range, YYYY-MM-DD (inclusive), not before `date`, at most 367 days
    /// after it.
    #[schema(schema_with = super::schema::optional_date)]
    pub end_date: Option<String>,
    #[serde(rename = "type")]
    pub kind: EventType,
    #[schema(schema_with = super::schema::optional_text_1000)]
    pub description: Option<String>,
    #[serde(default = "default_true")]
    pub include_in_prediction: bool,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Events that end on or after this day.
    #[param(schema_with = super::schema::optional_date)]
    pub from: Option<String>,
    /// Events that start on or before this day.
    #[param(schema_with = super::schema::optional_date)]
    pub to: Option<String>,
}

fn view(row: events::EventRow) -> EventView {
    EventView {
        event_id: row.id,
        name: row.name,
        date: row.date,
        end_date: row.end_date,
        kind: EventType::parse(&row.kind),
        description: row.description,
        include_in_prediction: row.include_in_prediction,
    }
}

struct ValidEvent {
    name: String,
    date: String,
    end_date: Option<String>,
    description: Option<String>,
}

impl ValidEvent {
    fn data<'a>(&'a self, input: &EventInput) -> events::EventData<'a> {
        events::EventData {
            name: &self.name,
            date: &self.date,
            end_date: self.end_date.as_deref(),
            kind: input.kind.as_str(),
            description: self.description.as_deref(),
            include_in_prediction: input.include_in_prediction,
        }
    }
}

fn validate(input: &EventInput) -> DomainResult<ValidEvent> {
    let name = required_text("name", &input.name, 200)?;
    let description = optional_text("description", input.description.as_deref(), 1000)?;
    let date = parse_date("date", &input.date)?;
    let end_date = input
        .end_date
        .as_deref()
        .map(|d| parse_date("end_date", d))
        .transpose()?;
    if let Some(end) = end_date {
        if end < date {
            return Err(DomainError::validation("end_date must not be before date"));
        }
        if (end - date).num_days() > 366 {
            return Err(DomainError::validation("an event lasts at most 367 days"));
        }
    }
    Ok(ValidEvent {
        name,
        date: format_date(date),
        end_date: end_date.filter(|e| *e != date).map(format_date),
        description,
    })
}

pub async fn list(db: &Db, query: EventQuery) -> DomainResult<Vec<EventView>> {
    let from = query
        .from
        .as_deref()
        .map(|d| parse_date("from", d))
        .transpose()?
        .map(format_date);
    let to = query
        .to
        .as_deref()
        .map(|d| parse_date("to", d))
        .transpose()?
        .map(format_date);
    let rows = events::list(db.pool(), from.as_deref(), to.as_deref()).await?;
    Ok(rows.into_iter().map(view).collect())
}

pub async fn get(db: &Db, id: i64) -> DomainResult<EventView> {
    events::find(db.pool(), id)
        .await?
        .map(view)
        .ok_or_else(|| DomainError::not_found(format!("event {id}")))
}

/// Every event shows on the forecast charts; those marked for prediction are also inputs
/// of every product's model, so changing one makes all models stale and schedules their
/// retraining.
async fn event_changed(shop: &Shop, feeds_forecasts: bool, reason: &str) -> DomainResult<()> {
    if feeds_forecasts {
        models::mark_stale(shop.db.pool(), None, reason).await?;
        shop.retrain_stale(Retraining::Debounced).await?;
    }
    shop.changed(&[Group::Forecasts]).await;
    Ok(())
}

pub async fn create(shop: &Shop, input: EventInput) -> DomainResult<EventView> {
    let valid = validate(&input)?;
    let data = valid.data(&input);
    let event = view(events::insert(shop.db.pool(), &data).await?);
    event_changed(shop, event.include_in_prediction, "event added").await?;
    Ok(event)
}

pub async fn update(shop: &Shop, id: i64, input: EventInput) -> DomainResult<EventView> {
    let valid = validate(&input)?;
    let before = get(&shop.db, id).await?;
    let data = valid.data(&input);
    let event = events::update(shop.db.pool(), id, &data)
        .await?
        .map(view)
        .ok_or_else(|| DomainError::not_found(format!("event {id}")))?;
    let feeds_forecasts = before.include_in_prediction || event.include_in_prediction;
    event_changed(shop, feeds_forecasts, "event changed").await?;
    Ok(event)
}

pub async fn delete(shop: &Shop, id: i64) -> DomainResult<()> {
    let before = get(&shop.db, id).await?;
    if !events::delete(shop.db.pool(), id).await? {
        return Err(DomainError::not_found(format!("event {id}")));
    }
    event_changed(shop, before.include_in_prediction, "event deleted").await
}
