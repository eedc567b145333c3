//! The generator: a pure function of the seed, the number of days, the store calendar and
//! "yesterday" that returns the whole shop.

use chrono::NaiveDate;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Poisson};

use super::calendar::*;
use super::catalog::*;
use super::{DemoOptions, MAX_DAYS};
use crate::domain::calendar::StoreCalendar;

/// Transactions on an ordinary weekday at the start of the history.
pub(super) const BASE_TRANSACTIONS: f64 = 88.0;
/// Yearly growth of the shop's traffic.
pub(super) const YEARLY_GROWTH: f64 = 0.12;
/// Relative weights of the opening hours 07:00 .. 20:59, on an ordinary day and in Ramadan.
pub(super) const HOURS: [f64; 14] = [
    8.0, 10.0, 7.0, 5.0, 5.0, 6.0, 5.0, 4.0, 5.0, 8.0, 10.0, 9.0, 7.0, 5.0,
];
pub(super) const RAMADAN_HOURS: [f64; 14] = [
    5.0, 5.0, 3.0, 2.0, 2.0, 3.0, 4.0, 6.0, 10.0, 16.0, 18.0, 6.0, 6.0, 5.0,
];
pub(super) const OPENING_HOUR: i64 = 7;
/// Cents in a rupiah.
pub(super) const RUPIAH: i64 = 100;
/// Basket sizes 1..=4 lines.
pub(super) const LINES: [f64; 4] = [0.42, 0.32, 0.17, 0.09];

