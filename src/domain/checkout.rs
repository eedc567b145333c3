//! Point-of-sale checkout: selling a cart.
//!
//! A checkout is one database transaction: every line's stock is taken with a conditional
//! update (never below zero, so racing cashiers cannot oversell), the sale, its lines and
//! the ledger entries are written, and with an `Idempotency-Key` the response is stored
//! in the same transaction so a retry replays it instead of selling twice.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Principal;
use super::calendar::format_date;
use super::changes::{Group, Shop};
use super::idempotency::Idempotent;
use super::money::Money;
use super::sales::{SaleLineView, SaleView};
use super::sku::Sku;
use super::{DomainError, DomainResult, Shortage, millis_to_rfc3339, settings};
use crate::storage::{Db, StorageError, ledger, products, sales};

const MAX_LINES: usize = 200;
const MAX_QUANTITY: i64 = 100_000;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartLine {
    pub product_sku: Sku,
    /// 1 to 100000; lines for the same product and promo flag add up, within that bound.
    #[schema(schema_with = super::schema::quantity)]
    pub quantity: i64,
    #[serde(default)]
    pub is_promo: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    #[schema(min_items = 1, max_items = 200)]
    pub items: Vec<CartLine>,
    /// Cash handed over; absent means exact payment. Below the total is a 422.
    #[schema(schema_with = super::schema::optional_price)]
    pub paid_amount: Option<Money>,
}

/// What a checkout produced, and whether it is the replay of an earlier request.
pub struct CheckoutOutcome {
    pub sale: SaleView,
    pub replayed: bool,
}

struct Line {
    sku: String,
    quantity: i64,
    is_promo: bool,
}

fn validate(request: &CheckoutRequest) -> DomainResult<Vec<Line>> {
    if request.items.is_empty() {
        return Err(DomainError::validation(
            "items must contain at least one line",
        ));
    }
    if request.items.len() > MAX_LINES {
        return Err(DomainError::validation(format!(
            "a sale has at most {MAX_LINES} lines"
        )));
    }
    if request.paid_amount.is_some_and(Money::is_negative) {
        return Err(DomainError::validation("paid_amount must not be negative"));
    }
    // Lines for the same product and promo flag are one line on the receipt.
    let mut merged: BTreeMap<(String, bool), i64> = BTreeMap::new();
    for (index, line) in request.items.iter().enumerate() {
        let sku = line.product_sku.to_string();
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(DomainError::validation(format!(
                "items[{index}]: quantity must be between 1 and {MAX_QUANTITY}"
            )));
        }
        let quantity = merged.entry((sku, line.is_promo)).or_default();
        *quantity += line.quantity;
        if *quantity > MAX_QUANTITY {
            return Err(DomainError::validation(format!(
                "items[{index}]: quantity must be between 1 and {MAX_QUANTITY}"
            )));
        }
    }
    Ok(merged
        .into_iter()
        .map(|((sku, is_promo), quantity)| Line {
            sku,
            quantity,
            is_promo,
        })
        .collect())
}

/// The receipt's lines at the given prices, and their total.
fn price(
    lines: &[Line],
    product: impl Fn(&str) -> (Money, String, Option<String>),
) -> DomainResult<(Vec<SaleLineView>, Money)> {
    let mut total = Money::ZERO;
    let mut views = Vec::with_capacity(lines.len());
    for line in lines {
        let (unit_price, product_name, product_variation) = product(&line.sku);
        let line_total = unit_price
            .checked_mul(line.quantity)
            .ok_or_else(|| DomainError::validation("sale total is too large"))?;
        total = total
            .checked_add(line_total)
            .ok_or_else(|| DomainError::validation("sale total is too large"))?;
        views.push(SaleLineView {
            product_sku: line.sku.clone(),
            product_name,
            product_variation,
            quantity: line.quantity,
            unit_price,
            line_total,
            is_promo: line.is_promo,
        });
    }
    Ok((views, total))
}

