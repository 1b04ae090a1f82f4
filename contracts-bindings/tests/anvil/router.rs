//! Differential test: `RevenueRouter` on anvil and `gaib_engine::revenue_split` on `Wei(U256)`
//! agree to the wei on random and edge inputs, for the pure `split` and the stateful `pay`.

use crate::common::*;
use gaib_contracts::alloy::primitives::{Address, U256};
use gaib_contracts::bindings::aid::AID;
use gaib_contracts::bindings::revenue_router::RevenueRouter::{self, RevenueRouterErrors};
use gaib_contracts::{decode_revert, revenue_split_u256, ContractsError};

/// xorshift64*: a tiny seeded generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A 256-bit value of random bit length, or an edge value.
    fn amount(&mut self, max_bits: usize) -> U256 {
        let edges = [
            U256::ZERO,
            U256::from(1u8),
            U256::from(9_999u16),
            U256::from(10_000u16),
            U256::from(10_001u16),
            U256::MAX,
            U256::MAX - U256::from(1u8),
            U256::MAX / U256::from(10_000u16),
        ];
        if self.below(5) == 0 {
            let e = edges[self.below(edges.len() as u64) as usize];
            return if max_bits < 256 {
                e & mask(max_bits)
            } else {
                e
            };
        }
        let limbs = [self.next(), self.next(), self.next(), self.next()];
        let bits = 1 + self.below(max_bits as u64) as usize;
        U256::from_limbs(limbs) & mask(bits)
    }
    fn bps(&mut self) -> u16 {
        match self.below(6) {
            0 => 0,
            1 => 10_000,
            2 => 10_001 + self.below(55_535) as u16, // out of range: both must reject
            _ => self.below(10_001) as u16,
        }
    }
}

fn mask(bits: usize) -> U256 {
    if bits >= 256 {
        U256::MAX
    } else {
        (U256::from(1u8) << bits) - U256::from(1u8)
    }
}

fn router_err(e: gaib_contracts::alloy::contract::Error) -> ContractsError {
    decode_revert::<RevenueRouterErrors>(e, "RevenueRouter")
}

#[tokio::test]
async fn engine_split_equals_revenue_router_to_the_wei() {
    let Some(anvil) = start() else { return };
    let p = provider(&anvil);
    let me = deployer().address();
    let aid = AID::deploy(p.clone(), me).await.unwrap();
    let router = RevenueRouter::deploy(p.clone(), *aid.address(), me)
        .await
        .unwrap();
    let mut rng = Rng(0x6a1b_2026_1128_0001);

    // 1. The pure split, 600 random/edge inputs by eth_call.
    let mut rejected = 0;
    for i in 0..600 {
        let (a, d, b, c) = (rng.amount(256), rng.amount(256), rng.bps(), rng.amount(256));
        let chain = router.split(a, d, b, c).call().await.map_err(router_err);
        let rust = revenue_split_u256(a, d, b, c);
        match (chain, rust) {
            (Ok(s), Ok(r)) => assert_eq!(
                (s.toLender, s.toInvestor, s.toOperator),
                r,
                "split #{i} ({a}, {d}, {b}, {c})"
            ),
            (Err(ContractsError::Reverted { reason, .. }), Err(e)) => {
                assert!(reason.starts_with("BpsTooLarge"), "#{i}: {reason}");
                assert_eq!(e.0, b);
                rejected += 1;
            }
            (chain, rust) => {
                panic!("split #{i} ({a}, {d}, {b}, {c}): chain {chain:?} vs engine {rust:?}")
            }
        }
    }
    assert!(
        rejected > 0 && rejected < 300,
        "{rejected} out-of-range bps cases"
    );

    // 2. Stateful pay: 500 payments over deals with bps 0, 10 000 and random, terms reset now
    // and then (to 0, MAX or random); the Paid event, the deal's state and the balances must
    // follow the engine exactly.
    tx!(
        p,
        aid.grantRole(aid.MINTER_ROLE().call().await.unwrap(), me)
    );
    tx!(p, aid.mint(me, U256::from(1u8) << 250));
    tx!(p, aid.approve(*router.address(), U256::MAX));
    let bps_of_deal = [0u16, 10_000, 2_000, rng.below(10_001) as u16];
    let mut state = Vec::new(); // (id, lender, investor, operator, bps, debt_due, cap_remaining)
    for (k, &bps) in bps_of_deal.iter().enumerate() {
        let who = |tag: u8| Address::repeat_byte(0x10 * (k as u8 + 1) + tag);
        let (debt, cap) = (rng.amount(200), rng.amount(200));
        let id = router.nextDealId().call().await.unwrap();
        tx!(
            p,
            router.registerDeal(me, who(1), who(2), who(3), bps, debt, cap)
        );
        state.push((id, who(1), who(2), who(3), bps, debt, cap));
    }
    let mut paid = [U256::ZERO; 3 * 4];
    for i in 0..500 {
        let k = rng.below(state.len() as u64) as usize;
        if rng.below(10) == 0 {
            let (debt, cap) = (rng.amount(256), rng.amount(256));
            tx!(p, router.setTerms(state[k].0, debt, cap));
            state[k].5 = debt;
            state[k].6 = cap;
        }
        let amount = match rng.below(8) {
            0 => U256::from(1u8),
            1 => U256::from(9_999u16),
            _ => rng.amount(200).max(U256::from(1u8)),
        };
        let (id, _, _, _, bps, debt, cap) = state[k];
        let want = revenue_split_u256(amount, debt, bps, cap).unwrap();
        let receipt = tx!(p, router.pay(id, amount));
        let ev = receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<RevenueRouter::Paid>().ok())
            .expect("Paid event")
            .inner
            .data;
        assert_eq!(
            (ev.toLender, ev.toInvestor, ev.toOperator),
            want,
            "pay #{i} deal {k} amount {amount}"
        );
        state[k].5 = debt - want.0;
        state[k].6 = cap - want.1;
        paid[3 * k] += want.0;
        paid[3 * k + 1] += want.1;
        paid[3 * k + 2] += want.2;
    }
    for (k, (id, lender, investor, operator, bps, debt, cap)) in state.iter().enumerate() {
        let d = router.deals(*id).call().await.unwrap();
        assert_eq!(
            (d.debtDue, d.capRemaining, d.shareBps),
            (*debt, *cap, *bps),
            "deal {k} state"
        );
        for (j, who) in [lender, investor, operator].into_iter().enumerate() {
            assert_eq!(
                aid.balanceOf(*who).call().await.unwrap(),
                paid[3 * k + j],
                "deal {k} party {j}"
            );
        }
    }
}
