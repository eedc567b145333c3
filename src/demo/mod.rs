//! The demo shop: a bakery-minimarket in Indonesia with a few dozen products and years of
//! believable sales, generated from a seed so that the same seed always gives the same shop.
//!
//! What the history contains, and why a forecaster has something to find in it:
//! - a weekly rhythm (weekends busier), paydays (end and start of the month), a gentle
//!   yearly swing and a slow growth trend;
//! - Ramadan (break-fast drinks and snacks sell more, daytime less), the run-up to Idul
//!   Fitri (festive cookies and cakes explode), the quiet Lebaran days, Christmas and New
//!   Year (cakes), Independence Day; all stored as events that feed the forecast;
//! - promotions with date ranges (stored as events): the promoted categories sell more
//!   and their sale lines carry the promo flag;
//! - noise: Poisson transaction counts, random baskets of 1-4 lines, random quantities.
//!
//! Stock: every product gets an opening balance through a ledger entry (reason `import`,
//! note "demo opening stock"); a handful start below the low-stock threshold and two at
//! zero, so the low-stock list and the restock advice have something to say. The
//! generated sales are history: they describe the past and do **not** move current stock
//! (that would need the stock of two years ago, which the shop never told us). The
//! opening balance is today's count, which already reflects those past sales.
//!
//! The generator is a pure function of the seed, the number of days, the store calendar
//! and "yesterday"; the database part writes its output in one write transaction with the
//! bulk helpers, so two years load in a few seconds.

use std::fmt;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::domain::calendar::format_date;
use crate::domain::changes::{Group, Retraining, Shop};
use crate::domain::money::Money;
use crate::domain::stock::apply_stock_change;
use crate::domain::{DomainError, DomainResult, settings};
use crate::progress::{Progress, Silent};
use crate::storage::{
    self, Db, StorageError, categories, events, models, products, reports, sales, users,
};

mod calendar;
mod catalog;
mod generator;

use catalog::*;
use generator::*;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub seed: u64,
    pub days: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 42,
            days: 730,
        }
    }
}

/// At most ten years of history: plenty for any demo, and bounded memory.
pub const MAX_DAYS: u32 = 3660;

#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub products: usize,
    pub categories: usize,
    pub sales: usize,
    pub line_items: usize,
    pub events: usize,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    pub revenue: Money,
    pub low_stock_products: usize,
    pub out_of_stock_products: usize,
    pub elapsed: Duration,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "demo shop loaded: {} products in {} categories, {} sales with {} line items",
            self.products, self.categories, self.sales, self.line_items
        )?;
        match (self.first_date, self.last_date) {
            (Some(first), Some(last)) => write!(f, " from {first} to {last}")?,
            _ => f.write_str(" (no history)")?,
        }
        write!(
            f,
            ", revenue {}, {} events; {} products low on stock ({} out of stock); took {:.1} s",
            self.revenue,
            self.events,
            self.low_stock_products,
            self.out_of_stock_products,
            self.elapsed.as_secs_f64()
        )
    }
}

/// Whether the database has neither products nor sales (the demo only loads into such).
pub async fn database_is_empty(db: &Db) -> DomainResult<bool> {
    let (products, sales, _, _) = reports::table_counts(db.pool()).await?;
    Ok(products == 0 && sales == 0)
}

pub async fn seed(into: &Shop, options: &DemoOptions) -> DomainResult<DemoSummary> {
    seed_with_progress(into, options, &Silent).await
}

