use sqlx::{Any, Executor, FromRow};

use super::{StorageResult, Tx, flag, now_millis};

#[derive(Debug, Clone, FromRow)]
pub struct ProductRow {
    pub id: i64,
    pub sku: String,
    pub barcode: Option<String>,
    pub name: String,
    pub category: Option<String>,
    pub variation: Option<String>,
    pub price_cents: i64,
    pub cost_price_cents: i64,
    pub stock: i64,
    #[sqlx(try_from = "super::StoredFlag")]
    pub is_active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT: &str = "SELECT p.id, p.sku, p.barcode, p.name, c.name AS category, p.variation, p.price_cents, \
     p.cost_price_cents, p.stock, p.is_active, p.created_at, p.updated_at \
     FROM products p LEFT JOIN categories c ON c.id = p.category_id";

#[derive(Debug, Default, Clone)]
pub struct ProductFilter {
    pub search: Option<String>,
    pub category: Option<String>,
    /// Only products whose stock is at least this number.
    pub stock_at_least: Option<i64>,
    /// Only products whose stock is at or below this number.
    pub stock_at_most: Option<i64>,
    pub include_inactive: bool,
    pub limit: i64,
    pub offset: i64,
}

enum Arg {
    Text(String),
    Int(i64),
}

pub async fn list<'e, E>(db: E, filter: &ProductFilter) -> StorageResult<(Vec<ProductRow>, i64)>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    if !filter.include_inactive {
        clauses.push("p.is_active = 1".to_owned());
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
        args.push(Arg::Text(format!(
            "%{}%",
            escape_like(&search.to_lowercase())
        )));
        let n = args.len();
        clauses.push(format!(
            "(LOWER(p.name) LIKE ${n} ESCAPE '\\' OR LOWER(p.sku) LIKE ${n} ESCAPE '\\' \
             OR p.barcode LIKE ${n} ESCAPE '\\')"
        ));
    }
    if let Some(category) = filter.category.as_deref().filter(|s| !s.is_empty()) {
        args.push(Arg::Text(category.to_owned()));
        clauses.push(format!("c.name = ${}", args.len()));
    }
    if let Some(least) = filter.stock_at_least {
        args.push(Arg::Int(least));
        clauses.push(format!("p.stock >= ${}", args.len()));
    }
    if let Some(most) = filter.stock_at_most {
        args.push(Arg::Int(most));
        clauses.push(format!("p.stock <= ${}", args.len()));
    }
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };

    let count_sql = format!(
        "SELECT COUNT(*) FROM products p LEFT JOIN categories c ON c.id = p.category_id{where_sql}"
    );
    let mut count = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(count_sql));
    for arg in &args {
        count = match arg {
            Arg::Text(s) => count.bind(s.clone()),
            Arg::Int(i) => count.bind(*i),
        };
    }
    let (total,) = count.fetch_one(db).await?;

    let n = args.len();
    let page_sql = format!(
        "{SELECT}{where_sql} ORDER BY p.sku LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let mut page = sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(page_sql));
    for arg in args {
        page = match arg {
            Arg::Text(s) => page.bind(s),
            Arg::Int(i) => page.bind(i),
        };
    }
    let rows = page
        .bind(filter.limit)
        .bind(filter.offset)
        .fetch_all(db)
        .await?;
    Ok((rows, total))
}

fn escape_like(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub async fn find_by_sku<'e, E: Executor<'e, Database = Any>>(
    db: E,
    sku: &str,
) -> StorageResult<Option<ProductRow>> {
    let row =
        sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(format!("{SELECT} WHERE p.sku = $1")))
            .bind(sku)
            .fetch_optional(db)
            .await?;
    Ok(row)
}

pub async fn find_by_barcode<'e, E: Executor<'e, Database = Any>>(
    db: E,
    barcode: &str,
) -> StorageResult<Option<ProductRow>> {
    let row = sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE p.barcode = $1"
    )))
    .bind(barcode)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

pub async fn find_by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: i64,
) -> StorageResult<Option<ProductRow>> {
    let row =
        sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(format!("{SELECT} WHERE p.id = $1")))
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row)
}

pub async fn all<'e, E: Executor<'e, Database = Any>>(db: E) -> StorageResult<Vec<ProductRow>> {
    let rows =
        sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY p.sku")))
            .fetch_all(db)
            .await?;
    Ok(rows)
}

pub struct NewProduct<'a> {
    pub sku: &'a str,
    pub barcode: Option<&'a str>,
    pub name: &'a str,
    pub category_id: Option<i64>,
    pub variation: Option<&'a str>,
    pub price_cents: i64,
    pub cost_price_cents: i64,
}

/// Inserts a product with zero stock: stock only ever arrives through the ledger.
pub async fn insert(tx: &mut Tx, product: &NewProduct<'_>) -> StorageResult<i64> {
    let now = now_millis();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO products (sku, name, category_id, variation, price_cents, cost_price_cents, stock, \
           is_active, created_at, updated_at, barcode) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, 1, $7, $7, $8) RETURNING id",
    )
    .bind(product.sku)
    .bind(product.name)
    .bind(product.category_id)
    .bind(product.variation)
    .bind(product.price_cents)
    .bind(product.cost_price_cents)
    .bind(now)
    .bind(product.barcode)
    .fetch_one(tx.conn())
    .await?;
    Ok(id)
}

