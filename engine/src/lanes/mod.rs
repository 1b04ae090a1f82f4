//! Lanes of paths: `W` Monte Carlo paths' `f64` values side by side, for the simulator's
//! lockstep month (docs/PERFORMANCE.md, "A lane-native simulator").
//!
//! `F` holds one quantity of `W` paths (USD, rates, …: the units of the scalar it stands
//! for); `M` one yes/no of `W` paths. Every operation is the scalar `f64` operation of
//! [`Amount`] lane by lane — the same IEEE operation on the same operands, so each lane's
//! result is bit for bit the scalar engine's — written as loops over arrays that LLVM turns
//! into vector instructions when the caller is compiled for AVX2 or AVX-512. Branches of the
//! scalar state machines become masks: both sides are computed and `M::select` keeps each
//! lane's own side, so lanes never diverge.

/// Whether this CPU runs lane code of width `W` (AVX for 4, AVX-512F/DQ/VL for 8; every
/// other width is portable).
pub fn supported(w: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        match w {
            4 => std::arch::is_x86_feature_detected!("avx"),
            8 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
            }
            _ => true,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = w;
        true
    }
}

pub mod deal;
pub mod runner;
pub mod waterfall;

use crate::amount::Amount;
use std::ops::{Add, AddAssign, BitAnd, BitOr, Div, Mul, Not, Sub, SubAssign};

/// Vector forms of the lane operations for W = 4 (AVX) and W = 8 (AVX-512F/DQ), chosen at
/// compile time by `W`. Invariant (upheld by every caller, not by the type system): `F<4>`,
/// `M<4>`, `F<8>` and `M<8>` operations run only on a CPU with those extensions. The
/// simulator's `Groups::new` and the lane tests' `at_every_width!` enter widths 4 and 8 only
/// after [`supported`] says yes, and the hot loops are `#[target_feature]` functions so that
/// these operations inline into vector code; every other width is portable.
#[cfg(target_arch = "x86_64")]
mod simd {
    pub(super) use core::arch::x86_64::*;

    #[inline(always)]
    pub(super) fn ld4<T>(p: &[T]) -> __m256d {
        unsafe { _mm256_loadu_pd(p.as_ptr().cast()) }
    }
    #[inline(always)]
    pub(super) fn st4<T: Default + Copy, const W: usize>(v: __m256d) -> [T; W] {
        let mut out = [T::default(); W];
        unsafe { _mm256_storeu_pd(out.as_mut_ptr().cast(), v) };
        out
    }
    #[inline(always)]
    pub(super) fn ld8<T>(p: &[T]) -> __m512d {
        unsafe { _mm512_loadu_pd(p.as_ptr().cast()) }
    }
    #[inline(always)]
    pub(super) fn st8<T: Default + Copy, const W: usize>(v: __m512d) -> [T; W] {
        let mut out = [T::default(); W];
        unsafe { _mm512_storeu_pd(out.as_mut_ptr().cast(), v) };
        out
    }
    #[inline(always)]
    pub(super) fn mask8(k: __mmask8) -> __m512d {
        unsafe { _mm512_castsi512_pd(_mm512_movm_epi64(k)) }
    }
    #[inline(always)]
    pub(super) fn kmask8(v: __m512d) -> __mmask8 {
        unsafe { _mm512_movepi64_mask(_mm512_castpd_si512(v)) }
    }
}
#[cfg(target_arch = "x86_64")]
use simd::*;

/// `$v4` (operands `__m256d`) when W = 4, `$v8` (`__m512d`) when W = 8, else `$scalar`.
macro_rules! by_width {
    ($w:ident, $v4:expr, $v8:expr, $scalar:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if $w == 4 {
                #[allow(unused_unsafe)]
                let r = unsafe { $v4 };
                return r;
            }
            if $w == 8 {
                #[allow(unused_unsafe)]
                let r = unsafe { $v8 };
                return r;
            }
        }
        $scalar
    }};
}

/// One `f64` quantity of `W` paths (the units of the scalar it stands for).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(transparent)]
pub(crate) struct F<const W: usize>(pub(crate) [f64; W]);

/// One yes/no of `W` paths: all bits set for yes, none for no (the form vector compares
/// produce and blends consume).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct M<const W: usize>(pub(crate) [u64; W]);

macro_rules! lanewise {
    ($w:ident, |$i:ident| $e:expr) => {{
        let mut out = [Default::default(); $w];
        let mut $i = 0;
        while $i < $w {
            out[$i] = $e;
            $i += 1;
        }
        out
    }};
}

