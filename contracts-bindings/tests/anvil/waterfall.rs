//! Differential test: `TranchedPool` on anvil (its pure `waterfallStep`, i.e. `PoolWaterfall.step`,
//! and the stateful `closePeriod`) and `gaib_engine::pool_wei::step` on `Wei(U256)` agree to the
//! wei on random pools and monthly collection sequences. The engine's integer waterfall is in
//! turn proved equal to its Decimal waterfall on cents-exact inputs (engine/src/pool_wei.rs).

use crate::common::*;
use gaib_contracts::alloy::primitives::{Address, U256};
use gaib_contracts::bindings::aid::AID;
use gaib_contracts::bindings::tranche_token::TrancheToken;
use gaib_contracts::bindings::tranched_pool::{PoolWaterfall, TranchedPool};
use gaib_contracts::Wei;
use gaib_engine::pool_wei::{step, WeiCollections, WeiFlows, WeiState, WeiTerms};

/// splitmix64, seeded, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Wei: zero, a few cents, a cents-exact amount or any amount up to ~10^27 (10^9 USD).
    fn wei(&mut self, max_usd: u64) -> U256 {
        let cent = U256::from(10u64.pow(16));
        match self.below(8) {
            0 => U256::ZERO,
            1 => U256::from(self.below(1_000)) * cent,
            2 => U256::from(self.next()),
            3 | 4 => U256::from(self.below(max_usd.max(1) * 100)) * cent,
            _ => {
                U256::from(self.below(max_usd.max(1))) * U256::from(10u64.pow(18))
                    + U256::from(self.next() % 10u64.pow(18))
            }
        }
    }
    fn ppb(&mut self, max: u64) -> U256 {
        U256::from(if self.below(5) == 0 {
            0
        } else {
            self.below(max + 1)
        })
    }
}

fn to_sol_terms(t: &WeiTerms<Wei>) -> PoolWaterfall::Terms {
    PoolWaterfall::Terms {
        seniorFeeBps: U256::from(t.senior_fee_bps),
        ocTriggerPpb: t.oc_trigger_ppb.0,
        couponPpb: t.coupon_ppb.iter().map(|x| x.0).collect(),
        floating: t.floating.clone(),
        spreadPpb: t.spread_ppb.iter().map(|x| x.0).collect(),
    }
}

fn to_sol_state(s: &WeiState<Wei>) -> PoolWaterfall::State {
    PoolWaterfall::State {
        balances: s.balances.iter().map(|x| x.0).collect(),
        seniorInterestArrears: s.senior_interest_arrears.0,
        feeArrears: s.fee_arrears.0,
    }
}

fn assert_flows(chain: &PoolWaterfall::Flows, rust: &WeiFlows<Wei>, at: &str) {
    let v = |x: &[Wei]| x.iter().map(|w| w.0).collect::<Vec<_>>();
    assert_eq!(chain.feesPaid, rust.fees_paid.0, "fees, {at}");
    assert_eq!(chain.interest, v(&rust.interest), "interest, {at}");
    assert_eq!(chain.principal, v(&rust.principal), "principal, {at}");
    assert_eq!(chain.shortfall, v(&rust.shortfall), "shortfall, {at}");
    assert_eq!(chain.writedown, v(&rust.writedown), "writedown, {at}");
    assert_eq!(chain.ocBreached, rust.oc_breached, "oc, {at}");
    assert_eq!(
        chain.seniorInterestDefault, rust.senior_interest_default,
        "default, {at}"
    );
}

fn random_terms(rng: &mut Rng, n: usize) -> WeiTerms<Wei> {
    let triggers = [
        0u64,
        1_000_000_000,
        1_200_000_000,
        1_250_000_000,
        1_333_333_333,
    ];
    let mut t = WeiTerms {
        senior_fee_bps: if rng.below(4) == 0 {
            0
        } else {
            rng.below(301) as u16
        },
        oc_trigger_ppb: Wei(U256::from(triggers[rng.below(5) as usize])),
        coupon_ppb: Vec::new(),
        floating: Vec::new(),
        spread_ppb: Vec::new(),
    };
    for j in 0..n {
        let floating = j + 1 < n && rng.below(3) == 0;
        t.floating.push(floating);
        t.coupon_ppb.push(Wei(if floating || j + 1 == n {
            U256::ZERO
        } else {
            rng.ppb(200_000_000)
        }));
        t.spread_ppb.push(Wei(if floating {
            rng.ppb(100_000_000)
        } else {
            U256::ZERO
        }));
    }
    t
}

