//! The portfolio month in lanes of paths (`CashflowPlan::step_lanes`) against the scalar month
//! (`CashflowPlan::step`), path by path and bit for bit, on the bundled portfolios and the test
//! fixtures with random markets (prices, utilizations, operator defaults).

use gaib_engine::lanes::runner::{CashflowLanes, OutputLanes};
use gaib_engine::{load_portfolio, CashflowPlan, Loaded, MarketMonth, Validated};
use std::path::Path;

fn load(path: &str) -> Loaded {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let file = root.join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    let dir = file.parent().unwrap().to_path_buf();
    load_portfolio(&text, path, |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct Gen(u64);
impl Gen {
    fn u(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One path's market for every month: prices, prices over trend, utilizations, defaults.
struct PathMarket {
    price: Vec<Vec<f64>>,
    over_trend: Vec<Vec<f64>>,
    utilization: Vec<Vec<f64>>,
    default: Vec<Vec<bool>>,
}

fn market(g: &mut Gen, plan: &CashflowPlan<f64>, operators: usize, stress: f64) -> PathMarket {
    let months = plan.horizon_months as usize;
    let classes = plan.price0.len();
    let mut level: Vec<f64> = vec![1.0; classes];
    let default_month: Vec<usize> = (0..operators)
        .map(|_| {
            if g.u() < stress {
                1 + (g.u() * months as f64) as usize
            } else {
                0
            }
        })
        .collect();
    let mut m = PathMarket {
        price: vec![],
        over_trend: vec![],
        utilization: vec![],
        default: vec![],
    };
    for k in 1..=months {
        for l in &mut level {
            *l *= 0.85 + 0.3 * g.u() - 0.02 * stress;
            *l = l.max(0.05);
        }
        m.price
            .push((0..classes).map(|c| plan.price0[c] * level[c]).collect());
        m.over_trend.push(level.clone());
        m.utilization.push(
            (0..plan.fleets.len())
                .map(|_| (0.2 + 0.8 * g.u() - 0.3 * stress).clamp(0.01, 0.99))
                .collect(),
        );
        m.default
            .push(default_month.iter().map(|&d| d == k).collect());
    }
    m
}

fn month(m: &PathMarket, k: usize) -> MarketMonth<'_> {
    MarketMonth {
        price: &m.price[k - 1],
        price_over_trend: &m.over_trend[k - 1],
        utilization: &m.utilization[k - 1],
        credit_default: &m.default[k - 1],
    }
}

fn check<const W: usize>(path: &str, groups: usize) {
    let l = load(path);
    let plan = CashflowPlan::<f64>::new(Validated::new(&l.portfolio, &l.deal_sources).unwrap());
    let operators = l.portfolio.operators.len();
    let mut g = Gen(0x5EED_0000_0000_0001 ^ path.len() as u64);
    let mut lanes: CashflowLanes<W> = plan.initial_lanes();
    let mut out: OutputLanes<W> = plan.new_output_lanes();
    let mut events = 0;
    for group in 0..groups {
        let stress = (group % 4) as f64 / 3.0;
        let markets: [PathMarket; W] =
            std::array::from_fn(|_| market(&mut g, &plan, operators, stress));
        let mut scalar: [_; W] = std::array::from_fn(|_| plan.initial_state());
        let mut souts: [_; W] = std::array::from_fn(|_| plan.new_output());
        plan.reset_lanes(&mut lanes);
        for k in 1..=plan.horizon_months {
            let mm: [MarketMonth<'_>; W] = std::array::from_fn(|i| month(&markets[i], k as usize));
            // SAFETY: `check` runs only for widths this CPU supports (see the tests below).
            unsafe { plan.step_lanes(k, &mm, &mut lanes, &mut out) };
            for i in 0..W {
                plan.step(k, &mm[i], &mut scalar[i], &mut souts[i]);
                let (s, o) = (&scalar[i], &souts[i]);
                let at = format!("{path}, group {group}, lane {i}, month {k}");
                for d in 0..plan.deals.len() {
                    assert_eq!(
                        format!("{:?}", out.deals[d].lane(i)),
                        format!("{:?}", o.deals[d]),
                        "deal {d} flows, {at}"
                    );
                    assert_eq!(
                        format!("{:?}", lanes.deals[d].lane(i)),
                        format!("{:?}", s.deals[d]),
                        "deal {d} state, {at}"
                    );
                    assert_eq!(
                        out.loss(d, i).to_bits(),
                        o.losses[d].to_bits(),
                        "loss {d}, {at}"
                    );
                    assert_eq!(out.idle(d, i), o.zero_flows()[d], "idle {d}, {at}");
                    events += u32::from(o.deals[d].default_kind.is_some());
                }
                for (f, fm) in o.fleets.iter().enumerate() {
                    let fl = out.fleets[f].lane(i);
                    let got = [fl.revenue, fl.opex, fl.hedge, fl.noi, fl.hardware_value]
                        .map(f64::to_bits);
                    let want = [fm.revenue, fm.opex, fm.hedge, fm.noi, fm.hardware_value]
                        .map(f64::to_bits);
                    assert_eq!(got, want, "fleet {f}, {at}");
                    assert_eq!(
                        lanes.collateral_left(f, i).to_bits(),
                        s.collateral_left[f].to_bits(),
                        "collateral {f}, {at}"
                    );
                }
                for q in 0..plan.pools.len() {
                    let c = out.pool_collections(q, i);
                    let oc = &o.pool_collections[q];
                    assert_eq!(
                        [
                            c.interest_proceeds,
                            c.principal_proceeds,
                            c.performing_balance
                        ]
                        .map(f64::to_bits),
                        [
                            oc.interest_proceeds,
                            oc.principal_proceeds,
                            oc.performing_balance
                        ]
                        .map(f64::to_bits),
                        "pool {q} collections, {at}"
                    );
                    assert_eq!(
                        format!("{:?}", out.pool_months[q].lane(i)),
                        format!("{:?}", o.pool_months[q]),
                        "pool {q} month, {at}"
                    );
                    for (t, tf) in o.tranches[q].iter().enumerate() {
                        assert_eq!(
                            format!("{:?}", out.tranches[q][t].lane(i)),
                            format!("{tf:?}"),
                            "tranche {q}/{t}, {at}"
                        );
                    }
                    assert_eq!(
                        format!("{:?}", lanes.pools[q].lane(i)),
                        format!("{:?}", s.pools[q]),
                        "pool {q} state, {at}"
                    );
                }
                for (x, &v) in o.derivatives.iter().enumerate() {
                    assert_eq!(
                        out.derivative(x, i).to_bits(),
                        v.to_bits(),
                        "derivative {x}, {at}"
                    );
                    assert_eq!(
                        lanes.fixing_sum(x, i).to_bits(),
                        s.fixing_sum[x].to_bits(),
                        "fixing sum {x}, {at}"
                    );
                }
            }
        }
    }
    assert!(events > 0, "{path}: no default in {groups} groups");
}

const PORTFOLIOS: [&str; 5] = [
    "data/portfolios/sample.toml",
    "data/portfolios/sample_hedged.toml",
    "data/portfolios/bench12.toml",
    "tests/fixtures/valid/small.toml",
    "tests/fixtures/derivatives/small_hedged.toml",
];

/// Portable lane code (a width with no vector form), on every CPU.
#[test]
fn lanes_of_three_step_as_the_scalar_month() {
    for p in PORTFOLIOS {
        check::<3>(p, 24);
    }
}

/// AVX lane code, where the CPU has it.
#[test]
fn lanes_of_four_step_as_the_scalar_month() {
    if !gaib_engine::lanes::supported(4) {
        eprintln!("skipped: no AVX on this CPU (the portable width is tested above)");
        return;
    }
    for p in PORTFOLIOS {
        check::<4>(p, 40);
    }
}

/// AVX-512 lane code, where the CPU has it.
#[test]
fn lanes_of_eight_step_as_the_scalar_month() {
    if !gaib_engine::lanes::supported(8) {
        eprintln!("skipped: no AVX-512 on this CPU (the portable width is tested above)");
        return;
    }
    for p in PORTFOLIOS {
        check::<8>(p, 12);
    }
}
