use sqlx::{Any, Executor, FromRow};

use super::{StorageResult, flag, now_millis};

#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub id: i64,
    pub name: String,
    pub date: String,
    pub end_date: Option<String>,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
    #[sqlx(try_from = "super::StoredFlag")]
    pub include_in_prediction: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, name, date, end_date, type, description, include_in_prediction, created_at, updated_at";

pub struct EventData<'a> {
    pub name: &'a str,
    pub date: &'a str,
    pub end_date: Option<&'a str>,
    pub kind: &'a str,
    pub description: Option<&'a str>,
    pub include_in_prediction: bool,
}

/// Events that overlap `from..=to` (ISO dates compare correctly as text).
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    db: E,
    from: Option<&str>,
    to: Option<&str>,
) -> StorageResult<Vec<EventRow>> {
    let rows = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM events \
         WHERE ($1 IS NULL OR COALESCE(end_date, date) >= $1) AND ($2 IS NULL OR date <= $2) \
         ORDER BY date, id"
    )))
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: i64,
) -> StorageResult<Option<EventRow>> {
    let row = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM events WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    event: &EventData<'_>,
) -> StorageResult<EventRow> {
    let row = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO events (name, date, end_date, type, description, include_in_prediction, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {COLUMNS}"
    )))
    .bind(event.name)
    .bind(event.date)
    .bind(event.end_date)
    .bind(event.kind)
    .bind(event.description)
    .bind(flag(event.include_in_prediction))
    .bind(now_millis())
    .fetch_one(db)
    .await?;
    Ok(row)
}

pub async fn update<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: i64,
    event: &EventData<'_>,
) -> StorageResult<Option<EventRow>> {
    let row = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE events SET name = $1, date = $2, end_date = $3, type = $4, description = $5, \
           include_in_prediction = $6, updated_at = $7 WHERE id = $8 RETURNING {COLUMNS}"
    )))
    .bind(event.name)
    .bind(event.date)
    .bind(event.end_date)
    .bind(event.kind)
    .bind(event.description)
    .bind(flag(event.include_in_prediction))
    .bind(now_millis())
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

pub async fn delete<'e, E: Executor<'e, Database = Any>>(db: E, id: i64) -> StorageResult<bool> {
    let done = sqlx::query("DELETE FROM events WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
