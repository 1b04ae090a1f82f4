//! [`Wei`]: alloy's `U256` as a [`gaib_engine::WeiInt`], so that the engine's one
//! `revenue_split` runs on 256-bit integers exactly as `RevenueRouter.split` does.

use alloy::primitives::U256;
use gaib_engine::WeiInt;

/// A 256-bit unsigned amount in wei (a local newtype: both the trait and `U256` are foreign).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Wei(pub U256);

impl From<U256> for Wei {
    fn from(x: U256) -> Self {
        Wei(x)
    }
}

impl From<Wei> for U256 {
    fn from(x: Wei) -> Self {
        x.0
    }
}

/// The split never overflows or underflows (SPLIT.md); a violation is a bug, so these panic
/// rather than wrap.
impl WeiInt for Wei {
    fn zero() -> Self {
        Wei(U256::ZERO)
    }
    fn from_u16(x: u16) -> Self {
        Wei(U256::from(x))
    }
    fn from_u128(x: u128) -> Self {
        Wei(U256::from(x))
    }
    fn sub(self, o: Self) -> Self {
        Wei(self.0.checked_sub(o.0).expect("revenue split: underflow"))
    }
    fn mul(self, o: Self) -> Self {
        Wei(self.0.checked_mul(o.0).expect("revenue split: overflow"))
    }
    fn add(self, o: Self) -> Self {
        Wei(self.0.checked_add(o.0).expect("revenue split: overflow"))
    }
    fn div(self, o: Self) -> Self {
        Wei(self.0 / o.0)
    }
    fn rem(self, o: Self) -> Self {
        Wei(self.0 % o.0)
    }
}

/// `gaib_engine::revenue_split` on 256-bit wei: `(to_lender, to_investor, to_operator)`, or the
/// engine's `BpsTooLarge` when `share_bps > 10 000` (the router reverts `BpsTooLarge`).
pub fn revenue_split_u256(
    amount: U256,
    debt_due: U256,
    share_bps: u16,
    cap_remaining: U256,
) -> Result<(U256, U256, U256), gaib_engine::BpsTooLarge> {
    let s = gaib_engine::revenue_split(Wei(amount), Wei(debt_due), share_bps, Wei(cap_remaining))?;
    Ok((s.to_lender.0, s.to_investor.0, s.to_operator.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_md_vectors_on_u256() {
        let e18 = U256::from(10u64).pow(U256::from(18));
        let e = |x: u64| U256::from(x) * e18;
        let max = U256::MAX;
        let half = (U256::from(1) << 255) - U256::from(1);
        let n = U256::from;
        let rows = [
            (
                e(1000),
                e(300),
                2000,
                e(1_000_000_000_000),
                e(300),
                e(200),
                e(500),
            ),
            (
                e(100),
                e(300),
                2000,
                e(1_000_000_000_000),
                e(100),
                n(0),
                n(0),
            ),
            (
                e(1000),
                e(900),
                2000,
                e(1_000_000_000_000),
                e(900),
                e(100),
                n(0),
            ),
            (e(1000), n(0), 2000, e(50), n(0), e(50), e(950)),
            (n(9999), n(0), 3333, max, n(0), n(3332), n(6667)),
            (n(12345), n(45), 1, max, n(45), n(1), n(12299)),
            (max, n(0), 10000, max, n(0), max, n(0)),
            (max, n(1), 5000, max, n(1), half, half),
            (n(0), n(5), 100, n(5), n(0), n(0), n(0)),
            (n(1_000_000), n(0), 0, max, n(0), n(0), n(1_000_000)),
            (n(7), n(3), 10000, n(2), n(3), n(2), n(2)),
        ];
        for (a, d, b, c, l, i, o) in rows {
            assert_eq!(
                revenue_split_u256(a, d, b, c).unwrap(),
                (l, i, o),
                "{a} {d} {b} {c}"
            );
        }
        assert!(revenue_split_u256(n(1), n(0), 10_001, n(0)).is_err());
    }
}
