//! A small L-BFGS minimiser with a strong-Wolfe line search (Nocedal & Wright, algorithms 7.4,
//! 3.5 and 3.6), with Stan's stopping rules, for the native Prophet optimizer.

/// Stopping rules; the defaults are Stan's (`optimize` with `algorithm=lbfgs`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Iteration cap.
    pub max_iter: usize,
    /// Absolute change of the objective.
    pub tol_obj: f64,
    /// Relative change of the objective, in units of machine epsilon.
    pub tol_rel_obj: f64,
    /// Norm of the gradient.
    pub tol_grad: f64,
    /// `g' H^-1 g / max(|f|, 1)`, in units of machine epsilon.
    pub tol_rel_grad: f64,
    /// Norm of the step.
    pub tol_param: f64,
    /// Correction pairs kept.
    pub history: usize,
    /// Length of the first step along the steepest descent direction.
    pub init_alpha: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_iter: 2000,
            tol_obj: 1e-12,
            tol_rel_obj: 1e4,
            tol_grad: 1e-8,
            tol_rel_grad: 1e7,
            tol_param: 1e-8,
            history: 5,
            init_alpha: 1e-3,
        }
    }
}

/// Outcome of a minimisation.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// The best point found.
    pub x: Vec<f64>,
    /// Objective at `x`.
    pub f: f64,
    /// Iterations taken.
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the unit tests only"))]
    pub iterations: usize,
    /// True when a convergence test (rather than the iteration cap or a failed line search)
    /// ended the run.
    #[cfg_attr(not(test), allow(dead_code, reason = "read by the unit tests only"))]
    pub converged: bool,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimise `f` from `x0`. `f(x, grad)` returns the objective and writes the gradient; it may
