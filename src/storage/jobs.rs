//! The job queue's storage: apalis' own tables (`Jobs`/`Workers` in SQLite,
//! `apalis.jobs`/`apalis.workers` in PostgreSQL), created by apalis' migrations. apalis
//! pushes, claims, heartbeats, re-enqueues orphans and acknowledges; this module adds what
//! the API needs on top of the same rows: one task, a listing, and cancellation.
//!
//! The queue has its own small pool of the backend's native driver (apalis is written
//! against `SqlitePool`/`PgPool`, not `Any`). On PostgreSQL it must reach the server
//! directly: apalis prepares named statements, registers workers under a session advisory
//! lock and listens for new jobs, none of which a transaction pooler (pgBouncer in
//! transaction mode) can carry.

use std::str::FromStr;
use std::time::Duration;

use apalis::prelude::{TaskBuilder, TaskId, WorkerContext};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{FromRow, PgPool, SqlitePool};

use super::{Backend, StatementMode, StorageError, StorageResult};

/// The apalis queue (its `job_type`) every SIPREMS job goes to.
pub const QUEUE: &str = "siprems";
/// What a cancelled task's `last_result` holds; a job's own errors never read like it.
const CANCELLED: &str = r#"{"Err":"cancelled"}"#;

/// A task as apalis keeps it. Times are UNIX seconds, the unit of apalis' columns.
#[derive(Debug, Clone, FromRow)]
pub struct TaskRow {
    pub id: String,
    /// apalis' status: `Pending`, `Queued`, `Running`, `Done`, `Failed` or `Killed`.
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub lock_at: Option<i64>,
    pub done_at: Option<i64>,
    /// `{"Ok": result}` or `{"Err": message}` as apalis records it.
    pub last_result: Option<String>,
    /// The job's arguments (JSON bytes).
    pub job: Vec<u8>,
    pub idempotency_key: Option<String>,
}

impl TaskRow {
    pub fn cancelled(&self) -> bool {
        // Compared as JSON: PostgreSQL's jsonb gives the text back re-spaced.
        let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
        self.status == "Killed" && self.last_result.as_deref().and_then(parse) == parse(CANCELLED)
    }
}

/// A job to push.
pub struct NewTask<'a> {
    pub id: ulid::Ulid,
    pub payload: Vec<u8>,
    /// UNIX seconds.
    pub run_at: u64,
    pub max_attempts: usize,
    /// Tasks with the same key are enqueued once (e.g. one nightly run per night).
    pub dedupe_key: Option<&'a str>,
}

/// The queue's connection, by backend.
#[derive(Clone, Debug)]
pub enum QueueStore {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

const SQLITE_COLUMNS: &str = "id, status, attempts, max_attempts, run_at, lock_at, done_at, \
     last_result, job, idempotency_key";
const PG_COLUMNS: &str = "id, status, attempts::BIGINT AS attempts, max_attempts::BIGINT AS max_attempts, \
     EXTRACT(EPOCH FROM run_at)::BIGINT AS run_at, EXTRACT(EPOCH FROM lock_at)::BIGINT AS lock_at, \
     EXTRACT(EPOCH FROM done_at)::BIGINT AS done_at, last_result::TEXT AS last_result, job, idempotency_key";

fn config_error(message: String) -> StorageError {
    StorageError::Unavailable(sqlx::Error::Configuration(message.into()))
}

impl QueueStore {
    /// Connects to the queue's database and brings apalis' tables up to date. `url` is
    /// an SQLite file (`sqlite://FILE` or a bare path) or PostgreSQL reached directly.
    pub async fn connect(url: &str) -> StorageResult<QueueStore> {
        let (url, backend, statements) = super::normalize_url(url)?;
        if backend == Backend::Postgres {
            if statements == StatementMode::Unnamed {
                return Err(config_error(
                    "the job queue needs PostgreSQL directly, not through pgBouncer: \
                     set DATABASE_MIGRATION_URL"
                        .into(),
                ));
            }
            let options = PgConnectOptions::from_str(&url).map_err(StorageError::Unavailable)?;
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await
                .map_err(StorageError::Unavailable)?;
            // apalis' migrations, under their own history table: `_sqlx_migrations` is ours.
            let mut migrator = PostgresStorage::migrations();
            migrator.dangerous_set_table_name("apalis._sqlx_migrations");
            migrator.create_schema("apalis");
            migrator.run(&pool).await?;
            Ok(QueueStore::Postgres(pool))
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(&url);
            let path = path.split_once('?').map_or(path, |(path, _)| path);
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .busy_timeout(Duration::from_secs(15))
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await
                .map_err(StorageError::Unavailable)?;
            let mut migrator = SqliteStorage::migrations();
            migrator.dangerous_set_table_name("_apalis_migrations");
            migrator.run(&pool).await?;
            Ok(QueueStore::Sqlite(pool))
        }
    }

