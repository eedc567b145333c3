use sqlx::{Any, Executor, FromRow};

use super::{Backend, StorageResult, Tx, flag, placeholders};

#[derive(Debug, Clone, FromRow)]
pub struct SaleRow {
    pub id: i64,
    pub created_at: i64,
    pub business_date: String,
    pub cashier_id: Option<i64>,
    pub cashier_email: Option<String>,
    pub total_cents: i64,
    pub paid_cents: i64,
    pub change_cents: i64,
    pub source: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct SaleItemRow {
    pub sale_id: i64,
    pub sku: String,
    pub product_name: String,
    pub product_variation: Option<String>,
    pub quantity: i64,
    pub unit_price_cents: i64,
    pub line_total_cents: i64,
    #[sqlx(try_from = "super::StoredFlag")]
    pub is_promo: bool,
}

pub struct NewSale<'a> {
    pub created_at: i64,
    pub business_date: &'a str,
    pub cashier_id: Option<i64>,
    pub total_cents: i64,
    pub paid_cents: i64,
    pub change_cents: i64,
    pub source: &'a str,
}

pub struct NewSaleItem<'a> {
    pub product_id: i64,
    pub quantity: i64,
    pub unit_price_cents: i64,
    pub line_total_cents: i64,
    pub is_promo: bool,
    pub business_date: &'a str,
}

pub async fn insert(tx: &mut Tx, sale: &NewSale<'_>) -> StorageResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO sales (created_at, business_date, cashier_id, total_cents, paid_cents, change_cents, source) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(sale.created_at)
    .bind(sale.business_date)
    .bind(sale.cashier_id)
    .bind(sale.total_cents)
    .bind(sale.paid_cents)
    .bind(sale.change_cents)
    .bind(sale.source)
    .fetch_one(tx.conn())
    .await?;
    Ok(id)
}

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bind-parameter limits.
const BATCH_ROWS: usize = 500;

