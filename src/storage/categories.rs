use sqlx::{Any, Executor, FromRow};

use super::{StorageResult, now_millis};

#[derive(Debug, Clone, FromRow)]
pub struct CategoryRow {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub product_count: i64,
}

const SELECT: &str = "SELECT c.id, c.name, c.description, c.created_at, \
     (SELECT COUNT(*) FROM products p WHERE p.category_id = c.id) AS product_count \
     FROM categories c";

pub async fn list<'e, E: Executor<'e, Database = Any>>(db: E) -> StorageResult<Vec<CategoryRow>> {
    let rows =
        sqlx::query_as::<_, CategoryRow>(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY c.name")))
            .fetch_all(db)
            .await?;
    Ok(rows)
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: i64,
) -> StorageResult<Option<CategoryRow>> {
    let row =
        sqlx::query_as::<_, CategoryRow>(sqlx::AssertSqlSafe(format!("{SELECT} WHERE c.id = $1")))
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row)
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    name: &str,
    description: Option<&str>,
) -> StorageResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO categories (name, description, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(description)
    .bind(now_millis())
    .fetch_one(db)
    .await?;
    Ok(id)
}

/// The id of the category called `name`, creating it if needed (products name their
/// category rather than pointing at an id).
pub async fn ensure(tx: &mut super::Tx, name: &str) -> StorageResult<i64> {
    sqlx::query(
        "INSERT INTO categories (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(now_millis())
    .execute(tx.conn())
    .await?;
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM categories WHERE name = $1")
        .bind(name)
        .fetch_one(tx.conn())
        .await?;
    Ok(id)
}

pub async fn update<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: i64,
    name: &str,
    description: Option<&str>,
) -> StorageResult<bool> {
    let done = sqlx::query("UPDATE categories SET name = $1, description = $2 WHERE id = $3")
        .bind(name)
        .bind(description)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete<'e, E: Executor<'e, Database = Any>>(db: E, id: i64) -> StorageResult<bool> {
    let done = sqlx::query("DELETE FROM categories WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
