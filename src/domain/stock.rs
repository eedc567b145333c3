//! Stock moves that are not sales: restocks and manual adjustments, each written to the
//! stock ledger with who, when and why, and the ledger itself.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Principal;
use super::changes::{Group, Shop};
use super::idempotency::Idempotent;
use super::products::{Audience, Page, ProductView};
use super::sku::Sku;
use super::{DomainError, DomainResult, millis_to_rfc3339, optional_text, page_bounds};
use crate::storage::{Db, StorageError, ledger, products};

/// The most units a product can hold, and the largest single change.
pub(crate) const MAX_STOCK: i64 = 1_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StockReason {
    Restock,
    Adjustment,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockChange {
    /// Units to add (positive) or remove (negative); never zero.
    #[schema(schema_with = super::schema::stock_change)]
    pub change: i64,
    pub reason: StockReason,
    #[schema(schema_with = super::schema::optional_text_500)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntryView {
    pub id: i64,
    pub change: i64,
    pub balance_after: i64,
    pub reason: String,
    pub transaction_id: Option<i64>,
    pub user: Option<String>,
    pub note: Option<String>,
    pub created_at: String,
}

pub struct StockOutcome {
    pub product: ProductView,
    /// The answer of an earlier request with the same `Idempotency-Key`: nothing changed.
    pub replayed: bool,
}

/// A restock or adjustment. With an `Idempotency-Key`, a double tap or a retry after a
/// lost answer changes stock once.
pub async fn change_stock(
    shop: &Shop,
    principal: &Principal,
    sku: &Sku,
    input: StockChange,
    idempotency_key: Option<&str>,
) -> DomainResult<StockOutcome> {
    if input.change == 0 || input.change.abs() > MAX_STOCK {
        return Err(DomainError::validation(format!(
            "change must be a non-zero number of units between -{MAX_STOCK} and {MAX_STOCK}"
        )));
    }
    if input.reason == StockReason::Restock && input.change < 0 {
        return Err(DomainError::validation(
            "a restock adds units: change must be positive",
        ));
    }
    let note = optional_text("note", input.note.as_deref(), 500)?;
    let reason = match input.reason {
        StockReason::Restock => "restock",
        StockReason::Adjustment => "adjustment",
    };
    let idempotent = idempotency_key
        .map(|key| Idempotent::new(principal.user_id, key, sku.as_str(), &input))
        .transpose()?;
    if let Some(idempotent) = &idempotent
        && let Some(product) = idempotent.replay(&shop.db).await?
    {
        return Ok(StockOutcome {
            product,
            replayed: true,
        });
    }
    let mut tx = shop.db.begin_write().await?;
    if let Some(idempotent) = &idempotent
        && !idempotent.claim(&mut tx).await?
    {
        tx.rollback().await.map_err(StorageError::from)?;
        return Ok(StockOutcome {
            product: idempotent.earlier_answer(&shop.db).await?,
            replayed: true,
        });
    }
    let current = products::find_by_sku(tx.conn(), sku.as_str())
        .await?
        .ok_or_else(|| DomainError::not_found(format!("product {sku}")))?;
    if current.stock + input.change > MAX_STOCK {
        return Err(DomainError::validation(format!(
            "stock may not exceed {MAX_STOCK}"
        )));
    }
    apply_stock_change(
        &mut tx,
        current.id,
        input.change,
        reason,
        Some(principal.user_id),
        note.as_deref(),
    )
    .await
    .map_err(|e| match e {
        DomainError::InsufficientStock(_) => DomainError::Conflict(format!(
            "stock of {sku} cannot go below 0 (current {}, change {})",
            current.stock, input.change
        )),
        other => other,
    })?;
    let row = products::find_by_id(tx.conn(), current.id)
        .await?
        .ok_or_else(|| DomainError::not_found("product"))?;
    let product = super::products::view(&shop.db, row, Audience::Admin).await?;
    if let Some(idempotent) = &idempotent {
        idempotent.complete(&mut tx, &product).await?;
    }
    tx.commit().await.map_err(StorageError::from)?;
    shop.changed(&[Group::Catalog]).await;
    Ok(StockOutcome {
        product,
        replayed: false,
    })
}

/// Changes stock and writes the ledger entry in the caller's transaction: the one way
/// stock moves, so stock always equals the ledger's sum.
pub async fn apply_stock_change(
    tx: &mut crate::storage::Tx,
    product_id: i64,
    change: i64,
    reason: &str,
    user_id: Option<i64>,
    note: Option<&str>,
) -> DomainResult<products::StockChanged> {
    let changed = products::change_stock(tx, product_id, change)
        .await?
        .ok_or_else(|| DomainError::InsufficientStock(Vec::new()))?;
    let entry = ledger::LedgerEntry {
        product_id,
        change,
        balance_after: changed.stock,
        reason,
        sale_id: None,
        user_id,
        note,
    };
    ledger::record(tx, &entry).await?;
    Ok(changed)
}

pub async fn ledger(
    db: &Db,
    sku: &Sku,
    limit: Option<i64>,
    offset: Option<i64>,
) -> DomainResult<Page<LedgerEntryView>> {
    let (limit, offset) = page_bounds(limit, offset)?;
    let product = products::find_by_sku(db.pool(), sku.as_str())
        .await?
        .ok_or_else(|| DomainError::not_found(format!("product {sku}")))?;
    let rows = ledger::for_product(db.pool(), product.id, limit, offset).await?;
    let total = ledger::count_for_product(db.pool(), product.id).await?;
    let items = rows
        .into_iter()
        .map(|r| LedgerEntryView {
            id: r.id,
            change: r.change,
            balance_after: r.balance_after,
            reason: r.reason,
            transaction_id: r.sale_id,
            user: r.user_email,
            note: r.note,
            created_at: millis_to_rfc3339(r.created_at),
        })
        .collect();
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}
