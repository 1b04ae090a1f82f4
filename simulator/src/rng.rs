//! Philox4x32-10 and the draws of MODEL.md §9.
//!
//! # Why a hand-written Philox
//! Every backend (this CPU backend and the CUDA backend of `gaib-gpu-kernels`) must produce the
//! *same* random numbers for the same (seed, path, entity, step), so that a CPU and a GPU run
//! agree path for path. Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as
//! easy as 1, 2, 3", SC 2011) is counter-based: a draw is a pure function of a 128-bit counter
//! and a 64-bit key, with no state to carry between threads. It is ~20 lines, identical in Rust
//! and CUDA C, and checked here against the Random123 published known-answer vectors. A crate
//! dependency would hide exactly the details (word order, key schedule) that must match the
//! CUDA kernel bit for bit.
//!
//! # Counter and key
//! key = (seed & 0xffff_ffff, seed >> 32); counter = (path index, stream id, step, call), each a
//! u32 word (at most 2^32 paths per seed). Stream ids are FNV-1a 32-bit hashes of the stream
//! names (`gaib_engine::stream_id`): `class:<id>`, `fleet:<id>`, `operator:<id>`,
//! `systematic:M`.
//!
//! # Which draw uses which call and word (model version 6)
//! A call returns four u32 words `x0..x3`. Uniforms are `u(x) = (x + 0.5)·2^-32` ∈ (0, 1).
//! Normals come in pairs by Box–Muller from the two uniforms of one pair of words:
//! `(x0, x1) → (z0, z1)`, `(x2, x3) → (z2, z3)`, with `z_a = r·cos(2π u_b)`,
//! `z_b = r·sin(2π u_b)`, `r = sqrt(−2 ln u_a)`. A class's and a fleet's months come in pairs
//! (k, k + 1) with k odd, both drawn from call 0 of step k (version 6; up to version 5 each
//! month had its own call and z1 was discarded).
//!
//! | entity | stream | step | call | words → draw |
//! |---|---|---|---|---|
//! | systematic factor M | `systematic:M` | 0 | 0 | (x0,x1) → z0 = M |
//! | operator o: idiosyncratic e_o | `operator:<id>` | 0 | 0 | (x0,x1) → z0 = e_o |
//! | class c at months k, k + 1 (k odd): eps_{c,k}, eps_{c,k+1} | `class:<id>` | k | 0 | (x0,x1) → (z0, z1) = (eps_{c,k}, eps_{c,k+1}) |
//! | class c at months k, k + 1 (k odd): jump counts | `class:<id>` | k | 0 | x2 (month k), x3 (month k + 1) → u → N by inverse Poisson CDF |
//! | class c at month k: jump sizes | `class:<id>` | k | 1 + j/4 | jump j (0-based) uses normal z_{j mod 4} of that call |
//! | fleet f at months k, k + 1 (k odd): xi_{f,k}, xi_{f,k+1} | `fleet:<id>` | k | 0 | (x0,x1) → (z0, z1) = (xi_{f,k}, xi_{f,k+1}) |
//!
//! Every counter is used for one draw only: call 0 of an even step is never used (its month
//! draws from the odd step before it), the jump sizes of any month use calls ≥ 1 of that
//! month's own step. Unused words (z1 of the step-0 pairs, x2 and x3 of a fleet's call) are
//! discarded, never reused, so that adding a draw to one entity can never shift another's.

use crate::math;

/// Philox multiplier of word 0.
const M0: u32 = 0xD251_1F53;
/// Philox multiplier of word 2.
const M1: u32 = 0xCD9E_8D57;
/// Weyl key increment of key word 0 (golden ratio).
const W0: u32 = 0x9E37_79B9;
/// Weyl key increment of key word 1 (sqrt 3 − 1).
const W1: u32 = 0xBB67_AE85;

/// 2^-32, the scale of a u32 to a uniform in (0, 1).
const TWO_POW_M32: f64 = 1.0 / 4_294_967_296.0;

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

