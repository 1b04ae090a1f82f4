//! The lowering into a FlatPlan keeps every fact of the sample portfolio: counts, offset
//! tables and values, and an empty accumulator reads back as empty statistics.

mod common;

use gaib_gpu_kernels::{acc, host, merge_replicas, FlatPlan, HeaderSlot, FLAT_MAGIC};
use gaib_simulator::{lower, PathStats};

fn slot(name: &str) -> HeaderSlot {
    HeaderSlot::by_name(name).unwrap()
}

#[test]
fn sample_counts_offsets_and_values_round_trip() {
    let plan = lower(&common::sample()).unwrap();
    let flat = FlatPlan::new(&plan).unwrap();
    let flow = &plan.flow;
    let nd = plan.n_deals();
    let k = plan.months as usize;
    assert_eq!(flat.i32s[0], FLAT_MAGIC);
    assert_eq!(
        nd, 30,
        "the sample has 3 inline deals and 27 on its loan tape"
    );
    assert_eq!(flat.n_deals(), nd);
    assert_eq!(flat.n_fleets(), flow.fleets.len());
    assert_eq!(flat.months(), k);
    assert_eq!(flat.n_tranches(), 3);
    assert!(flat.has_vault());

    // Offset table fleet → deals in payment order.
    let nf = flow.fleets.len();
    let starts = flat.int_array(slot("HI_FLEET_DEALS_START"), nf + 1);
    let list = flat.int_array(slot("HI_FLEET_DEALS"), nd);
    for (f, want) in flow.fleet_deals.iter().enumerate() {
        let got: Vec<usize> = list[starts[f] as usize..starts[f + 1] as usize]
            .iter()
            .map(|&d| d as usize)
            .collect();
        assert_eq!(&got, want, "fleet {f}");
    }
    // Pools: deals and tranche offsets.
    let pstart = flat.int_array(slot("HI_POOL_DEALS_START"), 2);
    let pdeals = flat.int_array(slot("HI_POOL_DEALS"), pstart[1] as usize);
    let want: Vec<i32> = flow.pools[0].deals.iter().map(|&d| d as i32).collect();
    assert_eq!(pdeals, &want[..]);
    assert_eq!(flat.int_array(slot("HI_POOL_TR_START"), 2), &[0, 3]);
    assert_eq!(
        flat.real_array(slot("HF_TR_BALANCE"), 3),
        &flow.pools[0].waterfall.balances[..]
    );
    // Deals: kind tags, terms, funded amounts, discount factors.
    let kinds = flat.int_array(slot("HI_DEAL_KIND"), nd);
    let terms = flat.int_array(slot("HI_DEAL_TERM"), nd);
    for (d, p) in flow.deals.iter().enumerate() {
        let want_kind = match p.kind {
            gaib_engine::DealParamsKind::Loan { .. } => 0,
            gaib_engine::DealParamsKind::RevenueShare { .. } => 1,
        };
        assert_eq!(kinds[d], want_kind, "deal {d} kind");
        assert_eq!(terms[d] as u32, p.term_months, "deal {d} term");
    }
    assert_eq!(
        flat.real_array(slot("HF_DEAL_FUNDED"), nd),
        &plan.deal_notional[..]
    );
    assert_eq!(
        flat.real_array(slot("HF_DEAL_DF"), nd * k),
        &plan.deal_df[..]
    );
    assert_eq!(
        flat.real_array(slot("HF_TR_DF"), 3 * k),
        &plan.tranche_df[0].concat()[..]
    );
    assert_eq!(
        flat.real_array(slot("HF_BASE_RATES"), k),
        &flow.base_rates[..]
    );
    assert_eq!(
        flat.real_array(slot("HF_LOG_TREND_SHOCK"), k * plan.n_classes()),
        &plan.log_trend_shock[..]
    );
    let gh: Vec<f64> = flow.fleets.iter().map(|f| f.gpu_hours).collect();
    assert_eq!(flat.real_array(slot("HF_FLEET_GPU_HOURS"), nf), &gh[..]);
    // Vault: whole deals, holdings, cycle calendar.
    let v = plan.vault.as_ref().unwrap();
    let vd: Vec<i32> = v.deals.iter().map(|&d| d as i32).collect();
    assert_eq!(flat.int_array(slot("HI_V_DEALS"), vd.len()), &vd[..]);
    let frac: Vec<f64> = v.holdings.iter().map(|h| h.2).collect();
    assert_eq!(
        flat.real_array(slot("HF_V_HOLD_FRAC"), frac.len()),
        &frac[..]
    );
    let ce: Vec<i32> = v.cycle_end_month.iter().map(|&m| m as i32).collect();
    assert_eq!(flat.int_array(slot("HI_V_CYCLE_END"), ce.len()), &ce[..]);
}

#[test]
fn empty_accumulator_reads_back_as_empty_statistics() {
    let plan = lower(&common::sample()).unwrap();
    let flat = FlatPlan::new(&plan).unwrap();
    let st = acc::to_path_stats(&flat, &flat.acc_init).unwrap();
    assert_eq!(st, PathStats::new(&plan));
    // Every word of the layout is inside the accumulator and the blocks do not overlap.
    let l = &flat.layout;
    assert!(l.tranches >= l.deals + 30 * l.inst_size);
    assert!(l.portfolio >= l.tranches + 3 * l.inst_size);
    assert!(l.collateral >= l.vault + l.vault_words());
    assert_eq!(l.collateral_hist, l.collateral + 30 * l.months * 5);
    assert_eq!(
        l.size,
        l.collateral_hist + 30 * l.months * (l.coll_bins + 5) + 2
    );
}

#[test]
fn kernel_header_tables_match_the_lowering() {
    let (magic, ni, nf) = host::header_counts();
    assert_eq!(magic, FLAT_MAGIC);
    let plan = lower(&common::sample()).unwrap();
    let flat = FlatPlan::new(&plan).unwrap();
    // Header slots come first in i32s, real scalars first in f64s: the first array of each
    // buffer starts right after them.
    let first_i = flat.int_array(slot("HI_CLASS_STREAM"), 0).as_ptr() as usize;
    assert_eq!((first_i - flat.i32s.as_ptr() as usize) / 4, ni);
    assert!(flat.f64s.len() > nf);
}

#[test]
fn unsupported_plans_are_refused_with_a_reason() {
    let mut plan = lower(&common::sample()).unwrap();
    plan.flow.pools[0].waterfall.equity = 0;
    let err = FlatPlan::new(&plan).unwrap_err().to_string();
    assert!(
        err.contains("not supported by the CUDA kernel") && err.contains("equity"),
        "{err}"
    );
}

/// The device's accumulator replicas (block b adds into replica b mod R) merge exactly: two
/// replicas holding disjoint path ranges give the statistics of the whole range, bit for bit.
#[test]
fn accumulator_replicas_merge_exactly() {
    let plan = lower(&common::sample()).unwrap();
    let flat = FlatPlan::new(&plan).unwrap();
    let (a, _) = host::accumulate(&flat, 0..300, 9, false).unwrap();
    let (b, _) = host::accumulate(&flat, 300..700, 9, false).unwrap();
    let both: Vec<u64> = a.iter().chain(&b).copied().collect();
    let merged = merge_replicas(&flat, &both).unwrap();
    let whole = host::run(&flat, 0..700, 9, false).unwrap().stats;
    assert_eq!(merged.paths, 700);
    assert_eq!(merged, whole);
    assert_ne!(merged, host::run(&flat, 0..700, 10, false).unwrap().stats);
}
