//! Scale benchmark: train N synthetic SKUs x 3 years of daily history with `train_many`
//! (default config: auto selection, 3x28-day backtest, 365-day forecast) and report wall time
//! and peak memory.
//!
//! ```text
//! cargo run --release -p siprems-forecast --example scale_bench -- [N=1000] [auto|prophet|ets|naive]
//! ```

use std::time::Instant;

use chrono::{Datelike, Days, NaiveDate};
use forecast::{DailyHistory, Engine, Holiday, ModelKind, TrainConfig};

struct Rng(u64);
impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (a, b) = (self.uniform(), self.uniform());
        (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
    }
}

fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().map_or(Ok(1000), |s| s.parse())?;
    let mut config = TrainConfig::default();
    if let Some(c) = args.get(1) {
        config.choice = c.parse()?;
    }
    let start = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let days = 3 * 365;
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let jobs: Vec<(usize, DailyHistory)> = (0..n)
        .map(|k| {
            let level = 0.5 + 60.0 * rng.uniform().powi(2);
            let amp = 0.4 * rng.uniform();
            let trend = (rng.uniform() - 0.5) * 0.001;
            let weekend = 1.0 + 0.5 * rng.uniform();
            let units: Vec<f64> = (0..days)
                .map(|i| {
                    let d = start + Days::new(i as u64);
                    let w = if d.weekday().num_days_from_monday() >= 5 {
                        weekend
                    } else {
                        1.0
                    };
                    let y = 1.0
                        + amp * (2.0 * std::f64::consts::PI * d.ordinal() as f64 / 365.25).sin();
                    let mean = level * w * y * (1.0 + trend * i as f64).max(0.1);
                    (mean * (0.15 * rng.normal()).exp()).round().max(0.0)
                })
                .collect();
            (k, DailyHistory::new(start, units))
        })
        .collect();
    let holidays = vec![Holiday {
        name: "New Year".into(),
        dates: (2021..=2024)
            .map(|y| NaiveDate::from_ymd_opt(y, 1, 1).unwrap())
            .collect(),
    }];
    let t = Instant::now();
    let engine = Engine::new()?;
    let t_engine = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let out = engine.train_many(jobs, &holidays, &config);
    let secs = t.elapsed().as_secs_f64();
    let ok = out.iter().filter(|(_, r)| r.is_ok()).count();
    let mut kinds = std::collections::BTreeMap::<ModelKind, usize>::new();
    for (_, r) in &out {
        if let Ok(m) = r {
            *kinds.entry(m.kind).or_default() += 1;
        }
    }
    let json_bytes: usize = out
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .map(|m| serde_json::to_vec(m).map_or(0, |v| v.len()))
        .sum();
    println!(
        "{n} SKUs x {days} days, choice {}: {secs:.1} s wall ({:.1} ms/SKU), engine {t_engine:.2} s, \
         {ok} ok, kinds {kinds:?}, threads {}, peak RSS {:.0} MiB, mean model JSON {:.1} KiB",
        config.choice,
        1000.0 * secs / n as f64,
        rayon::current_num_threads(),
        peak_rss_mib().unwrap_or(f64::NAN),
        json_bytes as f64 / ok.max(1) as f64 / 1024.0
    );
    Ok(())
}
