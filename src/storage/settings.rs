use sqlx::{Any, Executor, FromRow};

use super::{StorageError, StorageResult, now_millis};

#[derive(Debug, Clone, FromRow)]
pub struct SettingsRow {
    pub store_name: String,
    pub address: String,
    pub phone: String,
    pub email: String,
    pub timezone: String,
    pub currency: String,
    pub low_stock_threshold: i64,
    pub updated_at: i64,
}

pub async fn get<'e, E: Executor<'e, Database = Any>>(db: E) -> StorageResult<Option<SettingsRow>> {
    let row = sqlx::query_as::<_, SettingsRow>(
        "SELECT store_name, address, phone, email, timezone, currency, low_stock_threshold, updated_at \
         FROM store_settings WHERE id = 1",
    )
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// Writes the single settings row, creating it on first use.
pub async fn upsert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    settings: &SettingsRow,
) -> StorageResult<SettingsRow> {
    let row = write(
        db,
        settings,
        "DO UPDATE SET store_name = excluded.store_name, \
           address = excluded.address, phone = excluded.phone, email = excluded.email, \
           timezone = excluded.timezone, currency = excluded.currency, \
           low_stock_threshold = excluded.low_stock_threshold, updated_at = excluded.updated_at",
    )
    .await?;
    row.ok_or_else(|| StorageError::Query(sqlx::Error::RowNotFound))
}

/// Creates the settings row with these values only if none exists yet.
pub async fn insert_if_missing<'e, E: Executor<'e, Database = Any>>(
    db: E,
    settings: &SettingsRow,
) -> StorageResult<()> {
    write(db, settings, "DO NOTHING").await?;
    Ok(())
}

async fn write<'e, E: Executor<'e, Database = Any>>(
    db: E,
    settings: &SettingsRow,
    on_conflict: &'static str,
) -> StorageResult<Option<SettingsRow>> {
    let row = sqlx::query_as::<_, SettingsRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO store_settings \
           (id, store_name, address, phone, email, timezone, currency, low_stock_threshold, updated_at) \
         VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) {on_conflict} \
         RETURNING store_name, address, phone, email, timezone, currency, low_stock_threshold, updated_at"
    )))
    .bind(&settings.store_name)
    .bind(&settings.address)
    .bind(&settings.phone)
    .bind(&settings.email)
    .bind(&settings.timezone)
    .bind(&settings.currency)
    .bind(settings.low_stock_threshold)
    .bind(now_millis())
    .fetch_optional(db)
    .await?;
    Ok(row)
}
