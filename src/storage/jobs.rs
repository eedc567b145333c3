//! Background jobs kept in the database, so that queued work survives a restart.
use std::time::Duration;

use sqlx::{Any, Executor, FromRow};

use super::{StorageResult, now_millis};

#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_after: i64,
    pub dedupe_key: Option<String>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str = "id, kind, payload, status, attempts, max_attempts, run_after, dedupe_key, result, error, \
     created_at, started_at, finished_at";

pub struct NewJob<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
    pub run_after: i64,
    pub max_attempts: i64,
    /// Jobs with the same key are enqueued once (e.g. one nightly run per night).
    pub dedupe_key: Option<&'a str>,
}

/// Enqueues a job; false when a job with the same dedupe key exists.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    job: &NewJob<'_>,
) -> StorageResult<bool> {
    let done = sqlx::query(
        "INSERT INTO jobs (id, kind, payload, status, attempts, max_attempts, run_after, dedupe_key, created_at) \
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(job.id)
    .bind(job.kind)
    .bind(job.payload)
    .bind(job.max_attempts)
    .bind(job.run_after)
    .bind(job.dedupe_key)
    .bind(now_millis())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> StorageResult<Option<JobRow>> {
    let row = sqlx::query_as::<_, JobRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM jobs WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

pub async fn find_by_dedupe_key<'e, E: Executor<'e, Database = Any>>(
    db: E,
    key: &str,
) -> StorageResult<Option<JobRow>> {
    let row = sqlx::query_as::<_, JobRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM jobs WHERE dedupe_key = $1"
    )))
    .bind(key)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

pub async fn with_status<'e, E: Executor<'e, Database = Any>>(
    db: E,
    statuses: &[&str],
    limit: i64,
) -> StorageResult<Vec<JobRow>> {
    let list: Vec<String> = statuses
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "")))
        .collect();
    let rows = sqlx::query_as::<_, JobRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM jobs WHERE status IN ({}) ORDER BY run_after, created_at LIMIT $1",
        list.join(", ")
    )))
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// Claims the next due job: a queued one, or one still marked running after `lease`
/// (its worker died: a live worker gives up at its time limit, which is shorter). The
/// conditional update makes a claim exclusive even when several workers race for a row.
pub async fn claim_next(db: &sqlx::AnyPool, lease: Duration) -> StorageResult<Option<JobRow>> {
    let now = now_millis();
    let abandoned_before = now - lease.as_millis() as i64;
    let candidate: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM jobs WHERE (status = 'queued' AND run_after <= $1) \
           OR (status = 'running' AND started_at < $2) \
         ORDER BY run_after, created_at LIMIT 1",
    )
    .bind(now)
    .bind(abandoned_before)
    .fetch_optional(db)
    .await?;
    let Some((id,)) = candidate else {
        return Ok(None);
    };
    let row = sqlx::query_as::<_, JobRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = $1 \
         WHERE id = $2 AND (status = 'queued' OR (status = 'running' AND started_at < $3)) \
         RETURNING {COLUMNS}"
    )))
    .bind(now)
    .bind(&id)
    .bind(abandoned_before)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

pub async fn finish<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    status: &str,
    result: Option<&str>,
    error: Option<&str>,
) -> StorageResult<()> {
    sqlx::query(
        "UPDATE jobs SET status = $1, result = $2, error = $3, finished_at = $4 WHERE id = $5 AND status = 'running'",
    )
    .bind(status)
    .bind(result)
    .bind(error)
    .bind(now_millis())
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Puts a failed attempt back in the queue to run again after `run_after`.
pub async fn retry_later<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    run_after: i64,
    error: &str,
) -> StorageResult<()> {
    sqlx::query("UPDATE jobs SET status = 'queued', run_after = $1, error = $2 WHERE id = $3 AND status = 'running'")
        .bind(run_after)
        .bind(error)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Cancels a job that has not finished; false when it already had.
pub async fn cancel<'e, E: Executor<'e, Database = Any>>(db: E, id: &str) -> StorageResult<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'cancelled', finished_at = $1 WHERE id = $2 AND status IN ('queued', 'running')",
    )
    .bind(now_millis())
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Jobs left `running` go back to the queue. Only for a sole worker (the embedded mode),
/// for which whatever is running at start-up was interrupted; shared queues rely on the
/// lease in [`claim_next`] instead.
pub async fn requeue_interrupted<'e, E: Executor<'e, Database = Any>>(db: E) -> StorageResult<u64> {
    let done = sqlx::query("UPDATE jobs SET status = 'queued' WHERE status = 'running'")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
