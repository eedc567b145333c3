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

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Poisson};

use crate::domain::calendar::{StoreCalendar, format_date};
use crate::domain::changes::{Group, Retraining, Shop};
use crate::domain::money::Money;
use crate::domain::products::apply_stock_change;
use crate::domain::{DomainError, DomainResult, settings};
use crate::progress::{Progress, Silent};
use crate::storage::{
    self, Db, StorageError, categories, events, models, products, reports, sales, users,
};

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
        .map_or(10, |s| s.low_stock_threshold);
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
    for product in &shop.products {
        let new = products::NewProduct {
            sku: product.sku,
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

// ---------------------------------------------------------------------------------------
// The catalogue.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Bread,
    Pastry,
    Cake,
    Drink,
    Snack,
    Staple,
}

impl Category {
    const ALL: [Category; 6] = [
        Category::Bread,
        Category::Pastry,
        Category::Cake,
        Category::Drink,
        Category::Snack,
        Category::Staple,
    ];

    fn name(self) -> &'static str {
        match self {
            Category::Bread => "Roti",
            Category::Pastry => "Croissant & Pastry",
            Category::Cake => "Kue",
            Category::Drink => "Minuman",
            Category::Snack => "Jajanan",
            Category::Staple => "Susu & Sembako",
        }
    }
}

/// How a product's demand reacts to the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// Sells the same all year.
    Everyday,
    /// Bought for breakfast and for sahur during Ramadan.
    Breakfast,
    /// Takjil: drinks and snacks to break the fast; Ramadan is their season.
    Takjil,
    /// Lebaran cookies and cakes: a big wave in the weeks before Idul Fitri.
    Lebaran,
    /// Celebration cakes: Christmas, New Year and weekends.
    Celebration,
}

struct CatalogEntry {
    sku: &'static str,
    name: &'static str,
    category: Category,
    variation: Option<&'static str>,
    /// Sale price in rupiah.
    price: i64,
    /// Relative share of basket lines on an ordinary day.
    popularity: f64,
    /// Mean of the extra units beyond the first on a line.
    extra_units: f64,
    profile: Profile,
}

#[allow(clippy::too_many_arguments, reason = "a table row, read positionally")]
const fn item(
    sku: &'static str,
    name: &'static str,
    category: Category,
    variation: Option<&'static str>,
    price: i64,
    popularity: f64,
    extra_units: f64,
    profile: Profile,
) -> CatalogEntry {
    CatalogEntry {
        sku,
        name,
        category,
        variation,
        price,
        popularity,
        extra_units,
        profile,
    }
}

use Category::{Bread, Cake, Drink, Pastry, Snack, Staple};
use Profile::{Breakfast, Celebration, Everyday, Lebaran, Takjil};

