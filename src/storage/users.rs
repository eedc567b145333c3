use sqlx::{Any, Executor, FromRow};

use super::{StorageResult, flag, now_millis};

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub full_name: String,
    pub role: String,
    #[sqlx(try_from = "super::StoredFlag")]
    pub is_active: bool,
    /// Self-registered and waiting for an admin's approval (inactive until then).
    #[sqlx(try_from = "super::StoredFlag")]
    pub pending: bool,
    #[sqlx(try_from = "super::StoredFlag")]
    pub must_change_password: bool,
    /// Access tokens carry it; a bump ends them all.
    pub token_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, email, password_hash, full_name, role, is_active, pending, \
     must_change_password, token_version, created_at, updated_at";

pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub full_name: &'a str,
    pub role: &'a str,
    /// Waits for an admin's approval (and is inactive until then).
    pub pending: bool,
    pub must_change_password: bool,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &NewUser<'_>,
) -> StorageResult<UserRow> {
    let now = now_millis();
    let row = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (email, password_hash, full_name, role, is_active, pending, \
         must_change_password, token_version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8) RETURNING {COLUMNS}"
    )))
    .bind(user.email)
    .bind(user.password_hash)
    .bind(user.full_name)
    .bind(user.role)
    .bind(flag(!user.pending))
    .bind(flag(user.pending))
    .bind(flag(user.must_change_password))
    .bind(now)
    .fetch_one(db)
    .await?;
    Ok(row)
}

pub async fn count<'e, E: Executor<'e, Database = Any>>(db: E) -> StorageResult<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await?;
    Ok(n)
}

pub async fn find_by_email<'e, E: Executor<'e, Database = Any>>(
    db: E,
    email: &str,
) -> StorageResult<Option<UserRow>> {
    let row = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE email = $1"
    )))
    .bind(email)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

pub async fn find_by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: i64,
) -> StorageResult<Option<UserRow>> {
    let row = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

pub async fn list<'e, E: Executor<'e, Database = Any>>(db: E) -> StorageResult<Vec<UserRow>> {
    let rows = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users ORDER BY id"
    )))
    .fetch_all(db)
    .await?;
    Ok(rows)
}

pub async fn set_role<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: i64,
    role: &str,
) -> StorageResult<bool> {
    let done = sqlx::query(
        "UPDATE users SET role = $1, updated_at = $2, token_version = token_version + 1 \
         WHERE id = $3",
    )
    .bind(role)
    .bind(now_millis())
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_active<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: i64,
    active: bool,
) -> StorageResult<bool> {
    // Activating a pending account approves it; any change ends the access tokens.
    let done = sqlx::query(
        "UPDATE users SET is_active = $1, pending = 0, updated_at = $2, \
         token_version = token_version + 1 WHERE id = $3",
    )
    .bind(flag(active))
    .bind(now_millis())
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets a new password hash and ends every access token of the user (the version bump);
/// `must_change` says whether the user has to choose their own password.
pub async fn set_password_hash<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: i64,
    password_hash: &str,
    must_change: bool,
) -> StorageResult<bool> {
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3, \
         token_version = token_version + 1 WHERE id = $4",
    )
    .bind(password_hash)
    .bind(flag(must_change))
    .bind(now_millis())
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Approves a pending account: it becomes an active account with its role (a cashier
/// when it registered itself). False when there is no such pending account.
pub async fn approve<'e, E: Executor<'e, Database = Any>>(db: E, id: i64) -> StorageResult<bool> {
    let done = sqlx::query(
        "UPDATE users SET pending = 0, is_active = 1, updated_at = $1 WHERE id = $2 AND pending = 1",
    )
    .bind(now_millis())
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_full_name<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: i64,
    full_name: &str,
) -> StorageResult<()> {
    sqlx::query("UPDATE users SET full_name = $1, updated_at = $2 WHERE id = $3")
        .bind(full_name)
        .bind(now_millis())
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The oldest active admin account, if any (the shop owner; demo sales are rung up by them).
pub async fn first_admin_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
) -> StorageResult<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM users WHERE role = 'admin' AND is_active = 1 ORDER BY id LIMIT 1",
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id,)| id))
}
