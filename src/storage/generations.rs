//! Generation counters of cached answers, kept in the database when there is no Redis (see
//! `infra::cache`).

use sqlx::{Any, Executor};

use super::StorageResult;

/// Adds one to a group's counter and returns the new value.
pub async fn bump<'e, E: Executor<'e, Database = Any>>(db: E, name: &str) -> StorageResult<i64> {
    let (generation,): (i64,) = sqlx::query_as(
        "UPDATE cache_generations SET generation = generation + 1 WHERE name = $1 RETURNING generation",
    )
    .bind(name)
    .fetch_one(db)
    .await?;
    Ok(generation)
}

/// Every group's counter.
pub async fn all<'e, E: Executor<'e, Database = Any>>(db: E) -> StorageResult<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT name, generation FROM cache_generations ORDER BY name")
            .fetch_all(db)
            .await?,
    )
}