/// return a non-finite value for points outside the domain (the line search backs off).
pub(crate) fn minimize<F>(mut f: F, x0: Vec<f64>, s: &Settings) -> Outcome
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x0.len();
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Outcome {
            x,
            f: fx,
            iterations: 0,
            converged: false,
        };
    }
    let mut s_hist: Vec<Vec<f64>> = Vec::with_capacity(s.history);
    let mut y_hist: Vec<Vec<f64>> = Vec::with_capacity(s.history);
    let mut rho: Vec<f64> = Vec::with_capacity(s.history);
    let mut d = vec![0.0; n];
    let mut alpha_buf = vec![0.0; s.history];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let eps = f64::EPSILON;
    let mut restarted = false;
    for iter in 1..=s.max_iter {
        // Search direction d = -H g (two-loop recursion).
        d.iter_mut().zip(&g).for_each(|(d, g)| *d = -g);
        let m = s_hist.len();
        for i in (0..m).rev() {
            let a = rho[i] * dot(&s_hist[i], &d);
            alpha_buf[i] = a;
            d.iter_mut().zip(&y_hist[i]).for_each(|(d, y)| *d -= a * y);
        }
        if m > 0 {
            let gamma = dot(&s_hist[m - 1], &y_hist[m - 1]) / dot(&y_hist[m - 1], &y_hist[m - 1]);
            d.iter_mut().for_each(|d| *d *= gamma);
        }
        for i in 0..m {
            let b = rho[i] * dot(&y_hist[i], &d);
            let a = alpha_buf[i];
            d.iter_mut()
                .zip(&s_hist[i])
                .for_each(|(d, s)| *d += (a - b) * s);
        }
        let mut dg = dot(&d, &g);
        if dg >= 0.0 || dg.is_nan() {
            // Not a descent direction: fall back to steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            d.iter_mut().zip(&g).for_each(|(d, g)| *d = -g);
            dg = dot(&d, &g);
            restarted = true;
            if dg >= 0.0 || dg.is_nan() {
                return Outcome {
                    x,
                    f: fx,
                    iterations: iter - 1,
                    converged: true,
                };
            }
        }
        // Stan's rule: a short first step along the steepest descent direction, then unit
        // steps of the quasi-Newton direction.
        let alpha0 = if iter == 1 || restarted {
            s.init_alpha
        } else {
            1.0
        };
        let found = line_search(&mut f, &x, fx, &g, &d, dg, alpha0, &mut x_new, &mut g_new);
        let Some(f_new) = found else {
            if s_hist.is_empty() {
                // Even steepest descent cannot make progress: stop here.
                return Outcome {
                    x,
                    f: fx,
                    iterations: iter - 1,
                    converged: false,
                };
            }
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            restarted = true;
            continue;
        };
        restarted = false;
        // Update memory.
        let sv: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let yv: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&sv, &yv);
        let step_norm = dot(&sv, &sv).sqrt();
        let f_old = fx;
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        fx = f_new;
        if sy > 1e-300 {
            if s_hist.len() == s.history {
                s_hist.remove(0);
                y_hist.remove(0);
                rho.remove(0);
            }
            s_hist.push(sv);
            y_hist.push(yv);
            rho.push(1.0 / sy);
        }
        // Convergence tests (Stan's).
        let df = (f_old - fx).abs();
        let scale = f_old.abs().max(fx.abs()).max(1.0);
        let gnorm = dot(&g, &g).sqrt();
        let mut converged = df < s.tol_obj
            || df / scale < s.tol_rel_obj * eps
            || gnorm < s.tol_grad
            || step_norm < s.tol_param;
        if !converged && !s_hist.is_empty() {
            // g' H^-1 g with the current inverse-Hessian approximation.
            let m = s_hist.len();
            let mut q = g.clone();
            for i in (0..m).rev() {
                let a = rho[i] * dot(&s_hist[i], &q);
                alpha_buf[i] = a;
                q.iter_mut().zip(&y_hist[i]).for_each(|(q, y)| *q -= a * y);
            }
            let gamma = dot(&s_hist[m - 1], &y_hist[m - 1]) / dot(&y_hist[m - 1], &y_hist[m - 1]);
            q.iter_mut().for_each(|q| *q *= gamma);
            for i in 0..m {
                let b = rho[i] * dot(&y_hist[i], &q);
                let a = alpha_buf[i];
                q.iter_mut()
                    .zip(&s_hist[i])
                    .for_each(|(q, s)| *q += (a - b) * s);
            }
            let rel = dot(&g, &q).abs() / fx.abs().max(1.0);
            converged = rel < s.tol_rel_grad * eps;
        }
        if converged {
            return Outcome {
                x,
                f: fx,
                iterations: iter,
                converged: true,
            };
        }
    }
    Outcome {
        x,
        f: fx,
        iterations: s.max_iter,
        converged: false,
    }
}

