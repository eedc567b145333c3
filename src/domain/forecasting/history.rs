//! What a model learns from: a product's daily sales and the events marked for prediction.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use forecast::{DailyHistory, Holiday};

use crate::domain::DomainResult;
use crate::domain::calendar::StoreCalendar;
use crate::storage::{Db, events, models};

use super::parse_day;

/// The product's daily demand from its first sale to yesterday, days without sales as
/// zero. `None` without any sale before today.
///
/// Today is left out: the day is not over, and its sales so far would read as a slump (the
/// nightly run at 02:00 UTC is 09:00 in Jakarta, an hour after opening), pulling every
/// forecast, and so every restock suggestion, down.
pub(super) async fn load_history(
    db: &Db,
    product_id: i64,
    calendar: &StoreCalendar,
) -> DomainResult<Option<DailyHistory>> {
    let today = calendar.today();
    let rows = models::daily_units(db.pool(), product_id).await?;
    let days: Vec<(NaiveDate, i64, i64)> = rows
        .iter()
        .filter_map(|(d, units, promo)| Some((parse_day(d)?, *units, *promo)))
        .filter(|(day, _, _)| *day < today)
        .collect();
    let Some(&(start, _, _)) = days.first() else {
        return Ok(None);
    };
    let end = today - Days::new(1);
    let length = (end - start).num_days() as usize + 1;
    let mut units = vec![0.0; length];
    let mut promo = vec![0.0; length];
    for (date, quantity, promo_quantity) in days {
        let index = (date - start).num_days() as usize;
        units[index] = quantity as f64;
        promo[index] = if quantity > 0 {
            promo_quantity as f64 / quantity as f64
        } else {
            0.0
        };
    }
    Ok(Some(DailyHistory {
        start,
        units,
        promo,
    }))
}

/// Events marked for prediction, each as the list of its days.
pub(super) async fn load_holidays(db: &Db) -> DomainResult<Vec<Holiday>> {
    let rows = events::list(db.pool(), None, None).await?;
    let mut by_name: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
    for row in rows.iter().filter(|e| e.include_in_prediction) {
        by_name
            .entry(row.name.clone())
            .or_default()
            .extend(event_days(row));
    }
    Ok(by_name
        .into_iter()
        .map(|(name, dates)| Holiday { name, dates })
        .collect())
}

/// Every day an event covers (one day, or its date range).
fn event_days(row: &events::EventRow) -> impl Iterator<Item = NaiveDate> + use<> {
    let first = parse_day(&row.date);
    let last = row.end_date.as_deref().and_then(parse_day).or(first);
    first
        .into_iter()
        .flat_map(|d| d.iter_days())
        .take_while(move |d| last.is_some_and(|last| *d <= last))
}

/// Names of all events by day, for marking chart points.
pub(super) async fn event_names_by_day(db: &Db) -> DomainResult<BTreeMap<NaiveDate, String>> {
    let mut days: BTreeMap<NaiveDate, String> = BTreeMap::new();
    for row in events::list(db.pool(), None, None).await? {
        for day in event_days(&row) {
            days.entry(day)
                .and_modify(|names| {
                    names.push_str(", ");
                    names.push_str(&row.name);
                })
                .or_insert_with(|| row.name.clone());
        }
    }
    Ok(days)
}
