//! Model versions: one immutable row per training, at most one active per product.
use sqlx::{Any, Executor, FromRow};

use super::{StorageResult, Tx, now_millis};

#[derive(Debug, Clone, FromRow)]
pub struct ModelVersionRow {
    pub id: i64,
    pub product_id: i64,
    pub kind: String,
    pub status: String,
    pub trained_through: Option<String>,
    pub metrics: Option<String>,
    pub artifact_key: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, product_id, kind, status, trained_through, metrics, artifact_key, note, created_at";

pub struct NewVersion<'a> {
    pub product_id: i64,
    pub kind: &'a str,
    pub status: &'a str,
    pub trained_through: Option<&'a str>,
    pub metrics: Option<&'a str>,
    pub artifact_key: Option<&'a str>,
    pub note: Option<&'a str>,
}

pub async fn insert(tx: &mut Tx, version: &NewVersion<'_>) -> StorageResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO model_versions (product_id, kind, status, trained_through, metrics, artifact_key, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(version.product_id)
    .bind(version.kind)
    .bind(version.status)
    .bind(version.trained_through)
    .bind(version.metrics)
    .bind(version.artifact_key)
    .bind(version.note)
    .bind(now_millis())
    .fetch_one(tx.conn())
    .await?;
    Ok(id)
}

pub async fn active<'e, E: Executor<'e, Database = Any>>(
    db: E,
    product_id: i64,
) -> StorageResult<Option<ModelVersionRow>> {
    let row = sqlx::query_as::<_, ModelVersionRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM model_versions WHERE product_id = $1 AND status = 'active'"
    )))
    .bind(product_id)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// Active versions of every product, keyed by product id.
pub async fn all_active<'e, E: Executor<'e, Database = Any>>(
    db: E,
) -> StorageResult<Vec<ModelVersionRow>> {
    let rows = sqlx::query_as::<_, ModelVersionRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM model_versions WHERE status = 'active' ORDER BY product_id"
    )))
    .fetch_all(db)
    .await?;
    Ok(rows)
}

pub async fn history<'e, E: Executor<'e, Database = Any>>(
    db: E,
    product_id: i64,
    limit: i64,
) -> StorageResult<Vec<ModelVersionRow>> {
    let rows = sqlx::query_as::<_, ModelVersionRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM model_versions WHERE product_id = $1 ORDER BY id DESC LIMIT $2"
    )))
    .bind(product_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// Retires the active version; false when `expected` is no longer the active one (another
/// training got there first).
pub async fn retire(tx: &mut Tx, product_id: i64, expected: Option<i64>) -> StorageResult<bool> {
    match expected {
        Some(id) => {
            let done = sqlx::query(
                "UPDATE model_versions SET status = 'retired' WHERE id = $1 AND product_id = $2 AND status = 'active'",
            )
            .bind(id)
            .bind(product_id)
            .execute(tx.conn())
            .await?;
            Ok(done.rows_affected() == 1)
        }
        None => {
            let (count,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM model_versions WHERE product_id = $1 AND status = 'active'",
            )
            .bind(product_id)
            .fetch_one(tx.conn())
            .await?;
            Ok(count == 0)
        }
    }
}

pub async fn put_artifact<'e, E: Executor<'e, Database = Any>>(
    db: E,
    key: &str,
    body: &str,
) -> StorageResult<()> {
    sqlx::query(
        "INSERT INTO model_artifacts (artifact_key, body, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (artifact_key) DO NOTHING",
    )
    .bind(key)
    .bind(body)
    .bind(now_millis())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn get_artifact<'e, E: Executor<'e, Database = Any>>(
    db: E,
    key: &str,
) -> StorageResult<Option<String>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT body FROM model_artifacts WHERE artifact_key = $1")
            .bind(key)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(body,)| body))
}

pub async fn mark_stale<'e, E: Executor<'e, Database = Any>>(
    db: E,
    product_ids: Option<&[i64]>,
    reason: &str,
) -> StorageResult<u64> {
    let now = now_millis();
    let done = match product_ids {
        None => {
            sqlx::query(
                "INSERT INTO stale_models (product_id, reason, marked_at) \
                 SELECT id, $1, $2 FROM products WHERE is_active = 1 \
                 ON CONFLICT (product_id) DO UPDATE SET reason = excluded.reason, marked_at = excluded.marked_at",
            )
            .bind(reason)
            .bind(now)
            .execute(db)
            .await?
        }
        Some([]) => return Ok(0),
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO stale_models (product_id, reason, marked_at) \
                 SELECT id, $1, $2 FROM products WHERE id IN ({}) \
                 ON CONFLICT (product_id) DO UPDATE SET reason = excluded.reason, marked_at = excluded.marked_at",
                list.join(", ")
            )))
            .bind(reason)
            .bind(now)
            .execute(db)
            .await?
        }
    };
    Ok(done.rows_affected())
}

/// Product ids marked stale no later than `marked_before` (millis).
pub async fn stale_products<'e, E: Executor<'e, Database = Any>>(
    db: E,
) -> StorageResult<Vec<(i64, i64)>> {
    let rows = sqlx::query_as::<_, (i64, i64)>(
        "SELECT product_id, marked_at FROM stale_models ORDER BY product_id",
    )
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// Clears a stale mark unless it was set again after `trained_from` (millis).
pub async fn clear_stale<'e, E: Executor<'e, Database = Any>>(
    db: E,
    product_id: i64,
    trained_from: i64,
) -> StorageResult<()> {
    sqlx::query("DELETE FROM stale_models WHERE product_id = $1 AND marked_at <= $2")
        .bind(product_id)
        .bind(trained_from)
        .execute(db)
        .await?;
    Ok(())
}

/// Daily units and promo units of one product, by business day, oldest first.
/// The last business day with a sale of the product (one index lookup).
pub async fn last_sale_day<'e, E: Executor<'e, Database = Any>>(
    db: E,
    product_id: i64,
) -> StorageResult<Option<String>> {
    let (day,): (Option<String>,) =
        sqlx::query_as("SELECT MAX(business_date) FROM sale_items WHERE product_id = $1")
            .bind(product_id)
            .fetch_one(db)
            .await?;
    Ok(day)
}

pub async fn daily_units<'e, E: Executor<'e, Database = Any>>(
    db: E,
    product_id: i64,
) -> StorageResult<Vec<(String, i64, i64)>> {
    let rows = sqlx::query_as::<_, (String, i64, i64)>(
        "SELECT business_date, CAST(SUM(quantity) AS BIGINT), \
           CAST(SUM(CASE WHEN is_promo = 1 THEN quantity ELSE 0 END) AS BIGINT) \
         FROM sale_items WHERE product_id = $1 GROUP BY business_date ORDER BY business_date",
    )
    .bind(product_id)
    .fetch_all(db)
    .await?;
    Ok(rows)
}
