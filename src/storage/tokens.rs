//! Refresh tokens: one row per issued token so that logout and password changes can
//! revoke them on every instance.
use sqlx::{Any, Executor};

use super::{StorageResult, now_millis};

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_id: &str,
    user_id: i64,
    expires_at: i64,
) -> StorageResult<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_id, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_id)
    .bind(user_id)
    .bind(expires_at)
    .bind(now_millis())
    .execute(db)
    .await?;
    Ok(())
}

/// Revokes one live token; false when it was unknown, expired or already revoked, which
/// makes a refresh single-use even when two requests race with the same token.
pub async fn revoke<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_id: &str,
    user_id: i64,
) -> StorageResult<bool> {
    let now = now_millis();
    let done = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 \
         WHERE token_id = $2 AND user_id = $3 AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(token_id)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn revoke_all_for_user<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user_id: i64,
) -> StorageResult<()> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now_millis())
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}
