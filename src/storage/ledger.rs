//! The stock ledger: every change of stock, with who, when and why. A product's stock
//! always equals the sum of its ledger entries.
use sqlx::{Any, Executor, FromRow};

use super::{StorageResult, Tx, now_millis};

pub struct LedgerEntry<'a> {
    pub product_id: i64,
    pub change: i64,
    pub balance_after: i64,
    pub reason: &'a str,
    pub sale_id: Option<i64>,
    pub user_id: Option<i64>,
    pub note: Option<&'a str>,
}

pub async fn record(tx: &mut Tx, entry: &LedgerEntry<'_>) -> StorageResult<()> {
    sqlx::query(
        "INSERT INTO stock_ledger (product_id, change, balance_after, reason, sale_id, user_id, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(entry.product_id)
    .bind(entry.change)
    .bind(entry.balance_after)
    .bind(entry.reason)
    .bind(entry.sale_id)
    .bind(entry.user_id)
    .bind(entry.note)
    .bind(now_millis())
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct LedgerRow {
    pub id: i64,
    pub change: i64,
    pub balance_after: i64,
    pub reason: String,
    pub sale_id: Option<i64>,
    pub user_email: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
}

pub async fn for_product<'e, E: Executor<'e, Database = Any>>(
    db: E,
    product_id: i64,
    limit: i64,
    offset: i64,
) -> StorageResult<Vec<LedgerRow>> {
    let rows = sqlx::query_as::<_, LedgerRow>(
        "SELECT l.id, l.change, l.balance_after, l.reason, l.sale_id, u.email AS user_email, l.note, l.created_at \
         FROM stock_ledger l LEFT JOIN users u ON u.id = l.user_id \
         WHERE l.product_id = $1 ORDER BY l.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(product_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

pub async fn count_for_product<'e, E: Executor<'e, Database = Any>>(
    db: E,
    product_id: i64,
) -> StorageResult<i64> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM stock_ledger WHERE product_id = $1")
            .bind(product_id)
            .fetch_one(db)
            .await?;
    Ok(count)
}

/// Products whose stock differs from their ledger sum (should always be empty).
pub async fn mismatches<'e, E: Executor<'e, Database = Any>>(
    db: E,
) -> StorageResult<Vec<(String, i64, i64)>> {
    let rows = sqlx::query_as::<_, (String, i64, i64)>(
        "SELECT p.sku, p.stock, CAST(COALESCE(SUM(l.change), 0) AS BIGINT) AS ledger \
         FROM products p LEFT JOIN stock_ledger l ON l.product_id = p.id \
         GROUP BY p.id, p.sku, p.stock HAVING p.stock <> COALESCE(SUM(l.change), 0)",
    )
    .fetch_all(db)
    .await?;
    Ok(rows)
}