#[derive(Debug, Clone, PartialEq)]
pub(super) struct DemoProduct {
    pub(super) sku: &'static str,
    pub(super) name: &'static str,
    pub(super) category: Category,
    pub(super) variation: Option<&'static str>,
    pub(super) price_cents: i64,
    pub(super) cost_cents: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct DemoDay {
    pub(super) date: NaiveDate,
    pub(super) first_sale: usize,
    pub(super) sale_count: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct DemoSale {
    pub(super) day: usize,
    pub(super) created_at: i64,
    pub(super) total_cents: i64,
    pub(super) paid_cents: i64,
    pub(super) first_item: usize,
    pub(super) item_count: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct DemoItem {
    pub(super) sale: usize,
    pub(super) product: usize,
    pub(super) quantity: i64,
    pub(super) unit_price_cents: i64,
    pub(super) is_promo: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct DemoShop {
    pub(super) products: Vec<DemoProduct>,
    pub(super) events: Vec<DemoEvent>,
    pub(super) days: Vec<DemoDay>,
    pub(super) sales: Vec<DemoSale>,
    pub(super) items: Vec<DemoItem>,
    pub(super) opening_stock: Vec<i64>,
}

pub(super) fn pick(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut target = rng.random::<f64>() * total;
    for (index, weight) in weights.iter().enumerate() {
        if target < *weight {
            return index;
        }
        target -= weight;
    }
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

pub(super) fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> i64 {
    if mean <= 0.0 {
        return 0;
    }
    match Poisson::new(mean) {
        Ok(distribution) => distribution.sample(rng) as i64,
        Err(_) => mean.round() as i64,
    }
}

/// What a customer paying cash hands over: the total, or the next round amount above it.
pub(super) fn cash_paid(rng: &mut ChaCha8Rng, total_cents: i64) -> i64 {
    // Cashless (QRIS, debit): exact.
    if rng.random_bool(0.35) {
        return total_cents;
    }
    let round_up = |step: i64| (total_cents + step - 1) / step * step;
    let candidates = [
        round_up(1_000 * RUPIAH),
        round_up(5_000 * RUPIAH),
        round_up(10_000 * RUPIAH),
        round_up(50_000 * RUPIAH),
        round_up(100_000 * RUPIAH),
    ];
    candidates[pick(rng, &[0.15, 0.2, 0.25, 0.25, 0.15])]
}

pub(super) fn generate(
    options: &DemoOptions,
    calendar: &StoreCalendar,
    last: NaiveDate,
    threshold: i64,
) -> DemoShop {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let products: Vec<DemoProduct> = CATALOG
        .iter()
        .map(|entry| {
            let margin = rng.random_range(0.55..0.70);
            let cost_rupiah = ((entry.price as f64 * margin) / 100.0).round() as i64 * 100;
            DemoProduct {
                sku: entry.sku,
                name: entry.name,
                category: entry.category,
                variation: entry.variation,
                price_cents: entry.price * 100,
                cost_cents: cost_rupiah * 100,
            }
        })
        .collect();

    let day_count = i64::from(options.days.min(MAX_DAYS));
    let first = add_days(last, 1 - day_count);
    let (events, promos, fitri) = if day_count > 0 {
        calendar_events(first, last)
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let noise = LogNormal::new(0.0, 0.08).ok();
    let popularity: Vec<f64> = CATALOG.iter().map(|e| e.popularity).collect();
    let mut days = Vec::new();
    let mut sales = Vec::new();
    let mut items = Vec::new();
    // Units sold per product over the last four weeks, to size the opening stock.
    let mut recent_units = vec![0i64; CATALOG.len()];
    let mut weights = vec![0.0; CATALOG.len()];
    let mut times = Vec::new();
    for index in 0..day_count {
        let date = add_days(first, index);
        let shape = day_shape(date, &fitri, &promos);
        let years = index as f64 / 365.25;
        let mut mean = BASE_TRANSACTIONS * shape.traffic * (1.0 + YEARLY_GROWTH).powf(years);
        if let Some(noise) = &noise {
            mean *= noise.sample(&mut rng);
        }
        let count = poisson(&mut rng, mean) as usize;
        let hours = if shape.ramadan {
            &RAMADAN_HOURS
        } else {
            &HOURS
        };
        let start = calendar.start_of_day_millis(date);
        times.clear();
        for _ in 0..count {
            let hour = OPENING_HOUR + pick(&mut rng, hours) as i64;
            let within = rng.random_range(0..3_600_000);
            times.push(start + hour * 3_600_000 + within);
        }
        times.sort_unstable();
        let recent = index >= day_count - 28;
        days.push(DemoDay {
            date,
            first_sale: sales.len(),
            sale_count: count,
        });
        for &created_at in &times {
            let lines = 1 + pick(&mut rng, &LINES);
            for (w, (p, b)) in weights.iter_mut().zip(popularity.iter().zip(&shape.boost)) {
                *w = p * b;
            }
            let first_item = items.len();
            let mut total = 0;
            for _ in 0..lines {
                let product = pick(&mut rng, &weights);
                // No product twice in one basket.
                weights[product] = 0.0;
                let entry = &CATALOG[product];
                let quantity = (1 + poisson(&mut rng, entry.extra_units)).min(12);
                let unit_price = products[product].price_cents;
                total += unit_price * quantity;
                if recent {
                    recent_units[product] += quantity;
                }
                items.push(DemoItem {
                    sale: sales.len(),
                    product,
                    quantity,
                    unit_price_cents: unit_price,
                    is_promo: shape.promo[product],
                });
            }
            let paid = cash_paid(&mut rng, total);
            sales.push(DemoSale {
                day: days.len() - 1,
                created_at,
                total_cents: total,
                paid_cents: paid,
                first_item,
                item_count: items.len() - first_item,
            });
        }
    }

    // Opening stock: one to two weeks of recent demand for most products; two sold out,
    // four running low (below the threshold).
    let recent_days = day_count.clamp(1, 28);
    let mut order: Vec<usize> = (0..CATALOG.len()).collect();
    order.shuffle(&mut rng);
    let mut opening_stock = vec![0i64; CATALOG.len()];
    for (rank, &product) in order.iter().enumerate() {
        let daily = recent_units[product] as f64 / recent_days as f64;
        opening_stock[product] = match rank {
            0 | 1 => 0,
            2..=5 => {
                if threshold > 1 {
                    rng.random_range(1..threshold)
                } else {
                    0
                }
            }
            _ => {
                let days_of_cover = rng.random_range(7.0..16.0);
                let floor = threshold + rng.random_range(5..25);
                ((daily * days_of_cover).ceil() as i64).max(floor)
            }
        };
    }

    DemoShop {
        products,
        events,
        days,
        sales,
        items,
        opening_stock,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::{Datelike, TimeZone, Timelike, Utc, Weekday};

    use super::*;

    fn jakarta() -> StoreCalendar {
        StoreCalendar::new(chrono_tz::Asia::Jakarta)
    }

    fn shop(seed: u64, days: u32) -> DemoShop {
        generate(
            &DemoOptions { seed, days },
            &jakarta(),
            ymd(2026, 11, 25),
            10,
        )
    }

    #[test]
    fn the_same_seed_gives_the_same_shop_and_another_seed_another() {
        let a = shop(7, 120);
        assert_eq!(a, shop(7, 120));
        let b = shop(8, 120);
        assert_eq!(a.products.len(), b.products.len());
        assert_ne!(a.sales, b.sales);
    }

    #[test]
    fn catalogue_is_a_few_dozen_unique_products_with_sane_margins() {
        let shop = shop(42, 10);
        assert!((30..=36).contains(&shop.products.len()));
        let skus: HashSet<_> = shop.products.iter().map(|p| p.sku).collect();
        assert_eq!(skus.len(), shop.products.len());
        for p in &shop.products {
            assert!((800_000..=15_000_000).contains(&p.price_cents), "{}", p.sku);
            let ratio = p.cost_cents as f64 / p.price_cents as f64;
            assert!((0.54..=0.71).contains(&ratio), "{} {ratio}", p.sku);
            crate::domain::sku::Sku::parse(p.sku).unwrap();
        }
        let categories: HashSet<_> = shop.products.iter().map(|p| p.category.name()).collect();
        assert_eq!(categories.len(), 6);
    }

    #[test]
    fn history_ends_yesterday_within_opening_hours_and_adds_up() {
        let calendar = jakarta();
        let shop = shop(42, 730);
        assert_eq!(shop.days.len(), 730);
        assert_eq!(shop.days.last().unwrap().date, ymd(2026, 11, 25));
        assert_eq!(shop.days[0].date, ymd(2024, 11, 26));
        let per_day = shop.sales.len() as f64 / 730.0;
        assert!((60.0..=150.0).contains(&per_day), "{per_day} sales a day");
        for sale in &shop.sales {
            let instant = Utc.timestamp_millis_opt(sale.created_at).unwrap();
            let local = instant.with_timezone(&calendar.timezone);
            assert!((7..21).contains(&local.hour()));
            assert_eq!(calendar.business_date(instant), shop.days[sale.day].date);
            let lines = &shop.items[sale.first_item..sale.first_item + sale.item_count];
            assert!((1..=4).contains(&lines.len()));
            let total: i64 = lines.iter().map(|i| i.unit_price_cents * i.quantity).sum();
            assert_eq!(total, sale.total_cents);
            assert!(sale.paid_cents >= sale.total_cents);
        }
    }

    #[test]
    fn weekends_and_lebaran_eve_are_busier_and_lebaran_day_quiet() {
        let shop = shop(42, 730);
        let count = |pred: &dyn Fn(NaiveDate) -> bool| {
            let days: Vec<_> = shop.days.iter().filter(|d| pred(d.date)).collect();
            days.iter().map(|d| d.sale_count).sum::<usize>() as f64 / days.len() as f64
        };
        let weekend = count(&|d| matches!(d.weekday(), Weekday::Sat | Weekday::Sun));
        let weekday = count(&|d| matches!(d.weekday(), Weekday::Tue | Weekday::Wed));
        assert!(weekend > weekday * 1.2, "{weekend} vs {weekday}");
        let fitri = ymd(2026, 3, 20);
        let eve = count(&|d| (add_days(fitri, -7)..fitri).contains(&d));
        let lebaran = count(&|d| d == fitri);
        assert!(eve > lebaran * 2.0, "{eve} vs {lebaran}");
        // Nastar sells mostly before Lebaran.
        let nastar = shop
            .products
            .iter()
            .position(|p| p.sku == "CKE-004")
            .unwrap();
        let units = |range: std::ops::Range<NaiveDate>| -> i64 {
            shop.items
                .iter()
                .filter(|i| {
                    i.product == nastar && range.contains(&shop.days[shop.sales[i.sale].day].date)
                })
                .map(|i| i.quantity)
                .sum()
        };
        let before = units(add_days(fitri, -14)..fitri);
        let later = units(ymd(2026, 6, 1)..ymd(2026, 6, 15));
        assert!(before > later * 3, "{before} vs {later}");
    }

    #[test]
    fn promo_lines_only_during_promotions_and_events_cover_the_holidays() {
        let shop = shop(42, 730);
        let promos: Vec<_> = shop
            .events
            .iter()
            .filter(|e| e.kind == "promotion")
            .collect();
        assert!(promos.len() >= 4);
        let mut promo_lines = 0;
        for item in &shop.items {
            if item.is_promo {
                promo_lines += 1;
                let date = shop.days[shop.sales[item.sale].day].date;
                assert!(
                    promos
                        .iter()
                        .any(|e| e.date <= date && date <= e.end_date.unwrap())
                );
            }
        }
        assert!(promo_lines > 100);
        let names: Vec<&str> = shop.events.iter().map(|e| e.name.as_str()).collect();
        for expected in [
            "Idul Fitri 2025",
            "Idul Fitri 2026",
            "Natal 2025",
            "Tahun Baru 2026",
            "Hari Kemerdekaan RI 2026",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        // The coming year's holidays are there for the forecast.
        assert!(names.contains(&"Idul Fitri 2027"));
    }

    #[test]
    fn opening_stock_has_a_few_low_and_two_empty_products() {
        let shop = shop(42, 90);
        let zero = shop.opening_stock.iter().filter(|s| **s == 0).count();
        let low = shop
            .opening_stock
            .iter()
            .filter(|s| (1..10).contains(*s))
            .count();
        assert_eq!(zero, 2);
        assert_eq!(low, 4);
        assert!(shop.opening_stock.iter().all(|s| *s >= 0));
    }

    #[test]
    fn idul_fitri_extends_beyond_the_table() {
        let dates = idul_fitri_between(ymd(2010, 1, 1), ymd(2040, 12, 31));
        assert!(dates.contains(&ymd(2024, 4, 10)));
        // About one a lunar year, none missing at the table's edges.
        for pair in dates.windows(2) {
            let gap = (pair[1] - pair[0]).num_days();
            assert!((350..=358).contains(&gap), "{pair:?}");
        }
        assert!(dates[0].year() == 2010 && dates.last().unwrap().year() == 2040);
    }

    #[test]
    fn cash_is_rounded_up_to_a_nice_amount() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..1000 {
            let total = rng.random_range(1..50_000_000);
            let paid = cash_paid(&mut rng, total);
            assert!(paid >= total);
            assert!(paid == total || paid % 100_000 == 0);
        }
    }
}
