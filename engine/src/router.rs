//! The on-chain revenue split (contracts-bindings/SPLIT.md), the engine's side of the
//! differential test against `RevenueRouter.split`.
//!
//! An operator's revenue payment (in AID wei) is split in the deal's order: debt service due to
//! the lender, then the revenue-share investor's `share_bps` of the **gross** payment, limited to
//! what is left and to the investor's remaining cap, then the operator takes the rest. Every
//! division truncates. The function is generic over the integer type so that the same code runs
//! on `u128` here and on 256-bit integers in `gaib-contracts` (which implements [`WeiInt`] for
//! alloy's `U256`).

/// Unsigned integer arithmetic the split needs. Implementations must not wrap: the split only
/// subtracts smaller from larger values and multiplies by at most 10 000 after dividing by it.
pub trait WeiInt: Copy + Ord {
    /// Zero.
    fn zero() -> Self;
    /// Converts a small constant (at most 10 000).
    fn from_u16(x: u16) -> Self;
    /// Converts a `u128` (every `u128` fits).
    fn from_u128(x: u128) -> Self;
    /// `self - o`, with `o <= self`.
    fn sub(self, o: Self) -> Self;
    /// `self * o`, used only where the product cannot overflow.
    fn mul(self, o: Self) -> Self;
    /// `self + o`, used only where the sum cannot overflow.
    fn add(self, o: Self) -> Self;
    /// Truncating division.
    fn div(self, o: Self) -> Self;
    /// Remainder.
    fn rem(self, o: Self) -> Self;
}

/// Panics rather than wraps, in release builds too, like `gaib-contracts`' `U256` (`Wei`): the
/// split and the wei waterfall ([`crate::pool_wei`]) never overflow or underflow within their
/// documented bounds, so a violation (e.g. a pool of more than ~3 × 10^8 USD stepped in `u128`,
/// see `pool_wei`'s bounds) is a bug or out-of-range input, never a silently wrapped amount.
impl WeiInt for u128 {
    fn zero() -> Self {
        0
    }
    fn from_u16(x: u16) -> Self {
        u128::from(x)
    }
    fn from_u128(x: u128) -> Self {
        x
    }
    fn sub(self, o: Self) -> Self {
        self.checked_sub(o).expect("wei arithmetic: underflow")
    }
    fn mul(self, o: Self) -> Self {
        self.checked_mul(o).expect("wei arithmetic: overflow")
    }
    fn add(self, o: Self) -> Self {
        self.checked_add(o).expect("wei arithmetic: overflow")
    }
    fn div(self, o: Self) -> Self {
        self / o
    }
    fn rem(self, o: Self) -> Self {
        self % o
    }
}

/// The three parts of a revenue payment, in wei; they sum to the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevenueSplit<U> {
    /// Debt service paid to the lender.
    pub to_lender: U,
    /// Revenue share paid to the investor.
    pub to_investor: U,
    /// The rest, to the operator.
    pub to_operator: U,
}

/// Error of [`revenue_split`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("share_bps = {0} is above 10000")]
pub struct BpsTooLarge(pub u16);