#[tokio::test]
async fn engine_waterfall_equals_tranched_pool_to_the_wei() {
    let Some(anvil) = start() else { return };
    let p = provider(&anvil);
    let me = deployer().address();
    let aid = AID::deploy(p.clone(), me).await.unwrap();
    let spec = |usd: u64, coupon: u64| TranchedPool::TrancheSpec {
        balance: U256::from(usd) * U256::from(10u64.pow(18)),
        couponPpb: U256::from(coupon),
        floating: false,
        spreadPpb: U256::ZERO,
    };
    let specs = vec![spec(700, 60_000_000), spec(200, 100_000_000), spec(100, 0)];
    let names: Vec<String> = ["senior", "mezzanine", "equity"].map(String::from).to_vec();
    let pool = TranchedPool::deploy(
        p.clone(),
        *aid.address(),
        me,
        servicer().address(),
        Address::repeat_byte(0xFE),
        U256::from(50u8),
        U256::from(1_250_000_000u64),
        specs.clone(),
        names.clone(),
        names.clone(),
        TranchedPool::Schedule {
            issueWindow: U256::from(86_400u32),
            periodSeconds: U256::from(86_400u32),
            legalFinalPeriod: U256::from(24u8),
        },
    )
    .await
    .unwrap();
    let mut rng = Rng(0x2026_1204_0025_0001);

    // 1. The pure step: 300 random pools, each through up to 24 months, by eth_call.
    let mut months = 0;
    let (mut breaches, mut defaults, mut finals) = (0, 0, 0);
    for seq in 0..300 {
        let n = 1 + rng.below(4) as usize;
        let terms = random_terms(&mut rng, n);
        let mut state = WeiState::new((0..n).map(|_| Wei(rng.wei(100_000_000))).collect());
        let sol_terms = to_sol_terms(&terms);
        let len = 1 + rng.below(24);
        for m in 0..len {
            let fin = m + 1 == len && rng.below(3) == 0;
            let c = WeiCollections {
                interest_proceeds: Wei(rng.wei(1_000_000)),
                principal_proceeds: Wei(rng.wei(3_000_000)),
                performing_balance: Wei(rng.wei(200_000_000)),
                base_rate_ppb: Wei(rng.ppb(100_000_000)),
                legal_final: fin,
            };
            let sol_c = PoolWaterfall::Collections {
                interestProceeds: c.interest_proceeds.0,
                principalProceeds: c.principal_proceeds.0,
                performingBalance: c.performing_balance.0,
                baseRatePpb: c.base_rate_ppb.0,
                legalFinal: fin,
            };
            let out = pool
                .waterfallStep(sol_terms.clone(), to_sol_state(&state), sol_c)
                .call()
                .await
                .unwrap_or_else(|e| panic!("sequence {seq} month {m}: {e}"));
            let rust = step(&terms, &mut state, &c);
            let at = format!("sequence {seq} month {m}, {terms:?}, {c:?}");
            assert_flows(&out.f, &rust, &at);
            assert_eq!(out.next, to_sol_state(&state), "state, {at}");
            months += 1;
            breaches += usize::from(rust.oc_breached);
            defaults += usize::from(rust.senior_interest_default);
            finals += usize::from(fin);
        }
    }
    assert!(
        months > 2_000 && breaches > 50 && defaults > 50 && finals > 30,
        "coverage: {months} months, {breaches} OC breaches, {defaults} senior defaults, {finals} legal finals"
    );

    // 2. The stateful pool: issue, then 24 periods of random collections through closePeriod;
    // the pool's state and each tranche token's AID follow the engine.
    tx!(
        p,
        aid.grantRole(aid.MINTER_ROLE().call().await.unwrap(), me)
    );
    tx!(p, aid.mint(me, U256::from(1u8) << 120));
    tx!(p, aid.approve(*pool.address(), U256::MAX));
    for (j, s) in specs.iter().enumerate() {
        tx!(p, pool.subscribe(U256::from(j), s.balance, me));
    }
    tx!(p, pool.closeIssue(Address::repeat_byte(0xF0)));
    let terms = WeiTerms {
        senior_fee_bps: 50,
        oc_trigger_ppb: Wei(U256::from(1_250_000_000u64)),
        coupon_ppb: specs.iter().map(|s| Wei(s.couponPpb)).collect(),
        floating: vec![false; 3],
        spread_ppb: vec![Wei(U256::ZERO); 3],
    };
    let mut state = WeiState::new(specs.iter().map(|s| Wei(s.balance)).collect());
    let mut received = [U256::ZERO; 3];
    let sp = servicer_provider(&anvil);
    let serviced = TranchedPool::new(*pool.address(), &sp);
    for m in 0..24u64 {
        let fin = m == 23;
        let (i, pr) = (rng.wei(8), rng.wei(40));
        // at most the capital still lent out (finding M2)
        let perf = rng
            .wei(1_100)
            .min(pool.maxPerformingBalance().call().await.unwrap());
        tx!(p, aid.transfer(*pool.address(), i + pr));
        warp(&p, 86_400).await;
        tx!(sp, serviced.closePeriod(pr, perf, U256::ZERO));
        let c = WeiCollections {
            interest_proceeds: Wei(i),
            principal_proceeds: Wei(pr),
            performing_balance: Wei(perf),
            base_rate_ppb: Wei(U256::ZERO),
            legal_final: fin,
        };
        let f = step(&terms, &mut state, &c);
        if fin {
            // the pool writes off the fee arrears its legal final could not pay (finding L6;
            // the engine's waterfall has no month after it)
            state.fee_arrears = Wei(U256::ZERO);
        }
        let chain = pool.state().call().await.unwrap();
        assert_eq!(chain, to_sol_state(&state), "pool state after period {m}");
        for j in 0..3 {
            received[j] += f.interest[j].0 + f.principal[j].0;
            let tok = TrancheToken::new(pool.tranches(U256::from(j)).call().await.unwrap(), &p);
            let held = aid.balanceOf(*tok.address()).call().await.unwrap();
            assert_eq!(held, received[j], "tranche {j} AID after period {m}");
        }
    }
    assert!(pool.matured().call().await.unwrap());
}
