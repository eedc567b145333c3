//! The sales-history CSV format: one reader for `siprems import` and `siprems backtest`.
//!
//! Rules (SPEC: command line, `siprems import`):
//!
//! * **Header** (line 1): names the columns `date`, `sku` and `quantity`, optionally
//!   `unit_price` and `is_promo`, in any order. Names are trimmed and case-insensitive; a UTF-8
//!   byte-order mark before the first name is ignored. Other columns are ignored (and listed in
//!   [`Columns::ignored`] so the caller can say so). A known column named twice, a missing
//!   required column, an empty file or a header that is not UTF-8 is a [`FileError`].
//! * **Rows**: fields are trimmed; a row must have as many fields as the header. Empty lines
//!   and lines of nothing but separators are skipped. Every other row yields a
//!   [`HistoryRow`] or a [`RowError`] listing all of the row's problems with the line it
//!   starts on (line 1 is the header; blank lines and line breaks inside quoted fields count).
//! * `date`: `YYYY-MM-DD` (a day) or an RFC 3339 time (an instant), between 1970-01-01 and
//!   2199-12-31. The reader does not turn an instant into a day: the caller knows the store's
//!   timezone (see [`When`]).
//! * `sku`: 1-64 characters of ASCII letters, digits, `-`, `_` or `.` (the product SKU rule).
//! * `quantity`: a whole number from 1 to [`MAX_QUANTITY`] (units sold; refunds are not
//!   history).
//! * `unit_price` (optional, empty = none): a non-negative decimal amount with at most two
//!   decimal places (`15000`, `2.50`), as integer minor units.
//! * `is_promo` (optional): `1`, `true`, `yes`, `t`, `y` or `0`, `false`, `no`, `f`, `n`
//!   (any case; `t`/`f` is how PostgreSQL exports booleans), empty = not on promotion.
//! * `barcode` (optional, empty = none): the product's barcode, passed through as text.
//!   Forecasting has no use for it; `siprems import` checks it (EAN-13 / UPC-A) and gives
//!   it to the product.
//!
//! The whole input is in memory (`&[u8]`): the line numbers need the bytes around each record,
//! and both callers have the file in memory anyway.
//!
//! (Over 500 lines because the last ~200 are the tests of the rules above, kept next to
//! them.)

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

/// The largest quantity one row may have.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// The largest unit price, in minor units (the same bound as the back office's money type).
pub const MAX_PRICE_MINOR: i64 = 1_000_000_000_000_000;
/// Dates accepted in the file.
pub const MIN_DATE: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
/// Dates accepted in the file.
pub const MAX_DATE: NaiveDate = NaiveDate::from_ymd_opt(2199, 12, 31).unwrap();

/// When a row's sale happened, as the file gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A day (`YYYY-MM-DD`), already a store-local business day.
    Date(NaiveDate),
    /// An instant (RFC 3339). Which day it belongs to depends on the store's timezone:
    /// `siprems import` uses the store setting, `siprems backtest` (files only, no store)
    /// the UTC day.
    Instant(DateTime<Utc>),
}

impl When {
    /// The day, resolving an instant with `day_of`.
    pub fn day(self, day_of: impl FnOnce(DateTime<Utc>) -> NaiveDate) -> NaiveDate {
        match self {
            When::Date(d) => d,
            When::Instant(t) => day_of(t),
        }
    }
}

/// One valid data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// The line the row starts on (line 1 is the header).
    pub line: u64,
    pub when: When,
    pub sku: String,
    /// 1..=[`MAX_QUANTITY`].
    pub quantity: i64,
    /// Minor units (cents), when the file gives a price.
    pub unit_price_minor: Option<i64>,
    pub is_promo: bool,
    /// The `barcode` field as written (trimmed), when the file has one.
    pub barcode: Option<String>,
}

/// A data row that breaks the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line the row starts on.
    pub line: u64,
    /// The row's SKU when that field itself is valid (so a caller can still tell that an
    /// unknown SKU appears on the line).
    pub sku: Option<String>,
    /// Every problem of the row, in column order (sku, date, quantity, unit_price, is_promo).
    pub problems: Vec<String>,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problems.join("; "))
    }
}

/// The input cannot be read as a history at all (empty, bad header).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

/// Where the header put each column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub date: usize,
    pub sku: usize,
    pub quantity: usize,
    pub unit_price: Option<usize>,
    pub is_promo: Option<usize>,
    pub barcode: Option<usize>,
    /// Fields in the header (every row must have as many).
    pub count: usize,
    /// Header names that are not part of the format (not read), trimmed.
    pub ignored: Vec<String>,
}

