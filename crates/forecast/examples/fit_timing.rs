//! Per-fit cost of each model on one synthetic SKU with 3 years of daily history (CPU time of
//! this process, so the numbers are meaningful on a busy machine).
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo run --release -p siprems-forecast --example fit_timing
//! ```

mod common;

use std::time::Instant;

use common::cpu_seconds;

use chrono::{Datelike, Days, NaiveDate};
use forecast::{
    DailyHistory, Engine, Holiday, ModelChoice, ModelKind, ProphetVariant, TrainConfig,
};

fn time<T>(label: &str, reps: usize, mut f: impl FnMut() -> T) {
    let (c0, t0) = (cpu_seconds(), Instant::now());
    for _ in 0..reps {
        std::hint::black_box(f());
    }
    println!(
        "{label:<44} {:>8.1} ms cpu {:>8.1} ms wall",
        1000.0 * (cpu_seconds() - c0) / reps as f64,
        1000.0 * t0.elapsed().as_secs_f64() / reps as f64
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let units: Vec<f64> = (0..1095)
        .map(|i| {
            let d = start + Days::new(i);
            let w = if d.weekday().num_days_from_monday() >= 5 {
                1.4
            } else {
                1.0
            };
            let y = 1.0 + 0.3 * (2.0 * std::f64::consts::PI * d.ordinal() as f64 / 365.25).sin();
            (30.0 * w * y + ((i * 7919) % 11) as f64 - 5.0)
                .round()
                .max(0.0)
        })
        .collect();
    let h = DailyHistory::new(start, units);
    let hol = vec![Holiday {
        name: "New Year".into(),
        dates: (2021..=2024)
            .map(|y| NaiveDate::from_ymd_opt(y, 1, 1).unwrap())
            .collect(),
    }];
    let t = Instant::now();
    let engine = Engine::new()?;
    println!("Engine::new {:.2} s", t.elapsed().as_secs_f64());
    let reps = 5;
    for variant in [ProphetVariant::Reference, ProphetVariant::Additive] {
        let mut c = TrainConfig {
            prophet_variant: variant,
            ..TrainConfig::default()
        };
        c.uncertainty_samples = 0;
        time(
            &format!("prophet {variant:?} fit+28d, no interval"),
            reps,
            || {
                engine
                    .forecast(&h, &hol, ModelKind::Prophet, 28, &c)
                    .unwrap()
            },
        );
        c.uncertainty_samples = 200;
        time(
            &format!("prophet {variant:?} fit+365d, 200 draws"),
            reps,
            || {
                engine
                    .forecast(&h, &hol, ModelKind::Prophet, 365, &c)
                    .unwrap()
            },
        );
        let c = TrainConfig {
            prophet_variant: variant,
            choice: ModelChoice::Only(ModelKind::Prophet),
            ..TrainConfig::default()
        };
        time(
            &format!("prophet {variant:?} train (3 folds + final)"),
            reps,
            || engine.train(&h, &hol, &c).unwrap(),
        );
    }
    let c = TrainConfig::default();
    time("ets fit+365d", reps, || {
        engine.forecast(&h, &hol, ModelKind::Ets, 365, &c).unwrap()
    });
    let c = TrainConfig {
        choice: ModelChoice::Only(ModelKind::Ets),
        ..TrainConfig::default()
    };
    time("ets train (3 folds + final)", reps, || {
        engine.train(&h, &hol, &c).unwrap()
    });
    let c = TrainConfig {
        choice: ModelChoice::Only(ModelKind::SeasonalNaive),
        ..TrainConfig::default()
    };
    time("naive train (3 folds + final)", reps, || {
        engine.train(&h, &hol, &c).unwrap()
    });
    let c = TrainConfig::default();
    time("auto train (3 singles x 3 folds + final)", reps, || {
        engine.train(&h, &hol, &c).unwrap()
    });
    Ok(())
}
