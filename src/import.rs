//! History import: past sales from a CSV file, so the forecast has years of history from
//! the first day.
//!
//! The file has a header naming the columns `date`, `sku` and `quantity`, optionally
//! `unit_price`, `is_promo` and `barcode`, in any order (names are case-insensitive; other columns are
//! ignored and reported). `date` is a store-local day `YYYY-MM-DD` or an RFC 3339 instant,
//! whose business day is its local date in the store's timezone. The format's rules (what
//! each field accepts, blank lines, line numbers) live in one reader shared with
//! `siprems backtest`: [`forecast::history_csv`].
//!
//! All or nothing: every row is checked first and every problem is reported with its line
//! number (line 1 is the header); unknown SKUs are one error listing each SKU with its
//! lines, unless products are to be created for them. Only a clean file is written, in one
//! write transaction: one sale (source `import`, no cashier, paid = total) per business
//! day, one line item per row, priced at the row's `unit_price` or the product's current
//! price.
//!
//! A `barcode` (EAN-13 or UPC-A, check digit verified) must be the same on every row of a
//! SKU and belong to no other SKU; it labels a created product, and an existing product
//! that has none (an existing product with another barcode refuses the file).
//!
//! Imported history does **not** change current stock. Those sales happened in the past,
//! and the stock the shop counts today already reflects them: subtracting them again would
//! undercount (or drive stock below zero), and the ledger would no longer describe real
//! movements of the goods on the shelf. Stock arrives through restocks and adjustments.
//!
//! Importing the same file twice records its sales twice: the file has no identity that
//! would tell a re-import from a second batch of history.
//!
//! Long for one file (about 560 lines of code, the rest tests): checking every row,
//! reporting every problem with its line numbers and the bulk write are one pipeline.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::{Value, json};

use forecast::history_csv::{HistoryCsv, When};

use crate::domain::barcode::Barcode;
use crate::domain::calendar::{StoreCalendar, format_date};
use crate::domain::changes::{Group, Retraining, Shop};
use crate::domain::money::Money;
use crate::domain::{DomainError, DomainResult, settings};
use crate::progress::Progress;
use crate::storage::{Db, StorageError, Tx, models, products, sales};

pub struct ImportOptions {
    /// Create a product (named after its SKU, priced at its first `unit_price` or 0, no
    /// category) for every unknown SKU instead of refusing the file.
    pub create_products: bool,
}

#[derive(Debug, Clone)]
pub struct ImportSummary {
    pub rows: usize,
    /// Business days, which is also the number of sales written.
    pub days: usize,
    pub units: i64,
    pub revenue: Money,
    pub products_created: Vec<String>,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    /// Header columns that are not part of the format and were not read.
    pub ignored_columns: Vec<String>,
    pub elapsed: Duration,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "imported {} rows ({} units, revenue {}) as {} daily sales",
            self.rows, self.units, self.revenue, self.days
        )?;
        if let (Some(first), Some(last)) = (self.first_date, self.last_date) {
            write!(f, " from {first} to {last}")?;
        }
        write!(f, "; created {} products", self.products_created.len())?;
        if !self.products_created.is_empty() {
            const SHOWN: usize = 10;
            let shown: Vec<&str> = self
                .products_created
                .iter()
                .take(SHOWN)
                .map(String::as_str)
                .collect();
            let more = self.products_created.len().saturating_sub(SHOWN);
            write!(f, " ({}", shown.join(", "))?;
            if more > 0 {
                write!(f, " and {more} more")?;
            }
            f.write_str(")")?;
        }
        if !self.ignored_columns.is_empty() {
            write!(f, "; ignored columns: {}", self.ignored_columns.join(", "))?;
        }
        write!(f, "; took {:.2} s", self.elapsed.as_secs_f64())
    }
}

/// The largest quantity one row may have.
pub const MAX_QUANTITY: i64 = forecast::history_csv::MAX_QUANTITY;
/// Problems listed in an error's details.
const MAX_DETAILS: usize = 100;
/// Problems listed in an error's message (what the command line prints).
const MAX_MESSAGE_LINES: usize = 20;
/// Unknown SKUs listed in an error's message, and line numbers for each.
const MAX_MESSAGE_SKUS: usize = 10;
const MAX_MESSAGE_SKU_LINES: usize = 8;
/// Line numbers listed per unknown SKU in an error's details.
const MAX_LINES_PER_SKU: usize = 20;
/// Rows per progress step and per round of inserts.
const WRITE_CHUNK: usize = 10_000;

