//! Periods in the user's words ("bulan lalu", "last week", "1-15 November") resolved to
//! first and last business day in the store's calendar.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Serialize;

use crate::domain::calendar::{check_range, format_date, parse_date};
use crate::domain::{DomainError, DomainResult};

/// Longest period a sales question may cover, as the dashboard's custom range.
pub const MAX_PERIOD_DAYS: i64 = 366 * 3;

/// First and last business day, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    #[serde(serialize_with = "as_date")]
    pub from: NaiveDate,
    #[serde(serialize_with = "as_date")]
    pub to: NaiveDate,
}

fn as_date<S: serde::Serializer>(date: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_date(*date))
}

impl Period {
    /// A period from tool arguments, checked like the dashboard's custom range.
    pub fn parse(from: &str, to: &str) -> DomainResult<Period> {
        Period::checked(parse_date("from", from)?, parse_date("to", to)?)
    }

    pub fn checked(from: NaiveDate, to: NaiveDate) -> DomainResult<Period> {
        check_range("from", from)?;
        check_range("to", to)?;
        if from > to {
            return Err(DomainError::validation("from must not be after to"));
        }
        if (to - from).num_days() >= MAX_PERIOD_DAYS {
            return Err(DomainError::validation(format!(
                "a period spans at most {MAX_PERIOD_DAYS} days"
            )));
        }
        Ok(Period { from, to })
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// The relative periods the built-in assistant understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relative {
    Today,
    Yesterday,
    ThisWeek,
    /// The previous calendar week, Monday to Sunday.
    LastWeek,
    ThisMonth,
    /// The previous calendar month.
    LastMonth,
    ThisYear,
    LastYear,
    /// The last N days, today included (the dashboard's `7d` is `LastDays(7)`).
    LastDays(u32),
}

impl Relative {
    pub fn resolve(self, today: NaiveDate) -> Period {
        let back = |days: u64| today.checked_sub_days(Days::new(days)).unwrap_or(today);
        let monday = back(u64::from(today.weekday().num_days_from_monday()));
        let first_of_month = today.with_day(1).unwrap_or(today);
        let first_of_year = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
        let (from, to) = match self {
            Relative::Today => (today, today),
            Relative::Yesterday => (back(1), back(1)),
            Relative::ThisWeek => (monday, today),
            Relative::LastWeek => {
                let last_monday = monday.checked_sub_days(Days::new(7)).unwrap_or(monday);
                (last_monday, last_monday + Days::new(6))
            }
            Relative::ThisMonth => (first_of_month, today),
            Relative::LastMonth => {
                let first = first_of_month
                    .checked_sub_months(Months::new(1))
                    .unwrap_or(first_of_month);
                (first, first_of_month.pred_opt().unwrap_or(first))
            }
            Relative::ThisYear => (first_of_year, today),
            Relative::LastYear => {
                let first = NaiveDate::from_ymd_opt(today.year() - 1, 1, 1).unwrap_or(today);
                (first, first_of_year.pred_opt().unwrap_or(first))
            }
            Relative::LastDays(n) => (back(u64::from(n.clamp(1, 1098)) - 1), today),
        };
        Period { from, to }
    }
}

const MONTHS: [(&str, u32); 30] = [
    ("januari", 1),
    ("january", 1),
    ("jan", 1),
    ("februari", 2),
    ("february", 2),
    ("feb", 2),
    ("maret", 3),
    ("march", 3),
    ("mar", 3),
    ("april", 4),
    ("apr", 4),
    ("mei", 5),
    ("may", 5),
    ("juni", 6),
    ("june", 6),
    ("jun", 6),
    ("juli", 7),
    ("july", 7),
    ("jul", 7),
    ("agustus", 8),
    ("august", 8),
    ("agu", 8),
    ("aug", 8),
    ("september", 9),
    ("sep", 9),
    ("oktober", 10),
    ("october", 10),
    ("okt", 10),
    ("november", 11),
    ("desember", 12),
];

fn month_of(word: &str) -> Option<u32> {
    match word {
        "oct" => Some(10),
        "nov" => Some(11),
        "dec" | "des" | "december" => Some(12),
        "sept" => Some(9),
        _ => MONTHS
            .iter()
            .find(|(name, _)| *name == word)
            .map(|(_, m)| *m),
    }
}

/// What a message says about a period: nothing, a period, or a date that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mention {
    None,
    Found(Period),
    Invalid(String),
}

