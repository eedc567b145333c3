//! Sessions and refresh tokens. A session is one login; each of its refresh tokens is
//! recorded (one row per issued token) so that rotation, logout and password changes take
//! effect on every instance, and so that reusing a spent token can end its whole session.
use sqlx::{Any, Executor, FromRow};

use super::{StorageResult, Tx, now_millis};

pub async fn insert_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    session_id: &str,
    user_id: i64,
    expires_at: i64,
) -> StorageResult<()> {
    sqlx::query(
        "INSERT INTO sessions (session_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(session_id)
    .bind(user_id)
    .bind(now_millis())
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub user_id: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl SessionRow {
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

pub async fn find_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    session_id: &str,
) -> StorageResult<Option<SessionRow>> {
    let row = sqlx::query_as::<_, SessionRow>(
        "SELECT user_id, expires_at, revoked_at FROM sessions WHERE session_id = $1",
    )
    .bind(session_id)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// Ends a session: its refresh tokens are refused, and its access tokens once the
/// instances notice (within the principal cache's lifetime).
pub async fn revoke_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    session_id: &str,
) -> StorageResult<()> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE session_id = $2 AND revoked_at IS NULL")
        .bind(now_millis())
        .bind(session_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_id: &str,
    user_id: i64,
    session_id: &str,
    expires_at: i64,
) -> StorageResult<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_id, user_id, session_id, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_id)
    .bind(user_id)
    .bind(session_id)
    .bind(expires_at)
    .bind(now_millis())
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct RefreshRow {
    pub user_id: i64,
    pub session_id: Option<String>,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub spent_at: Option<i64>,
    pub successor_access: Option<String>,
    pub successor_refresh: Option<String>,
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_id: &str,
) -> StorageResult<Option<RefreshRow>> {
    let row = sqlx::query_as::<_, RefreshRow>(
        "SELECT user_id, session_id, expires_at, revoked_at, spent_at, successor_access, \
         successor_refresh FROM refresh_tokens WHERE token_id = $1",
    )
    .bind(token_id)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// Marks a live, unspent token spent; false when it was unknown, expired, revoked or
/// already spent, so exactly one of several racing refreshes wins.
pub async fn spend<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_id: &str,
    user_id: i64,
) -> StorageResult<bool> {
    let now = now_millis();
    let done = sqlx::query(
        "UPDATE refresh_tokens SET spent_at = $1 \
         WHERE token_id = $2 AND user_id = $3 AND spent_at IS NULL AND revoked_at IS NULL \
         AND expires_at > $1",
    )
    .bind(now)
    .bind(token_id)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the pair a spent token was exchanged for (read back within the grace window).
pub async fn set_successor<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_id: &str,
    access_token: &str,
    refresh_token: &str,
) -> StorageResult<()> {
    sqlx::query(
        "UPDATE refresh_tokens SET successor_access = $1, successor_refresh = $2 WHERE token_id = $3",
    )
    .bind(access_token)
    .bind(refresh_token)
    .bind(token_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets the successor pairs of a session's tokens spent before `before` (their grace
/// window is over), so issued tokens do not linger in the database.
pub async fn forget_successors<'e, E: Executor<'e, Database = Any>>(
    db: E,
    session_id: &str,
    before: i64,
) -> StorageResult<()> {
    sqlx::query(
        "UPDATE refresh_tokens SET successor_access = NULL, successor_refresh = NULL \
         WHERE session_id = $1 AND spent_at < $2 AND successor_refresh IS NOT NULL",
    )
    .bind(session_id)
    .bind(before)
    .execute(db)
    .await?;
    Ok(())
}

/// Revokes one live token; false when it was unknown, expired or already revoked.
pub async fn revoke<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_id: &str,
    user_id: i64,
) -> StorageResult<bool> {
    let now = now_millis();
    let done = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1, successor_access = NULL, successor_refresh = NULL \
         WHERE token_id = $2 AND user_id = $3 AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(token_id)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every token of a session (a reused refresh token, a logout).
pub async fn revoke_all_for_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    session_id: &str,
) -> StorageResult<()> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1, successor_access = NULL, successor_refresh = NULL \
         WHERE session_id = $2 AND revoked_at IS NULL",
    )
    .bind(now_millis())
    .bind(session_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Ends every session of a user and revokes all their refresh tokens.
pub async fn revoke_all_for_user<'e, E: Executor<'e, Database = Any> + Copy>(
    db: E,
    user_id: i64,
) -> StorageResult<()> {
    let now = now_millis();
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1, successor_access = NULL, successor_refresh = NULL \
         WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(db)
    .await?;
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

/// How many rows a sweep of ended sessions removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweptSessions {
    pub sessions: u64,
    pub refresh_tokens: u64,
}

/// Deletes the sessions that expired or were revoked before `ended_before`, with their
/// refresh tokens, and the refresh tokens that belong to no session (issued before
/// sessions existed; they are refused anyway). Tokens go first: they reference sessions.
pub async fn delete_ended_sessions(tx: &mut Tx, ended_before: i64) -> StorageResult<SweptSessions> {
    let refresh_tokens = sqlx::query(
        "DELETE FROM refresh_tokens WHERE session_id IS NULL OR session_id IN \
         (SELECT session_id FROM sessions WHERE expires_at < $1 OR revoked_at < $1)",
    )
    .bind(ended_before)
    .execute(tx.conn())
    .await?
    .rows_affected();
    let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1")
        .bind(ended_before)
        .execute(tx.conn())
        .await?
        .rows_affected();
    Ok(SweptSessions {
        sessions,
        refresh_tokens,
    })
}