/// Imports the CSV file at `path`; see the module documentation.
pub async fn import_file(
    shop: &Shop,
    path: &Path,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> DomainResult<ImportSummary> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| DomainError::validation(format!("cannot read {}: {e}", path.display())))?;
    import_bytes(shop, &bytes, options, progress).await
}

/// Imports a CSV file already in memory (an upload, say); see the module documentation.
///
/// The imported products are marked stale in the import's own transaction; afterwards
/// every cached answer is stale and their models are trained in the background.
pub async fn import_bytes(
    shop: &Shop,
    csv: &[u8],
    options: &ImportOptions,
    progress: &dyn Progress,
) -> DomainResult<ImportSummary> {
    let db = &shop.db;
    let started = Instant::now();
    let calendar = settings::calendar(db).await?;
    let parsed = parse_csv(csv, &calendar, progress)?;
    let summary = write(db, &calendar, parsed, options, progress, started).await?;
    progress.finish(&format!(
        "imported {} rows in {:.2} s",
        summary.rows,
        summary.elapsed.as_secs_f64()
    ));
    shop.changed(&Group::ALL).await;
    if let Err(error) = shop.retrain_stale(Retraining::Now).await {
        // The products stay marked stale: the nightly run trains them.
        tracing::warn!(%error, "could not schedule training after the import");
    }
    Ok(summary)
}

// ---------------------------------------------------------------------------------------
// Reading and checking (no database).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    line: u64,
    date: NaiveDate,
    instant: Option<i64>,
    /// Index into [`ParsedFile::skus`].
    sku: usize,
    quantity: i64,
    unit_price: Option<Money>,
    is_promo: bool,
}