pub struct ProductChanges<'a> {
    pub name: &'a str,
    pub barcode: Option<&'a str>,
    pub category_id: Option<i64>,
    pub variation: Option<&'a str>,
    pub price_cents: i64,
    pub cost_price_cents: i64,
    pub is_active: bool,
}

pub async fn update(tx: &mut Tx, id: i64, changes: &ProductChanges<'_>) -> StorageResult<()> {
    sqlx::query(
        "UPDATE products SET name = $1, category_id = $2, variation = $3, price_cents = $4, \
           cost_price_cents = $5, is_active = $6, updated_at = $7, barcode = $9 WHERE id = $8",
    )
    .bind(changes.name)
    .bind(changes.category_id)
    .bind(changes.variation)
    .bind(changes.price_cents)
    .bind(changes.cost_price_cents)
    .bind(flag(changes.is_active))
    .bind(now_millis())
    .bind(id)
    .bind(changes.barcode)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Gives a product a barcode unless it has one; returns the barcode it already had.
pub async fn set_barcode_if_none(
    tx: &mut Tx,
    id: i64,
    barcode: &str,
) -> StorageResult<Option<String>> {
    let updated = sqlx::query(
        "UPDATE products SET barcode = $1, updated_at = $2 WHERE id = $3 AND barcode IS NULL",
    )
    .bind(barcode)
    .bind(now_millis())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if updated.rows_affected() == 1 {
        return Ok(None);
    }
    let (current,): (Option<String>,) =
        sqlx::query_as("SELECT barcode FROM products WHERE id = $1")
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
    Ok(current.filter(|current| current != barcode))
}

pub async fn has_history(tx: &mut Tx, id: i64) -> StorageResult<bool> {
    let (sold,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM (SELECT 1 FROM sale_items WHERE product_id = $1 \
         UNION ALL SELECT 1 FROM model_versions WHERE product_id = $1 LIMIT 1) AS s",
    )
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    Ok(sold > 0)
}

/// Deletes a product without history (see [`has_history`]) and what only points at it:
/// its ledger and its "model is stale" mark (a stock change sets one).
pub async fn delete(tx: &mut Tx, id: i64) -> StorageResult<()> {
    for statement in [
        "DELETE FROM stock_ledger WHERE product_id = $1",
        "DELETE FROM stale_models WHERE product_id = $1",
    ] {
        sqlx::query(statement).bind(id).execute(tx.conn()).await?;
    }
    sqlx::query("DELETE FROM products WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn deactivate(tx: &mut Tx, id: i64) -> StorageResult<()> {
    sqlx::query("UPDATE products SET is_active = 0, updated_at = $1 WHERE id = $2")
        .bind(now_millis())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Adds `change` to the stock unless that would take it below zero, in one statement so
/// that concurrent writers can never oversell. Returns the product after the change, or
/// `None` when the stock was too low (or the product is missing).
pub async fn change_stock(
    tx: &mut Tx,
    id: i64,
    change: i64,
) -> StorageResult<Option<StockChanged>> {
    let row = sqlx::query_as::<_, StockChanged>(
        "UPDATE products SET stock = stock + $1, updated_at = $2 \
         WHERE id = $3 AND stock + $1 >= 0 RETURNING stock, price_cents, name, variation",
    )
    .bind(change)
    .bind(now_millis())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

#[derive(Debug, Clone, FromRow)]
pub struct StockChanged {
    pub stock: i64,
    pub price_cents: i64,
    pub name: String,
    pub variation: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct ProductStatsRow {
    pub total_products: i64,
    pub active_products: i64,
    pub low_stock: i64,
    pub out_of_stock: i64,
    pub units_in_stock: i64,
    pub stock_cost_cents: i64,
    pub stock_retail_cents: i64,
}

pub async fn stats<'e, E: Executor<'e, Database = Any>>(
    db: E,
    low_stock_threshold: i64,
) -> StorageResult<ProductStatsRow> {
    let row = sqlx::query_as::<_, ProductStatsRow>(
        "SELECT COUNT(*) AS total_products, \
           CAST(COALESCE(SUM(is_active), 0) AS BIGINT) AS active_products, \
           CAST(COALESCE(SUM(CASE WHEN is_active = 1 AND stock <= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS low_stock, \
           CAST(COALESCE(SUM(CASE WHEN is_active = 1 AND stock = 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS out_of_stock, \
           CAST(COALESCE(SUM(stock), 0) AS BIGINT) AS units_in_stock, \
           CAST(COALESCE(SUM(stock * cost_price_cents), 0) AS BIGINT) AS stock_cost_cents, \
           CAST(COALESCE(SUM(stock * price_cents), 0) AS BIGINT) AS stock_retail_cents \
         FROM products",
    )
    .bind(low_stock_threshold)
    .fetch_one(db)
    .await?;
    Ok(row)
}

/// Every product's SKU, id and current sale price: what a bulk load needs to resolve SKUs.
pub async fn sku_ids_and_prices<'e, E: Executor<'e, Database = Any>>(
    db: E,
) -> StorageResult<Vec<(String, i64, i64)>> {
    let rows = sqlx::query_as::<_, (String, i64, i64)>("SELECT sku, id, price_cents FROM products")
        .fetch_all(db)
        .await?;
    Ok(rows)
}