impl<const W: usize> F<W> {
    /// Every lane `x`.
    #[inline(always)]
    pub(crate) fn splat(x: f64) -> Self {
        F([x; W])
    }

    /// +0 in every lane.
    pub(crate) const ZERO: Self = F([0.0; W]);

    /// [`Amount::min_of`] lane by lane: `other` where `other < self`, else `self`.
    #[inline(always)]
    pub(crate) fn min_of(self, other: Self) -> Self {
        by_width!(
            W,
            F(st4(_mm256_min_pd(ld4(&other.0), ld4(&self.0)))),
            F(st8(_mm512_min_pd(ld8(&other.0), ld8(&self.0)))),
            ()
        );
        F(lanewise!(W, |i| if other.0[i] < self.0[i] {
            other.0[i]
        } else {
            self.0[i]
        }))
    }

    /// [`Amount::pos`] lane by lane: max(x, 0) as the scalar computes it (−0 and NaN kept).
    #[inline(always)]
    pub(crate) fn pos(self) -> Self {
        by_width!(
            W,
            F(st4(_mm256_max_pd(_mm256_setzero_pd(), ld4(&self.0)))),
            F(st8(_mm512_max_pd(_mm512_setzero_pd(), ld8(&self.0)))),
            ()
        );
        F(lanewise!(W, |i| if 0.0 > self.0[i] {
            0.0
        } else {
            self.0[i]
        }))
    }

    /// [`Amount::cents`] lane by lane (half to even).
    #[inline(always)]
    pub(crate) fn cents(self) -> Self {
        // The scalar fast path for every lane, and the scalar function (its slow path) for a
        // lane outside it; the fast path's condition is tested once for all lanes.
        const MAGIC: f64 = 6_755_399_441_055_744.0;
        const FAST: f64 = 2_251_799_813_685_248.0;
        by_width!(
            W,
            {
                let c = _mm256_mul_pd(ld4(&self.0), _mm256_set1_pd(100.0));
                let a = _mm256_andnot_pd(_mm256_set1_pd(-0.0), c);
                let fast = _mm256_cmp_pd::<_CMP_LT_OQ>(a, _mm256_set1_pd(FAST));
                if _mm256_movemask_pd(fast) == 0xF {
                    let m = _mm256_set1_pd(MAGIC);
                    let r = _mm256_sub_pd(_mm256_add_pd(c, m), m);
                    F(st4(_mm256_div_pd(r, _mm256_set1_pd(100.0))))
                } else {
                    F(lanewise!(W, |i| self.0[i].cents()))
                }
            },
            {
                let c = _mm512_mul_pd(ld8(&self.0), _mm512_set1_pd(100.0));
                let a = _mm512_abs_pd(c);
                let fast = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(a, _mm512_set1_pd(FAST));
                if fast == 0xFF {
                    let m = _mm512_set1_pd(MAGIC);
                    let r = _mm512_sub_pd(_mm512_add_pd(c, m), m);
                    F(st8(_mm512_div_pd(r, _mm512_set1_pd(100.0))))
                } else {
                    F(lanewise!(W, |i| self.0[i].cents()))
                }
            },
            ()
        );
        let c: [f64; W] = lanewise!(W, |i| self.0[i] * 100.0);
        let fast = lanewise!(W, |i| c[i].abs() < FAST);
        if fast.iter().all(|&f: &bool| f) {
            F(lanewise!(W, |i| ((c[i] + MAGIC) - MAGIC) / 100.0))
        } else {
            F(lanewise!(W, |i| self.0[i].cents()))
        }
    }

    /// [`Amount::is_settled`] lane by lane (≤ 1e-9 USD).
    #[inline(always)]
    pub(crate) fn is_settled(self) -> M<W> {
        by_width!(
            W,
            M(st4(_mm256_cmp_pd::<_CMP_LE_OQ>(
                ld4(&self.0),
                _mm256_set1_pd(1e-9)
            ))),
            M(st8(mask8(_mm512_cmp_pd_mask::<_CMP_LE_OQ>(
                ld8(&self.0),
                _mm512_set1_pd(1e-9)
            )))),
            ()
        );
        M(lanewise!(W, |i| mask(self.0[i] <= 1e-9)))
    }

    /// `self >= o` lane by lane (false where either is NaN).
    #[inline(always)]
    pub(crate) fn ge(self, o: Self) -> M<W> {
        by_width!(
            W,
            M(st4(_mm256_cmp_pd::<_CMP_GE_OQ>(ld4(&self.0), ld4(&o.0)))),
            M(st8(mask8(_mm512_cmp_pd_mask::<_CMP_GE_OQ>(
                ld8(&self.0),
                ld8(&o.0)
            )))),
            ()
        );
        M(lanewise!(W, |i| mask(self.0[i] >= o.0[i])))
    }