/// Philox4x32 with `R` rounds on `counter` under `key` (Random123 word order).
#[inline(always)]
pub fn philox4x32_r<const R: usize>(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = counter;
    let mut k = key;
    for r in 0..R {
        if r > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// Philox4x32-10: four u32 words for `counter` under `key`.
#[inline(always)]
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    philox4x32_r::<10>(counter, key)
}

/// The Philox key of a 64-bit seed: (low word, high word).
#[inline]
pub fn seed_key(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// Uniform in (0, 1) from one u32 word: (x + 0.5)·2^-32. Never 0, never 1.
#[inline(always)]
pub fn uniform(x: u32) -> f64 {
    (f64::from(x) + 0.5) * TWO_POW_M32
}

/// Two independent standard normals from two words by Box–Muller:
/// r = sqrt(−2 ln u(a)), (r·cos 2πu(b), r·sin 2πu(b)).
#[inline(always)]
pub fn box_muller(a: u32, b: u32) -> (f64, f64) {
    let r = (-2.0 * math::ln(uniform(a))).sqrt();
    let (s, c) = math::sin_cos_tau(uniform(b));
    (r * c, r * s)
}

/// The first normal of [`box_muller`] alone: r·cos 2πu(b) (bit-identical to
/// `box_muller(a, b).0`; skips the sine).
#[inline(always)]
pub fn box_muller_first(a: u32, b: u32) -> f64 {
    let r = (-2.0 * math::ln(uniform(a))).sqrt();
    r * math::cos_tau(uniform(b))
}

/// Draws of one path under one seed: evaluates Philox at (path, stream, step, call).
#[derive(Debug, Clone, Copy)]
pub struct PathRng {
    key: [u32; 2],
    path: u32,
}

impl PathRng {
    /// The generator of path `path` (must be < 2^32) under `seed`.
    #[inline]
    pub fn new(seed: u64, path: u32) -> Self {
        Self {
            key: seed_key(seed),
            path,
        }
    }

    /// The four raw words of (stream, step, call).
    #[inline(always)]
    pub fn words(&self, stream: u32, step: u32, call: u32) -> [u32; 4] {
        philox4x32_10([self.path, stream, step, call], self.key)
    }

    /// The first normal z0 of (stream, step, call) (words x0, x1).
    #[inline(always)]
    pub fn normal0(&self, stream: u32, step: u32, call: u32) -> f64 {
        let w = self.words(stream, step, call);
        box_muller_first(w[0], w[1])
    }

    /// The four normals z0..z3 of (stream, step, call).
    #[inline(always)]
    pub fn normals4(&self, stream: u32, step: u32, call: u32) -> [f64; 4] {
        let w = self.words(stream, step, call);
        let (a, b) = box_muller(w[0], w[1]);
        let (c, d) = box_muller(w[2], w[3]);
        [a, b, c, d]
    }
}

/// The widest x86-64 vector instruction set the running CPU offers to the market's kernels
/// (Philox here, the array loops of `market.rs`), detected once per worker: each level can
/// run every level below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SimdLevel {
    /// No vector build: the portable loops (SSE2 at most, as compiled).
    Scalar,
    /// AVX2: four f64 or four 64-bit integer lanes per vector.
    Avx2,
    /// AVX-512 F, DQ and VL: eight f64 or eight 64-bit integer lanes per vector, and the
    /// conversions between i64/u32 and f64 that AVX2 lacks (`vcvtqq2pd`, `vcvtudq2pd`).
    Avx512,
}

impl SimdLevel {
    /// The widest level the running CPU has (always [`SimdLevel::Scalar`] off x86-64).
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512dq")
                && is_x86_feature_detected!("avx512vl")
            {
                return SimdLevel::Avx512;
            }
            if is_x86_feature_detected!("avx2") {
                return SimdLevel::Avx2;
            }
        }
        SimdLevel::Scalar
    }

    /// Every level the running CPU can run, lowest first (for tests that compare them).
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Self> {
        let top = Self::detect();
        [SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512]
            .into_iter()
            .filter(|&l| l <= top)
            .collect()
    }
}