/// A cart priced as a checkout would price it now, without selling: what the till shows
/// while the cart is being built (the browser does no money arithmetic).
#[derive(Debug, Serialize, ToSchema)]
pub struct Quote {
    pub items: Vec<SaleLineView>,
    pub total: Money,
    /// The amount handed over, or the total when none was given.
    pub paid_amount: Money,
    /// Change to give back; absent while the amount paid is below the total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Money>,
    /// What is still owed: zero once enough was paid.
    pub amount_due: Money,
    /// Lines the current stock cannot serve (a checkout now would be a 409).
    pub shortages: Vec<Shortage>,
}

/// Prices a cart with the same rules as [`checkout`] (merged lines, current prices, active
/// products only) and reports shortages instead of refusing them.
pub async fn quote(db: &Db, request: &CheckoutRequest) -> DomainResult<Quote> {
    let lines = validate(request)?;
    let mut known = BTreeMap::new();
    let mut shortages = Vec::new();
    for line in &lines {
        if known.contains_key(line.sku.as_str()) {
            continue;
        }
        let product = products::find_by_sku(db.pool(), &line.sku)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("product {}", line.sku)))?;
        if !product.is_active {
            return Err(DomainError::Conflict(format!(
                "product {} is deactivated and not for sale",
                line.sku
            )));
        }
        let requested: i64 = lines
            .iter()
            .filter(|l| l.sku == line.sku)
            .map(|l| l.quantity)
            .sum();
        if requested > product.stock {
            shortages.push(Shortage {
                product_sku: line.sku.clone(),
                requested,
                available: product.stock,
            });
        }
        known.insert(line.sku.as_str(), product);
    }
    let (items, total) = price(&lines, |sku| {
        let product = &known[sku];
        (
            Money::from_cents(product.price_cents),
            product.name.clone(),
            product.variation.clone(),
        )
    })?;
    let paid_amount = request.paid_amount.unwrap_or(total);
    let change = paid_amount.checked_sub(total).filter(|c| !c.is_negative());
    let amount_due = total
        .checked_sub(paid_amount)
        .filter(|due| !due.is_negative())
        .unwrap_or(Money::ZERO);
    Ok(Quote {
        items,
        total,
        paid_amount,
        change,
        amount_due,
        shortages,
    })
}

