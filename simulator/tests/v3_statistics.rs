//! A portfolio without `[[derivatives]]` simulates exactly as in model version 3 (issue 23
//! review, finding 9): version 4 added derivatives and hedges only, so the sample's statistics
//! must not move by one bit.
//!
//! The pinned digest was computed at commit 7273ef6 (the last version-3 simulator, before
//! issue 23 part 2), from `git archive 7273ef6` built in its own target directory, by this
//! file's `stats_digest` over `data/portfolios/sample.toml` (unchanged since), 200 paths,
//! seed 1, `CpuBackend::new(Some(2))`, `RunOptions::default()`.

use gaib_simulator::{lower, Backend, CpuBackend, RunOptions};

/// FNV-1a 64 of every exact sum and count of `st` (deals, tranches, portfolio, vault): a
/// fingerprint of the statistics that any change of a path's value changes.
fn stats_digest(st: &gaib_simulator::PathStats) -> u64 {
    use std::fmt::Write;
    let mut s = String::new();
    let m = |s: &mut String, x: &gaib_simulator::Moments| {
        write!(s, "{} {} {};", x.n, x.sum.0, x.sumsq.0).unwrap();
    };
    for d in st.deals.iter().chain(st.tranches.iter().flatten()) {
        write!(
            s,
            "{} {} {} {};",
            d.id, d.loss_paths, d.default_paths, d.default_paths_1y
        )
        .unwrap();
        for x in [&d.pv, &d.loss, &d.loss_on_default, &d.loss_1y] {
            m(&mut s, x);
        }
        for e in d.cash_flow.iter().chain(&d.principal) {
            write!(s, "{},", e.0).unwrap();
        }
    }
    m(&mut s, &st.portfolio.loss);
    m(&mut s, &st.portfolio.defaults);
    if let Some(v) = &st.vault {
        for x in [
            &v.nav_staking,
            &v.nav_unstaking,
            &v.max_queue_fraction,
            &v.max_cycles_waited,
        ]
        .into_iter()
        .chain(&v.monthly_staking)
        .chain(&v.monthly_unstaking)
        {
            m(&mut s, x);
        }
        write!(s, "{:?}", v.queue_not_cleared).unwrap();
    }
    s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn the_sample_without_derivatives_has_version_3s_statistics_bit_for_bit() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/portfolios");
    let text = std::fs::read_to_string(dir.join("sample.toml")).unwrap();
    let p = gaib_engine::load_portfolio(&text, "sample.toml", |rel| {
        std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
    })
    .unwrap()
    .portfolio;
    assert!(p.derivatives.is_empty());
    let plan = lower(&p).unwrap();
    let st = CpuBackend::new(Some(2))
        .unwrap()
        .run(&plan, 0..200, 1, &RunOptions::default())
        .unwrap();
    assert!(st.derivatives.is_empty());
    assert_eq!(
        format!("{:#018x}", stats_digest(&st)),
        V3_DIGEST,
        "the sample's statistics differ from model version 3's (commit 7273ef6)"
    );
}

/// `stats_digest` of the sample at commit 7273ef6 (model version 3); see the module comment.
const V3_DIGEST: &str = "0x4ae8529664de7a01";
