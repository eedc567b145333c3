//! The calendar of the demo years: holidays, promotions and what each day looks like.

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::catalog::Category::{Bread, Cake, Drink, Pastry, Snack, Staple};
use super::catalog::Profile::{Breakfast, Celebration, Everyday, Lebaran, Takjil};
use super::catalog::*;

/// Idul Fitri (1 Syawal) as Indonesia celebrated or is expected to celebrate it.
pub(super) const IDUL_FITRI: &[(i32, u32, u32)] = &[
    (2015, 7, 17),
    (2016, 7, 6),
    (2017, 6, 25),
    (2018, 6, 15),
    (2019, 6, 5),
    (2020, 5, 24),
    (2021, 5, 13),
    (2022, 5, 2),
    (2023, 4, 22),
    (2024, 4, 10),
    (2025, 3, 31),
    (2026, 3, 20),
    (2027, 3, 10),
    (2028, 2, 27),
    (2029, 2, 15),
    (2030, 2, 5),
    (2031, 1, 25),
    (2032, 1, 14),
    (2033, 1, 3),
    (2033, 12, 23),
    (2034, 12, 12),
    (2035, 12, 1),
];

/// The mean length of a lunar (Hijri) year in days, to extend the table beyond its ends.
pub(super) const HIJRI_YEAR_DAYS: f64 = 354.367;
/// Idul Adha (10 Dzulhijjah) falls about 68 days after Idul Fitri (1 Syawal).
pub(super) const IDUL_ADHA_AFTER_FITRI: i64 = 68;

pub(super) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

pub(super) fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        date.checked_add_days(Days::new(days as u64))
            .unwrap_or(date)
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
            .unwrap_or(date)
    }
}

/// Every Idul Fitri between `from` and `to` (inclusive).
pub(super) fn idul_fitri_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let known: Vec<NaiveDate> = IDUL_FITRI.iter().map(|&(y, m, d)| ymd(y, m, d)).collect();
    let (first, last) = (known[0], known[known.len() - 1]);
    let mut dates = Vec::new();
    // Before the table: step back a lunar year at a time.
    let mut k = 1.0;
    loop {
        let date = add_days(first, -(k * HIJRI_YEAR_DAYS).round() as i64);
        if date < from {
            break;
        }
        if date <= to {
            dates.push(date);
        }
        k += 1.0;
    }
    dates.extend(known.iter().copied().filter(|d| (from..=to).contains(d)));
    let mut k = 1.0;
    loop {
        let date = add_days(last, (k * HIJRI_YEAR_DAYS).round() as i64);
        if date > to {
            break;
        }
        if date >= from {
            dates.push(date);
        }
        k += 1.0;
    }
    dates.sort();
    dates
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct DemoEvent {
    pub(super) name: String,
    pub(super) date: NaiveDate,
    pub(super) end_date: Option<NaiveDate>,
    pub(super) kind: &'static str,
    pub(super) description: String,
}

#[derive(Debug, Clone)]
pub(super) struct Promo {
    pub(super) start: NaiveDate,
    pub(super) end: NaiveDate,
    pub(super) categories: &'static [Category],
}

/// Promotions the shop ran each year: (name, month, first day, last day, categories).
pub(super) const YEARLY_PROMOS: &[(&str, u32, u32, u32, &[Category])] = &[
    ("Promo Awal Tahun", 1, 13, 19, &[Bread, Pastry]),
    ("Festival Croissant", 5, 20, 26, &[Pastry]),
    ("Pesta Kemerdekaan 17an", 8, 10, 17, &[Snack, Drink]),
    ("HUT Toko: Diskon Kue", 10, 1, 7, &[Cake]),
    ("Harbolnas 12.12", 12, 10, 12, &[Staple, Bread]),
];

pub(super) fn category_list(categories: &[Category]) -> String {
    let names: Vec<&str> = categories.iter().map(|c| c.name()).collect();
    names.join(", ")
}