/// A SKU the file mentions: where, and the first price it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SkuSeen {
    sku: String,
    /// The first few lines it appears on.
    lines: Vec<u64>,
    /// All rows that name it.
    rows: u64,
    /// Rows that name it and have no other problem.
    valid_rows: u64,
    first_price: Option<Money>,
    /// The barcode the file gives it, with the line that first gave it.
    barcode: Option<(Barcode, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct RowError {
    line: u64,
    error: String,
}

#[derive(Debug, Default)]
struct ParsedFile {
    rows: Vec<Row>,
    skus: Vec<SkuSeen>,
    sku_index: HashMap<String, usize>,
    /// Barcodes given so far: to which SKU, first on which line.
    barcode_index: HashMap<String, (usize, u64)>,
    /// The first [`MAX_DETAILS`] problems, by line.
    errors: Vec<RowError>,
    /// Rows with at least one problem (unknown SKUs not counted).
    error_rows: u64,
    ignored_columns: Vec<String>,
}

impl ParsedFile {
    fn reject(&mut self, line: u64, problems: Vec<String>) {
        self.error_rows += 1;
        if self.errors.len() < MAX_DETAILS {
            self.errors.push(RowError {
                line,
                error: problems.join("; "),
            });
        }
    }

    /// A row's barcode: valid, and the same for every row of a SKU and no other SKU's.
    fn see_barcode(&mut self, sku: usize, code: &str, line: u64) -> Result<(), String> {
        let barcode = Barcode::parse(code).map_err(|e| e.to_string())?;
        if let Some(&(other, first_line)) = self.barcode_index.get(barcode.as_str())
            && other != sku
        {
            return Err(format!(
                "barcode {barcode} is given to {} on line {first_line}",
                self.skus[other].sku
            ));
        }
        match &self.skus[sku].barcode {
            Some((earlier, first_line)) if *earlier != barcode => Err(format!(
                "{} has barcode {earlier} on line {first_line}, not {barcode}",
                self.skus[sku].sku
            )),
            Some(_) => Ok(()),
            None => {
                self.barcode_index
                    .insert(barcode.as_str().to_owned(), (sku, line));
                self.skus[sku].barcode = Some((barcode, line));
                Ok(())
            }
        }
    }

    fn see_sku(&mut self, sku: &str, line: u64) -> usize {
        let index = match self.sku_index.get(sku) {
            Some(index) => *index,
            None => {
                self.skus.push(SkuSeen {
                    sku: sku.to_owned(),
                    lines: Vec::new(),
                    rows: 0,
                    valid_rows: 0,
                    first_price: None,
                    barcode: None,
                });
                self.sku_index.insert(sku.to_owned(), self.skus.len() - 1);
                self.skus.len() - 1
            }
        };
        let seen = &mut self.skus[index];
        seen.rows += 1;
        if seen.lines.len() < MAX_LINES_PER_SKU {
            seen.lines.push(line);
        }
        index
    }
}

/// Reads and checks the whole file with the shared history reader
/// ([`forecast::history_csv`], which owns the format's rules). A file that cannot be read as
/// a history at all (no header, missing columns, no rows) is an error; problems with single
/// rows are collected.
fn parse_csv(
    input: &[u8],
    calendar: &StoreCalendar,
    progress: &dyn Progress,
) -> DomainResult<ParsedFile> {
    let mut rows = HistoryCsv::new(input).map_err(|e| DomainError::validation(e.0))?;
    let mut parsed = ParsedFile {
        ignored_columns: rows.columns().ignored.clone(),
        ..ParsedFile::default()
    };

    progress.start("validate", input.len() as u64);
    let mut reported_bytes = 0u64;
    let mut count = 0usize;
    while let Some(row) = rows.next() {
        count += 1;
        if count.is_multiple_of(WRITE_CHUNK) {
            let byte = rows.bytes_read();
            progress.advance(byte.saturating_sub(reported_bytes));
            reported_bytes = byte;
        }
        match row {
            Ok(row) => {
                let sku = parsed.see_sku(&row.sku, row.line);
                if let Some(code) = &row.barcode
                    && let Err(problem) = parsed.see_barcode(sku, code, row.line)
                {
                    parsed.reject(row.line, vec![problem]);
                    continue;
                }
                let unit_price = row.unit_price_minor.map(Money::from_cents);
                let seen = &mut parsed.skus[sku];
                seen.valid_rows += 1;
                if seen.first_price.is_none() {
                    seen.first_price = unit_price;
                }
                parsed.rows.push(Row {
                    line: row.line,
                    date: row.when.day(|t| calendar.business_date(t)),
                    instant: match row.when {
                        When::Instant(t) => Some(t.timestamp_millis()),
                        When::Date(_) => None,
                    },
                    sku,
                    quantity: row.quantity,
                    unit_price,
                    is_promo: row.is_promo,
                });
            }
            Err(error) => {
                // A well-formed SKU on a bad row still counts as mentioned there (so an
                // unknown SKU is reported with all its lines).
                if let Some(sku) = &error.sku {
                    parsed.see_sku(sku, error.line);
                }
                parsed.reject(error.line, error.problems);
            }
        }
    }
    progress.advance((input.len() as u64).saturating_sub(reported_bytes));
    if parsed.rows.is_empty() && parsed.error_rows == 0 {
        return Err(DomainError::validation(
            "the file has a header but no rows: nothing to import",
        ));
    }
    Ok(parsed)
}

/// The error for a file with problems: a summary with the first problems in the message
/// (what the command line shows) and up to [`MAX_DETAILS`] of them in `details`.
fn rejection(errors: &[RowError], error_rows: u64, unknown: &[&SkuSeen]) -> DomainError {
    let unknown_only_rows: u64 = unknown.iter().map(|s| s.valid_rows).sum();
    let total_rows = error_rows + unknown_only_rows;
    let mut message = format!(
        "{total_rows} {} errors; nothing was imported",
        if total_rows == 1 {
            "row has"
        } else {
            "rows have"
        }
    );
    let mut details: Vec<Value> = Vec::new();
    for (index, error) in errors.iter().enumerate() {
        if index < MAX_MESSAGE_LINES {
            message.push_str(&format!("\n  line {}: {}", error.line, error.error));
        }
        details.push(json!({"line": error.line, "error": error.error}));
    }
    let listed = errors.len().min(MAX_MESSAGE_LINES) as u64;
    if error_rows > listed {
        message.push_str(&format!(
            "\n  ... and {} more rows with errors",
            error_rows - listed
        ));
    }
    if error_rows > errors.len() as u64 {
        details.push(json!({
            "line": null,
            "error": format!("and {} more rows with errors", error_rows - errors.len() as u64),
            "more": error_rows - errors.len() as u64,
        }));
    }
    if !unknown.is_empty() {
        let describe = |seen: &SkuSeen, max_lines: usize| {
            let shown = seen.lines.len().min(max_lines);
            let lines: Vec<String> = seen.lines[..shown].iter().map(u64::to_string).collect();
            let more = seen.rows - shown as u64;
            let word = if seen.rows == 1 { "line" } else { "lines" };
            if more > 0 {
                format!("{} ({word} {} and {more} more)", seen.sku, lines.join(", "))
            } else {
                format!("{} ({word} {})", seen.sku, lines.join(", "))
            }
        };
        let heading = format!(
            "{} unknown {}",
            unknown.len(),
            if unknown.len() == 1 { "SKU" } else { "SKUs" }
        );
        const HINT: &str = "import with --create-products to create them";
        // The message (a terminal) gets a short list, one SKU a line.
        message.push_str(&format!("\n  {heading} ({HINT}):"));
        for seen in unknown.iter().take(MAX_MESSAGE_SKUS) {
            message.push_str(&format!("\n    {}", describe(seen, MAX_MESSAGE_SKU_LINES)));
        }
        if unknown.len() > MAX_MESSAGE_SKUS {
            message.push_str(&format!(
                "\n    ... and {} more unknown SKUs",
                unknown.len() - MAX_MESSAGE_SKUS
            ));
        }
        // The details get the long list.
        let listed: Vec<String> = unknown
            .iter()
            .take(MAX_DETAILS)
            .map(|s| describe(s, MAX_LINES_PER_SKU))
            .collect();
        let mut error = format!("{heading}: {}", listed.join(", "));
        if unknown.len() > MAX_DETAILS {
            error.push_str(&format!(" and {} more", unknown.len() - MAX_DETAILS));
        }
        error.push_str(&format!("; {HINT}"));
        let skus: Vec<Value> = unknown
            .iter()
            .take(MAX_DETAILS)
            .map(|s| json!({"sku": s.sku, "lines": s.lines, "rows": s.rows}))
            .collect();
        details.push(json!({"line": null, "error": error, "unknown_skus": skus}));
    }
    DomainError::Validation {
        message,
        details: Some(Value::Array(details)),
    }
}

// ---------------------------------------------------------------------------------------
// Writing.

/// Gives the file's barcodes to existing products that have none. A product that already
/// has another barcode, or a barcode that is another product's, refuses the file: a wrong
/// label at the till sells the wrong product.
async fn label_known_products(
    tx: &mut Tx,
    skus: &[SkuSeen],
    resolved: &[(Option<i64>, Money)],
) -> DomainResult<()> {
    for (seen, (id, _)) in skus.iter().zip(resolved) {
        let (Some(id), Some((barcode, line))) = (id, &seen.barcode) else {
            continue;
        };
        if let Some(owner) = products::find_by_barcode(tx.conn(), barcode.as_str()).await? {
            if owner.id == *id {
                continue;
            }
            return Err(DomainError::Conflict(format!(
                "line {line}: barcode {barcode} belongs to product {}, not {}",
                owner.sku, seen.sku
            )));
        }
        if let Some(current) = products::set_barcode_if_none(tx, *id, barcode.as_str()).await? {
            return Err(DomainError::Conflict(format!(
                "line {line}: {} has barcode {current}, the file says {barcode}",
                seen.sku
            )));
        }
    }
    Ok(())
}

async fn write(
    db: &Db,
    calendar: &StoreCalendar,
    mut parsed: ParsedFile,
    options: &ImportOptions,
    progress: &dyn Progress,
    started: Instant,
) -> DomainResult<ImportSummary> {
    let mut tx = db.begin_write().await?;
    let known: HashMap<String, (i64, i64)> = products::sku_ids_and_prices(tx.conn())
        .await?
        .into_iter()
        .map(|(sku, id, price)| (sku, (id, price)))
        .collect();
    // Per SKU seen: the product id (None: to be created) and the price of unpriced rows.
    let mut resolved: Vec<(Option<i64>, Money)> = Vec::with_capacity(parsed.skus.len());
    let mut unknown: Vec<&SkuSeen> = Vec::new();
    for seen in &parsed.skus {
        match known.get(&seen.sku) {
            Some(&(id, price)) => resolved.push((Some(id), Money::from_cents(price))),
            None => {
                resolved.push((None, seen.first_price.unwrap_or(Money::ZERO)));
                if !options.create_products {
                    unknown.push(seen);
                }
            }
        }
    }

    // Days in date order, rows in file order within a day.
    parsed.rows.sort_by_key(|row| row.date);
    let mut errors = parsed.errors.clone();
    let mut error_rows = parsed.error_rows;
    let mut line_totals = Vec::with_capacity(parsed.rows.len());
    struct Day {
        date: NaiveDate,
        rows: std::ops::Range<usize>,
        created_at: Option<i64>,
        total: Money,
    }
    let mut days: Vec<Day> = Vec::new();
    let mut units = 0i64;
    for (index, row) in parsed.rows.iter().enumerate() {
        let price = row.unit_price.unwrap_or(resolved[row.sku].1);
        let line_total = price.checked_mul(row.quantity).unwrap_or_else(|| {
            error_rows += 1;
            errors.push(RowError {
                line: row.line,
                error: format!("the line total {} x {} is too large", row.quantity, price),
            });
            Money::ZERO
        });
        line_totals.push((price, line_total));
        units += row.quantity;
        match days.last_mut() {
            Some(day) if day.date == row.date => {
                day.rows.end = index + 1;
                day.created_at = match (day.created_at, row.instant) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                match day.total.checked_add(line_total) {
                    Some(total) => day.total = total,
                    None => {
                        error_rows += 1;
                        errors.push(RowError {
                            line: row.line,
                            error: format!("the total of {} is too large", row.date),
                        });
                    }
                }
            }
            _ => days.push(Day {
                date: row.date,
                rows: index..index + 1,
                created_at: row.instant,
                total: line_total,
            }),
        }
    }
    if error_rows > 0 || !unknown.is_empty() {
        errors.sort_by_key(|e| e.line);
        errors.truncate(MAX_DETAILS);
        let error = rejection(&errors, error_rows, &unknown);
        tx.rollback().await.map_err(StorageError::from)?;
        return Err(error);
    }

    label_known_products(&mut tx, &parsed.skus, &resolved).await?;

    // Products for unknown SKUs (only reached with create_products).
    let mut products_created = Vec::new();
    for (seen, resolved) in parsed.skus.iter().zip(resolved.iter_mut()) {
        if resolved.0.is_none() {
            let new = products::NewProduct {
                sku: &seen.sku,
                barcode: seen.barcode.as_ref().map(|(code, _)| code.as_str()),
                name: &seen.sku,
                category_id: None,
                variation: None,
                price_cents: resolved.1.cents(),
                cost_price_cents: 0,
            };
            let id = match products::insert(&mut tx, &new).await {
                Err(e) if e.is_unique_violation() => {
                    return Err(DomainError::Conflict(format!(
                        "product {} (or its barcode) was created by someone else during the \
                         import, or its barcode belongs to another product",
                        seen.sku
                    )));
                }
                other => other?,
            };
            resolved.0 = Some(id);
            products_created.push(seen.sku.clone());
        }
    }

    let dates: Vec<String> = days.iter().map(|d| format_date(d.date)).collect();
    let new_sales: Vec<sales::NewSale<'_>> = days
        .iter()
        .zip(&dates)
        .map(|(day, date)| sales::NewSale {
            created_at: day
                .created_at
                .unwrap_or_else(|| calendar.midday_millis(day.date)),
            business_date: date,
            cashier_id: None,
            total_cents: day.total.cents(),
            paid_cents: day.total.cents(),
            change_cents: 0,
            source: "import",
        })
        .collect();
    let first_id = sales::reserve_ids(&mut tx, db.backend(), new_sales.len() as i64).await?;
    sales::bulk_insert_sales(&mut tx, db.backend(), first_id, &new_sales).await?;

    let mut sale_ids = Vec::with_capacity(parsed.rows.len());
    let mut items = Vec::with_capacity(parsed.rows.len());
    for (day_index, day) in days.iter().enumerate() {
        for index in day.rows.clone() {
            let row = &parsed.rows[index];
            let (price, line_total) = line_totals[index];
            sale_ids.push(first_id + day_index as i64);
            items.push(sales::NewSaleItem {
                product_id: resolved[row.sku].0.unwrap_or_default(),
                quantity: row.quantity,
                unit_price_cents: price.cents(),
                line_total_cents: line_total.cents(),
                is_promo: row.is_promo,
                business_date: &dates[day_index],
            });
        }
    }
    progress.start("write", items.len() as u64);
    for (chunk_index, chunk) in items.chunks(WRITE_CHUNK).enumerate() {
        let offset = chunk_index * WRITE_CHUNK;
        sales::bulk_insert_items(&mut tx, db.backend(), |i| sale_ids[offset + i], chunk).await?;
        progress.advance(chunk.len() as u64);
    }
    // New history changes these products' forecasts.
    let touched: Vec<i64> = resolved.iter().filter_map(|(id, _)| *id).collect();
    models::mark_stale(tx.conn(), Some(&touched), "history imported").await?;
    tx.commit().await.map_err(StorageError::from)?;

    let revenue = days
        .iter()
        .try_fold(Money::ZERO, |sum, day| sum.checked_add(day.total))
        .unwrap_or(Money::ZERO);
    Ok(ImportSummary {
        rows: parsed.rows.len(),
        days: days.len(),
        units,
        revenue,
        products_created,
        first_date: days.first().map(|d| d.date),
        last_date: days.last().map(|d| d.date),
        ignored_columns: parsed.ignored_columns,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::progress::Silent;

    fn jakarta() -> StoreCalendar {
        StoreCalendar::new(chrono_tz::Asia::Jakarta)
    }

    fn parse(text: &str) -> DomainResult<ParsedFile> {
        parse_csv(text.as_bytes(), &jakarta(), &Silent)
    }

    fn message(error: DomainError) -> String {
        match error {
            DomainError::Validation { message, .. } => message,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn header_columns_in_any_order_and_case_with_extras_ignored() {
        let parsed =
            parse("\u{feff}SKU ,Quantity,note,DATE,is_promo\nA,2,x,2026-01-01,yes\n").unwrap();
        assert_eq!(parsed.ignored_columns, vec!["note".to_owned()]);
        assert_eq!(parsed.error_rows, 0);
        let row = parsed.rows[0];
        assert_eq!((row.quantity, row.is_promo, row.line), (2, true, 2));
        assert_eq!(row.date, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert_eq!(parsed.skus[0].sku, "A");
    }

    #[test]
    fn header_without_required_columns_or_with_duplicates_is_refused() {
        let error = message(parse("date,product,qty\n2026-01-01,A,1\n").unwrap_err());
        assert!(error.contains("missing: sku, quantity"), "{error}");
        let error = message(parse("date,sku,quantity,Date\n").unwrap_err());
        assert!(error.contains("twice"), "{error}");
        assert!(message(parse("").unwrap_err()).contains("empty"));
        assert!(message(parse("date,sku,quantity\n").unwrap_err()).contains("no rows"));
        assert!(message(parse("sku,quantity\nA,1\n").unwrap_err()).contains("missing: date"));
    }

    #[test]
    fn prices_become_money_and_field_rules_come_from_the_shared_reader() {
        // The field rules themselves are tested with the reader (forecast::history_csv).
        let parsed = parse(
            "date,sku,quantity,unit_price\n2026-01-01,A,1,15000.50\n2026-01-01,A,1,\n2026-01-01,A,1,1.234\n",
        )
        .unwrap();
        assert_eq!(
            parsed.rows[0].unit_price,
            Some(Money::from_cents(1_500_050))
        );
        assert_eq!(parsed.rows[1].unit_price, None);
        assert_eq!(
            parsed.skus[0].first_price,
            Some(Money::from_cents(1_500_050))
        );
        assert_eq!(parsed.errors[0].line, 4);
        assert!(parsed.errors[0].error.contains("decimal places"));
    }

    #[test]
    fn instants_belong_to_their_local_business_day() {
        let file = "date,sku,quantity\n2026-03-09T18:30:00Z,A,1\n2026-03-10,A,2\n2026-03-10T08:00:00+07:00,B,1\n";
        let parsed = parse(file).unwrap();
        assert_eq!(parsed.error_rows, 0);
        let day = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        assert!(parsed.rows.iter().all(|r| r.date == day));
        let instant = Utc.with_ymd_and_hms(2026, 3, 9, 18, 30, 0).unwrap();
        assert_eq!(parsed.rows[0].instant, Some(instant.timestamp_millis()));
        assert_eq!(parsed.rows[1].instant, None);
        assert_eq!(
            parsed.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert_eq!(parsed.skus.len(), 2);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_number() {
        let file = "date,sku,quantity,unit_price,is_promo\n\
                    2026-01-01,A,1,100,0\n\
                    2026-13-01,A,1,,\n\
                    2026-01-02,B,x,,\n\
                    \n\
                    2026-01-03,,1,,\n\
                    2026-01-04,A,2,-5,maybe\n\
                    2026-01-05,A\n\
                    2026-01-06,C,\"1\n2\",,\n\
                    2026-01-07,C,3,,1\n";
        let parsed = parse(file).unwrap();
        let lines: Vec<u64> = parsed.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 6, 7, 8, 9], "{:?}", parsed.errors);
        assert_eq!(parsed.error_rows, 6);
        assert!(parsed.errors[0].error.contains("date"));
        assert!(parsed.errors[1].error.contains("whole number"));
        assert!(parsed.errors[2].error.contains("sku is missing"));
        assert!(
            parsed.errors[3].error.contains("negative")
                && parsed.errors[3].error.contains("is_promo")
        );
        assert!(parsed.errors[4].error.contains("2 fields"));
        // The valid rows, with the line each started on (a quoted field spans two lines).
        assert_eq!(
            parsed.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![2, 11]
        );
        assert!(parsed.rows[1].is_promo);
        assert_eq!(parsed.skus[0].first_price, Some(Money::from_cents(10_000)));
        // B appears only on a bad row but is still known to be mentioned (line 4).
        let b = parsed.skus.iter().find(|s| s.sku == "B").unwrap();
        assert_eq!((b.lines.clone(), b.valid_rows), (vec![4], 0));
    }

    #[test]
    fn blank_lines_and_crlf_keep_line_numbers_right() {
        let parsed =
            parse("date,sku,quantity\r\n2026-01-01,A,1\r\n\r\n,,\r\n2026-01-01,A,0\r\n").unwrap();
        assert_eq!(
            parsed.errors.iter().map(|e| e.line).collect::<Vec<_>>(),
            vec![5]
        );
        assert_eq!(parsed.rows.len(), 1);
        let bytes = b"date,sku,quantity\n2026-01-01,A,1\n\n2026-01-01,\xff,1\n";
        let parsed = parse_csv(bytes, &jakarta(), &Silent).unwrap();
        assert_eq!(parsed.errors[0].line, 4);
        assert!(parsed.errors[0].error.contains("UTF-8"));
    }

    #[test]
    fn rejection_counts_rows_lists_lines_and_unknown_skus_once() {
        let errors = vec![RowError {
            line: 3,
            error: "quantity must be positive, got 0".into(),
        }];
        let unknown = SkuSeen {
            sku: "NOPE-1".into(),
            lines: vec![4, 9],
            rows: 2,
            valid_rows: 2,
            first_price: None,
            barcode: None,
        };
        let DomainError::Validation { message, details } = rejection(&errors, 1, &[&unknown])
        else {
            panic!("expected a validation error");
        };
        assert!(
            message.starts_with("3 rows have errors; nothing was imported"),
            "{message}"
        );
        assert!(message.contains("line 3: quantity"), "{message}");
        assert!(message.contains("\n    NOPE-1 (lines 4, 9)"), "{message}");
        assert!(message.contains("--create-products"), "{message}");
        let details = details.unwrap();
        assert_eq!(details[0]["line"], 3);
        assert_eq!(details[1]["unknown_skus"][0]["sku"], "NOPE-1");
        assert_eq!(
            details[1]["unknown_skus"][0]["lines"],
            serde_json::json!([4, 9])
        );
    }

    #[test]
    fn details_are_capped_but_the_count_is_complete() {
        let mut file = String::from("date,sku,quantity\n");
        for _ in 0..250 {
            file.push_str("2026-01-01,A,0\n");
        }
        let parsed = parse(&file).unwrap();
        assert_eq!(parsed.error_rows, 250);
        let DomainError::Validation { message, details } =
            rejection(&parsed.errors, parsed.error_rows, &[])
        else {
            panic!("expected a validation error");
        };
        assert!(message.starts_with("250 rows have errors"));
        assert!(message.contains("and 230 more rows"), "{message}");
        assert_eq!(message.lines().count(), 1 + MAX_MESSAGE_LINES + 1);
        let details = details.unwrap();
        assert_eq!(details.as_array().unwrap().len(), MAX_DETAILS + 1);
        assert_eq!(details[MAX_DETAILS]["more"], 150);
    }
}