/// Finds a period in `text` (lowercase): an explicit ISO range, "1-15 November [2026]",
/// "1 November - 15 November", a month name ("November 2026"), or a relative phrase.
pub fn find(text: &str, today: NaiveDate) -> Mention {
    if let Some(found) = iso_range(text) {
        return found;
    }
    if let Some(found) = day_month_range(text, today) {
        return found;
    }
    if let Some(relative) = relative(text) {
        return Mention::Found(relative.resolve(today));
    }
    if let Some(found) = month_name(text, today) {
        return found;
    }
    Mention::None
}

fn relative(text: &str) -> Option<Relative> {
    let has = |phrases: &[&str]| phrases.iter().any(|p| contains_phrase(text, p));
    if let Some(days) = last_n_days(text) {
        return Some(Relative::LastDays(days));
    }
    Some(if has(&["today", "hari ini"]) {
        Relative::Today
    } else if has(&["yesterday", "kemarin", "kemaren"]) {
        Relative::Yesterday
    } else if has(&[
        "last week",
        "previous week",
        "minggu lalu",
        "pekan lalu",
        "minggu kemarin",
    ]) {
        Relative::LastWeek
    } else if has(&["this week", "minggu ini", "pekan ini"]) {
        Relative::ThisWeek
    } else if has(&[
        "last month",
        "previous month",
        "bulan lalu",
        "bulan kemarin",
    ]) {
        Relative::LastMonth
    } else if has(&["this month", "bulan ini"]) {
        Relative::ThisMonth
    } else if has(&["last year", "previous year", "tahun lalu", "tahun kemarin"]) {
        Relative::LastYear
    } else if has(&["this year", "tahun ini"]) {
        Relative::ThisYear
    } else {
        return None;
    })
}

/// "last 14 days", "past 30 days", "14 hari terakhir".
fn last_n_days(text: &str) -> Option<u32> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let number = |w: &str| w.parse::<u32>().ok().filter(|n| (1..=1098).contains(n));
    words.windows(3).find_map(|w| match w {
        [first, n, unit]
            if matches!(*first, "last" | "past") && matches!(*unit, "days" | "day") =>
        {
            number(n)
        }
        [n, "hari", "terakhir"] => number(n),
        _ => None,
    })
}

