//! Stored responses of requests sent with an `Idempotency-Key`, so that a retry returns
//! the first answer instead of doing the work twice.
use sqlx::{Any, Executor, FromRow};

use super::{StorageResult, Tx, now_millis};

#[derive(Debug, Clone, FromRow)]
pub struct StoredResponse {
    pub request_hash: String,
    pub response_body: Option<String>,
}

/// Claims `key` for this user inside the caller's transaction. False when the key is
/// already taken; on PostgreSQL a concurrent claim waits here until the first commits.
pub async fn claim(
    tx: &mut Tx,
    user_id: i64,
    key: &str,
    request_hash: &str,
) -> StorageResult<bool> {
    let done = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, key) DO NOTHING",
    )
    .bind(user_id)
    .bind(key)
    .bind(request_hash)
    .bind(now_millis())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn complete(tx: &mut Tx, user_id: i64, key: &str, body: &str) -> StorageResult<()> {
    sqlx::query("UPDATE idempotency_keys SET response_body = $1 WHERE user_id = $2 AND key = $3")
        .bind(body)
        .bind(user_id)
        .bind(key)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: i64,
    key: &str,
) -> StorageResult<Option<StoredResponse>> {
    let row = sqlx::query_as::<_, StoredResponse>(
        "SELECT request_hash, response_body FROM idempotency_keys WHERE user_id = $1 AND key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(db)
    .await?;
    Ok(row)
}