const KNOWN: [&str; 6] = [
    "date",
    "sku",
    "quantity",
    "unit_price",
    "is_promo",
    "barcode",
];

impl Columns {
    /// Reads the header's names; see the module docs.
    pub fn from_header(names: &[&str]) -> Result<Columns, FileError> {
        let mut found: [Option<usize>; 6] = [None; 6];
        let mut ignored = Vec::new();
        for (index, raw) in names.iter().enumerate() {
            let name = raw
                .trim()
                .trim_start_matches('\u{feff}')
                .trim()
                .to_ascii_lowercase();
            match KNOWN.iter().position(|k| *k == name) {
                Some(k) if found[k].is_some() => {
                    return Err(FileError(format!(
                        "line 1: the header names the column {} twice",
                        KNOWN[k]
                    )));
                }
                Some(k) => found[k] = Some(index),
                None => ignored.push(raw.trim().to_owned()),
            }
        }
        let missing: Vec<&str> = (0..3)
            .filter(|&k| found[k].is_none())
            .map(|k| KNOWN[k])
            .collect();
        let (Some(date), Some(sku), Some(quantity)) = (found[0], found[1], found[2]) else {
            return Err(FileError(format!(
                "line 1: the header must name the columns date, sku and quantity (optionally \
                 unit_price, is_promo and barcode); missing: {}; found: {}",
                missing.join(", "),
                names
                    .iter()
                    .map(|n| format!("{:?}", n.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        Ok(Columns {
            date,
            sku,
            quantity,
            unit_price: found[3],
            is_promo: found[4],
            barcode: found[5],
            count: names.len(),
            ignored,
        })
    }
}

/// Reads a history file row by row: an iterator of [`HistoryRow`]s and [`RowError`]s in file
/// order. It does not stop at a bad row (callers that want all problems get all of them).
pub struct HistoryCsv<'a> {
    input: &'a [u8],
    reader: csv::Reader<&'a [u8]>,
    record: csv::ByteRecord,
    columns: Columns,
    done: bool,
}

impl<'a> HistoryCsv<'a> {
    /// Reads the header; the rows follow from the iterator.
    pub fn new(input: &'a [u8]) -> Result<HistoryCsv<'a>, FileError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(input);
        let mut record = csv::ByteRecord::new();
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| FileError(format!("the file is not readable CSV: {e}")))?;
        if !more {
            return Err(FileError(
                "the file is empty: expected a header line date,sku,quantity[,unit_price][,is_promo] and rows"
                    .into(),
            ));
        }
        let header: Vec<&str> = record
            .iter()
            .map(std::str::from_utf8)
            .collect::<Result<_, _>>()
            .map_err(|_| FileError("line 1: the header is not valid UTF-8".into()))?;
        let columns = Columns::from_header(&header)?;
        Ok(HistoryCsv {
            input,
            reader,
            record,
            columns,
            done: false,
        })
    }

    /// The header's columns.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// Bytes of input read so far (for progress reports).
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    /// The line a record starts on. The CSV reader counts blank lines it skipped before a
    /// record as part of it, so step over those.
    fn line_of(&self, position: &csv::Position) -> u64 {
        let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
        let skipped = self
            .input
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| matches!(b, b'\n' | b'\r'))
            .filter(|b| **b == b'\n')
            .count();
        position.line() + skipped as u64
    }
}

impl Iterator for HistoryCsv<'_> {
    type Item = Result<HistoryRow, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Ok(true) => {}
                Err(error) => {
                    // Reading bytes from memory, the only error left is malformed CSV; it
                    // ends the file.
                    self.done = true;
                    let line = error
                        .position()
                        .map_or(0, |p| self.line_of(p))
                        .max(self.reader.position().line());
                    return Some(Err(RowError {
                        line,
                        sku: None,
                        problems: vec![format!("the file is not readable CSV: {error}")],
                    }));
                }
            }
            // A line of nothing but separators is a blank line, not a row.
            if self.record.iter().all(|f| f.is_empty()) {
                continue;
            }
            let line = self.record.position().map_or(0, |p| self.line_of(p));
            let values: Result<Vec<&str>, _> =
                self.record.iter().map(std::str::from_utf8).collect();
            return Some(match values {
                Ok(values) => check_row(line, &values, &self.columns),
                Err(_) => Err(RowError {
                    line,
                    sku: None,
                    problems: vec!["the row is not valid UTF-8".into()],
                }),
            });
        }
    }
}

