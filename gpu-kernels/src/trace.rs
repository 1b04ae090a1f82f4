//! Debug traces: the month-by-month cash flows of one path, from the engine's machine (what the
//! CPU backend runs) and from the kernel, in the same layout, so that a divergence names the
//! month, the entity and the field ([`first_divergence`]).

use crate::flat::{
    FlatPlan, DK_CREDIT, DK_NONE, DK_PAYMENT, DK_REFINANCING, TRACE_DEAL_FIELDS,
    TRACE_DERIVATIVE_FIELDS, TRACE_FLEET_FIELDS, TRACE_TRANCHE_FIELDS, TRACE_VAULT_FIELDS,
};
use gaib_engine::DefaultKind;
use gaib_simulator::{trace_path, SimPlan};

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
    for id in &plan.derivatives.ids {
        for f in TRACE_DERIVATIVE_FIELDS {
            v.push(format!("derivative {id} {f}"));
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

/// Path `path` as the engine computes it ([`gaib_simulator::trace_path`]: the CPU backend's
/// own draws and engine calls), flattened into the kernel's trace layout.
pub fn reference_path(plan: &SimPlan, seed: u64, path: u32) -> ReferencePath {
    let t = trace_path(plan, seed, path);
    let mut trace = Vec::new();
    for m in &t.months {
        let out = &m.output;
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
                f64::from(match f.default_kind {
                    None => DK_NONE,
                    Some(DefaultKind::Payment) => DK_PAYMENT,
                    Some(DefaultKind::Refinancing) => DK_REFINANCING,
                    Some(DefaultKind::Credit) => DK_CREDIT,
                }),
                f.default_ead,
                out.losses[d],
                f.cash_left,
                m.dsra[d],
            ]);
        }
        for fl in &out.fleets {
            trace.extend_from_slice(&[fl.revenue, fl.noi, fl.hardware_value, fl.hedge]);
        }
        for fl in out.tranches.iter().flatten() {
            trace.extend_from_slice(&[fl.interest, fl.principal, fl.writedown, fl.balance_end]);
        }
        trace.extend_from_slice(&out.derivatives);
        if let Some(vm) = &m.vault {
            trace.extend_from_slice(&[
                vm.buffer,
                vm.shares,
                vm.nav_per_share_staking,
                vm.nav_per_share_unstaking,
            ]);
        }
    }
    ReferencePath {
        trace,
        tranche_default_month: t.tranche_default_month,
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
