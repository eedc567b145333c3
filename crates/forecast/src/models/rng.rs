//! A small seeded random generator (SplitMix64) with the few distributions Prophet's
//! predictive simulation needs, so that intervals are reproducible run to run.

pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x853C_49E6_748F_EA9B)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on the open interval (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// Laplace with location 0 and scale `b` (inverse CDF).
    pub fn laplace(&mut self, b: f64) -> f64 {
        let u = self.uniform() - 0.5;
        -b * u.signum() * (1.0 - 2.0 * u.abs()).ln()
    }

    /// Poisson with mean `lambda` (Knuth's product method; normal approximation above 500).
    pub fn poisson(&mut self, lambda: f64) -> usize {
        if lambda <= 0.0 || lambda.is_nan() {
            return 0;
        }
        if lambda > 500.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as usize;
        }
        let limit = (-lambda).exp();
        let (mut k, mut p) = (0usize, 1.0);
        loop {
            p *= self.uniform();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_right() {
        let mut r = Rng::new(1);
        let n = 200_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let x = r.normal();
            s += x;
            s2 += x * x;
        }
        assert!((s / n as f64).abs() < 0.01 && (s2 / n as f64 - 1.0).abs() < 0.01);
        let lap: f64 = (0..n).map(|_| r.laplace(2.0).abs()).sum::<f64>() / n as f64;
        assert!((lap - 2.0).abs() < 0.03, "{lap}");
        let poi: f64 = (0..20_000).map(|_| r.poisson(3.5) as f64).sum::<f64>() / 20_000.0;
        assert!((poi - 3.5).abs() < 0.05, "{poi}");
        let u: f64 = (0..n).map(|_| r.uniform()).sum::<f64>() / n as f64;
        assert!((u - 0.5).abs() < 0.005);
        // Reproducible.
        assert_eq!(Rng::new(7).next_u64(), Rng::new(7).next_u64());
    }
}
