//! The sample's statistics under model version 6, pinned bit for bit: any change of what a path
//! computes changes this digest, so a speed change must keep it and a model change must state a
//! new version.
//!
//! History: until version 4 this file pinned version 3's digest (0x4ae8529664de7a01, commit
//! 7273ef6), proving that version 4 (derivatives and hedges) left a portfolio without
//! `[[derivatives]]` bit for bit as in version 3. Version 5 (issue 26, MODEL.md §9.1) replaced
//! the platform's libm by gaib's own e^x, ln, ln(1 + x), cos/sin of 2πu and erfc, which moves
//! every path in the last bits: the sample, which has no derivatives, still simulates version
//! 4's (so version 3's) rules, now with version 5's functions; version 5's digest was
//! 0x0a6c59604bdaa6d6 (commit c11284c). Version 6 (issue 26, MODEL.md §9) draws a class's and
//! a fleet's months in pairs from one Philox call, both Box–Muller normals used, so every path
//! draws other (equally distributed) normals. The pinned digest is computed by this file's
//! `stats_digest` over `data/portfolios/sample.toml`, 200 paths, seed 1,
//! `CpuBackend::new(Some(2))`, `RunOptions::default()`, at the commit that introduced version 6.

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
fn the_sample_has_version_6s_statistics_bit_for_bit() {
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
        V6_DIGEST,
        "the sample's statistics differ from model version 6's"
    );
}

/// `stats_digest` of the sample under model version 6; see the module comment.
const V6_DIGEST: &str = "0x5c17bb1363f7b635";
