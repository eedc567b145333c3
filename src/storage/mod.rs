//! The database behind one handle. Both backends speak the same SQL through sqlx's `Any`
//! driver: `$n` placeholders, integer money and timestamps, 0/1 flags, and explicit
//! `CAST(SUM(..) AS BIGINT)` where PostgreSQL would otherwise answer NUMERIC.

pub mod categories;
pub mod events;
mod executor;
pub mod generations;
pub mod idempotency;
pub mod jobs;
pub mod ledger;
pub mod models;
pub mod products;
pub mod reports;
pub mod sales;
pub mod sales_figures;
pub mod secrets;
pub mod settings;
pub mod tokens;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

pub use executor::{ConnExecutor, PoolExecutor, StatementMode, Tx};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("unsupported database url {0:?}: use sqlite://FILE or postgres://...")]
    UnsupportedUrl(String),
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[source] sqlx::Error),
    #[error("model store: {0}")]
    Artifact(String),
    #[error(
        "migrations hold a session lock, which a transaction pooler cannot give: \
         set DATABASE_MIGRATION_URL to PostgreSQL directly"
    )]
    MigrationThroughPooler,
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => StorageError::Unavailable(error),
            other => StorageError::Query(other),
        }
    }
}

impl StorageError {
    /// Whether the error is a violated UNIQUE constraint (the caller decides what it means).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StorageError::Query(sqlx::Error::Database(db)) => db.is_unique_violation(),
            _ => false,
        }
    }
}

pub type StorageResult<T> = Result<T, StorageError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
        }
    }
}

/// The database handle every layer shares; cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    statements: StatementMode,
}

impl Db {
    /// Connects to `url`; a bare path means an SQLite file, created if missing. A
    /// PostgreSQL url with `pgbouncer=true` goes through pgBouncer in transaction pooling
    /// mode (see [`StatementMode`]).
    pub async fn connect(url: &str, max_connections: u32) -> StorageResult<Db> {
        sqlx::any::install_default_drivers();
        let (url, backend, statements) = normalize_url(url)?;
        let options = AnyConnectOptions::from_str(&url).map_err(StorageError::Unavailable)?;
        let pool_options = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5));
        let pool_options = match backend {
            Backend::Sqlite => pool_options.after_connect(|conn, _| {
                Box::pin(async move {
                    // Writers queue behind each other instead of failing with SQLITE_BUSY.
                    conn.execute("PRAGMA busy_timeout = 15000").await?;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            }),
            Backend::Postgres => pool_options,
        };
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(StorageError::Unavailable)?;
        Ok(Db {
            pool,
            backend,
            statements,
        })
    }

    pub async fn migrate(&self) -> StorageResult<()> {
        if self.statements == StatementMode::Unnamed {
            return Err(StorageError::MigrationThroughPooler);
        }
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// The executor for statements outside a transaction.
    pub fn pool(&self) -> PoolExecutor<'_> {
        PoolExecutor {
            pool: &self.pool,
            mode: self.statements,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction that will write. SQLite takes the write lock up front so that
    /// two writers queue instead of deadlocking on a lock upgrade.
    pub async fn begin_write(&self) -> StorageResult<Tx> {
        let inner = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx {
            inner,
            mode: self.statements,
        })
    }

    pub async fn ping(&self) -> StorageResult<()> {
        sqlx::query("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn normalize_url(url: &str) -> StorageResult<(String, Backend, StatementMode)> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (url, pooled) = take_pgbouncer_flag(url);
        let mode = if pooled {
            StatementMode::Unnamed
        } else {
            StatementMode::Cached
        };
        return Ok((url, Backend::Postgres, mode));
    }
    let path = if let Some(rest) = url.strip_prefix("sqlite://") {
        rest
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        rest
    } else if !url.contains("://") && !url.is_empty() {
        url
    } else {
        return Err(StorageError::UnsupportedUrl(url.to_owned()));
    };
    let separator = if path.contains('?') { '&' } else { '?' };
    let mode = if path.contains("mode=") {
        ""
    } else {
        "mode=rwc"
    };
    let url = if mode.is_empty() {
        format!("sqlite://{path}")
    } else {
        format!("sqlite://{path}{separator}{mode}")
    };
    Ok((url, Backend::Sqlite, StatementMode::Cached))
}

/// Removes `pgbouncer=true|false` from the query string (sqlx does not know it) and says
/// whether it was true.
fn take_pgbouncer_flag(url: &str) -> (String, bool) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), false);
    };
    let mut pooled = false;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some(("pgbouncer", value)) => {
                pooled = value == "true";
                false
            }
            _ => !pair.is_empty(),
        })
        .collect();
    if kept.is_empty() {
        (base.to_owned(), pooled)
    } else {
        (format!("{base}?{}", kept.join("&")), pooled)
    }
}

/// Current time as UTC milliseconds, the unit every timestamp column uses.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// How a boolean is written: both backends store flags as 0/1 integers (one SQL dialect).
pub(crate) fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// How a 0/1 flag column is read: rows decode it straight to `bool` with
/// `#[sqlx(try_from = "StoredFlag")]`, so no 0/1 integer leaves storage.
#[derive(sqlx::Type)]
#[sqlx(transparent)]
pub struct StoredFlag(i64);

impl From<StoredFlag> for bool {
    fn from(flag: StoredFlag) -> bool {
        flag.0 != 0
    }
}

/// `$from, $from+1, ...` placeholders for one row of a multi-row statement.
pub(crate) fn placeholders(from: usize, count: usize) -> String {
    let parts: Vec<String> = (from..from + count).map(|n| format!("${n}")).collect();
    format!("({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_paths_and_sqlite_urls_select_sqlite_and_create_the_file() {
        let (url, backend, _) = normalize_url("shop.db").unwrap();
        assert_eq!(backend, Backend::Sqlite);
        assert_eq!(url, "sqlite://shop.db?mode=rwc");
        let (url, _, _) = normalize_url("sqlite:///tmp/x.db?mode=ro").unwrap();
        assert_eq!(url, "sqlite:///tmp/x.db?mode=ro");
        let (_, backend, mode) = normalize_url("postgres://u@h/db").unwrap();
        assert_eq!((backend, mode), (Backend::Postgres, StatementMode::Cached));
        assert!(normalize_url("mysql://x").is_err());
    }

    #[test]
    fn the_pgbouncer_flag_selects_unnamed_statements_and_is_not_passed_to_sqlx() {
        let (url, _, mode) =
            normalize_url("postgres://u@h:6432/db?pgbouncer=true&sslmode=disable").unwrap();
        assert_eq!(url, "postgres://u@h:6432/db?sslmode=disable");
        assert_eq!(mode, StatementMode::Unnamed);
        let (url, _, mode) = normalize_url("postgres://u@h/db?pgbouncer=false").unwrap();
        assert_eq!(url, "postgres://u@h/db");
        assert_eq!(mode, StatementMode::Cached);
    }

    #[test]
    fn placeholders_number_from_the_given_index() {
        assert_eq!(placeholders(3, 2), "($3, $4)");
    }
}