/// The shop's calendar: holidays and seasons from `first` to a year past `last` (so the
/// forecast sees the coming ones), promotions within the history only.
pub(super) fn calendar_events(
    first: NaiveDate,
    last: NaiveDate,
) -> (Vec<DemoEvent>, Vec<Promo>, Vec<NaiveDate>) {
    let horizon = add_days(last, 365);
    let mut list = Vec::new();
    let fitri = idul_fitri_between(add_days(first, -80), add_days(horizon, 40));
    for &day in &fitri {
        let ramadan_start = add_days(day, -30);
        let ramadan_end = add_days(day, -1);
        if ramadan_end >= first && ramadan_start <= horizon {
            list.push(DemoEvent {
                name: format!("Ramadan {}", ramadan_start.year()),
                date: ramadan_start,
                end_date: Some(ramadan_end),
                kind: "seasonal",
                description: "Bulan puasa: takjil laris menjelang berbuka, siang lebih sepi".into(),
            });
        }
        if day >= first && day <= horizon {
            list.push(DemoEvent {
                name: format!("Idul Fitri {}", day.year()),
                date: day,
                end_date: Some(add_days(day, 1)),
                kind: "holiday",
                description: "Lebaran: toko sepi beberapa hari; kue kering laris sebelumnya".into(),
            });
        }
        let adha = add_days(day, IDUL_ADHA_AFTER_FITRI);
        if adha >= first && adha <= horizon {
            list.push(DemoEvent {
                name: format!("Idul Adha {}", adha.year()),
                date: adha,
                end_date: None,
                kind: "holiday",
                description: "Hari Raya Kurban".into(),
            });
        }
    }
    let mut promos = Vec::new();
    for year in first.year()..=horizon.year() {
        let fixed: [(&str, NaiveDate, Option<NaiveDate>, &str, &str); 5] = [
            (
                "Tahun Baru",
                ymd(year, 1, 1),
                None,
                "holiday",
                "Tahun Baru Masehi",
            ),
            (
                "Hari Kemerdekaan RI",
                ymd(year, 8, 17),
                None,
                "holiday",
                "17 Agustus: lomba dan tumpengan, jajanan laris",
            ),
            (
                "Libur Sekolah Akhir Tahun",
                ymd(year, 12, 20),
                Some(ymd(year + 1, 1, 2)),
                "seasonal",
                "Liburan akhir tahun: lebih ramai",
            ),
            (
                "Malam Natal",
                ymd(year, 12, 24),
                None,
                "holiday",
                "Kue Natal dipesan",
            ),
            (
                "Natal",
                ymd(year, 12, 25),
                None,
                "holiday",
                "Hari Raya Natal",
            ),
        ];
        for (name, date, end_date, kind, description) in fixed {
            if date >= first && date <= horizon {
                list.push(DemoEvent {
                    name: format!("{name} {}", date.year()),
                    date,
                    end_date,
                    kind,
                    description: description.into(),
                });
            }
        }
        for &(name, month, from, to, categories) in YEARLY_PROMOS {
            let (start, end) = (ymd(year, month, from), ymd(year, month, to));
            if start >= first && end <= last {
                promos.push(Promo {
                    start,
                    end,
                    categories,
                });
                list.push(DemoEvent {
                    name: format!("{name} {year}"),
                    date: start,
                    end_date: Some(end),
                    kind: "promotion",
                    description: format!("Diskon kategori {}", category_list(categories)),
                });
            }
        }
        // A Ramadan promotion on break-fast favourites, in the middle of the month.
        for &day in &fitri {
            let (start, end) = (add_days(day, -20), add_days(day, -11));
            if start.year() == year && start >= first && end <= last {
                let categories: &'static [Category] = &[Drink, Snack];
                promos.push(Promo {
                    start,
                    end,
                    categories,
                });
                list.push(DemoEvent {
                    name: format!("Promo Ramadan Berkah {year}"),
                    date: start,
                    end_date: Some(end),
                    kind: "promotion",
                    description: format!("Diskon kategori {}", category_list(categories)),
                });
            }
        }
    }
    list.sort_by(|a, b| (a.date, &a.name).cmp(&(b.date, &b.name)));
    (list, promos, fitri)
}

/// What one day looks like: how busy, which products are in season, which are on promo.
pub(super) struct DayShape {
    /// Multiplies the expected number of transactions.
    pub(super) traffic: f64,
    /// Per product: multiplies its share of basket lines.
    pub(super) boost: Vec<f64>,
    /// Per product: on promotion today.
    pub(super) promo: Vec<bool>,
    /// Ramadan shifts shopping towards the afternoon.
    pub(super) ramadan: bool,
}