pub async fn insert_items(
    tx: &mut Tx,
    sale_id_of: impl Fn(usize) -> i64,
    items: &[NewSaleItem<'_>],
) -> StorageResult<()> {
    for (batch_index, batch) in items.chunks(BATCH_ROWS).enumerate() {
        let rows: Vec<String> = (0..batch.len())
            .map(|i| placeholders(i * 7 + 1, 7))
            .collect();
        let sql = format!(
            "INSERT INTO sale_items (sale_id, product_id, quantity, unit_price_cents, line_total_cents, \
               is_promo, business_date) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, item) in batch.iter().enumerate() {
            query = query
                .bind(sale_id_of(batch_index * BATCH_ROWS + i))
                .bind(item.product_id)
                .bind(item.quantity)
                .bind(item.unit_price_cents)
                .bind(item.line_total_cents)
                .bind(flag(item.is_promo))
                .bind(item.business_date.to_owned());
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

/// Reserves `count` consecutive sale ids for a bulk load; the caller holds a write
/// transaction, and on PostgreSQL the table is locked so no other insert takes one.
pub async fn reserve_ids(tx: &mut Tx, backend: Backend, count: i64) -> StorageResult<i64> {
    let first = match backend {
        Backend::Sqlite => {
            let (next,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) + 1 FROM sales")
                .fetch_one(tx.conn())
                .await?;
            next
        }
        Backend::Postgres => {
            sqlx::query("LOCK TABLE sales IN EXCLUSIVE MODE")
                .execute(tx.conn())
                .await?;
            let (next,): (i64,) = sqlx::query_as(
                "SELECT GREATEST(COALESCE(MAX(id), 0), \
                   (SELECT last_value FROM sales_id_seq)) + 1 FROM sales",
            )
            .fetch_one(tx.conn())
            .await?;
            sqlx::query("SELECT setval('sales_id_seq', $1)")
                .bind(next + count - 1)
                .execute(tx.conn())
                .await?;
            next
        }
    };
    Ok(first)
}

/// Inserts sales with ids chosen by [`reserve_ids`].
pub async fn insert_many_with_ids(
    tx: &mut Tx,
    first_id: i64,
    sales: &[NewSale<'_>],
) -> StorageResult<()> {
    for (batch_index, batch) in sales.chunks(BATCH_ROWS).enumerate() {
        let rows: Vec<String> = (0..batch.len())
            .map(|i| placeholders(i * 8 + 1, 8))
            .collect();
        let sql = format!(
            "INSERT INTO sales (id, created_at, business_date, cashier_id, total_cents, paid_cents, \
               change_cents, source) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, sale) in batch.iter().enumerate() {
            query = query
                .bind(first_id + (batch_index * BATCH_ROWS + i) as i64)
                .bind(sale.created_at)
                .bind(sale.business_date.to_owned())
                .bind(sale.cashier_id)
                .bind(sale.total_cents)
                .bind(sale.paid_cents)
                .bind(sale.change_cents)
                .bind(sale.source.to_owned());
        }
        query.execute(tx.conn()).await?;
    }
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct SaleFilter {
    pub from_millis: Option<i64>,
    pub to_millis: Option<i64>,
    pub cashier_id: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

const SELECT: &str = "SELECT s.id, s.created_at, s.business_date, s.cashier_id, u.email AS cashier_email, \
     s.total_cents, s.paid_cents, s.change_cents, s.source \
     FROM sales s LEFT JOIN users u ON u.id = s.cashier_id";

fn filter_sql(filter: &SaleFilter) -> (String, Vec<i64>) {
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    if let Some(from) = filter.from_millis {
        args.push(from);
        clauses.push(format!("s.created_at >= ${}", args.len()));
    }
    if let Some(to) = filter.to_millis {
        args.push(to);
        clauses.push(format!("s.created_at < ${}", args.len()));
    }
    if let Some(cashier) = filter.cashier_id {
        args.push(cashier);
        clauses.push(format!("s.cashier_id = ${}", args.len()));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (sql, args)
}

pub async fn list<'e, E>(db: E, filter: &SaleFilter) -> StorageResult<(Vec<SaleRow>, i64)>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let (where_sql, args) = filter_sql(filter);
    let mut count = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM sales s{where_sql}"
    )));
    for arg in &args {
        count = count.bind(*arg);
    }
    let (total,) = count.fetch_one(db).await?;
    let n = args.len();
    let mut page = sqlx::query_as::<_, SaleRow>(sqlx::AssertSqlSafe(format!(
        "{SELECT}{where_sql} ORDER BY s.created_at DESC, s.id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    )));
    for arg in args {
        page = page.bind(arg);
    }
    let rows = page
        .bind(filter.limit)
        .bind(filter.offset)
        .fetch_all(db)
        .await?;
    Ok((rows, total))
}

/// Every sale in the filter's range, oldest first (for exports; no paging).
pub async fn all_in_range<'e, E: Executor<'e, Database = Any>>(
    db: E,
    filter: &SaleFilter,
) -> StorageResult<Vec<SaleRow>> {
    let (where_sql, args) = filter_sql(filter);
    let mut query = sqlx::query_as::<_, SaleRow>(sqlx::AssertSqlSafe(format!(
        "{SELECT}{where_sql} ORDER BY s.created_at, s.id"
    )));
    for arg in args {
        query = query.bind(arg);
    }
    Ok(query.fetch_all(db).await?)
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: i64,
) -> StorageResult<Option<SaleRow>> {
    let row =
        sqlx::query_as::<_, SaleRow>(sqlx::AssertSqlSafe(format!("{SELECT} WHERE s.id = $1")))
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row)
}

/// Most sale ids bound in one [`items_of`] statement (a page holds at most 500 sales, so a
/// page is one statement; SQLite allows 32 766 parameters).
pub const ITEMS_OF_IDS_PER_STATEMENT: usize = 500;

/// Line items of exactly these sales (and no others), ordered by sale then line.
pub async fn items_of(
    db: super::PoolExecutor<'_>,
    sale_ids: &[i64],
) -> StorageResult<Vec<SaleItemRow>> {
    let mut rows = Vec::new();
    for chunk in sale_ids.chunks(ITEMS_OF_IDS_PER_STATEMENT) {
        let sql = format!(
            "SELECT i.sale_id, p.sku, p.name AS product_name, p.variation AS product_variation, i.quantity, i.unit_price_cents, \
               i.line_total_cents, i.is_promo \
             FROM sale_items i JOIN products p ON p.id = i.product_id \
             WHERE i.sale_id IN {} ORDER BY i.sale_id, i.id",
            super::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, SaleItemRow>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        rows.extend(query.fetch_all(db).await?);
    }
    Ok(rows)
}

/// Rows per statement in a bulk load ([`bulk_insert_sales`], [`bulk_insert_items`]). On
/// SQLite, sqlx looks up every parameter's name with `sqlite3_bind_parameter_name`, a
/// linear scan, so binding one statement costs the square of its parameter count: small
/// statements are several times faster there (measured: 300,000 lines take 14 s in
/// statements of 500 rows, 5 s in statements of 32). PostgreSQL binds in linear time and
/// prefers fewer round trips.
pub fn bulk_rows_per_statement(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 32,
        Backend::Postgres => BATCH_ROWS,
    }
}

/// [`insert_many_with_ids`] for a bulk load: many sales with consecutive ids from
/// `first_id`, in statements sized for the backend.
pub async fn bulk_insert_sales(
    tx: &mut Tx,
    backend: Backend,
    first_id: i64,
    sales: &[NewSale<'_>],
) -> StorageResult<()> {
    let rows = bulk_rows_per_statement(backend);
    for (index, chunk) in sales.chunks(rows).enumerate() {
        insert_many_with_ids(tx, first_id + (index * rows) as i64, chunk).await?;
    }
    Ok(())
}

/// [`insert_items`] for a bulk load, in statements sized for the backend; `sale_id_of`
/// gets the index into `items`.
pub async fn bulk_insert_items(
    tx: &mut Tx,
    backend: Backend,
    sale_id_of: impl Fn(usize) -> i64,
    items: &[NewSaleItem<'_>],
) -> StorageResult<()> {
    let rows = bulk_rows_per_statement(backend);
    for (index, chunk) in items.chunks(rows).enumerate() {
        let offset = index * rows;
        insert_items(tx, |i| sale_id_of(offset + i), chunk).await?;
    }
    Ok(())
}
