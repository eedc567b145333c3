//! The catalogue and stock changes that are not sales (restocks and adjustments).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Principal, Role};
use super::barcode::Barcode;
use super::changes::{Group, Shop};
use super::money::Money;
use super::sku::Sku;
use super::stock::{MAX_STOCK, apply_stock_change};
use super::{
    DomainError, DomainResult, millis_to_rfc3339, optional_text, page_bounds, required_text,
};
use crate::storage::{Db, StorageError, Tx, categories, products, settings};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProductView {
    pub sku: String,
    /// EAN-13 form; absent when the product has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    pub name: String,
    pub category: Option<String>,
    pub variation: Option<String>,
    pub price: Money,
    /// Admins only: absent (not zero) for cashiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_price: Option<Money>,
    pub stock: i64,
    pub stock_status: StockStatus,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// Where a product's stock stands against the store's low-stock threshold: `out` at zero,
/// `low` up to the threshold, `fine` above it (the dashboard's stock health counts these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StockStatus {
    Out,
    Low,
    Fine,
}

impl StockStatus {
    pub fn of(stock: i64, low_stock_threshold: i64) -> Self {
        if stock <= 0 {
            StockStatus::Out
        } else if stock <= low_stock_threshold {
            StockStatus::Low
        } else {
            StockStatus::Fine
        }
    }
}

impl ProductView {
    pub fn new(row: products::ProductRow, low_stock_threshold: i64) -> Self {
        ProductView {
            stock_status: StockStatus::of(row.stock, low_stock_threshold),
            sku: row.sku,
            barcode: row.barcode,
            name: row.name,
            category: row.category,
            variation: row.variation,
            price: Money::from_cents(row.price_cents),
            cost_price: Some(Money::from_cents(row.cost_price_cents)),
            stock: row.stock,
            is_active: row.is_active,
            created_at: millis_to_rfc3339(row.created_at),
            updated_at: millis_to_rfc3339(row.updated_at),
        }
    }
}

/// Who an answer is shaped for: cashiers never see cost prices, margins or stock value at
/// cost (SPEC). Cached answers are keyed by it, so one audience never gets the other's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Admin,
    Cashier,
}

impl Audience {
    pub fn of(principal: &Principal) -> Self {
        match principal.role {
            Role::Admin => Audience::Admin,
            Role::Cashier => Audience::Cashier,
        }
    }

    pub fn sees_costs(self) -> bool {
        self == Audience::Admin
    }

    pub fn name(self) -> &'static str {
        match self {
            Audience::Admin => "admin",
            Audience::Cashier => "cashier",
        }
    }
}

impl ProductView {
    /// The view with what `audience` may not see taken out.
    pub fn for_audience(mut self, audience: Audience) -> Self {
        if !audience.sees_costs() {
            self.cost_price = None;
        }
        self
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Matches SKU or name, case-insensitively.
    #[param(schema_with = super::schema::optional_text_100)]
    pub search: Option<String>,
    /// Exact category name.
    #[param(schema_with = super::schema::optional_text_100)]
    pub category: Option<String>,
    /// Only products at or below the store's low-stock threshold.
    pub low_stock: Option<bool>,
    /// Only products with this stock status (`out`, `low` or `fine`, as each product's
    /// `stock_status` says).
    pub stock_status: Option<StockStatus>,
    /// Include deactivated products.
    pub include_inactive: Option<bool>,
    #[param(schema_with = super::schema::limit)]
    pub limit: Option<i64>,
    #[param(schema_with = super::schema::offset)]
    pub offset: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub sku: Sku,
    pub barcode: Option<Barcode>,
    #[schema(schema_with = super::schema::name_200)]
    pub name: String,
    #[schema(schema_with = super::schema::optional_text_100)]
    pub category: Option<String>,
    #[schema(schema_with = super::schema::optional_text_100)]
    pub variation: Option<String>,
    #[schema(schema_with = super::schema::price)]
    pub price: Money,
    #[schema(schema_with = super::schema::optional_price)]
    pub cost_price: Option<Money>,
    /// Opening stock, recorded in the ledger as an adjustment.
    #[schema(schema_with = super::schema::opening_stock)]
    pub stock: Option<i64>,
}

/// Fields to change; absent fields keep their value. Stock changes go through the ledger
/// endpoint instead.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductUpdate {
    /// A new barcode, or `null` to take it away.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<Barcode>)]
    pub barcode: Option<Option<Barcode>>,
    #[schema(schema_with = super::schema::optional_name_200)]
    pub name: Option<String>,
    #[schema(schema_with = super::schema::optional_text_100)]
    pub category: Option<String>,
    #[schema(schema_with = super::schema::optional_text_100)]
    pub variation: Option<String>,
    #[schema(schema_with = super::schema::optional_price)]
    pub price: Option<Money>,
    #[schema(schema_with = super::schema::optional_price)]
    pub cost_price: Option<Money>,
    pub is_active: Option<bool>,
}