#[rustfmt::skip]
const CATALOG: &[CatalogEntry] = &[
    item("BRD-001", "Roti Tawar Gandum", Bread, None, 18_000, 6.0, 0.2, Breakfast),
    item("BRD-002", "Roti Tawar Putih", Bread, None, 15_000, 7.0, 0.2, Breakfast),
    item("BRD-003", "Roti Sobek", Bread, Some("Cokelat"), 22_000, 5.0, 0.3, Everyday),
    item("BRD-004", "Roti Sobek", Bread, Some("Keju"), 24_000, 4.0, 0.3, Everyday),
    item("BRD-005", "Roti Manis Kelapa", Bread, None, 8_000, 6.0, 1.0, Everyday),
    item("BRD-006", "Roti Abon Sapi", Bread, None, 12_000, 5.0, 0.6, Breakfast),
    item("BRD-007", "Baguette", Bread, None, 25_000, 1.5, 0.1, Everyday),
    item("CRS-001", "Croissant", Pastry, Some("Butter"), 15_000, 6.0, 0.5, Breakfast),
    item("CRS-002", "Croissant", Pastry, Some("Cokelat"), 18_000, 5.0, 0.5, Everyday),
    item("CRS-003", "Croissant", Pastry, Some("Almond"), 22_000, 3.0, 0.4, Everyday),
    item("CRS-004", "Danish Blueberry", Pastry, None, 20_000, 2.5, 0.3, Everyday),
    item("CRS-005", "Pain au Chocolat", Pastry, None, 19_000, 3.0, 0.4, Breakfast),
    item("CRS-006", "Cinnamon Roll", Pastry, None, 17_000, 3.0, 0.4, Everyday),
    item("CKE-001", "Bolu Pandan", Cake, None, 45_000, 2.0, 0.1, Celebration),
    item("CKE-002", "Brownies Panggang", Cake, None, 55_000, 2.5, 0.1, Celebration),
    item("CKE-003", "Lapis Legit", Cake, Some("Loyang 20 cm"), 150_000, 0.4, 0.1, Lebaran),
    item("CKE-004", "Nastar", Cake, Some("Toples 500 g"), 120_000, 0.5, 0.4, Lebaran),
    item("CKE-005", "Kastengel", Cake, Some("Toples 500 g"), 125_000, 0.4, 0.4, Lebaran),
    item("CKE-006", "Black Forest", Cake, Some("Potong"), 28_000, 3.0, 0.5, Celebration),
    item("CKE-007", "Kue Ulang Tahun Cokelat", Cake, Some("20 cm"), 145_000, 0.6, 0.0, Celebration),
    item("DRK-001", "Kopi Susu Gula Aren", Drink, Some("Dingin"), 18_000, 7.0, 0.4, Everyday),
    item("DRK-002", "Es Teh Manis", Drink, None, 8_000, 6.0, 0.8, Takjil),
    item("DRK-003", "Air Mineral 600 ml", Drink, None, 8_000, 5.0, 0.6, Everyday),
    item("DRK-004", "Jus Jeruk", Drink, None, 15_000, 3.0, 0.3, Takjil),
    item("DRK-005", "Cokelat Panas", Drink, Some("Panas"), 20_000, 2.5, 0.2, Everyday),
    item("DRK-006", "Es Buah", Drink, None, 15_000, 1.5, 0.8, Takjil),
    item("SNK-001", "Risoles Mayo", Snack, None, 9_000, 5.0, 1.5, Takjil),
    item("SNK-002", "Kroket Ayam", Snack, None, 10_000, 4.0, 1.2, Takjil),
    item("SNK-003", "Pastel Sayur", Snack, None, 8_000, 4.0, 1.2, Everyday),
    item("SNK-004", "Donat", Snack, Some("Gula"), 8_000, 5.0, 1.5, Everyday),
    item("SNK-005", "Donat", Snack, Some("Cokelat"), 10_000, 5.0, 1.5, Everyday),
    item("SMB-001", "Susu UHT Full Cream 1 L", Staple, None, 21_000, 4.0, 0.4, Breakfast),
    item("SMB-002", "Telur Ayam 10 butir", Staple, None, 30_000, 3.0, 0.1, Breakfast),
    item("SMB-003", "Selai Srikaya", Staple, None, 25_000, 1.5, 0.1, Breakfast),
    item("SMB-004", "Kurma Sukari 500 g", Staple, None, 65_000, 0.5, 0.3, Takjil),
    item("SMB-005", "Sirup Cocopandan 460 ml", Staple, None, 27_000, 0.8, 0.5, Lebaran),
];

// ---------------------------------------------------------------------------------------
// The calendar of the demo years.

/// Idul Fitri (1 Syawal) as Indonesia celebrated or is expected to celebrate it.
const IDUL_FITRI: &[(i32, u32, u32)] = &[
    (2015, 7, 17),
    (2016, 7, 6),
    (2017, 6, 25),
    (2018, 6, 15),
    (2019, 6, 5),
    (2020, 5, 24),
    (2021, 5, 13),
    (2022, 5, 2),
    (2023, 4, 22),
    (2024, 4, 10),
    (2025, 3, 31),
    (2026, 3, 20),
    (2027, 3, 10),
    (2028, 2, 27),
    (2029, 2, 15),
    (2030, 2, 5),
    (2031, 1, 25),
    (2032, 1, 14),
    (2033, 1, 3),
    (2033, 12, 23),
    (2034, 12, 12),
    (2035, 12, 1),
];

/// The mean length of a lunar (Hijri) year in days, to extend the table beyond its ends.
const HIJRI_YEAR_DAYS: f64 = 354.367;
/// Idul Adha (10 Dzulhijjah) falls about 68 days after Idul Fitri (1 Syawal).
const IDUL_ADHA_AFTER_FITRI: i64 = 68;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        date.checked_add_days(Days::new(days as u64))
            .unwrap_or(date)
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
            .unwrap_or(date)
    }
}

