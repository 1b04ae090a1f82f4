//! Debug traces: the month-by-month cash flows of one path, from the engine's machine (what the
//! CPU backend runs) and from the kernel, in the same layout, so that a divergence names the
//! month, the entity and the field ([`first_divergence`]).

use crate::flat::{
    FlatPlan, TRACE_DEAL_FIELDS, TRACE_FLEET_FIELDS, TRACE_TRANCHE_FIELDS, TRACE_VAULT_FIELDS,
};
use gaib_engine::{DefaultKind, MarketMonth, VaultState};
use gaib_simulator::{SimPlan, Worker, LOSS_EPS};

/// Names of the trace columns of one month ("deal L-01 interest", "tranche GPU-ABS-1/A
/// principal", "vault buffer", ...), in the kernel's order.
pub fn field_names(plan: &SimPlan) -> Vec<String> {
    let mut v = Vec::new();
    for id in &plan.deal_ids {
        for f in TRACE_DEAL_FIELDS {
            v.push(format!("deal {id} {f}"));
        }
    }
    for i in 0..plan.flow.fleets.len() {
        for f in TRACE_FLEET_FIELDS {
            v.push(format!("fleet #{i} {f}"));
        }
    }
    for id in plan.tranche_ids.iter().flatten() {
        for f in TRACE_TRANCHE_FIELDS {
            v.push(format!("tranche {id} {f}"));
        }
    }
    if plan.vault.is_some() {
        for f in TRACE_VAULT_FIELDS {
            v.push(format!("vault {f}"));
        }
    }
    v
}

/// One path as the engine computes it: the trace, and each tranche's first default month
/// (write-down beyond float noise, or the senior tranche's interest default; 0 = none) by the
/// CPU backend's rule.
#[derive(Debug, Clone)]
pub struct ReferencePath {
    /// K × stride values (see [`field_names`]).
    pub trace: Vec<f64>,
    /// Per tranche over all pools.
    pub tranche_default_month: Vec<u32>,
}

/// Drives the engine's `CashflowPlan<f64>` and `VaultState<f64>` over path `path`'s market
/// (drawn by the simulator's own [`Worker::market_path`]), recording the trace fields.
pub fn reference_path(plan: &SimPlan, seed: u64, path: u32) -> ReferencePath {
    let mut w = Worker::new(plan);
    let market = w.market_path(seed, path);
    let flow = &plan.flow;
    let mut state = flow.initial_state();
    let mut out = flow.new_output();
    let mut vault = plan.vault.as_ref().map(|v| {
        let mut s = VaultState::new(v, flow);
        let ps0 = if v.shares0 > 0.0 {
            plan.vault_nav0 / v.shares0
        } else {
            0.0
        };
        s.reset(v, ps0);
        s
    });
    let nt: usize = plan.tranche_notional.iter().map(Vec::len).sum();
    let mut tdm = vec![0u32; nt];
    let mut writedown = vec![0.0f64; nt];
    let mut sid = vec![false; plan.tranche_notional.len()];
    let mut trace = Vec::new();
    for k in 1..=plan.months {
        let ki = (k - 1) as usize;
        let credit: Vec<bool> = market.default_month.iter().map(|&m| m == k).collect();
        let m = MarketMonth {
            price: &market.price[ki],
            price_over_trend: &market.price_over_trend[ki],
            utilization: &market.utilization[ki],
            credit_default: &credit,
        };
        flow.step(k, &m, &mut state, &mut out);
        let vm = match (plan.vault.as_ref(), vault.as_mut()) {
            (Some(v), Some(vs)) => Some(vs.step(v, flow, k, &state, &out)),
            _ => None,
        };
        for (d, f) in out.deals.iter().enumerate() {
            trace.extend_from_slice(&[
                f.balance_end,
                f.interest,
                f.scheduled_principal,
                f.prepayment,
                f.refinanced,
                f.rev_share_capital,
                f.rev_share_income,
                f.kicker,
                f.recovery,
                match f.default_kind {
                    None => 0.0,
                    Some(DefaultKind::Payment) => 1.0,
                    Some(DefaultKind::Refinancing) => 2.0,
                    Some(DefaultKind::Credit) => 3.0,
                },
                f.default_ead,
                out.losses[d],
                f.cash_left,
                state.deals[d].dsra,
            ]);
        }
        for fl in &out.fleets {
            trace.extend_from_slice(&[fl.revenue, fl.noi, fl.hardware_value]);
        }
        let mut flat_t = 0;
        for (q, flows) in out.tranches.iter().enumerate() {
            if out.pool_months[q].senior_interest_default {
                sid[q] = true;
            }
            for (t, fl) in flows.iter().enumerate() {
                trace.extend_from_slice(&[fl.interest, fl.principal, fl.writedown, fl.balance_end]);
                writedown[flat_t] += fl.writedown;
                let notional = plan.tranche_notional[q][t];
                if tdm[flat_t] == 0
                    && (writedown[flat_t] > LOSS_EPS * notional || (t == 0 && sid[q]))
                {
                    tdm[flat_t] = k;
                }
                flat_t += 1;
            }
        }
        if let (Some(vs), Some(vm)) = (vault.as_ref(), vm) {
            trace.extend_from_slice(&[
                vs.buffer,
                vs.shares,
                vm.nav_per_share_staking,
                vm.nav_per_share_unstaking,
            ]);
        }
    }
    ReferencePath {
        trace,
        tranche_default_month: tdm,
    }
}

