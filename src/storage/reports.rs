//! Aggregates over sales for the dashboard, by the store's business day.
use sqlx::{Any, Executor, FromRow};

use super::StorageResult;

#[derive(Debug, Clone, Default, FromRow)]
pub struct DayTotals {
    pub business_date: String,
    pub revenue_cents: i64,
    pub transactions: i64,
}

#[derive(Debug, Clone, Default, FromRow)]
pub struct DayUnits {
    pub business_date: String,
    pub units: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct ProductSales {
    pub sku: String,
    pub name: String,
    pub category: Option<String>,
    pub units: i64,
    pub revenue_cents: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct CategorySales {
    pub category: Option<String>,
    pub units: i64,
    pub revenue_cents: i64,
}

pub async fn totals_by_day<'e, E: Executor<'e, Database = Any>>(
    db: E,
    from: &str,
    to: &str,
) -> StorageResult<Vec<DayTotals>> {
    let rows = sqlx::query_as::<_, DayTotals>(
        "SELECT business_date, CAST(SUM(total_cents) AS BIGINT) AS revenue_cents, COUNT(*) AS transactions \
         FROM sales WHERE business_date >= $1 AND business_date <= $2 \
         GROUP BY business_date ORDER BY business_date",
    )
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

pub async fn units_by_day<'e, E: Executor<'e, Database = Any>>(
    db: E,
    from: &str,
    to: &str,
) -> StorageResult<Vec<DayUnits>> {
    let rows = sqlx::query_as::<_, DayUnits>(
        "SELECT business_date, CAST(SUM(quantity) AS BIGINT) AS units \
         FROM sale_items WHERE business_date >= $1 AND business_date <= $2 \
         GROUP BY business_date ORDER BY business_date",
    )
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

pub async fn top_products<'e, E: Executor<'e, Database = Any>>(
    db: E,
    from: &str,
    to: &str,
    limit: i64,
) -> StorageResult<Vec<ProductSales>> {
    let rows = sqlx::query_as::<_, ProductSales>(
        "SELECT p.sku, p.name, c.name AS category, CAST(SUM(i.quantity) AS BIGINT) AS units, \
           CAST(SUM(i.line_total_cents) AS BIGINT) AS revenue_cents \
         FROM sale_items i JOIN products p ON p.id = i.product_id \
           LEFT JOIN categories c ON c.id = p.category_id \
         WHERE i.business_date >= $1 AND i.business_date <= $2 \
         GROUP BY p.sku, p.name, c.name ORDER BY revenue_cents DESC, p.sku LIMIT $3",
    )
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

pub async fn top_categories<'e, E: Executor<'e, Database = Any>>(
    db: E,
    from: &str,
    to: &str,
    limit: i64,
) -> StorageResult<Vec<CategorySales>> {
    let rows = sqlx::query_as::<_, CategorySales>(
        "SELECT c.name AS category, CAST(SUM(i.quantity) AS BIGINT) AS units, \
           CAST(SUM(i.line_total_cents) AS BIGINT) AS revenue_cents \
         FROM sale_items i JOIN products p ON p.id = i.product_id \
           LEFT JOIN categories c ON c.id = p.category_id \
         WHERE i.business_date >= $1 AND i.business_date <= $2 \
         GROUP BY c.name ORDER BY revenue_cents DESC LIMIT $3",
    )
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// Counts for the status page.
pub async fn table_counts<'e, E: Executor<'e, Database = Any>>(
    db: E,
) -> StorageResult<(i64, i64, i64, i64)> {
    let row: (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM products), (SELECT COUNT(*) FROM sales), \
           (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM events)",
    )
    .fetch_one(db)
    .await?;
    Ok(row)
}