/// Every Idul Fitri between `from` and `to` (inclusive).
fn idul_fitri_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let known: Vec<NaiveDate> = IDUL_FITRI.iter().map(|&(y, m, d)| ymd(y, m, d)).collect();
    let (first, last) = (known[0], known[known.len() - 1]);
    let mut dates = Vec::new();
    // Before the table: step back a lunar year at a time.
    let mut k = 1.0;
    loop {
        let date = add_days(first, -(k * HIJRI_YEAR_DAYS).round() as i64);
        if date < from {
            break;
        }
        if date <= to {
            dates.push(date);
        }
        k += 1.0;
    }
    dates.extend(known.iter().copied().filter(|d| (from..=to).contains(d)));
    let mut k = 1.0;
    loop {
        let date = add_days(last, (k * HIJRI_YEAR_DAYS).round() as i64);
        if date > to {
            break;
        }
        if date >= from {
            dates.push(date);
        }
        k += 1.0;
    }
    dates.sort();
    dates
}

#[derive(Debug, Clone, PartialEq)]
struct DemoEvent {
    name: String,
    date: NaiveDate,
    end_date: Option<NaiveDate>,
    kind: &'static str,
    description: String,
}

#[derive(Debug, Clone)]
struct Promo {
    start: NaiveDate,
    end: NaiveDate,
    categories: &'static [Category],
}

/// Promotions the shop ran each year: (name, month, first day, last day, categories).
const YEARLY_PROMOS: &[(&str, u32, u32, u32, &[Category])] = &[
    ("Promo Awal Tahun", 1, 13, 19, &[Bread, Pastry]),
    ("Festival Croissant", 5, 20, 26, &[Pastry]),
    ("Pesta Kemerdekaan 17an", 8, 10, 17, &[Snack, Drink]),
    ("HUT Toko: Diskon Kue", 10, 1, 7, &[Cake]),
    ("Harbolnas 12.12", 12, 10, 12, &[Staple, Bread]),
];

fn category_list(categories: &[Category]) -> String {
    let names: Vec<&str> = categories.iter().map(|c| c.name()).collect();
    names.join(", ")
}

