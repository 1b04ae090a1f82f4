//! The numeric type cash-flow logic is written against.
//!
//! Every deal state machine and the pool waterfall are generic over [`Amount`] so that one
//! implementation serves two worlds: booked money in [`rust_decimal::Decimal`] (the engine's
//! deterministic schedules) and `f64` in the simulator's hot loop. This is the single place where
//! the two numeric worlds meet; conversions go through [`Amount::from_f64`] and
//! [`Amount::to_f64`].

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub, SubAssign};

/// A number that money and rates can be computed in (USD amounts, annual rates, fractions).
pub trait Amount:
    Copy
    + Debug
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + Send
    + Sync
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// Whether adding [`Amount::ZERO`] to a sum that started at `ZERO` leaves the sum exactly
    /// as it is (the same bits), so that a sum may skip terms known to be `ZERO`. True for
    /// `f64`: `x + 0.0 == x` bit for bit except for `x = −0.0`, and a sum started at +0.0 is
    /// never −0.0 (round-to-nearest gives −0.0 only for −0.0 + −0.0). False for `Decimal`:
    /// a zero sum may carry a scale (0.00) that `+ ZERO` would reset to `ZERO`'s.
    const ZERO_TERMS_VANISH: bool;
    /// Converts from `f64` (model quantities such as prices and utilization); non-finite values
    /// map to zero, which validation makes unreachable.
    fn from_f64(x: f64) -> Self;
    /// Converts an exact decimal (contract terms such as principal and rates).
    fn from_decimal(x: Decimal) -> Self;
    /// Converts to `f64` for reporting and the simulator.
    fn to_f64(self) -> f64;
    /// `self^n` for a non-negative integer exponent.
    fn powi(self, n: u32) -> Self;
    /// The smaller of two values.
    #[inline]
    fn min_of(self, other: Self) -> Self {
        if other < self {
            other
        } else {
            self
        }
    }
    /// The larger of two values.
    #[inline]
    fn max_of(self, other: Self) -> Self {
        if other > self {
            other
        } else {
            self
        }
    }
    /// `max(self, 0)`.
    #[inline]
    fn pos(self) -> Self {
        self.max_of(Self::ZERO)
    }
    /// Rounds a booked amount to whole cents (half to even), as a servicer books it. Every
    /// payment in a schedule is rounded once where it is computed, so sums are exact.
    fn cents(self) -> Self;
    /// Whether the value is (numerically) zero or below. Uses a tolerance of 1e-9 USD for `f64`
    /// so that rounding residue does not keep a repaid balance alive.
    fn is_settled(self) -> bool;
}

impl Amount for Decimal {
    const ZERO: Self = Decimal::ZERO;
    const ZERO_TERMS_VANISH: bool = false;
    const ONE: Self = Decimal::ONE;
    #[inline]
    fn from_f64(x: f64) -> Self {
        // Prices and utilizations are model outputs; 12 decimal places keeps them exact enough
        // for cent-level schedules while leaving headroom in the 96-bit mantissa.
        <Decimal as FromPrimitive>::from_f64(x)
            .map(|d| d.round_dp(12))
            .unwrap_or(Decimal::ZERO)
    }
    #[inline]
    fn from_decimal(x: Decimal) -> Self {
        x
    }
    #[inline]
    fn to_f64(self) -> f64 {
        ToPrimitive::to_f64(&self).unwrap_or(f64::NAN)
    }
    #[inline]
    fn powi(self, n: u32) -> Self {
        let mut acc = Decimal::ONE;
        for _ in 0..n {
            acc *= self;
        }
        acc
    }
    #[inline]
    fn cents(self) -> Self {
        self.round_dp(2)
    }
    #[inline]
    fn is_settled(self) -> bool {
        self <= Decimal::ZERO
    }
}

impl Amount for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const ZERO_TERMS_VANISH: bool = true;
    // `x - x` is deliberate: it is the finiteness test (see below), not a typo for zero.
    #[allow(clippy::eq_op)]
    #[inline]
    fn from_f64(x: f64) -> Self {
        // `x − x` is +0 exactly when `x` is finite (±∞ and NaN give NaN): the same test as
        // `is_finite`, but in the FP registers (a subtract, a compare mask and an AND), where
        // `is_finite` moved `x` to an integer register for an exponent test and a branch.
        if x - x == 0.0 {
            x
        } else {
            0.0
        }
    }
    #[inline]
    fn from_decimal(x: Decimal) -> Self {
        ToPrimitive::to_f64(&x).unwrap_or(0.0)
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn powi(self, n: u32) -> Self {
        f64::powi(self, n as i32)
    }
    #[inline]
    fn cents(self) -> Self {
        // Half to even, like Decimal::round_dp. Below 2^51, adding and subtracting 1.5·2^52
        // rounds to an integer with ties to even in the default rounding mode: the same result
        // as `round_ties_even`, without a libm call in the simulator's hot loop.
        const MAGIC: f64 = 6_755_399_441_055_744.0;
        let c = self * 100.0;
        let r = if c.abs() < 2_251_799_813_685_248.0 {
            (c + MAGIC) - MAGIC
        } else {
            round_ties_even_cold(c)
        };
        r / 100.0
    }
    #[inline]
    fn is_settled(self) -> bool {
        self <= 1e-9
    }
}

/// `x.round_ties_even()`, the slow path of [`Amount::cents`] for `f64` (|100·x| ≥ 2^51, or NaN).
/// `#[cold]` and out of line so that the fast path of every inlined `cents` falls through
/// to the division without a jump over this call (the same value either way).
#[cold]
#[inline(never)]
fn round_ties_even_cold(x: f64) -> f64 {
    x.round_ties_even()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn decimal_powi_matches_repeated_product() {
        let r = Decimal::new(1005, 3); // 1.005
        assert_eq!(r.powi(3), r * r * r);
        assert_eq!(Amount::powi(Decimal::ONE, 0), Decimal::ONE);
    }

    #[test]
    fn cents_round_half_to_even_in_both_types() {
        for (x, want) in [
            (1.005_f64, 1.0),
            (2.345, 2.34),
            (0.125, 0.12),
            (0.135, 0.14),
            (-0.125, -0.12),
        ] {
            let d = Decimal::from_str_exact(&format!("{x}")).unwrap();
            assert_eq!(Amount::to_f64(d.cents()), want, "decimal {x}");
        }
        assert_eq!(0.125_f64.cents(), 0.12);
        assert_eq!(0.135_f64.cents(), 0.14);
        assert_eq!(1234.5678_f64.cents(), 1234.57);
    }

    #[test]
    fn f64_cents_fast_path_equals_round_ties_even() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..100_000i32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let scale = 10f64.powi(i % 14 - 2);
            let v = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * scale;
            let half = (v * 100.0).trunc() / 100.0 + 0.005; // ties
            for y in [v, half, -half] {
                assert_eq!(y.cents(), (y * 100.0).round_ties_even() / 100.0, "{y}");
            }
        }
    }

    #[test]
    fn f64_non_finite_maps_to_zero() {
        assert_eq!(<f64 as Amount>::from_f64(f64::NAN), 0.0);
        assert_eq!(<f64 as Amount>::from_f64(2.5), 2.5);
        // The same bits as `if x.is_finite() { x } else { 0.0 }`: −0.0, the extremes and
        // subnormals kept, ±∞ to +0.0.
        for x in [
            -0.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE / 4.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -f64::NAN,
        ] {
            let want = if x.is_finite() { x } else { 0.0 };
            assert_eq!(
                <f64 as Amount>::from_f64(x).to_bits(),
                want.to_bits(),
                "{x}"
            );
        }
    }
}