    /// `self < o` lane by lane (false where either is NaN).
    #[inline(always)]
    pub(crate) fn lt(self, o: Self) -> M<W> {
        by_width!(
            W,
            M(st4(_mm256_cmp_pd::<_CMP_LT_OQ>(ld4(&self.0), ld4(&o.0)))),
            M(st8(mask8(_mm512_cmp_pd_mask::<_CMP_LT_OQ>(
                ld8(&self.0),
                ld8(&o.0)
            )))),
            ()
        );
        M(lanewise!(W, |i| mask(self.0[i] < o.0[i])))
    }
}

#[inline(always)]
fn mask(b: bool) -> u64 {
    0u64.wrapping_sub(u64::from(b))
}

impl<const W: usize> M<W> {
    /// Every lane `b`.
    #[inline(always)]
    pub(crate) fn splat(b: bool) -> Self {
        M([mask(b); W])
    }

    /// Lane `i`.
    #[inline(always)]
    pub(crate) fn lane(self, i: usize) -> bool {
        self.0[i] != 0
    }

    /// Whether any lane is yes.
    #[inline(always)]
    pub(crate) fn any(self) -> bool {
        by_width!(
            W,
            _mm256_movemask_pd(ld4(&self.0)) != 0,
            kmask8(ld8(&self.0)) != 0,
            ()
        );
        self.0.iter().fold(0, |a, &b| a | b) != 0
    }

    /// Whether every lane is yes.
    #[inline(always)]
    pub(crate) fn all(self) -> bool {
        by_width!(
            W,
            _mm256_movemask_pd(ld4(&self.0)) == 0xF,
            kmask8(ld8(&self.0)) == 0xFF,
            ()
        );
        self.0.iter().fold(!0, |a, &b| a & b) == !0
    }

    /// `a` in the yes lanes, `b` in the others (bit for bit).
    #[inline(always)]
    pub(crate) fn select(self, a: F<W>, b: F<W>) -> F<W> {
        by_width!(
            W,
            F(st4(_mm256_blendv_pd(ld4(&b.0), ld4(&a.0), ld4(&self.0)))),
            F(st8(_mm512_mask_blend_pd(
                kmask8(ld8(&self.0)),
                ld8(&b.0),
                ld8(&a.0)
            ))),
            ()
        );
        F(lanewise!(W, |i| if self.0[i] != 0 {
            a.0[i]
        } else {
            b.0[i]
        }))
    }

    /// `x` in the yes lanes, `b` in the others, for small per-lane codes.
    #[inline(always)]
    pub(crate) fn select_u8(self, x: u8, b: [u8; W]) -> [u8; W] {
        lanewise!(W, |i| if self.0[i] != 0 { x } else { b[i] })
    }
}

macro_rules! binop {
    ($tr:ident, $f:ident, $op:tt, $v4:ident, $v8:ident) => {
        impl<const W: usize> $tr for F<W> {
            type Output = Self;
            #[inline(always)]
            fn $f(self, o: Self) -> Self {
                by_width!(
                    W,
                    F(st4($v4(ld4(&self.0), ld4(&o.0)))),
                    F(st8($v8(ld8(&self.0), ld8(&o.0)))),
                    ()
                );
                F(lanewise!(W, |i| self.0[i] $op o.0[i]))
            }
        }
        impl<const W: usize> $tr<f64> for F<W> {
            type Output = Self;
            #[inline(always)]
            fn $f(self, o: f64) -> Self {
                self $op F::splat(o)
            }
        }
    };
}
binop!(Add, add, +, _mm256_add_pd, _mm512_add_pd);
binop!(Sub, sub, -, _mm256_sub_pd, _mm512_sub_pd);
binop!(Mul, mul, *, _mm256_mul_pd, _mm512_mul_pd);
binop!(Div, div, /, _mm256_div_pd, _mm512_div_pd);

impl<const W: usize> Mul<F<W>> for f64 {
    type Output = F<W>;
    #[inline(always)]
    fn mul(self, o: F<W>) -> F<W> {
        F::splat(self) * o
    }
}

impl<const W: usize> AddAssign for F<W> {
    #[inline(always)]
    fn add_assign(&mut self, o: Self) {
        *self = *self + o;
    }
}