/// `null` in a body means "take it away", which plain `Option` cannot tell from absent.
fn present_or_null<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// What the till's scanner read, or what the cashier typed: a barcode (EAN-13 or
    /// UPC-A) or a SKU.
    #[param(
        min_length = 1,
        max_length = 64,
        pattern = "\\S",
        example = "8991234000010"
    )]
    pub code: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductStats {
    pub total_products: i64,
    pub active_products: i64,
    pub low_stock_products: i64,
    pub out_of_stock_products: i64,
    pub low_stock_threshold: i64,
    pub units_in_stock: i64,
    /// Admins only: absent for cashiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock_value_at_cost: Option<Money>,
    pub stock_value_at_price: Money,
    pub categories: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Removal {
    pub sku: String,
    /// `deleted` when the product had no sales, `deactivated` when history keeps it.
    pub outcome: &'static str,
}

fn check_price(field: &str, price: Money) -> DomainResult<Money> {
    if price.is_negative() {
        return Err(DomainError::validation(format!(
            "{field} must not be negative"
        )));
    }
    Ok(price)
}

/// A product as `audience` may see it, its stock status from the current threshold.
pub(crate) async fn view(
    db: &Db,
    row: products::ProductRow,
    audience: Audience,
) -> DomainResult<ProductView> {
    let threshold = low_stock_threshold(db).await?;
    Ok(ProductView::new(row, threshold).for_audience(audience))
}

async fn low_stock_threshold(db: &Db) -> DomainResult<i64> {
    Ok(settings::get(db.pool())
        .await?
        .map_or(super::settings::DEFAULT_LOW_STOCK_THRESHOLD, |s| {
            s.low_stock_threshold
        }))
}

/// A product-list query after validation: what the list depends on and nothing else, so
/// that equivalent URLs (`limit=5`, `limit=05&offset=0`) are one cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListFilter {
    pub search: Option<String>,
    pub category: Option<String>,
    pub low_stock: bool,
    pub stock_status: Option<StockStatus>,
    pub include_inactive: bool,
    pub limit: i64,
    pub offset: i64,
}

/// Longest accepted `search` and `category` filters, in characters.
pub const MAX_FILTER_CHARS: usize = 100;

impl ProductQuery {
    pub fn normalise(self) -> DomainResult<ListFilter> {
        let (limit, offset) = page_bounds(self.limit, self.offset)?;
        Ok(ListFilter {
            search: optional_text("search", self.search.as_deref(), MAX_FILTER_CHARS)?,
            category: optional_text("category", self.category.as_deref(), MAX_FILTER_CHARS)?,
            low_stock: self.low_stock.unwrap_or(false),
            stock_status: self.stock_status,
            include_inactive: self.include_inactive.unwrap_or(false),
            limit,
            offset,
        })
    }
}

impl ListFilter {
    /// The cache key: the normalised filter, as JSON.
    pub fn cache_key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

pub async fn list(
    db: &Db,
    query: ListFilter,
    audience: Audience,
) -> DomainResult<Page<ProductView>> {
    let ListFilter {
        search,
        category,
        low_stock,
        stock_status,
        include_inactive,
        limit,
        offset,
    } = query;
    let threshold = low_stock_threshold(db).await?;
    // The stock range of each status, as StockStatus::of draws the lines.
    let (stock_at_least, mut stock_at_most) = match stock_status {
        None => (None, None),
        Some(StockStatus::Out) => (None, Some(0)),
        Some(StockStatus::Low) => (Some(1), Some(threshold)),
        Some(StockStatus::Fine) => (Some(threshold + 1), None),
    };
    if low_stock {
        stock_at_most = Some(stock_at_most.map_or(threshold, |most| most.min(threshold)));
    }
    let filter = products::ProductFilter {
        search,
        category,
        stock_at_least,
        stock_at_most,
        include_inactive,
        limit,
        offset,
    };
    let (rows, total) = products::list(db.pool(), &filter).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|row| ProductView::new(row, threshold).for_audience(audience))
            .collect(),
        total,
        limit,
        offset,
    })
}

