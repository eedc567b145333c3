//! Reading the backtest's input files: the sales history (the import format, read by
//! [`crate::history_csv`]), the events and the cutoff list.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;

use crate::history_csv::{self, HistoryCsv};
use crate::{DailyHistory, ForecastError, Holiday};

/// Per-day totals of one SKU from a history file.
#[derive(Debug, Clone, Default)]
struct SkuDays {
    /// date -> (units, promo units)
    days: BTreeMap<NaiveDate, (f64, f64)>,
}

/// A parsed history file.
#[derive(Debug, Clone)]
pub struct HistoryFile {
    skus: BTreeMap<String, SkuDays>,
    /// Last date in the file (any SKU).
    pub last_date: NaiveDate,
}

impl HistoryFile {
    /// SKUs in the file, sorted.
    pub fn skus(&self) -> impl Iterator<Item = &str> {
        self.skus.keys().map(String::as_str)
    }

    /// Daily history of `sku` from its first sale through `through` (inclusive); None when the
    /// SKU has no sale on or before `through`.
    pub fn history(&self, sku: &str, through: NaiveDate) -> Option<DailyHistory> {
        let days = &self.skus.get(sku)?.days;
        let first = days.iter().find(|(_, (u, _))| *u > 0.0).map(|(d, _)| *d)?;
        if first > through {
            return None;
        }
        let n = (through - first).num_days() as usize + 1;
        let mut units = vec![0.0; n];
        let mut promo = vec![0.0; n];
        for (d, (u, p)) in days.range(first..=through) {
            let i = (*d - first).num_days() as usize;
            units[i] = u.max(0.0);
            promo[i] = if *u > 0.0 {
                (p / u).clamp(0.0, 1.0)
            } else {
                0.0
            };
        }
        let promo = if promo.iter().any(|p| *p > 0.0) {
            promo
        } else {
            Vec::new()
        };
        Some(DailyHistory {
            start: first,
            units,
            promo,
        })
    }

    /// Units of `sku` on `date` (0 when nothing sold), or None beyond the file's last date.
    pub fn actual(&self, sku: &str, date: NaiveDate) -> Option<f64> {
        if date > self.last_date {
            return None;
        }
        Some(
            self.skus
                .get(sku)
                .and_then(|s| s.days.get(&date))
                .map_or(0.0, |(u, _)| u.max(0.0)),
        )
    }
}

pub(crate) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ForecastError + '_ {
    move |source| ForecastError::Io {
        path: path.display().to_string(),
        source,
    }
}

pub(crate) fn csv_err(path: &Path, e: csv::Error) -> ForecastError {
    match e.into_kind() {
        csv::ErrorKind::Io(source) => ForecastError::Io {
            path: path.display().to_string(),
            source,
        },
        other => ForecastError::Input(format!("{}: {other:?}", path.display())),
    }
}

/// Parse a date as `YYYY-MM-DD`, or an RFC 3339 time as its UTC day (the history format's
/// date rule; the files carry no store timezone).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    history_csv::parse_when(s)
        .ok()
        .map(|w| w.day(|t| t.date_naive()))
}

/// Row problems listed in a read error.
const MAX_LISTED: usize = 10;

/// Read a history CSV in the import format ([`history_csv`] rules; instants count for their
/// UTC day). A file with any bad row is refused, listing the first problems by line.
pub fn read_history(path: &Path) -> Result<HistoryFile, ForecastError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    let input = |what: String| ForecastError::Input(format!("{}: {what}", path.display()));
    let rows = HistoryCsv::new(&bytes).map_err(|e| input(e.to_string()))?;
    let mut skus: BTreeMap<String, SkuDays> = BTreeMap::new();
    let mut last: Option<NaiveDate> = None;
    let mut errors: Vec<String> = Vec::new();
    let mut bad_rows = 0usize;
    for row in rows {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                bad_rows += 1;
                if errors.len() < MAX_LISTED {
                    errors.push(e.to_string());
                }
                continue;
            }
        };
        let date = row.when.day(|t| t.date_naive());
        let qty = row.quantity as f64;
        let e = skus
            .entry(row.sku)
            .or_default()
            .days
            .entry(date)
            .or_insert((0.0, 0.0));
        e.0 += qty;
        if row.is_promo {
            e.1 += qty;
        }
        last = Some(last.map_or(date, |l: NaiveDate| l.max(date)));
    }
    if bad_rows > 0 {
        let more = bad_rows - errors.len();
        let mut msg = format!(
            "{bad_rows} {} errors:\n  {}",
            if bad_rows == 1 {
                "row has"
            } else {
                "rows have"
            },
            errors.join("\n  ")
        );
        if more > 0 {
            msg.push_str(&format!("\n  ... and {more} more"));
        }
        return Err(input(msg));
    }
    let last_date = last.ok_or_else(|| input("no data rows".into()))?;
    Ok(HistoryFile { skus, last_date })
}

fn column(headers: &csv::StringRecord, name: &str) -> Option<usize> {
    headers.iter().position(|h| {
        h.trim()
            .trim_start_matches('\u{feff}')
            .eq_ignore_ascii_case(name)
    })
}

/// Read an events CSV (`date,name[,type]`) into holidays grouped by name.
pub fn read_events(path: &Path) -> Result<Vec<Holiday>, ForecastError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_err(path, e))?;
    let headers = rdr.headers().map_err(|e| csv_err(path, e))?.clone();
    let need = |name: &str| {
        column(&headers, name).ok_or_else(|| {
            ForecastError::Input(format!("{}: missing column '{name}'", path.display()))
        })
    };
    let (c_date, c_name) = (need("date")?, need("name")?);
    let mut by_name: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| csv_err(path, e))?;
        let date = parse_date(rec.get(c_date).unwrap_or("")).ok_or_else(|| {
            ForecastError::Input(format!("{} line {}: invalid date", path.display(), i + 2))
        })?;
        let name = rec.get(c_name).unwrap_or("").trim();
        let name = if name.is_empty() { "event" } else { name };
        by_name.entry(name.to_string()).or_default().push(date);
    }
    Ok(by_name
        .into_iter()
        .map(|(name, mut dates)| {
            dates.sort();
            dates.dedup();
            Holiday { name, dates }
        })
        .collect())
}

/// Parse a comma-separated list of dates (`D1,D2,...`), as the CLI's `--cutoffs` takes them.
pub fn parse_cutoffs(s: &str) -> Result<Vec<NaiveDate>, ForecastError> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            parse_date(p).ok_or_else(|| ForecastError::Input(format!("invalid cutoff date '{p}'")))
        })
        .collect()
}
