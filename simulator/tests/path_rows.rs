//! Per-path output (`Backend::simulate` with a sink): the statistics are bit-identical to a plain
//! run, rows arrive in path order, and every column is exactly the value fed to PathStats.
mod common;
use gaib_simulator::{
    lower, Backend, CpuBackend, ExactSum, PathRows, PathSink, RunOptions, SimError, SimPlan,
    Simulation, SinkError,
};

fn plan() -> SimPlan {
    lower(&common::portfolio(common::Knobs {
        hazard: 0.4,
        ..common::Knobs::default()
    }))
    .unwrap()
}

fn opts(chunk: u64) -> RunOptions {
    RunOptions {
        chunk_paths: chunk,
        ..RunOptions::default()
    }
}

/// Records the path range of every call, to check order and contiguity.
struct Spy {
    rows: PathRows,
    calls: Vec<(u64, u64)>,
}

impl PathSink for Spy {
    fn accept(&mut self, rows: &PathRows) -> Result<(), SinkError> {
        self.calls
            .push((rows.path[0], *rows.path.last().unwrap() + 1));
        self.rows.accept(rows)
    }
}

fn exact(xs: &[f64]) -> ExactSum {
    let mut s = ExactSum::default();
    for &x in xs {
        s.add(x);
    }
    s
}

#[test]
fn stats_are_bit_identical_with_a_sink_and_rows_match_them_exactly() {
    let plan = plan();
    for (threads, chunk) in [(1, 64), (2, 7), (3, 16)] {
        let b = CpuBackend::new(Some(threads)).unwrap();
        let plain = b.run(&plan, 5..400, 11, &opts(chunk)).unwrap();
        let mut spy = Spy {
            rows: PathRows::new(&plan),
            calls: Vec::new(),
        };
        let with = b
            .simulate(
                &plan,
                Simulation::new(5..400, 11, &opts(chunk)).with_sink(&mut spy),
            )
            .unwrap();
        assert_eq!(plain, with, "threads {threads} chunk {chunk}");

        // Calls are contiguous, in path order, and cover the range.
        assert_eq!(spy.calls.first().unwrap().0, 5);
        assert_eq!(spy.calls.last().unwrap().1, 400);
        for w in spy.calls.windows(2) {
            assert_eq!(w[0].1, w[1].0, "{:?}", spy.calls);
        }
        let r = &spy.rows;
        assert_eq!(r.len(), 395);
        assert_eq!(r.path, (5..400).collect::<Vec<u64>>());

        // Every column is exactly what the statistics summed.
        assert_eq!(exact(&r.portfolio_loss_frac), with.portfolio.loss.sum);
        let d: Vec<f64> = r.defaults.iter().map(|&x| f64::from(x)).collect();
        assert_eq!(exact(&d), with.portfolio.defaults.sum);
        for (t, s) in with.tranches.iter().flatten().enumerate() {
            assert_eq!(exact(&r.tranche_loss_frac[t]), s.loss.sum, "{}", s.id);
            assert_eq!(exact(&r.tranche_pv_frac[t]), s.pv.sum, "{}", s.id);
        }
        for (i, s) in with.deals.iter().enumerate() {
            assert_eq!(exact(&r.deal_loss_frac[i]), s.loss.sum, "{}", s.id);
            assert_eq!(exact(&r.deal_pv_frac[i]), s.pv.sum, "{}", s.id);
            let defaulted = r.deal_default_month[i].iter().filter(|&&m| m > 0).count();
            assert_eq!(defaulted as u64, s.default_paths, "{}", s.id);
            // 1-year PD and EL: first default event in months 1–12, its path's loss.
            let in_year = |m: u32| (1..=gaib_simulator::ONE_YEAR_MONTHS).contains(&m);
            let months = &r.deal_default_month[i];
            let d1 = months.iter().filter(|&&m| in_year(m)).count();
            assert_eq!(d1 as u64, s.default_paths_1y, "{}", s.id);
            let l1: Vec<f64> = months
                .iter()
                .zip(&r.deal_loss_frac[i])
                .map(|(&m, &l)| if in_year(m) { l } else { 0.0 })
                .collect();
            assert_eq!(exact(&l1), s.loss_1y.sum, "{}", s.id);
            let ld: Vec<f64> = months
                .iter()
                .zip(&r.deal_loss_frac[i])
                .filter(|(&m, _)| m > 0)
                .map(|(_, &l)| l)
                .collect();
            assert_eq!(exact(&ld), s.loss_on_default.sum, "{}", s.id);
            assert_eq!(s.loss_on_default.n, s.default_paths, "{}", s.id);
            assert!(r.deal_default_month[i].iter().all(|&m| m <= plan.months));
        }
        let total_defaults: u64 = r.defaults.iter().map(|&x| u64::from(x)).sum();
        assert!(
            total_defaults > 0,
            "the test portfolio should default sometimes"
        );

        let (v, vs) = (r.vault.as_ref().unwrap(), with.vault.as_ref().unwrap());
        assert_eq!(exact(&v.max_queue_fraction), vs.max_queue_fraction.sum);
        let ratio =
            |xs: &[f64]| -> Vec<f64> { xs.iter().map(|x| x / vs.nav0_per_share_usd).collect() };
        assert_eq!(
            exact(&ratio(&v.nav_per_share_staking_usd)),
            vs.nav_staking.sum
        );
        assert_eq!(
            exact(&ratio(&v.nav_per_share_unstaking_usd)),
            vs.nav_unstaking.sum
        );
    }
}

struct Failing(usize);

impl PathSink for Failing {
    fn accept(&mut self, _: &PathRows) -> Result<(), SinkError> {
        self.0 += 1;
        if self.0 == 2 {
            Err("disk full".into())
        } else {
            Ok(())
        }
    }
}

#[test]
fn a_sink_error_stops_the_run() {
    let plan = plan();
    let b = CpuBackend::new(Some(1)).unwrap();
    let mut sink = Failing(0);
    let e = b
        .simulate(
            &plan,
            Simulation::new(0..100, 1, &opts(10)).with_sink(&mut sink),
        )
        .unwrap_err();
    assert!(matches!(e, SimError::Sink(_)), "{e}");
    assert_eq!(sink.0, 2);
    assert!(e.to_string().contains("disk full"), "{e}");
}