/// Where two traces of one path first differ.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    /// Month k (1-based).
    pub month: u32,
    /// The column, e.g. "deal L-07 interest".
    pub field: String,
    /// The engine's (CPU) value.
    pub cpu: f64,
    /// The kernel's value.
    pub kernel: f64,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "month {}: {}: cpu {:e} vs kernel {:e}",
            self.month, self.field, self.cpu, self.kernel
        )
    }
}

/// The first (month, field) where `|cpu − kernel| > rel · max(|cpu|, |kernel|, 1)`, in month
/// order then column order; None when the traces agree.
pub fn first_divergence(
    plan: &SimPlan,
    flat: &FlatPlan,
    cpu: &[f64],
    kernel: &[f64],
    rel: f64,
) -> Option<Divergence> {
    let names = field_names(plan);
    let s = flat.trace_stride;
    for (i, (&a, &b)) in cpu.iter().zip(kernel).enumerate() {
        let scale = a.abs().max(b.abs()).max(1.0);
        let same = a == b || (a - b).abs() <= rel * scale || (a.is_nan() && b.is_nan());
        if !same {
            return Some(Divergence {
                month: (i / s + 1) as u32,
                field: names.get(i % s).cloned().unwrap_or_default(),
                cpu: a,
                kernel: b,
            });
        }
    }
    if cpu.len() != kernel.len() {
        return Some(Divergence {
            month: 0,
            field: format!("trace lengths {} vs {}", cpu.len(), kernel.len()),
            cpu: f64::NAN,
            kernel: f64::NAN,
        });
    }
    None
}

/// Writes two traces of one path as CSV (`month,field,cpu,kernel,equal`), one line per month
/// and column: the debug mode of the parity tests (`GAIB_TRACE_PATHS`).
pub fn write_csv(
    plan: &SimPlan,
    flat: &FlatPlan,
    cpu: &[f64],
    kernel: &[f64],
    mut w: impl std::io::Write,
) -> std::io::Result<()> {
    let names = field_names(plan);
    let s = flat.trace_stride;
    writeln!(w, "month,field,cpu,kernel,equal")?;
    for (i, (&a, &b)) in cpu.iter().zip(kernel).enumerate() {
        writeln!(
            w,
            "{},{},{a:e},{b:e},{}",
            i / s + 1,
            names.get(i % s).map_or("?", String::as_str),
            a.to_bits() == b.to_bits()
        )?;
    }
    Ok(())
}
