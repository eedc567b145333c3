//! Weekly seasonal naive: tomorrow sells what the same weekday sold last week.

use super::Point;

/// Residuals are taken from at most this many most recent days.
const RESIDUAL_WINDOW: usize = 365;
/// A k-weeks-ahead interval needs at least this many residuals; otherwise the largest k that
/// has enough is used.
const MIN_RESIDUALS: usize = 14;

/// Forecast `horizon` days after the end of `y`.
///
/// The point forecast for day `h` (1-based) is `y[n + h - 7k]` with `k = ceil(h / 7)`, i.e. the
/// last observed week repeated. Its 95% interval is empirical: the 2.5% and 97.5% quantiles of
/// the in-sample errors of exactly that predictor (`y[t] - y[t - 7k]`, over the last
/// `RESIDUAL_WINDOW` days), so the interval widens with the horizon exactly as much as the
/// history says it should.
pub(crate) fn fit_predict(y: &[f64], horizon: usize, intervals: bool) -> Vec<Point> {
    let n = y.len();
    if n == 0 {
        return vec![Point::default(); horizon];
    }
    let season = 7.min(n);
    let mut quantiles: Vec<Option<(f64, f64)>> = Vec::new();
    let mut out = Vec::with_capacity(horizon);
    for h in 1..=horizon {
        let idx = n - season + (h - 1) % season;
        let p = y[idx].max(0.0);
        let (lo, hi) = if intervals {
            let k = (h - 1) / season + 1;
            let q = quantile_for(y, season, k, &mut quantiles);
            ((p + q.0).max(0.0), (p + q.1).max(0.0))
        } else {
            (p, p)
        };
        out.push(Point {
            p,
            lo: lo.min(p),
            hi: hi.max(p),
        });
    }
    out
}

/// (2.5%, 97.5%) quantiles of `y[t] - y[t - season*k]`, memoised per k; falls back to the
/// largest k with enough residuals, and to (0, 0) when there are none at all.
fn quantile_for(
    y: &[f64],
    season: usize,
    k: usize,
    memo: &mut Vec<Option<(f64, f64)>>,
) -> (f64, f64) {
    let n = y.len();
    // largest usable k
    let max_k = if n > season + MIN_RESIDUALS {
        ((n - MIN_RESIDUALS) / season).max(1)
    } else {
        1
    };
    let k = k.min(max_k);
    if memo.len() <= k {
        memo.resize(k + 1, None);
    }
    if let Some(q) = memo[k] {
        return q;
    }
    let lag = season * k;
    let first = lag.max(n.saturating_sub(RESIDUAL_WINDOW));
    let mut res: Vec<f64> = (first..n).map(|t| y[t] - y[t - lag]).collect();
    let q = if res.is_empty() {
        (0.0, 0.0)
    } else {
        res.sort_by(f64::total_cmp);
        (quantile(&res, 0.025), quantile(&res, 0.975))
    };
    memo[k] = Some(q);
    q
}

/// Linear-interpolated quantile of sorted data.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let w = pos - lo as f64;
    sorted[lo] * (1.0 - w) + sorted[hi] * w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_last_week() {
        let y: Vec<f64> = (0..28).map(|i| (i % 7) as f64).collect();
        let f = fit_predict(&y, 10, true);
        let p: Vec<f64> = f.iter().map(|x| x.p).collect();
        assert_eq!(p, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0, 1.0, 2.0]);
        // a perfectly weekly series has zero residuals -> zero-width interval
        assert!(f.iter().all(|x| x.lo == x.p && x.hi == x.p));
    }

    #[test]
    fn short_and_empty_series() {
        assert_eq!(fit_predict(&[], 3, true).len(), 3);
        let f = fit_predict(&[2.0, 4.0], 4, true);
        let p: Vec<f64> = f.iter().map(|x| x.p).collect();
        assert_eq!(p, vec![2.0, 4.0, 2.0, 4.0]);
    }

    #[test]
    fn quantile_interpolates() {
        assert_eq!(quantile(&[0.0, 10.0], 0.5), 5.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0], 1.0), 3.0);
    }
}
