mod common;
use gaib_simulator::*;

#[test]
fn smoke_runs_and_is_finite() {
    let p = common::portfolio(common::Knobs::default());
    let plan = lower(&p).unwrap();
    let s = run_serial(&plan, 0..200, 1).unwrap();
    assert_eq!(s.paths, 200);
    for d in &s.deals {
        eprintln!("{} pv {:.4} loss {:.4} pd {:.3}", d.id, d.pv.mean(), d.loss.mean(), d.pd());
    }
    for t in &s.tranches[0] {
        eprintln!("{} pv {:.4} loss {:.4} pd {:.3}", t.id, t.pv.mean(), t.loss.mean(), t.pd());
    }
    let v = s.vault.as_ref().unwrap();
    eprintln!("nav0 {} stake {:.5} unstake {:.5} q {:?}", v.nav0_per_share_usd, v.nav_staking.mean(), v.nav_unstaking.mean(), v.queue_not_cleared);
}