/// The shop's calendar: holidays and seasons from `first` to a year past `last` (so the
/// forecast sees the coming ones), promotions within the history only.
fn calendar_events(
    first: NaiveDate,
    last: NaiveDate,
) -> (Vec<DemoEvent>, Vec<Promo>, Vec<NaiveDate>) {
    let horizon = add_days(last, 365);
    let mut list = Vec::new();
    let fitri = idul_fitri_between(add_days(first, -80), add_days(horizon, 40));
    for &day in &fitri {
        let ramadan_start = add_days(day, -30);
        let ramadan_end = add_days(day, -1);
        if ramadan_end >= first && ramadan_start <= horizon {
            list.push(DemoEvent {
                name: format!("Ramadan {}", ramadan_start.year()),
                date: ramadan_start,
                end_date: Some(ramadan_end),
                kind: "seasonal",
                description: "Bulan puasa: takjil laris menjelang berbuka, siang lebih sepi".into(),
            });
        }
        if day >= first && day <= horizon {
            list.push(DemoEvent {
                name: format!("Idul Fitri {}", day.year()),
                date: day,
                end_date: Some(add_days(day, 1)),
                kind: "holiday",
                description: "Lebaran: toko sepi beberapa hari; kue kering laris sebelumnya".into(),
            });
        }
        let adha = add_days(day, IDUL_ADHA_AFTER_FITRI);
        if adha >= first && adha <= horizon {
            list.push(DemoEvent {
                name: format!("Idul Adha {}", adha.year()),
                date: adha,
                end_date: None,
                kind: "holiday",
                description: "Hari Raya Kurban".into(),
            });
        }
    }
    let mut promos = Vec::new();
    for year in first.year()..=horizon.year() {
        let fixed: [(&str, NaiveDate, Option<NaiveDate>, &str, &str); 5] = [
            (
                "Tahun Baru",
                ymd(year, 1, 1),
                None,
                "holiday",
                "Tahun Baru Masehi",
            ),
            (
                "Hari Kemerdekaan RI",
                ymd(year, 8, 17),
                None,
                "holiday",
                "17 Agustus: lomba dan tumpengan, jajanan laris",
            ),
            (
                "Libur Sekolah Akhir Tahun",
                ymd(year, 12, 20),
                Some(ymd(year + 1, 1, 2)),
                "seasonal",
                "Liburan akhir tahun: lebih ramai",
            ),
            (
                "Malam Natal",
                ymd(year, 12, 24),
                None,
                "holiday",
                "Kue Natal dipesan",
            ),
            (
                "Natal",
                ymd(year, 12, 25),
                None,
                "holiday",
                "Hari Raya Natal",
            ),
        ];
        for (name, date, end_date, kind, description) in fixed {
            if date >= first && date <= horizon {
                list.push(DemoEvent {
                    name: format!("{name} {}", date.year()),
                    date,
                    end_date,
                    kind,
                    description: description.into(),
                });
            }
        }
        for &(name, month, from, to, categories) in YEARLY_PROMOS {
            let (start, end) = (ymd(year, month, from), ymd(year, month, to));
            if start >= first && end <= last {
                promos.push(Promo {
                    start,
                    end,
                    categories,
                });
                list.push(DemoEvent {
                    name: format!("{name} {year}"),
                    date: start,
                    end_date: Some(end),
                    kind: "promotion",
                    description: format!("Diskon kategori {}", category_list(categories)),
                });
            }
        }
        // A Ramadan promotion on break-fast favourites, in the middle of the month.
        for &day in &fitri {
            let (start, end) = (add_days(day, -20), add_days(day, -11));
            if start.year() == year && start >= first && end <= last {
                let categories: &'static [Category] = &[Drink, Snack];
                promos.push(Promo {
                    start,
                    end,
                    categories,
                });
                list.push(DemoEvent {
                    name: format!("Promo Ramadan Berkah {year}"),
                    date: start,
                    end_date: Some(end),
                    kind: "promotion",
                    description: format!("Diskon kategori {}", category_list(categories)),
                });
            }
        }
    }
    list.sort_by(|a, b| (a.date, &a.name).cmp(&(b.date, &b.name)));
    (list, promos, fitri)
}

/// What one day looks like: how busy, which products are in season, which are on promo.
struct DayShape {
    /// Multiplies the expected number of transactions.
    traffic: f64,
    /// Per product: multiplies its share of basket lines.
    boost: Vec<f64>,
    /// Per product: on promotion today.
    promo: Vec<bool>,
    /// Ramadan shifts shopping towards the afternoon.
    ramadan: bool,
}

