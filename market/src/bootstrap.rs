//! Parametric-bootstrap standard errors of the whole estimator of one class (docs/MARKET.md).
//!
//! From the reported parameters θ̂ (kappa jackknife-corrected), `replicates` histories are
//! simulated on the class's own observation dates by the exact discretisation of MODEL.md §1
//! (the OU deviation, the compound-Poisson jumps), each started from the observed first price
//! (the likelihood conditions on it). Each replicate is re-estimated by [`fit`] — the
//! threshold jump filter, the maximum likelihood and the split-sample jackknife of kappa,
//! exactly as the data were — and the standard error of each parameter is the sample standard
//! deviation of its replicate estimates. It covers what the observed information leaves out:
//! the error of the filtered jump level, the jump/no-jump classification, the jackknife's own
//! variance and the non-quadratic likelihood of short samples.
//!
//! Deterministic: replicate r of a class draws from a xoshiro256** stream seeded from (seed,
//! class id, r) alone, and the estimates are combined in replicate order, so the result does
//! not depend on the number of threads or on the other classes. The replicates run on scoped
//! std threads (the market layer takes no runtime crate, scripts/test.sh).

use crate::estimate::{fit, Fit, Params};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Replicates of the default bootstrap: the standard errors are themselves uncertain by about
/// 1/sqrt(2·replicates) relative (5 % at 200).
pub const DEFAULT_REPLICATES: usize = 200;
/// Fewest replicates accepted.
pub const MIN_REPLICATES: usize = 10;
/// Seed of the default bootstrap.
pub const DEFAULT_SEED: u64 = 20_240_901;

/// xoshiro256** (Blackman & Vigna 2018), seeded through SplitMix64: a small, well-tested
/// generator, written out so that the bootstrap's draws are fixed by this file alone.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
    spare: Option<f64>,
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// The stream of (`seed`, `stream`, `index`): independent-looking streams for any
    /// distinct triple.
    pub fn new(seed: u64, stream: u64, index: u64) -> Self {
        let mut x = seed;
        let a = splitmix64(&mut x);
        let mut x = a ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let b = splitmix64(&mut x);
        let mut x = b ^ index.wrapping_mul(0x8CB9_2BA7_2F3D_8DD7);
        let s = [
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ];
        Rng { s, spare: None }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let r = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        r
    }

    /// Uniform on (0, 1) (53 bits, never 0 or 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller, both values of a pair used).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let r = (-2.0 * self.uniform().ln()).sqrt();
        let a = 2.0 * std::f64::consts::PI * self.uniform();
        self.spare = Some(r * a.sin());
        r * a.cos()
    }

    /// Poisson with mean `lambda` (≥ 0) by inversion of the distribution function (the mean
    /// per observation step is small: lambda·dt).
    pub fn poisson(&mut self, lambda: f64) -> u32 {
        if lambda <= 0.0 {
            return 0;
        }
        let u = self.uniform();
        let mut p = (-lambda).exp();
        let mut cdf = p;
        let mut n = 0u32;
        while u > cdf && n < 10_000 && p > 0.0 {
            n += 1;
            p *= lambda / f64::from(n);
            cdf += p;
        }
        n
    }
}

/// One history of log prices ln P(t_i) under `p` at the times `t` (years, increasing),
/// starting from the log price `y0` at t_0 (X(t_0) = y0 − a, J(t_0) = 0): the exact
/// discretisation of MODEL.md §1 at the data's steps (docs/MARKET.md, "The model at the
/// observation dates").
pub fn simulate(p: &Params, t: &[f64], y0: f64, rng: &mut Rng) -> Vec<f64> {
    let mut y = Vec::with_capacity(t.len());
    if t.is_empty() {
        return y;
    }
    y.push(y0);
    let mut x = y0 - p.log_level;
    let mut j = 0.0;
    for i in 1..t.len() {
        let dt = t[i] - t[i - 1];
        let kdt = p.kappa * dt;
        let phi = (-kdt).exp();
        let var = if kdt < 1e-10 {
            p.sigma * p.sigma * dt
        } else {
            p.sigma * p.sigma * (-(-2.0 * kdt).exp_m1()) / (2.0 * p.kappa)
        };
        x = phi * x + var.sqrt() * rng.normal();
        for _ in 0..rng.poisson(p.jump_intensity * dt) {
            j += p.jump_mean + p.jump_std * rng.normal();
        }
        y.push(p.log_level + p.drift * t[i] + x + j);
    }
    y
}

