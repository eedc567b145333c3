//! The sales record: listing, reading and exporting past sales (checkouts, imported and
//! demo history). Cashiers see only their own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Principal, Role};
use super::calendar::{DateOrInstant, StoreCalendar, parse_date_or_instant};
use super::money::Money;
use super::products::Page;
use super::{DomainError, DomainResult, millis_to_rfc3339, page_bounds, settings};
use crate::storage::{Db, sales};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SaleLineView {
    pub product_sku: String,
    pub product_name: String,
    /// The product's variation (size, flavour), so two lines of one product name differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_variation: Option<String>,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
    pub is_promo: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SaleView {
    pub transaction_id: i64,
    pub created_at: String,
    pub business_date: String,
    pub items: Vec<SaleLineView>,
    pub total: Money,
    pub paid_amount: Money,
    pub change: Money,
    pub cashier_id: Option<i64>,
    pub cashier: Option<String>,
    /// `pos` for checkouts, `import` or `demo` for loaded history.
    pub source: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SaleQuery {
    /// First day (YYYY-MM-DD, store time) or instant (RFC 3339), inclusive.
    #[param(schema_with = super::schema::date_or_instant)]
    pub from: Option<String>,
    /// Last day (inclusive) or instant (exclusive); not before `from`.
    #[param(schema_with = super::schema::date_or_instant)]
    pub to: Option<String>,
    #[param(schema_with = super::schema::limit)]
    pub limit: Option<i64>,
    #[param(schema_with = super::schema::offset)]
    pub offset: Option<i64>,
}

fn range_filter(
    calendar: &StoreCalendar,
    from: Option<&str>,
    to: Option<&str>,
) -> DomainResult<sales::SaleFilter> {
    let from_millis = from
        .map(|text| {
            parse_date_or_instant("from", text).map(|v| match v {
                DateOrInstant::Date(d) => calendar.start_of_day_millis(d),
                DateOrInstant::Instant(t) => t.timestamp_millis(),
            })
        })
        .transpose()?;
    let to_millis = to
        .map(|text| {
            parse_date_or_instant("to", text).map(|v| match v {
                DateOrInstant::Date(d) => calendar.end_of_day_exclusive_millis(d),
                DateOrInstant::Instant(t) => t.timestamp_millis(),
            })
        })
        .transpose()?;
    if let (Some(from), Some(to)) = (from_millis, to_millis)
        && from > to
    {
        return Err(DomainError::validation("from must not be after to"));
    }
    Ok(sales::SaleFilter {
        from_millis,
        to_millis,
        ..Default::default()
    })
}

/// Cashiers see their own sales; admins see all.
fn visible_to(principal: &Principal) -> Option<i64> {
    (principal.role == Role::Cashier).then_some(principal.user_id)
}

pub async fn list(
    db: &Db,
    principal: &Principal,
    query: SaleQuery,
) -> DomainResult<Page<SaleView>> {
    let (limit, offset) = page_bounds(query.limit, query.offset)?;
    let calendar = settings::calendar(db).await?;
    let mut filter = range_filter(&calendar, query.from.as_deref(), query.to.as_deref())?;
    filter.cashier_id = visible_to(principal);
    filter.limit = limit;
    filter.offset = offset;
    let (rows, total) = sales::list(db.pool(), &filter).await?;
    let items = with_lines(db, rows).await?;
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

pub async fn get(db: &Db, principal: &Principal, id: i64) -> DomainResult<SaleView> {
    let not_found = || DomainError::not_found(format!("transaction {id}"));
    let row = sales::find(db.pool(), id).await?.ok_or_else(not_found)?;
    if visible_to(principal).is_some_and(|cashier| row.cashier_id != Some(cashier)) {
        return Err(not_found());
    }
    with_lines(db, vec![row]).await?.pop().ok_or_else(not_found)
}

async fn with_lines(db: &Db, rows: Vec<sales::SaleRow>) -> DomainResult<Vec<SaleView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Only these sales' lines: loading every line between the lowest and highest id would
    // read other cashiers' sales (and any number of them) for a filtered page.
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut lines: BTreeMap<i64, Vec<SaleLineView>> = BTreeMap::new();
    for item in sales::items_of(db.pool(), &ids).await? {
        lines.entry(item.sale_id).or_default().push(line_view(item));
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let items = lines.remove(&row.id).unwrap_or_default();
            sale_view(row, items)
        })
        .collect())
}