/// Strong-Wolfe line search along `d` from `x` (objective `f0`, slope `dg0 < 0`). On success
/// writes the accepted point and its gradient to `x_out` / `g_out` and returns its objective.
#[allow(clippy::too_many_arguments, reason = "the search state")]
fn line_search<F>(
    f: &mut F,
    x: &[f64],
    f0: f64,
    _g0: &[f64],
    d: &[f64],
    dg0: f64,
    alpha0: f64,
    x_out: &mut [f64],
    g_out: &mut [f64],
) -> Option<f64>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    const C1: f64 = 1e-4;
    const C2: f64 = 0.9;
    const MAX_EVALS: usize = 40;
    let mut eval = |alpha: f64, x_out: &mut [f64], g_out: &mut [f64]| -> (f64, f64) {
        for ((xo, xi), di) in x_out.iter_mut().zip(x).zip(d) {
            *xo = xi + alpha * di;
        }
        let fa = f(x_out, g_out);
        let slope = dot(g_out, d);
        if fa.is_finite() && slope.is_finite() {
            (fa, slope)
        } else {
            (f64::INFINITY, f64::NAN)
        }
    };
    // Bracketing phase.
    let (mut a_prev, mut f_prev, mut s_prev) = (0.0, f0, dg0);
    let mut alpha = alpha0;
    let mut evals = 0;
    let (mut lo, mut hi, mut f_lo, mut s_lo, mut f_hi, mut s_hi);
    loop {
        let (fa, sa) = eval(alpha, x_out, g_out);
        evals += 1;
        if !fa.is_finite() {
            // Outside the domain or overflow: shrink.
            if evals >= MAX_EVALS {
                return None;
            }
            alpha = a_prev + 0.1 * (alpha - a_prev);
            continue;
        }
        if fa > f0 + C1 * alpha * dg0 || (evals > 1 && fa >= f_prev) {
            (lo, hi, f_lo, s_lo, f_hi, s_hi) = (a_prev, alpha, f_prev, s_prev, fa, sa);
            break;
        }
        if sa.abs() <= -C2 * dg0 {
            return Some(fa);
        }
        if sa >= 0.0 {
            (lo, hi, f_lo, s_lo, f_hi, s_hi) = (alpha, a_prev, fa, sa, f_prev, s_prev);
            break;
        }
        if evals >= MAX_EVALS {
            return (fa < f0).then_some(fa);
        }
        (a_prev, f_prev, s_prev) = (alpha, fa, sa);
        alpha *= 4.0;
    }
    // Zoom phase.
    loop {
        let a = cubic_min(lo, f_lo, s_lo, hi, f_hi, s_hi);
        let (fa, sa) = eval(a, x_out, g_out);
        evals += 1;
        if fa.is_finite() && (fa > f0 + C1 * a * dg0 || fa >= f_lo) {
            (hi, f_hi, s_hi) = (a, fa, sa);
        } else if fa.is_finite() {
            if sa.abs() <= -C2 * dg0 {
                return Some(fa);
            }
            if sa * (hi - lo) >= 0.0 {
                (hi, f_hi, s_hi) = (lo, f_lo, s_lo);
            }
            (lo, f_lo, s_lo) = (a, fa, sa);
        } else {
            (hi, f_hi, s_hi) = (a, f64::INFINITY, f64::NAN);
        }
        if evals >= MAX_EVALS || (hi - lo).abs() < 1e-16 * lo.abs().max(1e-300) {
            // Accept the best sufficient-decrease point found, if any.
            if lo > 0.0 && f_lo < f0 {
                let (fa, _) = eval(lo, x_out, g_out);
                return fa.is_finite().then_some(fa);
            }
            return None;
        }
    }
}

/// Minimiser of the cubic interpolating (a, fa, sa) and (b, fb, sb), kept inside the interval
/// (bisection when the cubic is unusable or its minimiser too close to an end).
fn cubic_min(a: f64, fa: f64, sa: f64, b: f64, fb: f64, sb: f64) -> f64 {
    let (left, right) = if a < b { (a, b) } else { (b, a) };
    let width = right - left;
    let mid = 0.5 * (a + b);
    if !(fb.is_finite() && sb.is_finite()) {
        return mid;
    }
    let d1 = sa + sb - 3.0 * (fa - fb) / (a - b);
    let disc = d1 * d1 - sa * sb;
    if disc < 0.0 || disc.is_nan() {
        return mid;
    }
    let d2 = (b - a).signum() * disc.sqrt();
    let t = b - (b - a) * (sb + d2 - d1) / (sb - sa + 2.0 * d2);
    if !t.is_finite() || t <= left + 0.1 * width || t >= right - 0.1 * width {
        mid
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_rosenbrock() {
        let f = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let s = Settings {
            tol_rel_obj: 0.0,
            tol_obj: 0.0,
            ..Settings::default()
        };
        let out = minimize(f, vec![-1.2, 1.0], &s);
        assert!(
            (out.x[0] - 1.0).abs() < 1e-5 && (out.x[1] - 1.0).abs() < 1e-5,
            "{out:?}"
        );
    }

    #[test]
    fn minimises_a_quadratic_quickly() {
        let c = [1.0, 10.0, 100.0, 3.0];
        let f = |x: &[f64], g: &mut [f64]| {
            let mut v = 0.0;
            for i in 0..4 {
                g[i] = c[i] * (x[i] - i as f64);
                v += 0.5 * c[i] * (x[i] - i as f64).powi(2);
            }
            v
        };
        let out = minimize(f, vec![5.0; 4], &Settings::default());
        for (i, x) in out.x.iter().enumerate() {
            assert!((x - i as f64).abs() < 1e-4, "{out:?}");
        }
        assert!(out.converged && out.iterations < 60, "{out:?}");
    }
}
