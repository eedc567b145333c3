//! Synthetic demand with known structure, shared by the integration tests.
#![allow(dead_code, reason = "each test binary uses a different part")]

use chrono::{Datelike, NaiveDate};

/// Small deterministic PRNG (xorshift64*) with a normal sampler; keeps the crate free of a
/// `rand` dev-dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

pub const BASE: f64 = 40.0;
pub const HOLIDAY_UPLIFT: f64 = 1.8;
pub const NOISE_SD: f64 = 0.08;

/// Weekday factor: Saturday and Sunday sell more.
pub fn weekly(d: NaiveDate) -> f64 {
    [0.85, 0.9, 0.9, 1.0, 1.1, 1.4, 1.25][d.weekday().num_days_from_monday() as usize]
}

/// Yearly factor: summer peak.
pub fn yearly(d: NaiveDate) -> f64 {
    1.0 + 0.3 * (2.0 * std::f64::consts::PI * (d.ordinal() as f64 - 100.0) / 365.25).sin()
}

/// The "Festival": the 3rd to 7th of June every year.
pub fn festival_days(from_year: i32, to_year: i32) -> Vec<NaiveDate> {
    (from_year..=to_year)
        .flat_map(|y| (3..=7).map(move |d| NaiveDate::from_ymd_opt(y, 6, d).unwrap()))
        .collect()
}

/// Expected (noise-free) demand on a day.
pub fn expected(d: NaiveDate, festival: &[NaiveDate]) -> f64 {
    let h = if festival.contains(&d) {
        HOLIDAY_UPLIFT
    } else {
        1.0
    };
    BASE * weekly(d) * yearly(d) * h
}

/// Noisy observation of `expected` (multiplicative log-normal noise, rounded to units).
pub fn observe(e: f64, rng: &mut Rng) -> f64 {
    (e * (NOISE_SD * rng.normal()).exp()).round().max(0.0)
}
