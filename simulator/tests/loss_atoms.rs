//! Loss distributions have atoms — no loss on most paths, a total loss on some — and both the
//! statistics and the per-path rows must show them exactly (MODEL.md §8): a quantile that
//! falls on the atom is the atom, and a per-path loss fraction is exactly 0 when there is no
//! loss, so counting fractions > 0 gives the loss probability.
mod common;
use gaib_simulator::{
    lower, Backend, CpuBackend, InstrumentStats, PathRows, PathSink, RunOptions, Simulation,
    SinkError, LOSS_EPS,
};

struct Collect(PathRows);

impl PathSink for Collect {
    fn accept(&mut self, rows: &PathRows) -> Result<(), SinkError> {
        self.0.accept(rows)
    }
}

fn check_atoms(s: &InstrumentStats, rows: &[f64]) {
    let n = s.loss.n;
    assert_eq!(rows.len() as u64, n);
    // Counting positive fractions gives the loss probability; no fraction is float noise.
    let positive = rows.iter().filter(|&&x| x > 0.0).count() as u64;
    assert_eq!(positive, s.loss_paths, "{}", s.id);
    for &x in rows {
        assert!(x == 0.0 || x > LOSS_EPS, "{}: loss fraction {x:e}", s.id);
        assert!(x == 1.0 || (x - 1.0).abs() >= LOSS_EPS, "{}: {x:e}", s.id);
    }
    // A quantile at a level below the share of paths without a loss is exactly 0.
    let no_loss = (n - s.loss_paths) as f64 / n as f64;
    for q in [0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999] {
        let v = s.loss_hist.quantile(q);
        if q < no_loss {
            assert_eq!(v, 0.0, "{} q{q}: no loss on {no_loss} of the paths", s.id);
        } else {
            assert!(v >= 0.0, "{} q{q}", s.id);
        }
    }
    // Total losses: above the share of paths without a total loss the quantile is 1.
    let total = rows.iter().filter(|&&x| x >= 1.0).count() as f64 / n as f64;
    for q in [0.5, 0.9, 0.99] {
        if q > 1.0 - total {
            assert_eq!(s.loss_hist.quantile(q), 1.0, "{} q{q}", s.id);
        }
    }
}

#[test]
fn quantiles_and_rows_show_the_atoms_of_the_loss_distribution_exactly() {
    for hazard in [0.05, 0.4, 3.0] {
        let plan = lower(&common::portfolio(common::Knobs {
            hazard,
            ..common::Knobs::default()
        }))
        .unwrap();
        let b = CpuBackend::new(Some(2)).unwrap();
        let mut sink = Collect(PathRows::new(&plan));
        let stats = b
            .simulate(
                &plan,
                Simulation::new(0..2000, 7, &RunOptions::default()).with_sink(&mut sink),
            )
            .unwrap();
        let rows = &sink.0;
        let mut some_atom_below_one = false;
        for (i, s) in stats.deals.iter().enumerate() {
            check_atoms(s, &rows.deal_loss_frac[i]);
            some_atom_below_one |= s.loss_paths > 0 && s.loss_paths < s.loss.n;
        }
        for (t, s) in stats.tranches.iter().flatten().enumerate() {
            check_atoms(s, &rows.tranche_loss_frac[t]);
        }
        // The check is not vacuous: some instrument has losses on part of the paths only.
        assert!(some_atom_below_one, "hazard {hazard}");
        let pl = &rows.portfolio_loss_frac;
        let no_loss = pl.iter().filter(|&&x| x == 0.0).count() as f64 / pl.len() as f64;
        for &x in pl {
            assert!(x == 0.0 || x > LOSS_EPS, "portfolio loss fraction {x:e}");
        }
        for q in [0.5, 0.9, 0.99] {
            if q < no_loss {
                assert_eq!(
                    stats.portfolio.loss_hist.quantile(q),
                    0.0,
                    "hazard {hazard} q{q}"
                );
            }
        }
    }
}