fn day_shape(date: NaiveDate, fitri: &[NaiveDate], promos: &[Promo]) -> DayShape {
    let mut traffic = match date.weekday() {
        Weekday::Mon => 0.92,
        Weekday::Tue => 0.90,
        Weekday::Wed => 0.93,
        Weekday::Thu => 0.97,
        Weekday::Fri => 1.05,
        Weekday::Sat => 1.28,
        Weekday::Sun => 1.22,
    };
    // Paydays: the last week of the month and the first two days of the next.
    if date.day() >= 25 || date.day() <= 2 {
        traffic *= 1.07;
    }
    // A gentle yearly swing: busier in the dry season, quieter in the wet months.
    let angle = 2.0 * std::f64::consts::PI * (f64::from(date.ordinal()) - 200.0) / 365.25;
    traffic *= 1.0 + 0.05 * angle.cos();

    // Days relative to the nearest Idul Fitri (negative: before it).
    let offset = fitri
        .iter()
        .map(|f| (date - *f).num_days())
        .min_by_key(|d| d.abs())
        .unwrap_or(i64::MAX);
    let ramadan = (-30..=-1).contains(&offset);
    let (month, day) = (date.month(), date.day());
    let mut boosts = [1.0f64; 5]; // indexed by Profile
    let set =
        |boosts: &mut [f64; 5], profile: Profile, factor: f64| boosts[profile as usize] *= factor;
    if ramadan {
        traffic *= if offset >= -10 { 1.25 } else { 0.95 };
        set(&mut boosts, Takjil, 2.8);
        set(&mut boosts, Breakfast, 1.15);
        set(&mut boosts, Everyday, 0.85);
    }
    if (-21..=-1).contains(&offset) {
        // The Lebaran cookie wave, peaking a few days before the holiday.
        let closeness = 1.0 - ((offset + 3).abs() as f64 / 19.0).min(1.0);
        set(&mut boosts, Lebaran, 2.0 + 10.0 * closeness);
        set(&mut boosts, Celebration, 1.5);
    }
    match offset {
        0 => traffic *= 0.35,
        1 => traffic *= 0.45,
        2..=6 => traffic *= 0.8,
        _ => {}
    }
    if offset == IDUL_ADHA_AFTER_FITRI {
        traffic *= 0.85; // Idul Adha
    }
    match (month, day) {
        (12, 20..=23) => set(&mut boosts, Celebration, 1.8),
        (12, 24) => {
            traffic *= 1.3;
            set(&mut boosts, Celebration, 3.0);
        }
        (12, 25) => traffic *= 0.75,
        (12, 28..=30) => set(&mut boosts, Celebration, 1.6),
        (12, 31) => {
            traffic *= 1.45;
            set(&mut boosts, Celebration, 2.2);
        }
        (1, 1) => traffic *= 0.7,
        (8, 16) => traffic *= 1.1,
        (8, 17) => traffic *= 1.2,
        _ => {}
    }
    if (month == 12 && day >= 20) || (month == 1 && day <= 2) {
        traffic *= 1.08; // school holidays
    }
    if (month == 8 && (15..=17).contains(&day)) || (month == 12 && day == 31) {
        boosts[Takjil as usize] *= 1.3;
    }

    let active: Vec<&Promo> = promos
        .iter()
        .filter(|p| p.start <= date && date <= p.end)
        .collect();
    if !active.is_empty() {
        traffic *= 1.12;
    }
    let mut boost = Vec::with_capacity(CATALOG.len());
    let mut promo = Vec::with_capacity(CATALOG.len());
    for entry in CATALOG {
        let on_promo = active
            .iter()
            .any(|p| p.categories.contains(&entry.category));
        let mut factor = boosts[entry.profile as usize];
        if on_promo {
            factor *= 2.2;
        }
        // Celebration cakes are a weekend purchase.
        if entry.profile == Celebration && matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            factor *= 1.3;
        }
        boost.push(factor);
        promo.push(on_promo);
    }
    DayShape {
        traffic,
        boost,
        promo,
        ramadan,
    }
}

// ---------------------------------------------------------------------------------------
// The generator (pure).

/// Transactions on an ordinary weekday at the start of the history.
const BASE_TRANSACTIONS: f64 = 88.0;
/// Yearly growth of the shop's traffic.
const YEARLY_GROWTH: f64 = 0.12;
/// Relative weights of the opening hours 07:00 .. 20:59, on an ordinary day and in Ramadan.
const HOURS: [f64; 14] = [
    8.0, 10.0, 7.0, 5.0, 5.0, 6.0, 5.0, 4.0, 5.0, 8.0, 10.0, 9.0, 7.0, 5.0,
];
const RAMADAN_HOURS: [f64; 14] = [
    5.0, 5.0, 3.0, 2.0, 2.0, 3.0, 4.0, 6.0, 10.0, 16.0, 18.0, 6.0, 6.0, 5.0,
];
const OPENING_HOUR: i64 = 7;
/// Cents in a rupiah.
const RUPIAH: i64 = 100;
/// Basket sizes 1..=4 lines.
const LINES: [f64; 4] = [0.42, 0.32, 0.17, 0.09];

#[derive(Debug, Clone, PartialEq)]
struct DemoProduct {
    sku: &'static str,
    name: &'static str,
    category: Category,
    variation: Option<&'static str>,
    price_cents: i64,
    cost_cents: i64,
}

#[derive(Debug, Clone, PartialEq)]
struct DemoDay {
    date: NaiveDate,
    first_sale: usize,
    sale_count: usize,
}

#[derive(Debug, Clone, PartialEq)]
struct DemoSale {
    day: usize,
    created_at: i64,
    total_cents: i64,
    paid_cents: i64,
    first_item: usize,
    item_count: usize,
}

