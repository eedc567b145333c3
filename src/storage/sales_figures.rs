//! Units and revenue of one product or one category over business days, for the
//! assistant. The same sums as the dashboard's top lists (sale lines by business date).
use sqlx::{Any, Executor};

use super::StorageResult;

/// (units, revenue in cents) of a product's sale lines from `from` to `to` (inclusive).
pub async fn of_product<'e, E: Executor<'e, Database = Any>>(
    db: E,
    product_id: i64,
    from: &str,
    to: &str,
) -> StorageResult<(i64, i64)> {
    let row: (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT), \
           CAST(COALESCE(SUM(line_total_cents), 0) AS BIGINT) \
         FROM sale_items WHERE product_id = $1 AND business_date >= $2 AND business_date <= $3",
    )
    .bind(product_id)
    .bind(from)
    .bind(to)
    .fetch_one(db)
    .await?;
    Ok(row)
}

/// (units, revenue in cents) of the sale lines of a category's products.
pub async fn of_category<'e, E: Executor<'e, Database = Any>>(
    db: E,
    category: &str,
    from: &str,
    to: &str,
) -> StorageResult<(i64, i64)> {
    let row: (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(i.quantity), 0) AS BIGINT), \
           CAST(COALESCE(SUM(i.line_total_cents), 0) AS BIGINT) \
         FROM sale_items i JOIN products p ON p.id = i.product_id \
           JOIN categories c ON c.id = p.category_id \
         WHERE c.name = $1 AND i.business_date >= $2 AND i.business_date <= $3",
    )
    .bind(category)
    .bind(from)
    .bind(to)
    .fetch_one(db)
    .await?;
    Ok(row)
}
