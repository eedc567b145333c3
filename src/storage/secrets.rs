use sqlx::{Any, Executor};

use super::StorageResult;

pub async fn get<'e, E: Executor<'e, Database = Any>>(
    db: E,
    name: &str,
) -> StorageResult<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT value FROM app_secrets WHERE name = $1")
        .bind(name)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|(value,)| value))
}

/// Stores `value` unless a value exists; returns the value that is stored afterwards, so
/// two processes starting at once agree on one secret.
pub async fn get_or_insert(
    db: super::PoolExecutor<'_>,
    name: &str,
    value: &str,
) -> StorageResult<String> {
    sqlx::query(
        "INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(value)
    .execute(db)
    .await?;
    Ok(get(db, name).await?.unwrap_or_else(|| value.to_owned()))
}