/// Whether `phrase` occurs in `text` on word boundaries.
pub fn contains_phrase(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

fn iso_range(text: &str) -> Option<Mention> {
    let dates: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .filter(|w| w.len() == 10 && w.as_bytes()[4] == b'-' && w.as_bytes()[7] == b'-')
        .collect();
    let parse = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    match dates.as_slice() {
        [] => None,
        [one] => Some(match parse(one) {
            Some(d) => checked(d, d),
            None => Mention::Invalid((*one).to_owned()),
        }),
        [a, b, ..] => Some(match (parse(a), parse(b)) {
            (Some(from), Some(to)) => checked(from, to),
            _ => Mention::Invalid(format!("{a} - {b}")),
        }),
    }
}

fn checked(from: NaiveDate, to: NaiveDate) -> Mention {
    match Period::checked(from, to) {
        Ok(period) => Mention::Found(period),
        Err(error) => Mention::Invalid(error.to_string()),
    }
}

/// A year for a day and month given without one: this year, or last year when that day
/// has not come yet (people ask about the past).
fn year_for(month: u32, day: u32, today: NaiveDate) -> i32 {
    match NaiveDate::from_ymd_opt(today.year(), month, day) {
        Some(date) if date > today => today.year() - 1,
        _ => today.year(),
    }
}

/// "1-15 november", "1 - 15 nov 2026", "1 november - 15 november", "1 nov to 3 dec".
fn day_month_range(text: &str, today: NaiveDate) -> Option<Mention> {
    let spaced = text.replace(['-', '–'], " - ");
    let words: Vec<&str> = spaced
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let day = |w: &str| w.parse::<u32>().ok().filter(|d| (1..=31).contains(d));
    let year = |w: Option<&&str>| {
        w.and_then(|w| w.parse::<i32>().ok())
            .filter(|y| (1970..=2199).contains(y))
    };
    let joiner = |w: &str| matches!(w, "-" | "to" | "sampai" | "hingga" | "sd" | "s/d" | "until");
    for i in 0..words.len() {
        let Some(d1) = day(words[i]) else { continue };
        // d1 - d2 month [year]
        if words.get(i + 1).is_some_and(|w| joiner(w))
            && let (Some(d2), Some(month)) = (
                words.get(i + 2).and_then(|w| day(w)),
                words.get(i + 3).and_then(|w| month_of(w)),
            )
        {
            let y = year(words.get(i + 4)).unwrap_or_else(|| year_for(month, d1, today));
            return Some(date_pair((y, month, d1), (y, month, d2)));
        }
        // d1 month1 [year] - d2 month2 [year]
        if let Some(m1) = words.get(i + 1).and_then(|w| month_of(w)) {
            let y1 = year(words.get(i + 2));
            let j = i + 2 + usize::from(y1.is_some());
            if words.get(j).is_some_and(|w| joiner(w))
                && let (Some(d2), Some(m2)) = (
                    words.get(j + 1).and_then(|w| day(w)),
                    words.get(j + 2).and_then(|w| month_of(w)),
                )
            {
                let y2 = year(words.get(j + 3));
                let y1 = y1.or(y2).unwrap_or_else(|| year_for(m1, d1, today));
                let y2 = y2.unwrap_or(if m2 < m1 { y1 + 1 } else { y1 });
                return Some(date_pair((y1, m1, d1), (y2, m2, d2)));
            }
            // a single day: "5 november"
            let y = y1.unwrap_or_else(|| year_for(m1, d1, today));
            return Some(date_pair((y, m1, d1), (y, m1, d1)));
        }
    }
    None
}

fn date_pair(from: (i32, u32, u32), to: (i32, u32, u32)) -> Mention {
    match (
        NaiveDate::from_ymd_opt(from.0, from.1, from.2),
        NaiveDate::from_ymd_opt(to.0, to.1, to.2),
    ) {
        (Some(from), Some(to)) => checked(from, to),
        _ => Mention::Invalid("that date does not exist".into()),
    }
}

/// "november 2026", "in november" (the latest November that has begun).
fn month_name(text: &str, today: NaiveDate) -> Option<Mention> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        // Three-letter abbreviations only with a year next to them: "mar", "may", "jun"
        // are ordinary words too.
        let Some(month) = month_of(word) else {
            continue;
        };
        let year = words
            .get(i + 1)
            .and_then(|w| w.parse::<i32>().ok())
            .filter(|y| (1970..=2199).contains(y));
        if word.len() <= 3 && year.is_none() || (*word == "may" && year.is_none()) {
            continue;
        }
        let year = year.unwrap_or_else(|| year_for(month, 1, today));
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let last = first
            .checked_add_months(Months::new(1))
            .and_then(|d| d.pred_opt())?;
        return Some(checked(first, last.min(today.max(first))));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn found(text: &str, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        match find(text, today) {
            Mention::Found(p) => (p.from, p.to),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn relative_periods_are_calendar_periods() {
        let today = day(2026, 12, 3); // a Thursday
        assert_eq!(
            found("penjualan bulan lalu", today),
            (day(2026, 11, 1), day(2026, 11, 30))
        );
        assert_eq!(
            found("sales last month", day(2026, 3, 31)),
            (day(2026, 2, 1), day(2026, 2, 28))
        );
        assert_eq!(
            found("sales last month", day(2026, 1, 5)),
            (day(2025, 12, 1), day(2025, 12, 31))
        );
        assert_eq!(
            found("minggu lalu", today),
            (day(2026, 11, 23), day(2026, 11, 29))
        );
        assert_eq!(found("this week", today), (day(2026, 11, 30), today));
        assert_eq!(
            found("kemarin", today),
            (day(2026, 12, 2), day(2026, 12, 2))
        );
        assert_eq!(found("today", today), (today, today));
        assert_eq!(found("bulan ini", today), (day(2026, 12, 1), today));
        assert_eq!(found("last 7 days", today), (day(2026, 11, 27), today));
        assert_eq!(found("30 hari terakhir", today), (day(2026, 11, 4), today));
    }

    #[test]
    fn explicit_ranges() {
        let today = day(2026, 12, 3);
        assert_eq!(
            found("1-15 november", today),
            (day(2026, 11, 1), day(2026, 11, 15))
        );
        assert_eq!(
            found("1 - 15 nov 2025", today),
            (day(2025, 11, 1), day(2025, 11, 15))
        );
        assert_eq!(
            found("2026-11-01 to 2026-11-15", today),
            (day(2026, 11, 1), day(2026, 11, 15))
        );
        assert_eq!(
            found("1 november - 15 november", today),
            (day(2026, 11, 1), day(2026, 11, 15))
        );
        assert_eq!(
            found("20 desember - 5 januari", today),
            (day(2025, 12, 20), day(2026, 1, 5))
        );
        assert_eq!(
            found("sales in november 2026", today),
            (day(2026, 11, 1), day(2026, 11, 30))
        );
        assert_eq!(
            found("1-15 december", today),
            (day(2026, 12, 1), day(2026, 12, 15))
        );
        assert!(matches!(
            find("2026-02-30 to 2026-03-01", today),
            Mention::Invalid(_)
        ));
        assert!(matches!(
            find("2026-03-01 to 2026-02-01", today),
            Mention::Invalid(_)
        ));
        assert_eq!(find("how are you", today), Mention::None);
        assert_eq!(find("may i ask", today), Mention::None);
    }
}