    /// apalis' configuration for this queue, with the given heartbeat.
    pub fn sqlite_config(heartbeat: Duration) -> apalis_sqlite::Config {
        apalis_sqlite::Config::default()
            .queue(QUEUE)
            .batch_size(1)
            .heartbeat_interval(heartbeat)
    }

    pub fn postgres_config(heartbeat: Duration) -> apalis_postgres::Config {
        apalis_postgres::Config::default()
            .queue(QUEUE)
            .batch_size(1)
            .heartbeat_interval(heartbeat)
    }

    /// Pushes a task through apalis. With a dedupe key already taken, nothing is pushed
    /// and the task holding the key is returned.
    pub async fn push(&self, task: NewTask<'_>) -> StorageResult<TaskRow> {
        let mut builder = TaskBuilder::new(task.payload)
            .task_id(TaskId::from_ulid(task.id))
            .run_at_timestamp(task.run_at)
            .max_attempts(task.max_attempts);
        if let Some(key) = task.dedupe_key {
            builder = builder.idempotency_key(key);
        }
        let built = builder.build();
        let id = task.id.to_string();
        let pushed = match self {
            QueueStore::Sqlite(pool) => {
                // ON CONFLICT (job_type, idempotency_key) DO NOTHING
                let mut conn = pool.acquire().await?;
                apalis_sqlite::queries::push_tasks(&mut *conn, QUEUE, &[built])
                    .await
                    .map_err(queue_error)
            }
            QueueStore::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                match apalis_postgres::queries::push_tasks(&mut *conn, QUEUE, vec![built]).await {
                    Err(apalis_postgres::Error::Database(sqlx::Error::Database(db)))
                        if db.is_unique_violation() =>
                    {
                        Ok(())
                    }
                    other => other.map_err(queue_error),
                }
            }
        };
        pushed?;
        if let Some(row) = self.find(&id).await? {
            return Ok(row);
        }
        let key = task.dedupe_key.unwrap_or_default();
        self.find_by_dedupe_key(key)
            .await?
            .ok_or_else(|| config_error(format!("task {id} was neither pushed nor deduplicated")))
    }

    pub async fn find(&self, id: &str) -> StorageResult<Option<TaskRow>> {
        self.fetch_optional(
            &format!("SELECT {SQLITE_COLUMNS} FROM Jobs WHERE id = $1 AND job_type = $2"),
            &format!("SELECT {PG_COLUMNS} FROM apalis.jobs WHERE id = $1 AND job_type = $2"),
            id,
        )
        .await
    }

    pub async fn find_by_dedupe_key(&self, key: &str) -> StorageResult<Option<TaskRow>> {
        self.fetch_optional(
            &format!(
                "SELECT {SQLITE_COLUMNS} FROM Jobs WHERE idempotency_key = $1 AND job_type = $2"
            ),
            &format!(
                "SELECT {PG_COLUMNS} FROM apalis.jobs WHERE idempotency_key = $1 AND job_type = $2"
            ),
            key,
        )
        .await
    }

