//! The store's profile: name, contact, timezone, currency and low-stock threshold.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::calendar::StoreCalendar;
use super::changes::{Group, Shop};
use super::{DomainError, DomainResult, millis_to_rfc3339, optional_text, required_text};
use crate::storage::{Db, settings};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoreSettings {
    pub store_name: String,
    pub address: String,
    pub phone: String,
    pub email: String,
    /// IANA timezone name; decides the store's business day.
    pub timezone: String,
    /// ISO 4217 code.
    pub currency: String,
    pub low_stock_threshold: i64,
    pub updated_at: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    #[schema(schema_with = super::schema::optional_name_200)]
    pub store_name: Option<String>,
    #[schema(schema_with = super::schema::optional_text_500)]
    pub address: Option<String>,
    #[schema(schema_with = super::schema::optional_text_50)]
    pub phone: Option<String>,
    #[schema(schema_with = super::schema::optional_email)]
    pub email: Option<String>,
    #[schema(schema_with = super::schema::timezone)]
    pub timezone: Option<String>,
    #[schema(schema_with = super::schema::currency)]
    pub currency: Option<String>,
    #[schema(schema_with = super::schema::low_stock_threshold)]
    pub low_stock_threshold: Option<i64>,
}

fn view(row: settings::SettingsRow) -> StoreSettings {
    StoreSettings {
        store_name: row.store_name,
        address: row.address,
        phone: row.phone,
        email: row.email,
        timezone: row.timezone,
        currency: row.currency,
        low_stock_threshold: row.low_stock_threshold,
        updated_at: millis_to_rfc3339(row.updated_at),
    }
}

/// The low-stock threshold of a new store, and the one used if the settings row is missing
/// (a database that was never migrated through `initialize`).
pub const DEFAULT_LOW_STOCK_THRESHOLD: i64 = 10;

pub fn defaults(timezone: Tz) -> settings::SettingsRow {
    settings::SettingsRow {
        store_name: "My Shop".into(),
        address: String::new(),
        phone: String::new(),
        email: String::new(),
        timezone: timezone.name().into(),
        currency: "IDR".into(),
        low_stock_threshold: DEFAULT_LOW_STOCK_THRESHOLD,
        updated_at: 0,
    }
}

/// Makes sure the settings row exists (a fresh database gets the configured timezone).
pub async fn initialize(db: &Db, timezone: Tz) -> DomainResult<()> {
    settings::insert_if_missing(db.pool(), &defaults(timezone)).await?;
    Ok(())
}

async fn current(db: &Db) -> DomainResult<settings::SettingsRow> {
    settings::get(db.pool())
        .await?
        .ok_or_else(|| DomainError::unexpected("store settings are missing; run migrate"))
}

pub async fn get(db: &Db) -> DomainResult<StoreSettings> {
    current(db).await.map(view)
}

/// The store's calendar as configured now.
pub async fn calendar(db: &Db) -> DomainResult<StoreCalendar> {
    let row = current(db).await?;
    let timezone = row.timezone.parse::<Tz>().map_err(|_| {
        DomainError::unexpected(format!("stored timezone {:?} is invalid", row.timezone))
    })?;
    Ok(StoreCalendar::new(timezone))
}

pub async fn update(shop: &Shop, input: SettingsUpdate) -> DomainResult<StoreSettings> {
    let mut row = current(&shop.db).await?;
    if let Some(name) = input.store_name {
        row.store_name = required_text("store_name", &name, 200)?;
    }
    if let Some(address) = input.address {
        row.address = optional_text("address", Some(&address), 500)?.unwrap_or_default();
    }
    if let Some(phone) = input.phone {
        row.phone = optional_text("phone", Some(&phone), 50)?.unwrap_or_default();
    }
    if let Some(email) = input.email {
        row.email = match optional_text("email", Some(&email), 254)? {
            Some(email) => super::auth::normalize_email(&email)?,
            None => String::new(),
        };
    }
    if let Some(timezone) = input.timezone {
        let tz: Tz = timezone.trim().parse().map_err(|_| {
            DomainError::validation(format!("timezone {timezone:?} is not an IANA timezone"))
        })?;
        row.timezone = tz.name().to_owned();
    }
    if let Some(currency) = input.currency {
        let currency = currency.trim().to_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(DomainError::validation(
                "currency must be a 3-letter ISO 4217 code",
            ));
        }
        row.currency = currency;
    }
    if let Some(threshold) = input.low_stock_threshold {
        if !(0..=1_000_000).contains(&threshold) {
            return Err(DomainError::validation(
                "low_stock_threshold must be between 0 and 1000000",
            ));
        }
        row.low_stock_threshold = threshold;
    }
    let updated = view(settings::upsert(shop.db.pool(), &row).await?);
    // The timezone and the low-stock threshold shape every cached answer.
    shop.changed(&Group::ALL).await;
    Ok(updated)
}