impl<const W: usize> SubAssign for F<W> {
    #[inline(always)]
    fn sub_assign(&mut self, o: Self) {
        *self = *self - o;
    }
}

impl<const W: usize> BitAnd for M<W> {
    type Output = Self;
    #[inline(always)]
    fn bitand(self, o: Self) -> Self {
        by_width!(
            W,
            M(st4(_mm256_and_pd(ld4(&self.0), ld4(&o.0)))),
            M(st8(_mm512_and_pd(ld8(&self.0), ld8(&o.0)))),
            ()
        );
        M(lanewise!(W, |i| self.0[i] & o.0[i]))
    }
}

impl<const W: usize> BitOr for M<W> {
    type Output = Self;
    #[inline(always)]
    fn bitor(self, o: Self) -> Self {
        by_width!(
            W,
            M(st4(_mm256_or_pd(ld4(&self.0), ld4(&o.0)))),
            M(st8(_mm512_or_pd(ld8(&self.0), ld8(&o.0)))),
            ()
        );
        M(lanewise!(W, |i| self.0[i] | o.0[i]))
    }
}

impl<const W: usize> Not for M<W> {
    type Output = Self;
    #[inline(always)]
    fn not(self) -> Self {
        by_width!(
            W,
            M(st4(_mm256_xor_pd(
                ld4(&self.0),
                _mm256_castsi256_pd(_mm256_set1_epi64x(-1))
            ))),
            M(st8(_mm512_xor_pd(
                ld8(&self.0),
                _mm512_castsi512_pd(_mm512_set1_epi64(-1))
            ))),
            ()
        );
        M(lanewise!(W, |i| !self.0[i]))
    }
}

/// Runs `$f::<W>()` at the portable width 3 and at 4 and 8 where this CPU runs them (the lane
/// tests' widths).
#[cfg(test)]
macro_rules! at_every_width {
    ($f:ident) => {{
        $f::<3>();
        if $crate::lanes::supported(4) {
            $f::<4>();
        }
        if $crate::lanes::supported(8) {
            $f::<8>();
        }
    }};
}
#[cfg(test)]
pub(crate) use at_every_width;

/// A small deterministic generator for the lane tests (xorshift64*), so they need no RNG
/// crate.
#[cfg(test)]
pub(crate) struct Gen(pub(crate) u64);

#[cfg(test)]
impl Gen {
    /// Uniform on [0, 1).
    pub(crate) fn u(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform on 0..n.
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        (self.u() * f64::from(n)) as u32
    }

    /// True with probability p.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.u() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals() -> Vec<f64> {
        let mut v = vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-9,
            -1e-9,
            0.005,
            0.015,
            -0.025,
            2.5e13,
            1e300,
            12_345.675,
        ];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..4_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            v.push((u - 0.3) * 10f64.powi((x % 13) as i32 - 2));
        }
        v
    }

    /// Every lane operation gives the scalar `Amount` operation's bits, at the vector widths
    /// this CPU runs and at a portable width.
    #[test]
    fn lanes_are_the_scalar_operations_bit_for_bit() {
        at_every_width!(ops_are_scalar);
    }

    fn ops_are_scalar<const W: usize>() {
        let v = vals();
        let bits = |x: f64| x.to_bits();
        for w in v.windows(2 * W) {
            let a = F::<W>(std::array::from_fn(|i| w[i]));
            let b = F::<W>(std::array::from_fn(|i| w[W + i]));
            for i in 0..W {
                let (x, y) = (a.0[i], b.0[i]);
                assert_eq!(bits((a + b).0[i]), bits(x + y));
                assert_eq!(bits((a - b).0[i]), bits(x - y));
                assert_eq!(bits((a * b).0[i]), bits(x * y));
                assert_eq!(bits((a / b).0[i]), bits(x / y));
                assert_eq!(bits(a.min_of(b).0[i]), bits(x.min_of(y)));
                assert_eq!(bits(a.pos().0[i]), bits(x.pos()));
                assert_eq!(bits(a.cents().0[i]), bits(x.cents()), "cents({x})");
                assert_eq!(a.is_settled().lane(i), x.is_settled());
                assert_eq!(a.ge(b).lane(i), x >= y);
                assert_eq!(a.lt(b).lane(i), x < y);
                let m = a.lt(b);
                assert_eq!(bits(m.select(a, b).0[i]), bits(if x < y { x } else { y }));
            }
        }
        let m = M::<W>(std::array::from_fn(|i| if i % 2 == 0 { !0 } else { 0 }));
        assert!(m.any() && (W == 1 || !m.all()) && (!m | m).all() && !(m & !m).any());
    }
}