pub(super) fn day_shape(date: NaiveDate, fitri: &[NaiveDate], promos: &[Promo]) -> DayShape {
    let mut traffic = match date.weekday() {
        Weekday::Mon => 0.92,
        Weekday::Tue => 0.90,
        Weekday::Wed => 0.93,
        Weekday::Thu => 0.97,
        Weekday::Fri => 1.05,
        Weekday::Sat => 1.28,
        Weekday::Sun => 1.22,
    };
    // Paydays: the last week of the month and the first two days of the next.
    if date.day() >= 25 || date.day() <= 2 {
        traffic *= 1.07;
    }
    // A gentle yearly swing: busier in the dry season, quieter in the wet months.
    let angle = 2.0 * std::f64::consts::PI * (f64::from(date.ordinal()) - 200.0) / 365.25;
    traffic *= 1.0 + 0.05 * angle.cos();

    // Days relative to the nearest Idul Fitri (negative: before it).
    let offset = fitri
        .iter()
        .map(|f| (date - *f).num_days())
        .min_by_key(|d| d.abs())
        .unwrap_or(i64::MAX);
    let ramadan = (-30..=-1).contains(&offset);
    let (month, day) = (date.month(), date.day());
    let mut boosts = [1.0f64; 5]; // indexed by Profile
    let set =
        |boosts: &mut [f64; 5], profile: Profile, factor: f64| boosts[profile as usize] *= factor;
    if ramadan {
        traffic *= if offset >= -10 { 1.25 } else { 0.95 };
        set(&mut boosts, Takjil, 2.8);
        set(&mut boosts, Breakfast, 1.15);
        set(&mut boosts, Everyday, 0.85);
    }
    if (-21..=-1).contains(&offset) {
        // The Lebaran cookie wave, peaking a few days before the holiday.
        let closeness = 1.0 - ((offset + 3).abs() as f64 / 19.0).min(1.0);
        set(&mut boosts, Lebaran, 2.0 + 10.0 * closeness);
        set(&mut boosts, Celebration, 1.5);
    }
    match offset {
        0 => traffic *= 0.35,
        1 => traffic *= 0.45,
        2..=6 => traffic *= 0.8,
        _ => {}
    }
    if offset == IDUL_ADHA_AFTER_FITRI {
        traffic *= 0.85; // Idul Adha
    }
    match (month, day) {
        (12, 20..=23) => set(&mut boosts, Celebration, 1.8),
        (12, 24) => {
            traffic *= 1.3;
            set(&mut boosts, Celebration, 3.0);
        }
        (12, 25) => traffic *= 0.75,
        (12, 28..=30) => set(&mut boosts, Celebration, 1.6),
        (12, 31) => {
            traffic *= 1.45;
            set(&mut boosts, Celebration, 2.2);
        }
        (1, 1) => traffic *= 0.7,
        (8, 16) => traffic *= 1.1,
        (8, 17) => traffic *= 1.2,
        _ => {}
    }
    if (month == 12 && day >= 20) || (month == 1 && day <= 2) {
        traffic *= 1.08; // school holidays
    }
    if (month == 8 && (15..=17).contains(&day)) || (month == 12 && day == 31) {
        boosts[Takjil as usize] *= 1.3;
    }

    let active: Vec<&Promo> = promos
        .iter()
        .filter(|p| p.start <= date && date <= p.end)
        .collect();
    if !active.is_empty() {
        traffic *= 1.12;
    }
    let mut boost = Vec::with_capacity(CATALOG.len());
    let mut promo = Vec::with_capacity(CATALOG.len());
    for entry in CATALOG {
        let on_promo = active
            .iter()
            .any(|p| p.categories.contains(&entry.category));
        let mut factor = boosts[entry.profile as usize];
        if on_promo {
            factor *= 2.2;
        }
        // Celebration cakes are a weekend purchase.
        if entry.profile == Celebration && matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            factor *= 1.3;
        }
        boost.push(factor);
        promo.push(on_promo);
    }
    DayShape {
        traffic,
        boost,
        promo,
        ramadan,
    }
}