/// Philox4x32-10 of a batch of counters of one path that differ in stream and step: lane i is
/// the counter (path, `stream[i]`, step0 + `step[i]`, call) of [`PathRng::words`], and its
/// words x0..x3 land in `word(0)[i]`..`word(3)[i]` (structure of arrays, so that the draws
/// made from them are simple loops over arrays).
///
/// Philox is integer arithmetic only, so every lane's words are those of the one-call
/// [`philox4x32_10`] whatever the grouping of lanes: by the CPU's SIMD level (detected once,
/// when the batch is built), eight lanes at a time with AVX-512, then four at a time with AVX2
/// (each 32×32→64 product in a 64-bit vector lane, `vpmuludq`), the remaining lanes, and every
/// lane without AVX2, one by one.
#[derive(Debug, Clone)]
pub struct PhiloxBatch {
    stream: Vec<u32>,
    step: Vec<u32>,
    words: [Vec<u32>; 4],
    level: SimdLevel,
}

impl PhiloxBatch {
    /// A batch of `stream.len()` lanes: lane i has stream id `stream[i]` and step offset
    /// `step[i]` (its step is the offset plus the `step0` of [`PhiloxBatch::run`]).
    ///
    /// # Panics
    /// If `stream` and `step` differ in length.
    pub fn new(stream: Vec<u32>, step: Vec<u32>) -> Self {
        assert_eq!(stream.len(), step.len(), "one step offset per stream lane");
        let n = stream.len();
        Self {
            stream,
            step,
            words: std::array::from_fn(|_| vec![0; n]),
            level: SimdLevel::detect(),
        }
    }

    /// Number of lanes.
    pub fn len(&self) -> usize {
        self.stream.len()
    }

    /// Whether the batch has no lane.
    pub fn is_empty(&self) -> bool {
        self.stream.is_empty()
    }

    /// Runs the batch in the build for `level` (at most the CPU's) instead of the detected one.
    #[cfg(test)]
    pub(crate) fn set_level(&mut self, level: SimdLevel) {
        assert!(level <= SimdLevel::detect(), "{level:?} beyond the CPU's");
        self.level = level;
    }

    /// Word `w` (0..4) of every lane, from the last [`PhiloxBatch::run`].
    pub fn word(&self, w: usize) -> &[u32] {
        &self.words[w]
    }

    /// Evaluates every lane: lane i = `rng.words(stream[i], step0 + step[i], call)` (the step
    /// wraps like a u32).
    pub fn run(&mut self, rng: &PathRng, step0: u32, call: u32) {
        let (key, path) = (rng.key, rng.path);
        let [w0, w1, w2, w3] = &mut self.words;
        // Lanes done so far: each vector body takes whole vectors from lane `done` on.
        let mut done = 0;
        #[cfg(target_arch = "x86_64")]
        for (level, body) in [
            (SimdLevel::Avx512, philox_batch_avx512 as PhiloxBody),
            (SimdLevel::Avx2, philox_batch_avx2),
        ] {
            if self.level >= level {
                let out = [
                    &mut w0[done..],
                    &mut w1[done..],
                    &mut w2[done..],
                    &mut w3[done..],
                ];
                // SAFETY: `self.level` is at most the running CPU's level
                // (`SimdLevel::detect`), so the CPU has the instruction set `body` needs.
                done += unsafe {
                    body(
                        key,
                        [path, call, step0],
                        &self.stream[done..],
                        &self.step[done..],
                        out,
                    )
                };
            }
        }
        for i in done..self.stream.len() {
            let step = step0.wrapping_add(self.step[i]);
            let w = philox4x32_10([path, self.stream[i], step, call], key);
            (w0[i], w1[i], w2[i], w3[i]) = (w[0], w[1], w[2], w[3]);
        }
    }
}

/// A vector body of [`PhiloxBatch::run`] (see [`philox_batch_simd`]).
#[cfg(target_arch = "x86_64")]
type PhiloxBody = unsafe fn([u32; 2], [u32; 3], &[u32], &[u32], [&mut [u32]; 4]) -> usize;