#[derive(Debug, Clone, PartialEq)]
struct DemoItem {
    sale: usize,
    product: usize,
    quantity: i64,
    unit_price_cents: i64,
    is_promo: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct DemoShop {
    products: Vec<DemoProduct>,
    events: Vec<DemoEvent>,
    days: Vec<DemoDay>,
    sales: Vec<DemoSale>,
    items: Vec<DemoItem>,
    opening_stock: Vec<i64>,
}

fn pick(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut target = rng.random::<f64>() * total;
    for (index, weight) in weights.iter().enumerate() {
        if target < *weight {
            return index;
        }
        target -= weight;
    }
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> i64 {
    if mean <= 0.0 {
        return 0;
    }
    match Poisson::new(mean) {
        Ok(distribution) => distribution.sample(rng) as i64,
        Err(_) => mean.round() as i64,
    }
}

/// What a customer paying cash hands over: the total, or the next round amount above it.
fn cash_paid(rng: &mut ChaCha8Rng, total_cents: i64) -> i64 {
    // Cashless (QRIS, debit): exact.
    if rng.random_bool(0.35) {
        return total_cents;
    }
    let round_up = |step: i64| (total_cents + step - 1) / step * step;
    let candidates = [
        round_up(1_000 * RUPIAH),
        round_up(5_000 * RUPIAH),
        round_up(10_000 * RUPIAH),
        round_up(50_000 * RUPIAH),
        round_up(100_000 * RUPIAH),
    ];
    candidates[pick(rng, &[0.15, 0.2, 0.25, 0.25, 0.15])]
}

fn generate(
    options: &DemoOptions,
    calendar: &StoreCalendar,
    last: NaiveDate,
    threshold: i64,
) -> DemoShop {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let products: Vec<DemoProduct> = CATALOG
        .iter()
        .map(|entry| {
            let margin = rng.random_range(0.55..0.70);
            let cost_rupiah = ((entry.price as f64 * margin) / 100.0).round() as i64 * 100;
            DemoProduct {
                sku: entry.sku,
                name: entry.name,
                category: entry.category,
                variation: entry.variation,
                price_cents: entry.price * 100,
                cost_cents: cost_rupiah * 100,
            }
        })
        .collect();

    let day_count = i64::from(options.days.min(MAX_DAYS));
    let first = add_days(last, 1 - day_count);
    let (events, promos, fitri) = if day_count > 0 {
        calendar_events(first, last)
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let noise = LogNormal::new(0.0, 0.08).ok();
    let popularity: Vec<f64> = CATALOG.iter().map(|e| e.popularity).collect();
    let mut days = Vec::new();
    let mut sales = Vec::new();
    let mut items = Vec::new();
    // Units sold per product over the last four weeks, to size the opening stock.
    let mut recent_units = vec![0i64; CATALOG.len()];
    let mut weights = vec![0.0; CATALOG.len()];
    let mut times = Vec::new();
    for index in 0..day_count {
        let date = add_days(first, index);
        let shape = day_shape(date, &fitri, &promos);
        let years = index as f64 / 365.25;
        let mut mean = BASE_TRANSACTIONS * shape.traffic * (1.0 + YEARLY_GROWTH).powf(years);
        if let Some(noise) = &noise {
            mean *= noise.sample(&mut rng);
        }
        let count = poisson(&mut rng, mean) as usize;
        let hours = if shape.ramadan {
            &RAMADAN_HOURS
        } else {
            &HOURS
        };
        let start = calendar.start_of_day_millis(date);
        times.clear();
        for _ in 0..count {
            let hour = OPENING_HOUR + pick(&mut rng, hours) as i64;
            let within = rng.random_range(0..3_600_000);
            times.push(start + hour * 3_600_000 + within);
        }
        times.sort_unstable();
        let recent = index >= day_count - 28;
        days.push(DemoDay {
            date,
            first_sale: sales.len(),
            sale_count: count,
        });
        for &created_at in &times {
            let lines = 1 + pick(&mut rng, &LINES);
            for (w, (p, b)) in weights.iter_mut().zip(popularity.iter().zip(&shape.boost)) {
                *w = p * b;
            }
            let first_item = items.len();
            let mut total = 0;
            for _ in 0..lines {
                let product = pick(&mut rng, &weights);
                // No product twice in one basket.
                weights[product] = 0.0;
                let entry = &CATALOG[product];
                let quantity = (1 + poisson(&mut rng, entry.extra_units)).min(12);
                let unit_price = products[product].price_cents;
                total += unit_price * quantity;
                if recent {
                    recent_units[product] += quantity;
                }
                items.push(DemoItem {
                    sale: sales.len(),
                    product,
                    quantity,
                    unit_price_cents: unit_price,
                    is_promo: shape.promo[product],
                });
            }
            let paid = cash_paid(&mut rng, total);
            sales.push(DemoSale {
                day: days.len() - 1,
                created_at,
                total_cents: total,
                paid_cents: paid,
                first_item,
                item_count: items.len() - first_item,
            });
        }
    }

    // Opening stock: one to two weeks of recent demand for most products; two sold out,
    // four running low (below the threshold).
    let recent_days = day_count.clamp(1, 28);
    let mut order: Vec<usize> = (0..CATALOG.len()).collect();
    order.shuffle(&mut rng);
    let mut opening_stock = vec![0i64; CATALOG.len()];
    for (rank, &product) in order.iter().enumerate() {
        let daily = recent_units[product] as f64 / recent_days as f64;
        opening_stock[product] = match rank {
            0 | 1 => 0,
            2..=5 => {
                if threshold > 1 {
                    rng.random_range(1..threshold)
                } else {
                    0
                }
            }
            _ => {
                let days_of_cover = rng.random_range(7.0..16.0);
                let floor = threshold + rng.random_range(5..25);
                ((daily * days_of_cover).ceil() as i64).max(floor)
            }
        };
    }

    DemoShop {
        products,
        events,
        days,
        sales,
        items,
        opening_stock,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::{TimeZone, Timelike, Utc};

    use super::*;

    fn jakarta() -> StoreCalendar {
        StoreCalendar::new(chrono_tz::Asia::Jakarta)
    }

    fn shop(seed: u64, days: u32) -> DemoShop {
        generate(
            &DemoOptions { seed, days },
            &jakarta(),
            ymd(2026, 11, 25),
            10,
        )
    }

    #[test]
    fn the_same_seed_gives_the_same_shop_and_another_seed_another() {
        let a = shop(7, 120);
        assert_eq!(a, shop(7, 120));
        let b = shop(8, 120);
        assert_eq!(a.products.len(), b.products.len());
        assert_ne!(a.sales, b.sales);
    }

    #[test]
    fn catalogue_is_a_few_dozen_unique_products_with_sane_margins() {
        let shop = shop(42, 10);
        assert!((30..=36).contains(&shop.products.len()));
        let skus: HashSet<_> = shop.products.iter().map(|p| p.sku).collect();
        assert_eq!(skus.len(), shop.products.len());
        for p in &shop.products {
            assert!((800_000..=15_000_000).contains(&p.price_cents), "{}", p.sku);
            let ratio = p.cost_cents as f64 / p.price_cents as f64;
            assert!((0.54..=0.71).contains(&ratio), "{} {ratio}", p.sku);
            crate::domain::sku::Sku::parse(p.sku).unwrap();
        }
        let categories: HashSet<_> = shop.products.iter().map(|p| p.category.name()).collect();
        assert_eq!(categories.len(), 6);
    }

    #[test]
    fn history_ends_yesterday_within_opening_hours_and_adds_up() {
        let calendar = jakarta();
        let shop = shop(42, 730);
        assert_eq!(shop.days.len(), 730);
        assert_eq!(shop.days.last().unwrap().date, ymd(2026, 11, 25));
        assert_eq!(shop.days[0].date, ymd(2024, 11, 26));
        let per_day = shop.sales.len() as f64 / 730.0;
        assert!((60.0..=150.0).contains(&per_day), "{per_day} sales a day");
        for sale in &shop.sales {
            let instant = Utc.timestamp_millis_opt(sale.created_at).unwrap();
            let local = instant.with_timezone(&calendar.timezone);
            assert!((7..21).contains(&local.hour()));
            assert_eq!(calendar.business_date(instant), shop.days[sale.day].date);
            let lines = &shop.items[sale.first_item..sale.first_item + sale.item_count];
            assert!((1..=4).contains(&lines.len()));
            let total: i64 = lines.iter().map(|i| i.unit_price_cents * i.quantity).sum();
            assert_eq!(total, sale.total_cents);
            assert!(sale.paid_cents >= sale.total_cents);
        }
    }

    #[test]
    fn weekends_and_lebaran_eve_are_busier_and_lebaran_day_quiet() {
        let shop = shop(42, 730);
        let count = |pred: &dyn Fn(NaiveDate) -> bool| {
            let days: Vec<_> = shop.days.iter().filter(|d| pred(d.date)).collect();
            days.iter().map(|d| d.sale_count).sum::<usize>() as f64 / days.len() as f64
        };
        let weekend = count(&|d| matches!(d.weekday(), Weekday::Sat | Weekday::Sun));
        let weekday = count(&|d| matches!(d.weekday(), Weekday::Tue | Weekday::Wed));
        assert!(weekend > weekday * 1.2, "{weekend} vs {weekday}");
        let fitri = ymd(2026, 3, 20);
        let eve = count(&|d| (add_days(fitri, -7)..fitri).contains(&d));
        let lebaran = count(&|d| d == fitri);
        assert!(eve > lebaran * 2.0, "{eve} vs {lebaran}");
        // Nastar sells mostly before Lebaran.
        let nastar = shop
            .products
            .iter()
            .position(|p| p.sku == "CKE-004")
            .unwrap();
        let units = |range: std::ops::Range<NaiveDate>| -> i64 {
            shop.items
                .iter()
                .filter(|i| {
                    i.product == nastar && range.contains(&shop.days[shop.sales[i.sale].day].date)
                })
                .map(|i| i.quantity)
                .sum()
        };
        let before = units(add_days(fitri, -14)..fitri);
        let later = units(ymd(2026, 6, 1)..ymd(2026, 6, 15));
        assert!(before > later * 3, "{before} vs {later}");
    }

    #[test]
    fn promo_lines_only_during_promotions_and_events_cover_the_holidays() {
        let shop = shop(42, 730);
        let promos: Vec<_> = shop
            .events
            .iter()
            .filter(|e| e.kind == "promotion")
            .collect();
        assert!(promos.len() >= 4);
        let mut promo_lines = 0;
        for item in &shop.items {
            if item.is_promo {
                promo_lines += 1;
                let date = shop.days[shop.sales[item.sale].day].date;
                assert!(
                    promos
                        .iter()
                        .any(|e| e.date <= date && date <= e.end_date.unwrap())
                );
            }
        }
        assert!(promo_lines > 100);
        let names: Vec<&str> = shop.events.iter().map(|e| e.name.as_str()).collect();
        for expected in [
            "Idul Fitri 2025",
            "Idul Fitri 2026",
            "Natal 2025",
            "Tahun Baru 2026",
            "Hari Kemerdekaan RI 2026",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        // The coming year's holidays are there for the forecast.
        assert!(names.contains(&"Idul Fitri 2027"));
    }

    #[test]
    fn opening_stock_has_a_few_low_and_two_empty_products() {
        let shop = shop(42, 90);
        let zero = shop.opening_stock.iter().filter(|s| **s == 0).count();
        let low = shop
            .opening_stock
            .iter()
            .filter(|s| (1..10).contains(*s))
            .count();
        assert_eq!(zero, 2);
        assert_eq!(low, 4);
        assert!(shop.opening_stock.iter().all(|s| *s >= 0));
    }

    #[test]
    fn idul_fitri_extends_beyond_the_table() {
        let dates = idul_fitri_between(ymd(2010, 1, 1), ymd(2040, 12, 31));
        assert!(dates.contains(&ymd(2024, 4, 10)));
        // About one a lunar year, none missing at the table's edges.
        for pair in dates.windows(2) {
            let gap = (pair[1] - pair[0]).num_days();
            assert!((350..=358).contains(&gap), "{pair:?}");
        }
        assert!(dates[0].year() == 2010 && dates.last().unwrap().year() == 2040);
    }

    #[test]
    fn cash_is_rounded_up_to_a_nice_amount() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..1000 {
            let total = rng.random_range(1..50_000_000);
            let paid = cash_paid(&mut rng, total);
            assert!(paid >= total);
            assert!(paid == total || paid % 100_000 == 0);
        }
    }
}
