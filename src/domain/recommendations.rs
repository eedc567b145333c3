//! Restock advice from a forecast (SPEC flow 5): how much stock the next N days need,
//! the gap to today's stock, how urgent it is and when stock runs out.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    High,
    Medium,
    Low,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Recommendation {
    pub product_sku: String,
    pub product: String,
    /// The product's variation (size, flavour): what tells apart products of one name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_variation: Option<String>,
    /// Units in stock now.
    pub current: i64,
    /// Units to hold for the horizon: forecast demand times the safety buffer.
    pub optimal: i64,
    /// `optimal - current`; positive means restock this many.
    pub gap: i64,
    pub suggestion: String,
    pub urgency: Urgency,
    /// The first day on which forecast demand exceeds the stock, if within the horizon.
    pub stockout_date: Option<String>,
    pub horizon_days: usize,
    pub forecast_demand: f64,
}

/// Demand forecast for one day (the point forecast).
pub struct DayDemand {
    pub date: NaiveDate,
    pub units: f64,
}

/// Safety buffer on top of forecast demand: short horizons are less certain per day.
pub fn safety_buffer(horizon_days: usize) -> f64 {
    if horizon_days <= 7 { 1.2 } else { 1.1 }
}

pub fn recommend(
    sku: &str,
    name: &str,
    variation: Option<&str>,
    current: i64,
    demand: &[DayDemand],
) -> Recommendation {
    let horizon_days = demand.len();
    let total: f64 = demand.iter().map(|d| d.units.max(0.0)).sum();
    let optimal = (total * safety_buffer(horizon_days)).ceil() as i64;
    let gap = optimal - current;
    let mut cumulative = 0.0;
    let stockout = demand.iter().find(|d| {
        cumulative += d.units.max(0.0);
        cumulative > current as f64
    });
    let urgency = if gap > current || stockout.is_some() {
        Urgency::High
    } else if gap > 0 {
        Urgency::Medium
    } else {
        Urgency::Low
    };
    let suggestion = match (gap > 0, stockout) {
        (true, Some(day)) => format!(
            "Restock {gap} units; stock runs out around {} at the forecast rate",
            day.date.format("%Y-%m-%d")
        ),
        (true, None) => {
            format!("Restock {gap} units to keep a safety buffer for the next {horizon_days} days")
        }
        (false, _) => format!("Stock is sufficient for the next {horizon_days} days"),
    };
    Recommendation {
        product_sku: sku.to_owned(),
        product: name.to_owned(),
        product_variation: variation.map(str::to_owned),
        current,
        optimal,
        gap,
        suggestion,
        urgency,
        stockout_date: stockout.map(|d| d.date.format("%Y-%m-%d").to_string()),
        horizon_days,
        forecast_demand: (total * 100.0).round() / 100.0,
    }
}

/// Most urgent first; within an urgency, the earliest stock-out, then the largest gap.
pub fn sort_most_urgent_first(items: &mut [Recommendation]) {
    items.sort_by(|a, b| {
        a.urgency
            .cmp(&b.urgency)
            .then_with(|| match (&a.stockout_date, &b.stockout_date) {
                (Some(x), Some(y)) => x.cmp(y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| b.gap.cmp(&a.gap))
            .then_with(|| a.product_sku.cmp(&b.product_sku))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(units: &[f64]) -> Vec<DayDemand> {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        units
            .iter()
            .enumerate()
            .map(|(i, &u)| DayDemand {
                date: start + chrono::Days::new(i as u64),
                units: u,
            })
            .collect()
    }

    #[test]
    fn short_horizons_get_a_twenty_percent_buffer() {
        let r = recommend("A", "a", None, 5, &days(&[10.0; 7]));
        assert_eq!(r.optimal, 84);
        assert_eq!(r.gap, 79);
        assert_eq!(r.urgency, Urgency::High);
        assert_eq!(r.stockout_date.as_deref(), Some("2026-01-01"));
        let r = recommend("A", "a", None, 1000, &days(&[10.0; 30]));
        assert_eq!(r.optimal, 330);
        assert_eq!(r.urgency, Urgency::Low);
        assert!(r.stockout_date.is_none());
    }

    #[test]
    fn medium_when_the_buffer_is_short_but_stock_lasts() {
        // 70 units needed, 84 optimal; 75 in stock lasts the week but misses the buffer.
        let r = recommend("A", "a", None, 75, &days(&[10.0; 7]));
        assert_eq!(r.gap, 9);
        assert_eq!(r.urgency, Urgency::Medium);
        assert!(r.suggestion.contains("Restock 9 units"));
    }

    #[test]
    fn stockout_is_the_first_day_demand_exceeds_stock() {
        let r = recommend("A", "a", None, 25, &days(&[10.0, 10.0, 10.0, 10.0]));
        assert_eq!(r.stockout_date.as_deref(), Some("2026-01-03"));
        assert_eq!(r.urgency, Urgency::High);
    }

    #[test]
    fn ordering_puts_high_and_early_stockouts_first() {
        let mut items = vec![
            recommend("LOW", "l", None, 1000, &days(&[1.0; 7])),
            recommend("LATE", "x", None, 25, &days(&[10.0; 7])),
            recommend("SOON", "y", None, 5, &days(&[10.0; 7])),
            recommend("MED", "m", None, 75, &days(&[10.0; 7])),
        ];
        sort_most_urgent_first(&mut items);
        let order: Vec<_> = items.iter().map(|r| r.product_sku.as_str()).collect();
        assert_eq!(order, ["SOON", "LATE", "MED", "LOW"]);
    }
}
