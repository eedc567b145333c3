//! The store's calendar: which local day an instant belongs to, and back.

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::DomainError;

/// Dates SIPREMS accepts anywhere: wide enough for any real shop, narrow enough that date
/// arithmetic can never overflow.
pub const MIN_DATE: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
pub const MAX_DATE: NaiveDate = NaiveDate::from_ymd_opt(2199, 12, 31).unwrap();

#[derive(Debug, Clone, Copy)]
pub struct StoreCalendar {
    pub timezone: Tz,
}

impl StoreCalendar {
    pub fn new(timezone: Tz) -> Self {
        StoreCalendar { timezone }
    }

    pub fn business_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.timezone).date_naive()
    }

    pub fn today(&self) -> NaiveDate {
        self.business_date(Utc::now())
    }

    /// The first instant of a local day, in UTC milliseconds.
    pub fn start_of_day_millis(&self, date: NaiveDate) -> i64 {
        let midnight = date.and_time(NaiveTime::MIN);
        match self.timezone.from_local_datetime(&midnight) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.timestamp_millis(),
            // A day that starts inside a DST gap begins at the gap's end; one hour later is
            // always past it.
            LocalResult::None => self
                .timezone
                .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                .earliest()
                .map(|t| t.timestamp_millis())
                .unwrap_or_else(|| Utc.from_utc_datetime(&midnight).timestamp_millis()),
        }
    }

    /// Noon of a local day: the instant we give a sale known only by its date.
    pub fn midday_millis(&self, date: NaiveDate) -> i64 {
        self.start_of_day_millis(date) + 12 * 3600 * 1000
    }

    pub fn end_of_day_exclusive_millis(&self, date: NaiveDate) -> i64 {
        self.start_of_day_millis(date.checked_add_days(Days::new(1)).unwrap_or(date))
    }
}

pub fn format_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Parses `YYYY-MM-DD` within the accepted range.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, DomainError> {
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        DomainError::validation(format!(
            "{field} must be a date as YYYY-MM-DD, got {text:?}"
        ))
    })?;
    check_range(field, date)
}

pub fn check_range(field: &str, date: NaiveDate) -> Result<NaiveDate, DomainError> {
    if date < MIN_DATE || date > MAX_DATE {
        return Err(DomainError::validation(format!(
            "{field} must be between {MIN_DATE} and {MAX_DATE}"
        )));
    }
    Ok(date)
}

/// A date or an RFC 3339 instant, as history files and range filters give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrInstant {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

pub fn parse_date_or_instant(field: &str, text: &str) -> Result<DateOrInstant, DomainError> {
    let text = text.trim();
    if text.len() == 10 {
        return parse_date(field, text).map(DateOrInstant::Date);
    }
    let instant = DateTime::parse_from_rfc3339(text)
        .map_err(|_| {
            DomainError::validation(format!(
                "{field} must be YYYY-MM-DD or an RFC 3339 time, got {text:?}"
            ))
        })?
        .with_timezone(&Utc);
    check_range(field, instant.date_naive())?;
    Ok(DateOrInstant::Instant(instant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jakarta_days_start_at_17_utc_the_day_before() {
        let calendar = StoreCalendar::new(chrono_tz::Asia::Jakarta);
        let date = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        let start = calendar.start_of_day_millis(date);
        let expected = Utc.with_ymd_and_hms(2026, 3, 9, 17, 0, 0).unwrap();
        assert_eq!(start, expected.timestamp_millis());
        let late_evening_utc = Utc.with_ymd_and_hms(2026, 3, 9, 18, 0, 0).unwrap();
        assert_eq!(calendar.business_date(late_evening_utc), date);
    }

    #[test]
    fn dates_outside_the_range_are_refused() {
        assert!(parse_date("date", "1969-12-31").is_err());
        assert!(parse_date("date", "2200-01-01").is_err());
        assert!(parse_date("date", "2026-02-30").is_err());
        assert!(parse_date_or_instant("date", "2026-02-03T10:00:00+07:00").is_ok());
    }
}