/// Defines `$name`, a vector body of [`PhiloxBatch::run`] for one x86-64 instruction set
/// (`$features`, `$lanes` 64-bit lanes per vector): lanes 0..`$lanes`·⌊n/`$lanes`⌋, each
/// 32-bit word in the low half of a 64-bit vector lane (the unsigned 32×32→64 multiply `$mul`
/// reads only the low halves, so the high halves may carry junk between rounds). `$load`
/// widens `$lanes` u32 at a pointer to the vector's 64-bit lanes; `$store` writes the low
/// words of a vector's lanes as `$lanes` u32 at a pointer. The rounds are those of
/// [`philox4x32_r`] lane by lane, so every word is the scalar one.
///
/// The defined function's arguments: `key`, `pcs` = (path, call, step0), the lanes' `stream`
/// and `step`, and the four output words; it returns the number of lanes done.
/// Its safety contract: the CPU must have `$features`; all slices must have the length of
/// `stream` (asserted).
#[cfg(target_arch = "x86_64")]
macro_rules! philox_batch_simd {
    (
        $(#[$attr:meta])*
        fn $name:ident, features = $features:literal, lanes = $lanes:literal,
        use { $($import:ident),* $(,)? },
        splat = $splat:ident, mul = $mul:ident, shr = $shr:ident, xor = $xor:ident,
        add = $add:ident,
        load = |$lp:ident| $load:expr,
        store = |$sp:ident, $sv:ident| $store:expr $(,)?
    ) => {
        $(#[$attr])*
        ///
        /// # Safety
        /// The CPU must have the target features of this function. All slices must have the
        /// length of `stream` (asserted).
        #[target_feature(enable = $features)]
        unsafe fn $name(
            key: [u32; 2],
            pcs: [u32; 3],
            stream: &[u32],
            step: &[u32],
            mut out: [&mut [u32]; 4],
        ) -> usize {
            use std::arch::x86_64::{$($import),*};
            let n = stream.len();
            assert!(step.len() == n && out.iter().all(|o| o.len() == n));
            let (m0, m1) = ($splat(i64::from(M0)), $splat(i64::from(M1)));
            let mut round_key = [[$splat(0); 2]; 10];
            let mut k = key;
            for (r, rk) in round_key.iter_mut().enumerate() {
                if r > 0 {
                    k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
                }
                *rk = [$splat(i64::from(k[0])), $splat(i64::from(k[1]))];
            }
            let [path, call, step0] = pcs.map(|w| $splat(i64::from(w)));
            let lanes = n / $lanes * $lanes;
            for i in (0..lanes).step_by($lanes) {
                // SAFETY: i + $lanes ≤ n = the length of `stream`, `step` and every `out[w]`
                // (asserted), so each unaligned load of $lanes u32 stays inside its slice.
                let (c1, s) = unsafe {
                    let $lp = stream.as_ptr().add(i);
                    let c1 = $load;
                    let $lp = step.as_ptr().add(i);
                    (c1, $load)
                };
                // The step's low word is step0 + step[i] mod 2^32 (a 64-bit add carries out
                // of it).
                let mut c = [path, c1, $add(step0, s), call];
                for rk in &round_key {
                    let p0 = $mul(m0, c[0]);
                    let p1 = $mul(m1, c[2]);
                    c = [
                        $xor($xor($shr::<32>(p1), c[1]), rk[0]),
                        p1,
                        $xor($xor($shr::<32>(p0), c[3]), rk[1]),
                        p0,
                    ];
                }
                for (o, $sv) in out.iter_mut().zip(c) {
                    // SAFETY: as for the loads above: the store of $lanes u32 stays inside
                    // `out[w]`.
                    unsafe {
                        let $sp = o.as_mut_ptr().add(i);
                        $store
                    };
                }
            }
            lanes
        }
    };
}

#[cfg(target_arch = "x86_64")]
philox_batch_simd! {
    /// The AVX2 body of [`PhiloxBatch::run`] (four lanes per vector; see
    /// [`philox_batch_simd`]).
    fn philox_batch_avx2, features = "avx2", lanes = 4,
    use {
        _mm256_add_epi64, _mm256_castsi256_si128, _mm256_cvtepu32_epi64, _mm256_mul_epu32,
        _mm256_permutevar8x32_epi32, _mm256_set1_epi64x, _mm256_setr_epi32, _mm256_srli_epi64,
        _mm256_xor_si256, _mm_loadu_si128, _mm_storeu_si128,
    },
    splat = _mm256_set1_epi64x, mul = _mm256_mul_epu32, shr = _mm256_srli_epi64,
    xor = _mm256_xor_si256, add = _mm256_add_epi64,
    load = |p| _mm256_cvtepu32_epi64(_mm_loadu_si128(p.cast())),
    // The low 32-bit word of each 64-bit lane, packed into four u32.
    store = |p, v| _mm_storeu_si128(
        p.cast(),
        _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(
            v,
            _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7),
        )),
    ),
}