/// Checks one data row's (trimmed) fields.
pub fn check_row(line: u64, values: &[&str], columns: &Columns) -> Result<HistoryRow, RowError> {
    if values.len() != columns.count {
        return Err(RowError {
            line,
            sku: None,
            problems: vec![format!(
                "the row has {} fields but the header has {}",
                values.len(),
                columns.count
            )],
        });
    }
    let value = |index: Option<usize>| index.map_or("", |i| values[i].trim());
    let sku = parse_sku(value(Some(columns.sku)));
    let when = parse_when(value(Some(columns.date)));
    let quantity = parse_quantity(value(Some(columns.quantity)));
    let unit_price = parse_unit_price(value(columns.unit_price));
    let is_promo = parse_promo(value(columns.is_promo));
    match (sku, when, quantity, unit_price, is_promo) {
        (Ok(sku), Ok(when), Ok(quantity), Ok(unit_price_minor), Ok(is_promo)) => Ok(HistoryRow {
            line,
            when,
            sku: sku.to_owned(),
            quantity,
            unit_price_minor,
            is_promo,
            barcode: Some(value(columns.barcode))
                .filter(|code| !code.is_empty())
                .map(str::to_owned),
        }),
        (sku, when, quantity, unit_price, is_promo) => {
            let mut problems = Vec::new();
            let sku = match sku {
                Ok(sku) => Some(sku.to_owned()),
                Err(p) => {
                    problems.push(p);
                    None
                }
            };
            problems.extend(when.err());
            problems.extend(quantity.err());
            problems.extend(unit_price.err());
            problems.extend(is_promo.err());
            Err(RowError {
                line,
                sku,
                problems,
            })
        }
    }
}

/// `sku`: 1-64 ASCII letters, digits, `-`, `_` or `.`.
pub fn parse_sku(text: &str) -> Result<&str, String> {
    if text.is_empty() {
        return Err("sku is missing".into());
    }
    let valid = text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(text)
    } else {
        Err(format!(
            "sku {text:?} is not valid (1-64 letters, digits, '-', '_' or '.')"
        ))
    }
}

/// `date`: `YYYY-MM-DD` or an RFC 3339 time, within [`MIN_DATE`]..=[`MAX_DATE`] (an instant's
/// UTC date is checked).
pub fn parse_when(text: &str) -> Result<When, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("date is missing".into());
    }
    let (when, date) = if text.len() == 10 {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("date must be a date as YYYY-MM-DD, got {text:?}"))?;
        (When::Date(date), date)
    } else {
        let instant = DateTime::parse_from_rfc3339(text)
            .map_err(|_| format!("date must be YYYY-MM-DD or an RFC 3339 time, got {text:?}"))?
            .with_timezone(&Utc);
        (When::Instant(instant), instant.date_naive())
    };
    if !(MIN_DATE..=MAX_DATE).contains(&date) {
        return Err(format!("date must be between {MIN_DATE} and {MAX_DATE}"));
    }
    Ok(when)
}

/// `quantity`: a whole number, 1..=[`MAX_QUANTITY`].
pub fn parse_quantity(text: &str) -> Result<i64, String> {
    if text.is_empty() {
        return Err("quantity is missing".into());
    }
    let quantity: i64 = text
        .parse()
        .map_err(|_| format!("quantity must be a whole number, got {text:?}"))?;
    if quantity <= 0 {
        return Err(format!("quantity must be positive, got {quantity}"));
    }
    if quantity > MAX_QUANTITY {
        return Err(format!(
            "quantity must be at most {MAX_QUANTITY}, got {quantity}"
        ));
    }
    Ok(quantity)
}

/// `unit_price`: empty, or a non-negative decimal with at most two decimal places (trailing
/// zeros beyond them are fine), in minor units.
pub fn parse_unit_price(text: &str) -> Result<Option<i64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let not_a_number = || format!("unit_price: not a decimal amount: {text:?}");
    let (negative, digits) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(not_a_number());
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 2 {
        return Err(format!(
            "unit_price: at most 2 decimal places are allowed: {text:?}"
        ));
    }
    let out_of_range = || format!("unit_price: amount out of range: {text:?}");
    let whole = whole.trim_start_matches('0');
    if whole.len() > 18 {
        return Err(out_of_range());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| out_of_range())?
    };
    let cents = format!("{fraction:0<2}").parse::<i64>().unwrap_or(0);
    let minor = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .filter(|m| *m <= MAX_PRICE_MINOR)
        .ok_or_else(out_of_range)?;
    if negative && minor > 0 {
        return Err(format!("unit_price must not be negative, got {text:?}"));
    }
    Ok(Some(minor))
}