/// The bootstrap's result for one class.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// Standard errors in the order of [`crate::estimate::PARAM_NAMES`] (None: fewer than 2
    /// usable replicates, or a jump parameter the original fit did not estimate or that
    /// fewer than half the replicates estimated).
    pub std_errors: [Option<f64>; 7],
    /// Replicates simulated.
    pub replicates: usize,
    /// Replicates whose estimates were all finite (the others are left out).
    pub used: usize,
    /// Of those, the replicates in which the jump filter flagged a jump (the jump parameters'
    /// standard errors are over these).
    pub with_jumps: usize,
}

/// FNV-1a of a class id: its bootstrap stream, so a class's standard errors do not depend on
/// its position in the file.
pub fn class_stream(class: &str) -> u64 {
    class.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// What to simulate: how many replicates, from which seed, in which stream, on how many
/// threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Replicates (simulated histories).
    pub replicates: usize,
    /// Seed of the simulations.
    pub seed: u64,
    /// Stream within the seed: [`class_stream`] of the class.
    pub stream: u64,
    /// Worker threads (at least 1; the result does not depend on it).
    pub threads: usize,
}

/// Runs `job(0..n)` on `threads` scoped threads, each taking the next index; returns the
/// results in index order. A panicking job panics the caller.
fn run_indexed<T: Send + Sync>(
    n: usize,
    threads: usize,
    job: impl Fn(usize) -> T + Sync,
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let slots: Vec<OnceLock<T>> = (0..n).map(|_| OnceLock::new()).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, n.max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let _ = slots[i].set(job(i));
            });
        }
    });
    slots
        .into_iter()
        .map(|s| s.into_inner().expect("every index ran"))
        .collect()
}

/// Parametric-bootstrap standard errors of `original` (the fit of `y` at `t` with
/// `min_half`): `settings.replicates` histories simulated from `original.params` on the dates
/// `t` from `y[0]`, each re-estimated by [`fit`] with the same `min_half`; in parallel over
/// replicates, `progress` called once after each. Deterministic in (seed, stream).
pub fn bootstrap(
    original: &Fit,
    t: &[f64],
    y: &[f64],
    min_half: usize,
    settings: Settings,
    progress: &(dyn Fn() + Sync),
) -> Bootstrap {
    let Settings {
        replicates,
        seed,
        stream,
        threads,
    } = settings;
    let truth = original.params;
    let estimates: Vec<Option<(Params, bool)>> = run_indexed(replicates, threads, |r| {
        let mut rng = Rng::new(seed, stream, r as u64);
        let ys = simulate(&truth, t, y[0], &mut rng);
        let f = fit(t, &ys, min_half);
        progress();
        let ok = f.params.to_array().iter().all(|v| v.is_finite());
        ok.then_some((f.params, f.with_jumps))
    });
    let used: Vec<&(Params, bool)> = estimates.iter().flatten().collect();
    let with_jumps = used.iter().filter(|e| e.1).count();
    let mut std_errors = [None; 7];
    for (j, se) in std_errors.iter_mut().enumerate() {
        let values: Vec<f64> = if j < 4 {
            used.iter().map(|e| e.0.to_array()[j]).collect()
        } else if original.with_jumps && 2 * with_jumps >= used.len() {
            used.iter()
                .filter(|e| e.1)
                .map(|e| e.0.to_array()[j])
                .collect()
        } else {
            Vec::new()
        };
        *se = sample_sd(&values);
    }
    Bootstrap {
        std_errors,
        replicates,
        used: used.len(),
        with_jumps,
    }
}