#[cfg(target_arch = "x86_64")]
philox_batch_simd! {
    /// The AVX-512 body of [`PhiloxBatch::run`] (eight lanes per vector; see
    /// [`philox_batch_simd`]): `vpmovqd` narrows a vector's 64-bit lanes to their low words.
    fn philox_batch_avx512, features = "avx512f", lanes = 8,
    use {
        _mm256_loadu_si256, _mm256_storeu_si256, _mm512_add_epi64, _mm512_cvtepi64_epi32,
        _mm512_cvtepu32_epi64, _mm512_mul_epu32, _mm512_set1_epi64, _mm512_srli_epi64,
        _mm512_xor_si512,
    },
    splat = _mm512_set1_epi64, mul = _mm512_mul_epu32, shr = _mm512_srli_epi64,
    xor = _mm512_xor_si512, add = _mm512_add_epi64,
    load = |p| _mm512_cvtepu32_epi64(_mm256_loadu_si256(p.cast())),
    store = |p, v| _mm256_storeu_si256(p.cast(), _mm512_cvtepi64_epi32(v)),
}

/// Poisson(lambda) by inverse CDF from one uniform `u` ∈ (0, 1): the smallest n with
/// CDF(n) ≥ u. Capped at `max` (the tail beyond it is assigned to `max`). lambda ≤ 0 → 0.
#[inline]
pub fn poisson_inverse(lambda: f64, u: f64, max: u32) -> u32 {
    poisson_inverse_with(lambda, math::exp(-lambda), u, max)
}

