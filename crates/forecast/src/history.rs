//! Input types: a SKU's daily sales and the events that influence them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ForecastError;

/// Daily unit sales of one SKU: one value per consecutive day starting at `start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyHistory {
    /// Date of `units[0]`.
    pub start: NaiveDate,
    /// Units sold per day; days without sales are 0.
    pub units: Vec<f64>,
    /// Share (0..1) of each day's units sold on promotion, same length as `units`, or empty
    /// for "never on promotion".
    pub promo: Vec<f64>,
}

impl DailyHistory {
    /// A history without promotions.
    pub fn new(start: NaiveDate, units: Vec<f64>) -> DailyHistory {
        DailyHistory {
            start,
            units,
            promo: Vec::new(),
        }
    }

    /// Number of days.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// True when there are no days at all.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Date of the last day (None when empty).
    pub fn last_date(&self) -> Option<NaiveDate> {
        let n = self.units.len();
        (n > 0).then(|| self.start + chrono::Days::new(n as u64 - 1))
    }

    /// Days with units > 0.
    pub fn days_with_sales(&self) -> usize {
        self.units.iter().filter(|v| **v > 0.0).count()
    }

    /// The first `n` days.
    pub fn head(&self, n: usize) -> DailyHistory {
        let n = n.min(self.units.len());
        DailyHistory {
            start: self.start,
            units: self.units[..n].to_vec(),
            promo: if self.promo.is_empty() {
                Vec::new()
            } else {
                self.promo[..n].to_vec()
            },
        }
    }

    /// The last `n` days.
    pub fn tail(&self, n: usize) -> DailyHistory {
        let skip = self.units.len().saturating_sub(n);
        DailyHistory {
            start: self.start + chrono::Days::new(skip as u64),
            units: self.units[skip..].to_vec(),
            promo: if self.promo.is_empty() {
                Vec::new()
            } else {
                self.promo[skip..].to_vec()
            },
        }
    }

    pub(crate) fn promo_or_zero(&self) -> Vec<f64> {
        if self.promo.is_empty() {
            vec![0.0; self.units.len()]
        } else {
            self.promo.iter().map(|p| p.clamp(0.0, 1.0)).collect()
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ForecastError> {
        if !self.promo.is_empty() && self.promo.len() != self.units.len() {
            return Err(ForecastError::Input(format!(
                "promo has {} values but units has {}",
                self.promo.len(),
                self.units.len()
            )));
        }
        if self.units.iter().chain(&self.promo).any(|v| !v.is_finite()) {
            return Err(ForecastError::Input(
                "history contains NaN or infinite values".into(),
            ));
        }
        Ok(())
    }
}

/// An event that influences demand (holiday, festival, planned promotion), as expanded days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holiday {
    /// Name; events with the same name share one effect.
    pub name: String,
    /// Every day of every occurrence, past and future.
    pub dates: Vec<NaiveDate>,
}