pub(super) fn line_view(item: sales::SaleItemRow) -> SaleLineView {
    SaleLineView {
        product_sku: item.sku,
        product_name: item.product_name,
        product_variation: item.product_variation,
        quantity: item.quantity,
        unit_price: Money::from_cents(item.unit_price_cents),
        line_total: Money::from_cents(item.line_total_cents),
        is_promo: item.is_promo,
    }
}

pub(super) fn sale_view(row: sales::SaleRow, items: Vec<SaleLineView>) -> SaleView {
    SaleView {
        transaction_id: row.id,
        created_at: millis_to_rfc3339(row.created_at),
        business_date: row.business_date,
        items,
        total: Money::from_cents(row.total_cents),
        paid_amount: Money::from_cents(row.paid_cents),
        change: Money::from_cents(row.change_cents),
        cashier_id: row.cashier_id,
        cashier: row.cashier_email,
        source: row.source,
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// First day (YYYY-MM-DD, store time) or instant (RFC 3339), inclusive.
    #[param(schema_with = super::schema::date_or_instant)]
    pub from: Option<String>,
    /// Last day (inclusive) or instant (exclusive); not before `from`.
    #[param(schema_with = super::schema::date_or_instant)]
    pub to: Option<String>,
}

/// A text cell as a spreadsheet will not execute it: text starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return gets a leading apostrophe (OWASP, CSV injection). Only text
/// cells (names, e-mails, SKUs, dates) go through this; numeric cells (ids, quantities,
/// money, which may be negative) are written as numbers, never altered, so a spreadsheet
/// still sums them. A product named `=1+1` exports as `'=1+1`.
pub fn neutralise_cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// All sale lines in the range as CSV, one row per line item.
pub async fn export_csv(db: &Db, query: ExportQuery) -> DomainResult<Vec<u8>> {
    let calendar = settings::calendar(db).await?;
    let filter = range_filter(&calendar, query.from.as_deref(), query.to.as_deref())?;
    let rows = sales::all_in_range(db.pool(), &filter).await?;
    let sales = with_lines(db, rows).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| DomainError::internal("writing CSV", e);
    out.write_record([
        "transaction_id",
        "created_at",
        "business_date",
        "cashier",
        "source",
        "product_sku",
        "product_name",
        "quantity",
        "unit_price",
        "line_total",
        "is_promo",
        "transaction_total",
        "paid_amount",
        "change",
    ])
    .map_err(csv_error)?;
    for sale in sales {
        for line in &sale.items {
            let text = |cell: &str| neutralise_cell(cell).into_owned();
            out.write_record([
                sale.transaction_id.to_string(),
                text(&sale.created_at),
                text(&sale.business_date),
                text(sale.cashier.as_deref().unwrap_or_default()),
                text(&sale.source),
                text(&line.product_sku),
                text(&line.product_name),
                line.quantity.to_string(),
                line.unit_price.to_string(),
                line.line_total.to_string(),
                line.is_promo.to_string(),
                sale.total.to_string(),
                sale.paid_amount.to_string(),
                sale.change.to_string(),
            ])
            .map_err(csv_error)?;
        }
    }
    out.into_inner()
        .map_err(|e| DomainError::internal("writing CSV", e))
}

#[cfg(test)]
mod csv_tests {
    use super::neutralise_cell;

    #[test]
    fn only_text_that_a_spreadsheet_would_run_is_prefixed() {
        for risky in ["=1+1", "+1", "-1+2", "@A1", "\tx", "\rx"] {
            assert_eq!(neutralise_cell(risky), format!("'{risky}"));
        }
        for safe in ["Roti Tawar", "a=b", "2026-12-01", "", "'quoted"] {
            assert_eq!(neutralise_cell(safe), safe);
        }
    }
}