/// Sample standard deviation (n − 1), None below 2 values.
fn sample_sd(v: &[f64]) -> Option<f64> {
    if v.len() < 2 {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    Some((v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::DAYS_PER_YEAR;

    fn params() -> Params {
        Params {
            log_level: 1.0,
            drift: -0.2,
            kappa: 4.0,
            sigma: 0.3,
            jump_intensity: 6.0,
            jump_mean: -0.1,
            jump_std: 0.04,
        }
    }

    #[test]
    fn indexed_jobs_come_back_in_order_on_any_thread_count() {
        for threads in [1, 2, 7] {
            let v = run_indexed(20, threads, |i| i * i);
            assert_eq!(v, (0..20).map(|i| i * i).collect::<Vec<_>>());
        }
        assert!(run_indexed(0, 4, |i| i).is_empty());
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(1, 2, 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut seen = std::collections::BTreeSet::new();
        for (s, c, r) in [(1, 2, 3), (1, 2, 4), (1, 3, 3), (2, 2, 3), (0, 0, 0)] {
            assert!(seen.insert(Rng::new(s, c, r).next_u64()), "{s} {c} {r}");
        }
    }

    #[test]
    fn normal_and_poisson_draws_have_their_moments() {
        let mut r = Rng::new(7, 0, 0);
        let n = 200_000;
        let z: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let m = z.iter().sum::<f64>() / n as f64;
        let v = z.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
        // Standard errors of the mean and variance: 1/sqrt(n) = 0.0022, sqrt(2/n) = 0.0032.
        assert!(m.abs() < 0.01 && (v - 1.0).abs() < 0.015, "{m} {v}");
        for lambda in [0.016, 0.5, 3.0] {
            let k: Vec<f64> = (0..n).map(|_| f64::from(r.poisson(lambda))).collect();
            let m = k.iter().sum::<f64>() / n as f64;
            let v = k.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
            let se = (lambda / n as f64).sqrt();
            assert!((m - lambda).abs() < 5.0 * se, "lambda {lambda}: mean {m}");
            assert!(
                (v - lambda).abs() < 0.05 * lambda + 10.0 * se,
                "lambda {lambda}: {v}"
            );
        }
    }

    #[test]
    fn simulated_history_has_the_model_moments() {
        // Without jumps, the one-step residual x_i − phi·x_{i-1} is N(0, v²): check its
        // variance, and with jumps the count of large moves against lambda·T.
        let mut p = params();
        p.jump_intensity = 0.0;
        let dt = 1.0 / DAYS_PER_YEAR;
        let t: Vec<f64> = (0..20_000).map(|i| i as f64 * dt).collect();
        let y = simulate(&p, &t, 1.3, &mut Rng::new(3, 0, 0));
        assert_eq!(y[0], 1.3);
        let phi = (-p.kappa * dt).exp();
        let v2 = p.sigma * p.sigma * (1.0 - phi * phi) / (2.0 * p.kappa);
        let x: Vec<f64> = y
            .iter()
            .zip(&t)
            .map(|(y, t)| y - p.log_level - p.drift * t)
            .collect();
        let e: Vec<f64> = x.windows(2).map(|w| w[1] - phi * w[0]).collect();
        let var = e.iter().map(|v| v * v).sum::<f64>() / e.len() as f64;
        // Relative standard error of a variance from 20 000 normals: sqrt(2/20 000) = 1 %.
        assert!((var / v2 - 1.0).abs() < 0.04, "{var} vs {v2}");
        let p = params();
        let y = simulate(&p, &t, 1.0, &mut Rng::new(4, 0, 0));
        let big = y.windows(2).filter(|w| (w[1] - w[0]).abs() > 0.05).count() as f64;
        let expected = p.jump_intensity * t[t.len() - 1];
        // ~330 jumps of mean −0.1, sd 0.04 (nearly all beyond 0.05) against daily diffusive
        // moves of sd 0.016 (beyond 0.05 with probability 0.2 %, ~40 steps).
        assert!(
            (big - expected - 40.0).abs() < 60.0,
            "{big} large moves, {expected} jumps"
        );
    }

    #[test]
    fn bootstrap_is_deterministic_and_thread_count_free() {
        let p = params();
        let dt = 1.0 / DAYS_PER_YEAR;
        let t: Vec<f64> = (0..300).map(|i| i as f64 * dt).collect();
        let y = simulate(&p, &t, 1.0, &mut Rng::new(9, 0, 0));
        let f = fit(&t, &y, 60);
        let settings = |seed, threads| Settings {
            replicates: 12,
            seed,
            stream: class_stream("H100"),
            threads,
        };
        let (a, b) = (
            bootstrap(&f, &t, &y, 60, settings(5, 1), &|| ()),
            bootstrap(&f, &t, &y, 60, settings(5, 3), &|| ()),
        );
        assert_eq!(a.std_errors, b.std_errors);
        assert_eq!(a.used, 12);
        assert!(a.std_errors[..4].iter().all(|s| s.is_some_and(|v| v > 0.0)));
        let other = bootstrap(&f, &t, &y, 60, settings(6, 2), &|| ());
        assert_ne!(a.std_errors, other.std_errors, "the seed matters");
    }
}