/// Loads the demo shop. Refuses (409) when the database already has products or sales,
/// so it can never duplicate a shop or mix into a real one. Every product is marked stale
/// with the load, and trained in the background afterwards.
pub async fn seed_with_progress(
    into: &Shop,
    options: &DemoOptions,
    progress: &dyn Progress,
) -> DomainResult<DemoSummary> {
    let db = &into.db;
    let started = Instant::now();
    if options.days > MAX_DAYS {
        return Err(DomainError::validation(format!(
            "days must be between 0 and {MAX_DAYS}"
        )));
    }
    if !database_is_empty(db).await? {
        return Err(already_has_data());
    }
    let calendar = settings::calendar(db).await?;
    let threshold = storage::settings::get(db.pool())
        .await?
        .map_or(settings::DEFAULT_LOW_STOCK_THRESHOLD, |s| {
            s.low_stock_threshold
        });
    let yesterday = calendar
        .today()
        .pred_opt()
        .ok_or_else(|| DomainError::unexpected("the calendar has no yesterday"))?;
    let shop = generate(options, &calendar, yesterday, threshold);

    let mut tx = db.begin_write().await?;
    // Checked again under the write lock: two seeders racing must not both load.
    let (product_count, sale_count, _, _) = reports::table_counts(tx.conn()).await?;
    if product_count > 0 || sale_count > 0 {
        return Err(already_has_data());
    }
    let cashier_id = users::first_admin_id(tx.conn()).await?;

    let mut category_ids = Vec::with_capacity(Category::ALL.len());
    for category in Category::ALL {
        category_ids.push(categories::ensure(&mut tx, category.name()).await?);
    }
    let mut product_ids = Vec::with_capacity(shop.products.len());
    for (index, product) in shop.products.iter().enumerate() {
        let barcode = demo_barcode(index);
        let new = products::NewProduct {
            sku: product.sku,
            barcode: Some(barcode.as_str()),
            name: product.name,
            category_id: Some(category_ids[product.category as usize]),
            variation: product.variation,
            price_cents: product.price_cents,
            cost_price_cents: product.cost_cents,
        };
        product_ids.push(products::insert(&mut tx, &new).await?);
    }
    for event in &shop.events {
        let date = format_date(event.date);
        let end_date = event.end_date.map(format_date);
        let data = events::EventData {
            name: &event.name,
            date: &date,
            end_date: end_date.as_deref(),
            kind: event.kind,
            description: Some(&event.description),
            include_in_prediction: true,
        };
        events::insert(tx.conn(), &data).await?;
    }

    progress.start("demo sales", shop.days.len() as u64);
    let dates: Vec<String> = shop.days.iter().map(|d| format_date(d.date)).collect();
    let new_sales: Vec<sales::NewSale<'_>> = shop
        .sales
        .iter()
        .map(|s| sales::NewSale {
            created_at: s.created_at,
            business_date: &dates[s.day],
            cashier_id,
            total_cents: s.total_cents,
            paid_cents: s.paid_cents,
            change_cents: s.paid_cents - s.total_cents,
            source: "demo",
        })
        .collect();
    let new_items: Vec<sales::NewSaleItem<'_>> = shop
        .items
        .iter()
        .map(|i| sales::NewSaleItem {
            product_id: product_ids[i.product],
            quantity: i.quantity,
            unit_price_cents: i.unit_price_cents,
            line_total_cents: i.unit_price_cents * i.quantity,
            is_promo: i.is_promo,
            business_date: &dates[shop.sales[i.sale].day],
        })
        .collect();
    let first_id = if new_sales.is_empty() {
        0
    } else {
        sales::reserve_ids(&mut tx, db.backend(), new_sales.len() as i64).await?
    };
    // A week at a time (about 700 sales and 1,400 lines), so that progress moves by days.
    for week in shop.days.chunks(7) {
        let (first, last) = (&week[0], &week[week.len() - 1]);
        let sale_range = first.first_sale..last.first_sale + last.sale_count;
        if !sale_range.is_empty() {
            let item_start = shop.sales[sale_range.start].first_item;
            let last_sale = &shop.sales[sale_range.end - 1];
            let item_end = last_sale.first_item + last_sale.item_count;
            sales::bulk_insert_sales(
                &mut tx,
                db.backend(),
                first_id + sale_range.start as i64,
                &new_sales[sale_range.clone()],
            )
            .await?;
            let item_sales = &shop.items[item_start..item_end];
            sales::bulk_insert_items(
                &mut tx,
                db.backend(),
                |i| first_id + item_sales[i].sale as i64,
                &new_items[item_start..item_end],
            )
            .await?;
        }
        progress.advance(week.len() as u64);
    }

    for (index, stock) in shop.opening_stock.iter().enumerate() {
        if *stock > 0 {
            apply_stock_change(
                &mut tx,
                product_ids[index],
                *stock,
                "import",
                None,
                Some("demo opening stock"),
            )
            .await?;
        }
    }
    models::mark_stale(tx.conn(), Some(&product_ids), "demo shop loaded").await?;
    tx.commit().await.map_err(StorageError::from)?;
    into.changed(&Group::ALL).await;
    if let Err(error) = into.retrain_stale(Retraining::Now).await {
        // The products stay marked stale: the nightly run trains them.
        tracing::warn!(%error, "could not schedule training of the demo shop");
    }

    let revenue = shop.sales.iter().map(|s| s.total_cents).sum();
    let summary = DemoSummary {
        products: shop.products.len(),
        categories: Category::ALL.len(),
        sales: shop.sales.len(),
        line_items: shop.items.len(),
        events: shop.events.len(),
        first_date: shop.days.first().map(|d| d.date),
        last_date: shop.days.last().map(|d| d.date),
        revenue: Money::from_cents(revenue),
        low_stock_products: shop
            .opening_stock
            .iter()
            .filter(|s| **s <= threshold)
            .count(),
        out_of_stock_products: shop.opening_stock.iter().filter(|s| **s == 0).count(),
        elapsed: started.elapsed(),
    };
    progress.finish(&format!(
        "loaded {} demo sales in {:.1} s",
        summary.sales,
        summary.elapsed.as_secs_f64()
    ));
    Ok(summary)
}

fn already_has_data() -> DomainError {
    DomainError::Conflict(
        "the database already has products or sales; the demo shop only loads into an empty database"
            .into(),
    )
}

/// The demo shop's labels: Indonesia's GS1 prefix 899, a made-up company number and the
/// product's position, with a valid check digit, so a tester can scan or type them.
pub fn demo_barcode(index: usize) -> crate::domain::barcode::Barcode {
    crate::domain::barcode::with_check_digit(&format!("8991234{:05}", index + 1))
}
