//! How statements reach the database. Directly, sqlx prepares each statement once per
//! connection under a name and reuses it. Behind pgBouncer in transaction pooling mode
//! (1.18 has no prepared-statement support) that breaks twice over: a named statement
//! lives on whichever server connection the pooler lent us, and sqlx's Parse and Bind go
//! out as two round trips between which the pooler may switch servers. So in that mode
//! every statement is unnamed and runs inside a transaction, which pins one server
//! connection from Parse to Execute.

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt, TryStreamExt, stream};
use sqlx::any::{AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::{Any, AnyConnection, AnyPool, Describe, Either, Execute, Executor, SqlStr, Transaction};

/// Whether statements may be prepared under a name and cached per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementMode {
    /// Direct connections: named statements, cached per connection.
    Cached,
    /// A transaction pooler sits between us and PostgreSQL: unnamed statements only, each
    /// inside a transaction.
    Unnamed,
}

/// The pool as an executor: `db.pool()` goes wherever `&AnyPool` used to.
#[derive(Debug, Clone, Copy)]
pub struct PoolExecutor<'p> {
    pub(super) pool: &'p AnyPool,
    pub(super) mode: StatementMode,
}

/// A write transaction; `tx.conn()` is its executor.
#[derive(Debug)]
pub struct Tx {
    pub(super) inner: Transaction<'static, Any>,
    pub(super) mode: StatementMode,
}

impl Tx {
    pub fn conn(&mut self) -> ConnExecutor<'_> {
        ConnExecutor {
            conn: &mut self.inner,
            mode: self.mode,
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

/// One connection (inside a transaction) as an executor.
#[derive(Debug)]
pub struct ConnExecutor<'c> {
    conn: &'c mut AnyConnection,
    mode: StatementMode,
}

/// A statement that must not be prepared under a name.
struct Unnamed<E>(E);

impl<'q, E: Execute<'q, Any>> Execute<'q, Any> for Unnamed<E> {
    fn sql(self) -> SqlStr {
        self.0.sql()
    }

    fn statement(&self) -> Option<&AnyStatement> {
        self.0.statement()
    }

    fn take_arguments(
        &mut self,
    ) -> Result<Option<sqlx::any::AnyArguments>, sqlx::error::BoxDynError> {
        self.0.take_arguments()
    }

    fn persistent(&self) -> bool {
        false
    }
}

type Step = Either<AnyQueryResult, AnyRow>;

impl<'p> Executor<'p> for PoolExecutor<'p> {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Step, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self.mode {
            StatementMode::Cached => self.pool.fetch_many(query),
            StatementMode::Unnamed => {
                let pool = self.pool.clone();
                // Results are collected before the transaction ends; every caller reads
                // whole results anyway.
                async move {
                    let mut tx = pool.begin().await?;
                    let steps: Vec<Step> = tx.fetch_many(Unnamed(query)).try_collect().await?;
                    tx.commit().await?;
                    Ok::<_, sqlx::Error>(stream::iter(steps.into_iter().map(Ok)))
                }
                .into_stream()
                .try_flatten()
                .boxed()
            }
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self.mode {
            StatementMode::Cached => self.pool.fetch_optional(query),
            StatementMode::Unnamed => {
                let pool = self.pool.clone();
                async move {
                    let mut tx = pool.begin().await?;
                    let row = tx.fetch_optional(Unnamed(query)).await?;
                    tx.commit().await?;
                    Ok(row)
                }
                .boxed()
            }
        }
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, sqlx::Error>>
    where
        'p: 'e,
    {
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<Describe<Any>, sqlx::Error>>
    where
        'p: 'e,
    {
        self.pool.describe(sql)
    }
}

impl<'c> Executor<'c> for ConnExecutor<'c> {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Step, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self.mode {
            StatementMode::Cached => self.conn.fetch_many(query),
            StatementMode::Unnamed => self.conn.fetch_many(Unnamed(query)),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self.mode {
            StatementMode::Cached => self.conn.fetch_optional(query),
            StatementMode::Unnamed => self.conn.fetch_optional(Unnamed(query)),
        }
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, sqlx::Error>>
    where
        'c: 'e,
    {
        self.conn.prepare_with(sql, parameters)
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<Describe<Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        self.conn.describe(sql)
    }
}