/// Sells a cart. A sale changes stock and the sales figures; it never retrains a model
/// (the nightly run sees it), or every sale would queue a training.
pub async fn checkout(
    shop: &Shop,
    principal: &Principal,
    request: CheckoutRequest,
    idempotency_key: Option<&str>,
) -> DomainResult<CheckoutOutcome> {
    let db = &shop.db;
    let lines = validate(&request)?;
    let idempotent = idempotency_key
        .map(|key| Idempotent::new(principal.user_id, key, "", &request))
        .transpose()?;
    if let Some(idempotent) = &idempotent
        && let Some(sale) = idempotent.replay(db).await?
    {
        return Ok(CheckoutOutcome {
            sale,
            replayed: true,
        });
    }
    let calendar = settings::calendar(db).await?;

    let mut tx = db.begin_write().await?;
    if let Some(idempotent) = &idempotent
        && !idempotent.claim(&mut tx).await?
    {
        // Another request with this key committed while we were getting here.
        tx.rollback().await.map_err(StorageError::from)?;
        return Ok(CheckoutOutcome {
            sale: idempotent.earlier_answer(db).await?,
            replayed: true,
        });
    }

    // Take stock product by product in SKU order: a fixed lock order means two carts
    // holding the same products can never deadlock each other.
    let mut per_sku: BTreeMap<&str, i64> = BTreeMap::new();
    for line in &lines {
        *per_sku.entry(line.sku.as_str()).or_default() += line.quantity;
    }
    let mut taken = BTreeMap::new();
    let mut shortages = Vec::new();
    for (&sku, &quantity) in &per_sku {
        let product = products::find_by_sku(tx.conn(), sku)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("product {sku}")))?;
        if !product.is_active {
            return Err(DomainError::Conflict(format!(
                "product {sku} is deactivated and not for sale"
            )));
        }
        match products::change_stock(&mut tx, product.id, -quantity).await? {
            Some(changed) => {
                taken.insert(sku, (product.id, changed));
            }
            None => {
                // Read again: the stock seen before the update may be stale by now.
                let available = products::find_by_id(tx.conn(), product.id)
                    .await?
                    .map_or(product.stock, |p| p.stock);
                shortages.push(Shortage {
                    product_sku: sku.to_owned(),
                    requested: quantity,
                    available,
                });
            }
        }
    }
    if !shortages.is_empty() {
        tx.rollback().await.map_err(StorageError::from)?;
        return Err(DomainError::InsufficientStock(shortages));
    }

    let (views, total) = price(&lines, |sku| {
        let (_, changed) = &taken[sku];
        (
            Money::from_cents(changed.price_cents),
            changed.name.clone(),
            changed.variation.clone(),
        )
    })?;
    let paid = request.paid_amount.unwrap_or(total);
    if paid < total {
        tx.rollback().await.map_err(StorageError::from)?;
        return Err(DomainError::Unprocessable(format!(
            "paid_amount {paid} is less than the total {total}"
        )));
    }
    let change = paid.checked_sub(total).unwrap_or(Money::ZERO);

    let now = chrono::Utc::now();
    let business_date = format_date(calendar.business_date(now));
    let sale_id = sales::insert(
        &mut tx,
        &sales::NewSale {
            created_at: now.timestamp_millis(),
            business_date: &business_date,
            cashier_id: Some(principal.user_id),
            total_cents: total.cents(),
            paid_cents: paid.cents(),
            change_cents: change.cents(),
            source: "pos",
        },
    )
    .await?;
    let items: Vec<sales::NewSaleItem<'_>> = lines
        .iter()
        .zip(&views)
        .map(|(line, view)| sales::NewSaleItem {
            product_id: taken[line.sku.as_str()].0,
            quantity: line.quantity,
            unit_price_cents: view.unit_price.cents(),
            line_total_cents: view.line_total.cents(),
            is_promo: line.is_promo,
            business_date: &business_date,
        })
        .collect();
    sales::insert_items(&mut tx, |_| sale_id, &items).await?;
    for (&sku, (product_id, changed)) in &taken {
        let entry = ledger::LedgerEntry {
            product_id: *product_id,
            change: -per_sku[sku],
            balance_after: changed.stock,
            reason: "sale",
            sale_id: Some(sale_id),
            user_id: Some(principal.user_id),
            note: None,
        };
        ledger::record(&mut tx, &entry).await?;
    }

    let sale = SaleView {
        transaction_id: sale_id,
        created_at: millis_to_rfc3339(now.timestamp_millis()),
        business_date,
        items: views,
        total,
        paid_amount: paid,
        change,
        cashier_id: Some(principal.user_id),
        cashier: Some(principal.email.clone()),
        source: "pos".into(),
    };
    if let Some(idempotent) = &idempotent {
        idempotent.complete(&mut tx, &sale).await?;
    }
    tx.commit().await.map_err(StorageError::from)?;
    shop.changed(&[Group::Catalog, Group::Sales]).await;
    Ok(CheckoutOutcome {
        sale,
        replayed: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, quantity: i64) -> CartLine {
        CartLine {
            product_sku: Sku::parse(sku).unwrap(),
            quantity,
            is_promo: false,
        }
    }

    #[test]
    fn same_product_lines_merge_and_bad_lines_are_named() {
        let request = CheckoutRequest {
            items: vec![line("A", 2), line("A", 3), line("B", 1)],
            paid_amount: None,
        };
        let lines = validate(&request).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].quantity, 5);
        let request = CheckoutRequest {
            items: vec![line("A", 1), line("B", 0)],
            paid_amount: None,
        };
        let error = validate(&request).err().unwrap().to_string();
        assert!(error.contains("items[1]"), "{error}");
        let request = CheckoutRequest {
            items: vec![],
            paid_amount: None,
        };
        assert!(validate(&request).is_err());
    }
}