pub async fn get(db: &Db, sku: &Sku, audience: Audience) -> DomainResult<ProductView> {
    let row = find(db, sku).await?;
    view(db, row, audience).await
}

/// The product a scan names: its barcode first, then its SKU (a code printed in-house is
/// often the SKU itself).
pub async fn lookup(db: &Db, code: &str, audience: Audience) -> DomainResult<ProductView> {
    // Anything that is no product's code is simply not found: a scanner can send noise.
    let code = code.trim();
    if code.is_empty() || code.chars().count() > 64 {
        return Err(DomainError::validation(
            "code must be 1 to 64 characters, not only blanks",
        ));
    }
    let by_barcode = match Barcode::recognise(code) {
        Some(barcode) => products::find_by_barcode(db.pool(), barcode.as_str()).await?,
        None => None,
    };
    let row = match by_barcode {
        Some(row) => Some(row),
        None => match Sku::parse(code) {
            Ok(sku) => products::find_by_sku(db.pool(), sku.as_str()).await?,
            Err(_) => None,
        },
    };
    let row = row.ok_or_else(|| {
        DomainError::not_found(format!("no product has the barcode or SKU {code}"))
    })?;
    view(db, row, audience).await
}

/// Refuses a barcode that another product already has, naming that product, so the
/// owner knows which label is wrong.
async fn ensure_barcode_free(
    tx: &mut Tx,
    barcode: Option<&Barcode>,
    own_id: Option<i64>,
) -> DomainResult<()> {
    let Some(barcode) = barcode else {
        return Ok(());
    };
    match products::find_by_barcode(tx.conn(), barcode.as_str()).await? {
        Some(other) if Some(other.id) != own_id => Err(DomainError::Conflict(format!(
            "barcode {barcode} already belongs to product {}",
            other.sku
        ))),
        _ => Ok(()),
    }
}

async fn find(db: &Db, sku: &Sku) -> DomainResult<products::ProductRow> {
    products::find_by_sku(db.pool(), sku.as_str())
        .await?
        .ok_or_else(|| DomainError::not_found(format!("product {sku}")))
}

pub async fn create(
    shop: &Shop,
    principal: &Principal,
    input: NewProduct,
) -> DomainResult<ProductView> {
    let sku = input.sku;
    let name = required_text("name", &input.name, 200)?;
    let category = optional_text("category", input.category.as_deref(), 100)?;
    let variation = optional_text("variation", input.variation.as_deref(), 100)?;
    let price = check_price("price", input.price)?;
    let cost_price = check_price("cost_price", input.cost_price.unwrap_or(Money::ZERO))?;
    let opening_stock = input.stock.unwrap_or(0);
    if !(0..=MAX_STOCK).contains(&opening_stock) {
        return Err(DomainError::validation(format!(
            "stock must be between 0 and {MAX_STOCK}"
        )));
    }

    let mut tx = shop.db.begin_write().await?;
    ensure_barcode_free(&mut tx, input.barcode.as_ref(), None).await?;
    let category_id = match &category {
        Some(name) => Some(categories::ensure(&mut tx, name).await?),
        None => None,
    };
    let new = products::NewProduct {
        sku: sku.as_str(),
        barcode: input.barcode.as_ref().map(Barcode::as_str),
        name: &name,
        category_id,
        variation: variation.as_deref(),
        price_cents: price.cents(),
        cost_price_cents: cost_price.cents(),
    };
    let id = match products::insert(&mut tx, &new).await {
        Err(e) if e.is_unique_violation() => {
            // The barcode was checked above; a concurrent writer may have taken it since.
            return Err(DomainError::Conflict(format!(
                "a product with sku {sku} (or its barcode) exists"
            )));
        }
        other => other?,
    };
    if opening_stock > 0 {
        apply_stock_change(
            &mut tx,
            id,
            opening_stock,
            "adjustment",
            Some(principal.user_id),
            Some("opening stock"),
        )
        .await?;
    }
    let row = products::find_by_id(tx.conn(), id)
        .await?
        .ok_or_else(|| DomainError::not_found("product"))?;
    tx.commit().await.map_err(StorageError::from)?;
    shop.changed(&[Group::Catalog]).await;
    view(&shop.db, row, Audience::Admin).await
}