/// [`poisson_inverse`] given `p0` = e^(−lambda) (P[N = 0]), which a caller drawing many counts
/// of one lambda computes once: the same arithmetic, so the same count bit for bit.
#[inline]
pub fn poisson_inverse_with(lambda: f64, p0: f64, u: f64, max: u32) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    let mut p = p0;
    let mut cdf = p;
    let mut n = 0;
    while cdf < u && n < max {
        n += 1;
        p *= lambda / f64::from(n);
        cdf += p;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123 `kat_vectors`, Philox4x32-10: counter, key → output.
    const KAT: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
        (
            [0, 0, 0, 0],
            [0, 0],
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8],
        ),
        (
            [0xffff_ffff; 4],
            [0xffff_ffff; 2],
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd],
        ),
        (
            [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
            [0xa409_3822, 0x299f_31d0],
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
        ),
    ];

    #[test]
    fn philox4x32_10_matches_random123_known_answers() {
        for (ctr, key, want) in KAT {
            assert_eq!(
                philox4x32_10(ctr, key),
                want,
                "ctr {ctr:08x?} key {key:08x?}"
            );
        }
    }

    #[test]
    fn seed_key_is_low_word_then_high_word() {
        assert_eq!(seed_key(0x1234_5678_9abc_def0), [0x9abc_def0, 0x1234_5678]);
    }

    #[test]
    fn uniforms_stay_strictly_inside_unit_interval() {
        assert!(uniform(0) > 0.0);
        assert!(uniform(u32::MAX) < 1.0);
        assert_eq!(uniform(0), 0.5 * TWO_POW_M32);
    }

    #[test]
    fn first_normal_alone_is_bit_identical() {
        for (a, b) in [
            (0, 0),
            (1, u32::MAX),
            (0xdead_beef, 0x1234_5678),
            (u32::MAX, 7),
        ] {
            assert_eq!(
                box_muller_first(a, b).to_bits(),
                box_muller(a, b).0.to_bits()
            );
        }
    }

    #[test]
    fn normals_have_unit_moments() {
        let rng = PathRng::new(42, 7);
        let n = 200_000u32;
        let (mut s1, mut s2, mut s3, mut s4) = (0.0, 0.0, 0.0, 0.0);
        for i in 0..n / 4 {
            for z in rng.normals4(1, i, 0) {
                s1 += z;
                s2 += z * z;
                s3 += z * z * z;
                s4 += z * z * z * z;
            }
        }
        let nf = f64::from(n);
        let (m1, m2, m3, m4) = (s1 / nf, s2 / nf, s3 / nf, s4 / nf);
        // Standard errors: mean 1/sqrt(n), var sqrt(2/n), skew sqrt(15/n), kurt sqrt(96/n).
        let se = |v: f64| 5.0 * (v / nf).sqrt();
        assert!(m1.abs() < se(1.0), "mean {m1}");
        assert!((m2 - 1.0).abs() < se(2.0), "var {m2}");
        assert!(m3.abs() < se(15.0), "skew {m3}");
        assert!((m4 - 3.0).abs() < se(96.0), "kurt {m4}");
    }

    #[test]
    fn philox_batch_is_the_one_call_philox_lane_by_lane() {
        // 8·k + 7 lanes (the AVX-512 body, then the AVX2 body, then the scalar tail), steps
        // that wrap past u32::MAX.
        let n = 8 * 5 + 7;
        let stream: Vec<u32> = (0..n)
            .map(|i| 0x9e37_79b9_u32.wrapping_mul(i + 1))
            .collect();
        let step: Vec<u32> = (0..n).map(|i| i * 7).collect();
        let rng = PathRng::new(0x0123_4567_89ab_cdef, 0xffff_fff0);
        for level in SimdLevel::available() {
            let mut batch = PhiloxBatch::new(stream.clone(), step.clone());
            batch.set_level(level);
            for (step0, call) in [(1, 0), (u32::MAX - 100, 3)] {
                batch.run(&rng, step0, call);
                for i in 0..n as usize {
                    let want = rng.words(stream[i], step0.wrapping_add(step[i]), call);
                    let got = [0, 1, 2, 3].map(|w| batch.word(w)[i]);
                    assert_eq!(got, want, "lane {i}, {level:?}, step0 {step0}");
                }
            }
        }
    }

    #[test]
    fn poisson_inverse_matches_cdf() {
        let l: f64 = 0.3;
        let p0: f64 = (-l).exp();
        assert_eq!(poisson_inverse(l, p0 * 0.999, 64), 0);
        assert_eq!(poisson_inverse(l, p0 * 1.001, 64), 1);
        assert_eq!(poisson_inverse(0.0, 0.999_999, 64), 0);
        assert_eq!(poisson_inverse(50.0, 1.0 - 1e-12, 5), 5);
        for u in [1e-9, 0.3, p0, 0.9, 0.999_999] {
            assert_eq!(
                poisson_inverse_with(l, p0, u, 64),
                poisson_inverse(l, u, 64)
            );
        }
        // Mean of the inverse-CDF sample over a fine uniform grid ≈ lambda.
        let n = 100_000;
        let mean: f64 = (0..n)
            .map(|i| f64::from(poisson_inverse(l, (f64::from(i) + 0.5) / f64::from(n), 64)))
            .sum::<f64>()
            / f64::from(n);
        assert!((mean - l).abs() < 1e-3, "{mean}");
    }
}
