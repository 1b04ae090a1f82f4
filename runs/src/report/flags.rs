//! The report's "flags": what a reader should look at first, from the valuation alone.

use super::{esc, num};
use gaib_pricing::{LendingHorizonBasis, Valuation};

/// Standard errors by which a junior tranche's EL must undercut its senior's to be flagged
/// (a smaller gap is Monte Carlo noise).
const FLAG_SE: f64 = 2.0;

/// The flags of a valuation, one sentence each, most severe first: a junior tranche losing
/// less than the tranche above it, deals under-collateralised at month 1, a redemption queue
/// not cleared within the simulation, a haircut floored at 0.
pub(crate) fn flags(v: &Valuation) -> Vec<String> {
    let mut out = Vec::new();
    for pair in v.tranches.windows(2) {
        let (senior, junior) = (&pair[0], &pair[1]);
        let pool = |id: &str| id.split('/').next().unwrap_or("").to_string();
        if pool(&senior.id) != pool(&junior.id) {
            continue;
        }
        let (a, b) = (&senior.expected_loss_pct, &junior.expected_loss_pct);
        let se = a.std_error.hypot(b.std_error);
        if b.value + FLAG_SE * se < a.value {
            out.push(format!(
                "Junior tranche {} loses less than the tranche above it, {} (EL {} % against \
                 {} %, beyond {FLAG_SE} standard errors): the waterfall or the inputs are wrong.",
                junior.id,
                senior.id,
                num(b.value, 3),
                num(a.value, 3)
            ));
        }
    }
    let under: Vec<String> = v
        .collateral
        .iter()
        .filter(|c| c.first_month.paths > 0 && c.first_month.value < 1.0)
        .map(|c| format!("{} ({})", c.deal_id, num(c.first_month.value, 3)))
        .collect();
    if !under.is_empty() {
        out.push(format!(
            "Under-collateralised at month 1 (mean collateral ratio below 1, hardware after \
             haircut plus DSRA against the balance): {}.",
            under.join(", ")
        ));
    }
    if let Some(vr) = &v.vault {
        match vr.lending_horizon.basis {
            LendingHorizonBasis::QueueNotCleared => out.push(format!(
                "The redemption queue of {} is not cleared within the {} simulated cycles at \
                 the {} % level: a lender may not be able to exit; the haircut's horizon ({} \
                 days) is a lower bound.",
                vr.id,
                vr.cycles,
                100.0 * vr.confidence,
                vr.lending_horizon.days
            )),
            LendingHorizonBasis::QueueClearing => out.push(format!(
                "The redemption queue of {} takes {} withdrawal cycles to clear at the {} % \
                 level: the haircut is read at {} days, not at the vault's horizon.",
                vr.id,
                vr.lending_horizon.queue_clearing_cycles,
                100.0 * vr.confidence,
                vr.lending_horizon.days
            )),
            LendingHorizonBasis::VaultHorizon => {}
        }
        if vr.haircut_unfloored_pct < 0.0 {
            out.push(format!(
                "The haircut of {} is floored at 0: even its {} % tail NAV at the lending \
                 horizon beats the reference by {} %, which is not credited to borrowers.",
                vr.id,
                100.0 * vr.confidence,
                num(-vr.haircut_unfloored_pct, 3)
            ));
        }
    }
    out
}

/// The flags as an HTML section (a line saying there are none when there are none).
pub(crate) fn flags_section(v: &Valuation) -> String {
    let list = flags(v);
    let mut s = String::from("<section class=\"flags\" id=\"flags\"><h2>Flags</h2>");
    if list.is_empty() {
        s += "<p>None: senior tranches lose least, every deal is covered at month 1, the \
              redemption queue clears within the vault's horizon and the haircut needs no \
              floor.</p>";
    } else {
        s += "<ul>";
        for f in &list {
            s += "<li>";
            s += &esc(f);
            s += "</li>";
        }
        s += "</ul>";
    }
    s + "</section>"
}
