//! The owner's dashboard: revenue, transactions, units, trend, top sellers and low stock
//! for a range of the store's business days.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::calendar::{format_date, parse_date};
use super::money::Money;
use super::products::{Audience, ProductQuery, ProductView};
use super::{DomainError, DomainResult, products, settings};
use crate::storage::{Db, reports};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum RangeKind {
    #[serde(rename = "today")]
    Today,
    #[serde(rename = "7d")]
    Last7Days,
    #[default]
    #[serde(rename = "30d")]
    Last30Days,
    #[serde(rename = "custom")]
    Custom,
}

#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// `today`, `7d`, `30d` (default) or `custom` with `from` and `to`.
    #[param(inline)]
    pub range: Option<RangeKind>,
    /// First day of a custom range, YYYY-MM-DD; needs `to`.
    #[param(schema_with = super::schema::optional_date)]
    pub from: Option<String>,
    /// Last day of a custom range, YYYY-MM-DD (inclusive); not before `from`, at most
    /// 1098 days after it.
    #[param(schema_with = super::schema::optional_date)]
    pub to: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayPoint {
    pub date: String,
    pub revenue: Money,
    pub transactions: i64,
    pub units: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TopProduct {
    pub sku: String,
    pub name: String,
    pub category: Option<String>,
    pub units: i64,
    pub revenue: Money,
}

impl From<reports::ProductSales> for TopProduct {
    fn from(row: reports::ProductSales) -> Self {
        TopProduct {
            sku: row.sku,
            name: row.name,
            category: row.category,
            units: row.units,
            revenue: Money::from_cents(row.revenue_cents),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TopCategory {
    pub category: String,
    pub units: i64,
    pub revenue: Money,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DashboardStats {
    pub from: String,
    pub to: String,
    pub timezone: String,
    pub revenue: Money,
    pub transactions: i64,
    pub units_sold: i64,
    pub average_transaction: Money,
    pub sales_trend: Vec<DayPoint>,
    pub top_products: Vec<TopProduct>,
    pub top_categories: Vec<TopCategory>,
    pub low_stock: Vec<ProductView>,
    /// The period of the same length just before this one.
    pub previous: PeriodTotals,
    /// This period against the previous one, in percent.
    pub change: PeriodChange,
    /// Active products by how much stock they have left.
    pub stock_health: StockHealth,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PeriodTotals {
    pub from: String,
    pub to: String,
    pub revenue: Money,
    pub transactions: i64,
    pub units_sold: i64,
}

/// Percent change against the previous period, one decimal; `null` when the previous
/// period had none (no percentage of zero exists).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PeriodChange {
    pub revenue_pct: Option<f64>,
    pub transactions_pct: Option<f64>,
    pub units_sold_pct: Option<f64>,
}

/// `critical`: out of stock; `low`: 1 up to the store's low-stock threshold; `fine`: above.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StockHealth {
    pub critical: i64,
    pub low: i64,
    pub fine: i64,
    pub low_stock_threshold: i64,
}

fn percent_change(current: i64, previous: i64) -> Option<f64> {
    if previous == 0 {
        return None;
    }
    let pct = (current - previous) as f64 * 100.0 / previous as f64;
    Some((pct * 10.0).round() / 10.0)
}

/// Revenue in cents, transactions and units over `from..=to`.
async fn period_totals(db: &Db, from: &str, to: &str) -> DomainResult<(i64, i64, i64)> {
    let totals = reports::totals_by_day(db.pool(), from, to).await?;
    let units = reports::units_by_day(db.pool(), from, to).await?;
    Ok((
        totals.iter().map(|r| r.revenue_cents).sum(),
        totals.iter().map(|r| r.transactions).sum(),
        units.iter().map(|r| r.units).sum(),
    ))
}

const MAX_RANGE_DAYS: u64 = 366 * 3;

fn resolve_range(query: &DashboardQuery, today: NaiveDate) -> DomainResult<(NaiveDate, NaiveDate)> {
    let back = |days: u64| today.checked_sub_days(Days::new(days)).unwrap_or(today);
    // A malformed day is refused even where a preset range makes it unused: a client
    // sending `range=7d&from=garbage` has a bug worth hearing about.
    let from = query
        .from
        .as_deref()
        .map(|d| parse_date("from", d))
        .transpose()?;
    let to = query
        .to
        .as_deref()
        .map(|d| parse_date("to", d))
        .transpose()?;
    let kind = match (query.range, query.from.is_some() || query.to.is_some()) {
        (Some(kind), _) => kind,
        (None, true) => RangeKind::Custom,
        (None, false) => RangeKind::Last30Days,
    };
    let (from, to) = match kind {
        RangeKind::Today => (today, today),
        RangeKind::Last7Days => (back(6), today),
        RangeKind::Last30Days => (back(29), today),
        RangeKind::Custom => {
            let (Some(from), Some(to)) = (from, to) else {
                return Err(DomainError::validation("a custom range needs from and to"));
            };
            (from, to)
        }
    };
    if from > to {
        return Err(DomainError::validation("from must not be after to"));
    }
    if (to - from).num_days() as u64 >= MAX_RANGE_DAYS {
        return Err(DomainError::validation(format!(
            "a range spans at most {MAX_RANGE_DAYS} days"
        )));
    }
    Ok((from, to))
}

impl DashboardQuery {
    /// The cache key: what the answer depends on (the range kind, and a custom range's
    /// dates as parsed), so that equivalent URLs share one entry and ignored parameters
    /// cannot multiply entries. Invalid dates are refused here, before any cache lookup.
    pub fn cache_key(&self) -> DomainResult<String> {
        let custom = self.range == Some(RangeKind::Custom)
            || (self.range.is_none() && (self.from.is_some() || self.to.is_some()));
        if !custom {
            let kind = self.range.unwrap_or_default();
            return Ok(serde_json::to_string(&kind).unwrap_or_default());
        }
        let (Some(from), Some(to)) = (self.from.as_deref(), self.to.as_deref()) else {
            return Err(DomainError::validation("a custom range needs from and to"));
        };
        let (from, to) = (parse_date("from", from)?, parse_date("to", to)?);
        Ok(format!("custom:{}:{}", format_date(from), format_date(to)))
    }
}

/// Cost-derived figures (the low-stock products' cost prices) are left out for cashiers.
pub async fn stats(
    db: &Db,
    query: DashboardQuery,
    audience: Audience,
) -> DomainResult<DashboardStats> {
    let calendar = settings::calendar(db).await?;
    let (from, to) = resolve_range(&query, calendar.today())?;
    let (from_text, to_text) = (format_date(from), format_date(to));
    let pool = db.pool();

    let totals = reports::totals_by_day(pool, &from_text, &to_text).await?;
    let units = reports::units_by_day(pool, &from_text, &to_text).await?;
    let top = reports::top_products(pool, &from_text, &to_text, 5).await?;
    let categories = reports::top_categories(pool, &from_text, &to_text, 5).await?;
    let low_stock = products::list(
        db,
        ProductQuery {
            low_stock: Some(true),
            limit: Some(20),
            ..Default::default()
        }
        .normalise()?,
        audience,
    )
    .await?;

    // Every day of the range appears in the trend, quiet days as zero.
    let mut days: BTreeMap<NaiveDate, DayPoint> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|d| {
            let point = DayPoint {
                date: format_date(d),
                revenue: Money::ZERO,
                transactions: 0,
                units: 0,
            };
            (d, point)
        })
        .collect();
    let parse = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    for row in &totals {
        if let Some(point) = parse(&row.business_date).and_then(|d| days.get_mut(&d)) {
            point.revenue = Money::from_cents(row.revenue_cents);
            point.transactions = row.transactions;
        }
    }
    for row in &units {
        if let Some(point) = parse(&row.business_date).and_then(|d| days.get_mut(&d)) {
            point.units = row.units;
        }
    }
    let revenue_cents: i64 = totals.iter().map(|r| r.revenue_cents).sum();
    let transactions: i64 = totals.iter().map(|r| r.transactions).sum();
    let units_sold: i64 = units.iter().map(|r| r.units).sum();

    let length = Days::new((to - from).num_days() as u64 + 1);
    let (previous_from, previous_to) = (from - length, from - Days::new(1));
    let (previous_from, previous_to) = (format_date(previous_from), format_date(previous_to));
    let (previous_revenue, previous_transactions, previous_units) =
        period_totals(db, &previous_from, &previous_to).await?;
    let health = products::stats(db, audience).await?;
    let average = if transactions > 0 {
        revenue_cents / transactions
    } else {
        0
    };

    Ok(DashboardStats {
        from: from_text,
        to: to_text,
        timezone: calendar.timezone.name().to_owned(),
        revenue: Money::from_cents(revenue_cents),
        transactions,
        units_sold,
        average_transaction: Money::from_cents(average),
        sales_trend: days.into_values().collect(),
        top_products: top.into_iter().map(TopProduct::from).collect(),
        top_categories: categories
            .into_iter()
            .map(|r| TopCategory {
                category: r.category.unwrap_or_else(|| "Uncategorized".into()),
                units: r.units,
                revenue: Money::from_cents(r.revenue_cents),
            })
            .collect(),
        low_stock: low_stock.items,
        change: PeriodChange {
            revenue_pct: percent_change(revenue_cents, previous_revenue),
            transactions_pct: percent_change(transactions, previous_transactions),
            units_sold_pct: percent_change(units_sold, previous_units),
        },
        previous: PeriodTotals {
            from: previous_from,
            to: previous_to,
            revenue: Money::from_cents(previous_revenue),
            transactions: previous_transactions,
            units_sold: previous_units,
        },
        stock_health: StockHealth {
            critical: health.out_of_stock_products,
            low: health.low_stock_products - health.out_of_stock_products,
            fine: health.active_products - health.low_stock_products,
            low_stock_threshold: health.low_stock_threshold,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(range: Option<RangeKind>, from: Option<&str>, to: Option<&str>) -> DashboardQuery {
        DashboardQuery {
            range,
            from: from.map(Into::into),
            to: to.map(Into::into),
        }
    }

    #[test]
    fn changes_are_percent_of_the_previous_period() {
        assert_eq!(percent_change(150, 100), Some(50.0));
        assert_eq!(percent_change(50, 200), Some(-75.0));
        assert_eq!(percent_change(1, 3), Some(-66.7));
        assert_eq!(percent_change(7, 0), None);
    }

    #[test]
    fn ranges_end_today_and_count_today() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let (from, to) =
            resolve_range(&query(Some(RangeKind::Last7Days), None, None), today).unwrap();
        assert_eq!((to - from).num_days(), 6);
        assert_eq!(to, today);
        let (from, _) = resolve_range(&query(None, None, None), today).unwrap();
        assert_eq!(format_date(from), "2026-10-28");
        assert!(
            resolve_range(
                &query(Some(RangeKind::Custom), Some("2026-01-02"), None),
                today
            )
            .is_err()
        );
        assert!(
            resolve_range(&query(None, Some("2026-02-02"), Some("2026-01-01")), today).is_err()
        );
        assert!(
            resolve_range(&query(None, Some("2000-01-01"), Some("2026-01-01")), today).is_err()
        );
    }
}