    async fn fetch_optional(
        &self,
        sqlite: &str,
        postgres: &str,
        value: &str,
    ) -> StorageResult<Option<TaskRow>> {
        Ok(match self {
            QueueStore::Sqlite(pool) => {
                sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(sqlite.to_owned()))
                    .bind(value)
                    .bind(QUEUE)
                    .fetch_optional(pool)
                    .await?
            }
            QueueStore::Postgres(pool) => {
                sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(postgres.to_owned()))
                    .bind(value)
                    .bind(QUEUE)
                    .fetch_optional(pool)
                    .await?
            }
        })
    }

    /// Tasks in any of apalis' `statuses`, soonest first.
    pub async fn with_status(&self, statuses: &[&str], limit: i64) -> StorageResult<Vec<TaskRow>> {
        let list: Vec<String> = statuses
            .iter()
            .map(|s| format!("'{}'", s.replace('\'', "")))
            .collect();
        let list = list.join(", ");
        Ok(match self {
            QueueStore::Sqlite(pool) => {
                sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(format!(
                    "SELECT {SQLITE_COLUMNS} FROM Jobs WHERE job_type = $1 AND status IN ({list}) \
                     ORDER BY run_at, id LIMIT $2"
                )))
                .bind(QUEUE)
                .bind(limit)
                .fetch_all(pool)
                .await?
            }
            QueueStore::Postgres(pool) => {
                sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(format!(
                    "SELECT {PG_COLUMNS} FROM apalis.jobs WHERE job_type = $1 AND status IN ({list}) \
                     ORDER BY run_at, id LIMIT $2"
                )))
                .bind(QUEUE)
                .bind(limit)
                .fetch_all(pool)
                .await?
            }
        })
    }

    /// Cancels a task that has not finished; false when it already had. A running task
    /// loses its lock, so its worker's acknowledgement no longer applies to the row (and
    /// the worker, which watches the status, stops the job).
    pub async fn cancel(&self, id: &str) -> StorageResult<bool> {
        const UNFINISHED: &str = "(status IN ('Pending', 'Queued', 'Running') \
             OR (status = 'Failed' AND attempts < max_attempts))";
        let done = match self {
            QueueStore::Sqlite(pool) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE Jobs SET status = 'Killed', lock_by = NULL, last_result = $1, \
                     done_at = strftime('%s', 'now') WHERE id = $2 AND job_type = $3 AND {UNFINISHED}"
                )))
                .bind(CANCELLED)
                .bind(id)
                .bind(QUEUE)
                .execute(pool)
                .await?
                .rows_affected()
            }
            QueueStore::Postgres(pool) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE apalis.jobs SET status = 'Killed', lock_by = NULL, \
                     last_result = $1::jsonb, done_at = NOW() \
                     WHERE id = $2 AND job_type = $3 AND {UNFINISHED}"
                )))
                .bind(CANCELLED)
                .bind(id)
                .bind(QUEUE)
                .execute(pool)
                .await?
                .rows_affected()
            }
        };
        Ok(done == 1)
    }

    /// Whether a task has been cancelled (its running worker polls this).
    pub async fn is_cancelled(&self, id: &str) -> StorageResult<bool> {
        Ok(self.find(id).await?.is_some_and(|row| row.cancelled()))
    }

    /// Does what an apalis worker does before it runs a task (register, fetch, lock),
    /// without running it: the worker named `worker` now holds the next due task, whose
    /// id is returned. A worker that dies right after is what tests play with this.
    pub async fn claim_next(
        &self,
        worker: &str,
        heartbeat: Duration,
    ) -> StorageResult<Option<String>> {
        let context = WorkerContext::new(worker);
        let tasks = match self {
            QueueStore::Sqlite(pool) => {
                let config = Self::sqlite_config(heartbeat);
                let mut tx = pool.begin().await?;
                apalis_sqlite::queries::register_worker(
                    &mut *tx,
                    &config,
                    &context,
                    "SqliteStorage",
                )
                .await?;
                let tasks = apalis_sqlite::queries::fetch_next(&mut *tx, &config, &context)
                    .await
                    .map_err(queue_error)?;
                let ids: Vec<String> = tasks
                    .iter()
                    .filter_map(|t| t.task_id().map(|id| id.to_string()))
                    .collect();
                apalis_sqlite::queries::lock_tasks(&mut *tx, &ids, worker).await?;
                tx.commit().await?;
                ids
            }
            QueueStore::Postgres(pool) => {
                let config = Self::postgres_config(heartbeat);
                let mut tx = pool.begin().await?;
                // apalis' own registration takes its timestamp type, which it keeps private.
                sqlx::query(
                    "INSERT INTO apalis.workers (id, worker_type, storage_name, layers, last_seen) \
                     VALUES ($1, $2, 'PgStorage', '', NOW())",
                )
                .bind(worker)
                .bind(QUEUE)
                .execute(&mut *tx)
                .await?;
                let tasks = apalis_postgres::queries::fetch_next(&mut *tx, &config, &context)
                    .await
                    .map_err(queue_error)?;
                let ids: Vec<String> = tasks
                    .iter()
                    .filter_map(|t| t.task_id().map(|id| id.to_string()))
                    .collect();
                apalis_postgres::queries::lock_tasks(&mut *tx, &ids, worker)
                    .await
                    .map_err(queue_error)?;
                tx.commit().await?;
                ids
            }
        };
        Ok(tasks.into_iter().next())
    }

    pub async fn close(&self) {
        match self {
            QueueStore::Sqlite(pool) => pool.close().await,
            QueueStore::Postgres(pool) => pool.close().await,
        }
    }
}

fn queue_error(error: impl std::fmt::Display) -> StorageError {
    StorageError::Query(sqlx::Error::Protocol(format!("job queue: {error}")))
}