/// `is_promo`; see the module docs.
pub fn parse_promo(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "f" | "n" => Ok(false),
        "1" | "true" | "yes" | "t" | "y" => Ok(true),
        _ => Err(format!(
            "is_promo must be 0, 1, true, false, yes, no (or t, f, y, n) or empty, got {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn read(text: &str) -> Vec<Result<HistoryRow, RowError>> {
        HistoryCsv::new(text.as_bytes()).unwrap().collect()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn header_columns_in_any_order_and_case_with_bom_and_extras() {
        let c = Columns::from_header(&["\u{feff}SKU ", "Quantity", "note", "DATE", "is_promo"])
            .unwrap();
        assert_eq!(
            (c.sku, c.quantity, c.date, c.is_promo, c.unit_price),
            (0, 1, 3, Some(4), None)
        );
        assert_eq!(c.ignored, vec!["note".to_owned()]);
        assert_eq!(c.count, 5);
        // A real BOM at the start of the file.
        let rows = read("\u{feff}date,sku,quantity\n2026-01-01,A,1\n");
        assert!(rows[0].is_ok(), "{rows:?}");
    }

    #[test]
    fn bad_headers_and_empty_files_are_file_errors() {
        let e = Columns::from_header(&["date", "product", "qty"]).unwrap_err();
        assert!(e.0.contains("missing: sku, quantity"), "{e}");
        let e = Columns::from_header(&["date", "sku", "quantity", "Date"]).unwrap_err();
        assert!(e.0.contains("twice"), "{e}");
        assert!(HistoryCsv::new(b"").err().unwrap().0.contains("empty"));
        assert!(
            HistoryCsv::new(b"\xff,sku\n")
                .err()
                .unwrap()
                .0
                .contains("UTF-8")
        );
        // A header alone is a valid start; the caller decides that no rows is an error.
        assert!(read("date,sku,quantity\n").is_empty());
    }

    #[test]
    fn field_rules() {
        assert_eq!(parse_quantity("3"), Ok(3));
        assert!(parse_quantity("").unwrap_err().contains("missing"));
        assert!(parse_quantity("1.5").unwrap_err().contains("whole number"));
        assert!(parse_quantity("0").unwrap_err().contains("positive"));
        assert!(parse_quantity("-2").unwrap_err().contains("positive"));
        assert!(parse_quantity("1000001").unwrap_err().contains("at most"));
        assert_eq!(parse_quantity("1000000"), Ok(1_000_000));

        assert_eq!(parse_unit_price(""), Ok(None));
        assert_eq!(parse_unit_price("15000.50"), Ok(Some(1_500_050)));
        assert_eq!(parse_unit_price("2.5"), Ok(Some(250)));
        assert_eq!(parse_unit_price("2.500"), Ok(Some(250)));
        assert_eq!(parse_unit_price(".5"), Ok(Some(50)));
        assert_eq!(parse_unit_price("+7"), Ok(Some(700)));
        assert_eq!(parse_unit_price("0"), Ok(Some(0)));
        assert_eq!(parse_unit_price("-0"), Ok(Some(0)));
        assert!(parse_unit_price("-1").unwrap_err().contains("negative"));
        assert!(parse_unit_price("1.234").unwrap_err().contains("2 decimal"));
        for bad in ["abc", ".", "1e3", "1.2.3", "1,5", "- 1"] {
            assert!(
                parse_unit_price(bad).unwrap_err().contains("not a decimal"),
                "{bad}"
            );
        }
        assert_eq!(
            parse_unit_price("10000000000000"),
            Ok(Some(MAX_PRICE_MINOR))
        );
        assert!(
            parse_unit_price("10000000000000.01")
                .unwrap_err()
                .contains("range")
        );
        assert!(
            parse_unit_price("99999999999999999999")
                .unwrap_err()
                .contains("range")
        );

        for yes in ["1", "true", "YES", "True", "t", "Y"] {
            assert_eq!(parse_promo(yes), Ok(true), "{yes}");
        }
        for no in ["", "0", "false", "No", "F", "n"] {
            assert_eq!(parse_promo(no), Ok(false), "{no}");
        }
        assert!(parse_promo("maybe").unwrap_err().contains("is_promo"));

        assert_eq!(parse_sku("BRD-001"), Ok("BRD-001"));
        assert!(parse_sku("").unwrap_err().contains("missing"));
        assert!(parse_sku("a b").unwrap_err().contains("not valid"));
        assert!(
            parse_sku(&"x".repeat(65))
                .unwrap_err()
                .contains("not valid")
        );
    }

    #[test]
    fn dates_are_days_or_instants_in_range() {
        assert_eq!(parse_when("2026-03-10"), Ok(When::Date(day("2026-03-10"))));
        let t = Utc.with_ymd_and_hms(2026, 3, 9, 18, 30, 0).unwrap();
        assert_eq!(parse_when("2026-03-09T18:30:00Z"), Ok(When::Instant(t)));
        assert_eq!(
            parse_when("2026-03-10T01:30:00+07:00"),
            Ok(When::Instant(t))
        );
        assert!(parse_when("").unwrap_err().contains("missing"));
        assert!(parse_when("2026-13-01").unwrap_err().contains("YYYY-MM-DD"));
        assert!(parse_when("2026-02-30").is_err());
        assert!(parse_when("10/03/2026").is_err());
        assert!(
            parse_when("2026-03-10Tgarbage")
                .unwrap_err()
                .contains("RFC 3339")
        );
        assert!(parse_when("2026-03-10 10:00").is_err()); // no offset: not an instant
        assert!(parse_when("1969-12-31").unwrap_err().contains("between"));
        assert!(parse_when("2200-01-01").unwrap_err().contains("between"));
        // The caller resolves instants.
        let jakarta = |t: DateTime<Utc>| (t + chrono::Duration::hours(7)).date_naive();
        assert_eq!(When::Instant(t).day(jakarta), day("2026-03-10"));
        assert_eq!(When::Instant(t).day(|t| t.date_naive()), day("2026-03-09"));
        assert_eq!(
            When::Date(day("2026-03-10")).day(|_| unreachable!()),
            day("2026-03-10")
        );
    }

    #[test]
    fn a_barcode_column_is_passed_through_as_text() {
        let rows =
            read("date,sku,quantity,barcode\n2026-01-01,A,1, 8992761111120 \n2026-01-02,A,1,\n");
        let codes: Vec<Option<String>> = rows
            .iter()
            .map(|r| r.as_ref().unwrap().barcode.clone())
            .collect();
        assert_eq!(codes, vec![Some("8992761111120".to_owned()), None]);
    }

    #[test]
    fn rows_come_typed_and_errors_carry_line_numbers_and_every_problem() {
        let rows = read(
            "date,sku,quantity,unit_price,is_promo\n\
             2026-01-01,A,1,100,0\n\
             2026-13-01,A,1,,\n\
             2026-01-02,B,x,,\n\
             \n\
             2026-01-03,,1,,\n\
             2026-01-04,A,2,-5,maybe\n\
             2026-01-05,A\n\
             2026-01-06,C,\"1\n2\",,\n\
             2026-01-07,C,3,,1\n\
             2026-01-08,C,3,,1,extra\n",
        );
        let ok: Vec<&HistoryRow> = rows.iter().filter_map(|r| r.as_ref().ok()).collect();
        let bad: Vec<&RowError> = rows.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(
            ok.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![2, 11],
            "{rows:?}"
        );
        assert_eq!(
            *ok[0],
            HistoryRow {
                line: 2,
                when: When::Date(day("2026-01-01")),
                sku: "A".into(),
                quantity: 1,
                unit_price_minor: Some(10_000),
                is_promo: false,
                barcode: None,
            }
        );
        assert!(ok[1].is_promo && ok[1].unit_price_minor.is_none());
        assert_eq!(
            bad.iter().map(|e| e.line).collect::<Vec<_>>(),
            vec![3, 4, 6, 7, 8, 9, 12]
        );
        assert!(bad[0].problems[0].contains("date"));
        assert_eq!(bad[1].sku.as_deref(), Some("B")); // the SKU is known even on a bad row
        assert!(bad[1].problems[0].contains("whole number"));
        assert!(bad[2].problems[0].contains("sku is missing"));
        assert_eq!(bad[3].problems.len(), 2);
        assert!(
            bad[3]
                .to_string()
                .starts_with("line 7: unit_price must not be negative")
        );
        assert!(bad[3].to_string().contains("; is_promo"));
        assert!(bad[4].problems[0].contains("2 fields"));
        assert!(bad[5].problems[0].contains("whole number")); // "1\n2"
        assert!(bad[6].problems[0].contains("6 fields"));
    }

    #[test]
    fn blank_lines_crlf_and_invalid_utf8_keep_line_numbers_right() {
        let rows = read("date,sku,quantity\r\n2026-01-01,A,1\r\n\r\n,,\r\n2026-01-01,A,0\r\n");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].as_ref().unwrap_err().line, 5);
        let bytes = b"date,sku,quantity\n2026-01-01,A,1\n\n\n2026-01-01,\xff,1\n2026-01-02,A,1\n";
        let rows: Vec<_> = HistoryCsv::new(bytes).unwrap().collect();
        let e = rows[1].as_ref().unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.problems[0].contains("UTF-8"));
        assert_eq!(rows[2].as_ref().unwrap().line, 6);
    }
}
