//! Lanes of paths: `W` Monte Carlo paths' `f64` values side by side, for the simulator's
//! lockstep month (docs/PERFORMANCE.md, "A lane-native simulator").
//!
//! [`F`] holds one quantity of `W` paths (USD, rates, …: the units of the scalar it stands
//! for); [`M`] one yes/no of `W` paths. Every operation is the scalar `f64` operation of
//! [`Amount`] lane by lane — the same IEEE operation on the same operands, so each lane's
//! result is bit for bit the scalar engine's — written as loops over arrays that LLVM turns
//! into vector instructions when the caller is compiled for AVX2 or AVX-512. Branches of the
//! scalar state machines become masks: both sides are computed and [`M::select`] keeps each
//! lane's own side, so lanes never diverge.

pub mod deal;

use crate::amount::Amount;
use std::ops::{Add, AddAssign, BitAnd, BitOr, Div, Mul, Not, Sub, SubAssign};

/// One `f64` quantity of `W` paths (the units of the scalar it stands for).
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(transparent)]
pub struct F<const W: usize>(pub [f64; W]);

/// One yes/no of `W` paths: all bits set for yes, none for no (the form vector compares
/// produce and blends consume).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct M<const W: usize>(pub [u64; W]);

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
    pub fn splat(x: f64) -> Self {
        F([x; W])
    }

    /// +0 in every lane.
    pub const ZERO: Self = F([0.0; W]);

    /// Lane `i`.
    #[inline(always)]
    pub fn lane(self, i: usize) -> f64 {
        self.0[i]
    }

    /// [`Amount::min_of`] lane by lane: `other` where `other < self`, else `self`.
    #[inline(always)]
    pub fn min_of(self, other: Self) -> Self {
        F(lanewise!(W, |i| if other.0[i] < self.0[i] {
            other.0[i]
        } else {
            self.0[i]
        }))
    }

    /// [`Amount::max_of`] lane by lane.
    #[inline(always)]
    pub fn max_of(self, other: Self) -> Self {
        F(lanewise!(W, |i| if other.0[i] > self.0[i] {
            other.0[i]
        } else {
            self.0[i]
        }))
    }

    /// [`Amount::pos`] lane by lane: max(x, 0) as the scalar computes it (−0 and NaN kept).
    #[inline(always)]
    pub fn pos(self) -> Self {
        F(lanewise!(W, |i| if 0.0 > self.0[i] { 0.0 } else { self.0[i] }))
    }

    /// [`Amount::cents`] lane by lane (half to even).
    #[inline(always)]
    pub fn cents(self) -> Self {
        // The scalar fast path for every lane, and the scalar function (its slow path) for a
        // lane outside it; the fast path's condition is tested once for all lanes.
        const MAGIC: f64 = 6_755_399_441_055_744.0;
        const FAST: f64 = 2_251_799_813_685_248.0;
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
    pub fn is_settled(self) -> M<W> {
        M(lanewise!(W, |i| mask(self.0[i] <= 1e-9)))
    }

    /// `self >= o` lane by lane (false where either is NaN).
    #[inline(always)]
    pub fn ge(self, o: Self) -> M<W> {
        M(lanewise!(W, |i| mask(self.0[i] >= o.0[i])))
    }

    /// `self < o` lane by lane (false where either is NaN).
    #[inline(always)]
    pub fn lt(self, o: Self) -> M<W> {
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
    pub fn splat(b: bool) -> Self {
        M([mask(b); W])
    }

    /// Lane `i`.
    #[inline(always)]
    pub fn lane(self, i: usize) -> bool {
        self.0[i] != 0
    }

    /// Whether any lane is yes.
    #[inline(always)]
    pub fn any(self) -> bool {
        self.0.iter().fold(0, |a, &b| a | b) != 0
    }

    /// Whether every lane is yes.
    #[inline(always)]
    pub fn all(self) -> bool {
        self.0.iter().fold(!0, |a, &b| a & b) == !0
    }

    /// `a` in the yes lanes, `b` in the others (bit for bit).
    #[inline(always)]
    pub fn select(self, a: F<W>, b: F<W>) -> F<W> {
        F(lanewise!(W, |i| if self.0[i] != 0 { a.0[i] } else { b.0[i] }))
    }

    /// `a` in the yes lanes, `b` in the others.
    #[inline(always)]
    pub fn select_mask(self, a: M<W>, b: M<W>) -> M<W> {
        M(lanewise!(W, |i| (a.0[i] & self.0[i]) | (b.0[i] & !self.0[i])))
    }

    /// `x` in the yes lanes, `b` in the others, for small per-lane codes.
    #[inline(always)]
    pub fn select_u8(self, x: u8, b: [u8; W]) -> [u8; W] {
        lanewise!(W, |i| if self.0[i] != 0 { x } else { b[i] })
    }
}

macro_rules! binop {
    ($tr:ident, $f:ident, $op:tt) => {
        impl<const W: usize> $tr for F<W> {
            type Output = Self;
            #[inline(always)]
            fn $f(self, o: Self) -> Self {
                F(lanewise!(W, |i| self.0[i] $op o.0[i]))
            }
        }
        impl<const W: usize> $tr<f64> for F<W> {
            type Output = Self;
            #[inline(always)]
            fn $f(self, o: f64) -> Self {
                F(lanewise!(W, |i| self.0[i] $op o))
            }
        }
    };
}
binop!(Add, add, +);
binop!(Sub, sub, -);
binop!(Mul, mul, *);
binop!(Div, div, /);

impl<const W: usize> Mul<F<W>> for f64 {
    type Output = F<W>;
    #[inline(always)]
    fn mul(self, o: F<W>) -> F<W> {
        F(lanewise!(W, |i| self * o.0[i]))
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
        M(lanewise!(W, |i| self.0[i] & o.0[i]))
    }
}

impl<const W: usize> BitOr for M<W> {
    type Output = Self;
    #[inline(always)]
    fn bitor(self, o: Self) -> Self {
        M(lanewise!(W, |i| self.0[i] | o.0[i]))
    }
}

impl<const W: usize> Not for M<W> {
    type Output = Self;
    #[inline(always)]
    fn not(self) -> Self {
        M(lanewise!(W, |i| !self.0[i]))
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

    /// Every lane operation gives the scalar `Amount` operation's bits.
    #[test]
    fn lanes_are_the_scalar_operations_bit_for_bit() {
        let v = vals();
        let bits = |x: f64| x.to_bits();
        for w in v.windows(8) {
            let a = F::<4>([w[0], w[1], w[2], w[3]]);
            let b = F::<4>([w[4], w[5], w[6], w[7]]);
            for i in 0..4 {
                let (x, y) = (a.0[i], b.0[i]);
                assert_eq!(bits((a + b).0[i]), bits(x + y));
                assert_eq!(bits((a - b).0[i]), bits(x - y));
                assert_eq!(bits((a * b).0[i]), bits(x * y));
                assert_eq!(bits((a / b).0[i]), bits(x / y));
                assert_eq!(bits(a.min_of(b).0[i]), bits(x.min_of(y)));
                assert_eq!(bits(a.max_of(b).0[i]), bits(x.max_of(y)));
                assert_eq!(bits(a.pos().0[i]), bits(x.pos()));
                assert_eq!(bits(a.cents().0[i]), bits(x.cents()), "cents({x})");
                assert_eq!(a.is_settled().lane(i), x.is_settled());
                assert_eq!(a.ge(b).lane(i), x >= y);
                assert_eq!(a.lt(b).lane(i), x < y);
                let m = a.lt(b);
                assert_eq!(bits(m.select(a, b).0[i]), bits(if x < y { x } else { y }));
            }
        }
        let m = M::<4>([!0, 0, !0, 0]);
        assert!(m.any() && !m.all() && (!m | m).all() && !(m & !m).any());
    }
}