pub async fn update(shop: &Shop, sku: &Sku, input: ProductUpdate) -> DomainResult<ProductView> {
    let mut tx = shop.db.begin_write().await?;
    let current = products::find_by_sku(tx.conn(), sku.as_str())
        .await?
        .ok_or_else(|| DomainError::not_found(format!("product {sku}")))?;
    let name = match input.name {
        Some(name) => required_text("name", &name, 200)?,
        None => current.name.clone(),
    };
    let category = match input.category {
        Some(category) => optional_text("category", Some(&category), 100)?,
        None => current.category.clone(),
    };
    let variation = match input.variation {
        Some(variation) => optional_text("variation", Some(&variation), 100)?,
        None => current.variation.clone(),
    };
    let price = check_price(
        "price",
        input
            .price
            .unwrap_or(Money::from_cents(current.price_cents)),
    )?;
    let cost_price = check_price(
        "cost_price",
        input
            .cost_price
            .unwrap_or(Money::from_cents(current.cost_price_cents)),
    )?;
    let barcode = match input.barcode {
        Some(barcode) => barcode,
        None => current.barcode.as_deref().map(Barcode::parse).transpose()?,
    };
    ensure_barcode_free(&mut tx, barcode.as_ref(), Some(current.id)).await?;
    let category_id = match &category {
        Some(name) => Some(categories::ensure(&mut tx, name).await?),
        None => None,
    };
    let changes = products::ProductChanges {
        name: &name,
        barcode: barcode.as_ref().map(Barcode::as_str),
        category_id,
        variation: variation.as_deref(),
        price_cents: price.cents(),
        cost_price_cents: cost_price.cents(),
        is_active: input.is_active.unwrap_or(current.is_active),
    };
    match products::update(&mut tx, current.id, &changes).await {
        Err(e) if e.is_unique_violation() => {
            return Err(DomainError::Conflict(format!(
                "barcode {} was just given to another product",
                barcode.as_ref().map_or("", Barcode::as_str)
            )));
        }
        other => other?,
    }
    let row = products::find_by_id(tx.conn(), current.id)
        .await?
        .ok_or_else(|| DomainError::not_found("product"))?;
    tx.commit().await.map_err(StorageError::from)?;
    shop.changed(&[Group::Catalog]).await;
    view(&shop.db, row, Audience::Admin).await
}

/// Deletes a product that never sold; one with sales history is only deactivated, so
/// past sales and forecasts keep their product.
pub async fn remove(shop: &Shop, sku: &Sku) -> DomainResult<Removal> {
    let mut tx = shop.db.begin_write().await?;
    let current = products::find_by_sku(tx.conn(), sku.as_str())
        .await?
        .ok_or_else(|| DomainError::not_found(format!("product {sku}")))?;
    let outcome = if products::has_history(&mut tx, current.id).await? {
        products::deactivate(&mut tx, current.id).await?;
        "deactivated"
    } else {
        products::delete(&mut tx, current.id).await?;
        "deleted"
    };
    tx.commit().await.map_err(StorageError::from)?;
    shop.changed(&[Group::Catalog]).await;
    Ok(Removal {
        sku: current.sku,
        outcome,
    })
}

pub async fn stats(db: &Db, audience: Audience) -> DomainResult<ProductStats> {
    let threshold = low_stock_threshold(db).await?;
    let row = products::stats(db.pool(), threshold).await?;
    let categories = categories::list(db.pool()).await?.len() as i64;
    Ok(ProductStats {
        total_products: row.total_products,
        active_products: row.active_products,
        low_stock_products: row.low_stock,
        out_of_stock_products: row.out_of_stock,
        low_stock_threshold: threshold,
        units_in_stock: row.units_in_stock,
        stock_value_at_cost: audience
            .sees_costs()
            .then(|| Money::from_cents(row.stock_cost_cents)),
        stock_value_at_price: Money::from_cents(row.stock_retail_cents),
        categories,
    })
}