/// Splits `amount` wei: `to_lender = min(amount, debt_due)`; `to_investor = min(floor(amount ×
/// share_bps / 10 000), amount − to_lender, cap_remaining)`; `to_operator` = the rest.
/// `share_bps` above 10 000 is rejected, as the contract reverts.
pub fn revenue_split<U: WeiInt>(
    amount: U,
    debt_due: U,
    share_bps: u16,
    cap_remaining: U,
) -> Result<RevenueSplit<U>, BpsTooLarge> {
    if share_bps > 10_000 {
        return Err(BpsTooLarge(share_bps));
    }
    let ten_k = U::from_u16(10_000);
    let bps = U::from_u16(share_bps);
    let to_lender = amount.min(debt_due);
    let remaining = amount.sub(to_lender);
    // floor(amount × bps / 10 000) without forming amount × bps.
    let share = amount
        .div(ten_k)
        .mul(bps)
        .add(amount.rem(ten_k).mul(bps).div(ten_k));
    let to_investor = share.min(remaining).min(cap_remaining);
    Ok(RevenueSplit {
        to_lender,
        to_investor,
        to_operator: remaining.sub(to_investor),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const E18: u128 = 1_000_000_000_000_000_000;

    #[test]
    fn documented_vectors() {
        // The rows of SPLIT.md that fit in u128.
        let rows: [(u128, u128, u16, u128, u128, u128, u128); 8] = [
            (
                1000 * E18,
                300 * E18,
                2000,
                1_000_000_000_000 * E18,
                300 * E18,
                200 * E18,
                500 * E18,
            ),
            (
                100 * E18,
                300 * E18,
                2000,
                1_000_000_000_000 * E18,
                100 * E18,
                0,
                0,
            ),
            (
                1000 * E18,
                900 * E18,
                2000,
                1_000_000_000_000 * E18,
                900 * E18,
                100 * E18,
                0,
            ),
            (1000 * E18, 0, 2000, 50 * E18, 0, 50 * E18, 950 * E18),
            (9999, 0, 3333, u128::MAX, 0, 3332, 6667),
            (12345, 45, 1, u128::MAX, 45, 1, 12299),
            (0, 5, 100, 5, 0, 0, 0),
            (7, 3, 10000, 2, 3, 2, 2),
        ];
        for (a, d, b, c, l, i, o) in rows {
            let s = revenue_split(a, d, b, c).unwrap();
            assert_eq!(
                (s.to_lender, s.to_investor, s.to_operator),
                (l, i, o),
                "{a} {d} {b} {c}"
            );
        }
        assert_eq!(revenue_split(1u128, 0, 10_001, 0), Err(BpsTooLarge(10_001)));
        let max = revenue_split(u128::MAX, 0, 10_000, u128::MAX).unwrap();
        assert_eq!(max.to_investor, u128::MAX);
    }

    /// ONCHAIN.md I1: the `u128` wei arithmetic panics where it used to wrap silently in
    /// release builds — e.g. the wei waterfall's coupon of a 10^12 USD tranche at 100 %
    /// (balance × rate in ppb ≈ 10^39 > 2^128) — instead of returning a wrapped amount.
    #[test]
    fn u128_wei_arithmetic_panics_rather_than_wraps() {
        // The checked panic's own message (a debug build's overflow check would panic too,
        // with another message; a release build used to wrap).
        fn panics_checked<R: std::fmt::Debug>(f: impl FnOnce() -> R + std::panic::UnwindSafe) {
            let e = std::panic::catch_unwind(f).expect_err("must panic, not wrap");
            let msg = e
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| e.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            assert!(msg.starts_with("wei arithmetic"), "{msg}");
        }
        let balance = 1_000_000_000_000 * E18;
        panics_checked(|| crate::pool_wei::coupon_due(balance, 1_000_000_000));
        panics_checked(|| WeiInt::sub(1u128, 2));
        panics_checked(|| WeiInt::add(u128::MAX, 1));
        // Within the bounds nothing changes: 3 × 10^8 USD at 100 % is exact.
        let ok = crate::pool_wei::coupon_due(300_000_000 * E18, 1_000_000_000);
        assert_eq!(ok, 25_000_000 * E18);
    }

    proptest! {
        #[test]
        fn parts_sum_to_the_payment(a in any::<u128>(), d in any::<u128>(), b in 0u16..=10_000, c in any::<u128>()) {
            let s = revenue_split(a, d, b, c).unwrap();
            prop_assert_eq!(s.to_lender + s.to_investor + s.to_operator, a);
            prop_assert!(s.to_lender <= d && s.to_investor <= c);
            // Equals the direct formula where the product fits.
            if let Some(p) = a.checked_mul(u128::from(b)) {
                prop_assert!(s.to_investor <= p / 10_000);
            }
        }
    }
}
