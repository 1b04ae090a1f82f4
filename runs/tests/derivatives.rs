//! Derivatives and hedges through the run layer (MODEL.md §10): `results.json`'s `derivatives`
//! against the closed forms, the hedge comparison on the same paths, delta and vega from the
//! sensitivity bumps, each scenario's derivative changes, and a split-and-merge of a run with
//! an `unhedged` leg equal to the single run.

mod common;

use common::run;
use gaib_engine::DerivativeKind;
use gaib_runs::{merge, PortfolioInput, RunSpec, ScenarioInput};
use gaib_testkit::root;

fn hedged() -> PortfolioInput {
    PortfolioInput::from_file(&root().join("tests/fixtures/derivatives/small_hedged.toml")).unwrap()
}

#[test]
fn derivatives_agree_with_their_closed_forms_and_hedges_lower_the_hedged_pd() {
    let out = run(RunSpec::new(hedged(), 4_000, 7));
    let r = &out.results;
    assert_eq!(r.schema_version, 4);
    let ids: Vec<&str> = r.derivatives.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["SW-H100", "RF-B", "CAP-H100", "FWD-A100"]);
    for d in &r.derivatives {
        assert_eq!(d.pv_usd.paths, 4_000);
        assert!(d.pv_usd.std_error > 0.0, "{}", d.id);
        match d.kind {
            DerivativeKind::RevenueFloor => {
                assert_eq!(d.closed_form_pv_usd, None);
                assert_eq!(d.closed_form_note.as_deref(), Some("revenue floor"));
                // A long floor pays nothing back: E[PV] ≥ −premium.
                assert!(d.pv_usd.value >= -50_000.0 - 1e-6, "{}", d.pv_usd.value);
            }
            _ => {
                let z = d.closed_form_z.unwrap();
                assert!(
                    z.abs() < 4.0,
                    "{}: E[PV] {:?} vs closed form {:?}: z = {z}",
                    d.id,
                    d.pv_usd,
                    d.closed_form_pv_usd
                );
            }
        }
        // Without sensitivities there is no delta or vega.
        assert_eq!(d.delta_usd_per_index_pct, None);
        assert_eq!(d.expected_settlement_usd.len() as u32, r.stats.months);
    }
    let swap = &r.derivatives[0];
    assert_eq!(swap.hedges.as_deref(), Some("fl-a"));
    assert!(swap.fair_strike_per_gpu_hour.unwrap() > 0.0);
    // The hedge comparison: the deals of fl-a and fl-b, every tranche, the vault.
    let h = r.hedges.as_ref().expect("the portfolio hedges two fleets");
    let deals: Vec<(&str, &[String])> = h
        .deals
        .iter()
        .map(|d| (d.id.as_str(), d.hedged_by.as_slice()))
        .collect();
    assert_eq!(
        deals,
        [
            ("L-1", &["SW-H100".to_string()][..]),
            ("RS-1", &["RF-B".to_string()][..]),
            ("H-1", &["SW-H100".to_string()][..]),
        ]
    );
    assert_eq!(h.tranches.len(), 3);
    assert!(h.vault.is_some());
    // Each hedge's premium to its holder beside the comparison (MODEL.md §10.4): the short
    // swap has none, the long revenue floor pays 50,000 USD (outside the fleet's cash).
    let premiums: Vec<&[f64]> = h
        .deals
        .iter()
        .map(|d| d.hedge_premium_usd.as_slice())
        .collect();
    assert_eq!(premiums, [&[0.0][..], &[50_000.0][..], &[0.0][..]]);
    let table = gaib_runs::tables::hedge_table(r).unwrap();
    let col = table
        .columns
        .iter()
        .position(|c| c == "hedge_premium_usd")
        .unwrap();
    let rs_row = table
        .rows
        .iter()
        .find(|row| matches!(&row[0], gaib_runs::tables::Cell::Text(t) if t == "RS-1"))
        .unwrap();
    assert_eq!(rs_row[col].as_f64(), Some(50_000.0));
    // The revenue floor only adds cash to fl-b, path by path: RS-1 cannot default more often
    // with it. The unhedged side is the unhedged leg's own valuation.
    let rs = &h.deals[1];
    assert!(rs.pd_pct.hedged.value <= rs.pd_pct.unhedged.value, "{rs:?}");
    let unhedged = out.legs.iter().find(|l| l.id == "unhedged").unwrap();
    assert_eq!(rs.pd_pct.unhedged, unhedged.valuation.deals[1].pd_pct);
    assert_eq!(rs.pd_pct.hedged, r.valuation.deals[1].pd_pct);
    // The run's bytes say the same.
    let json: serde_json::Value =
        serde_json::from_slice(out.output("results.json").unwrap()).unwrap();
    assert_eq!(json["derivatives"][2]["kind"], "cap");
    assert_eq!(json["hedges"]["deals"][0]["hedged_by"][0], "SW-H100");
    assert_eq!(json["hedges"]["deals"][1]["hedge_premium_usd"][0], 50_000.0);
}

#[test]
fn delta_and_vega_come_from_the_bumps_and_a_split_run_merges_exactly() {
    let spec = RunSpec {
        sensitivities: true,
        ..RunSpec::new(hedged(), 600, 11)
    };
    let whole = run(spec.clone());
    // 1 base + 5 bumps + the unhedged leg.
    assert_eq!(whole.legs.len(), 6);
    let swap = &whole.results.derivatives[0];
    // A short swap loses as the index rises: delta < 0.
    let delta = swap.delta_usd_per_index_pct.unwrap();
    assert!(delta < 0.0, "{delta}");
    assert!(swap.vega_usd_per_sigma_pct.is_some());
    // Split at 250 and merged: byte for byte the single run, the unhedged leg included.
    let a = run(RunSpec {
        paths: 250,
        ..spec.clone()
    });
    let b = run(RunSpec {
        path_start: 250,
        paths: 350,
        ..spec
    });
    let merged = merge(&a, &b).unwrap();
    for (x, y) in merged.outputs.iter().zip(&whole.outputs) {
        assert_eq!(x.path, y.path);
        assert!(x.bytes == y.bytes, "{} differs after the merge", x.path);
    }
}

#[test]
fn a_stress_run_reports_each_derivatives_change() {
    let p = hedged();
    let scenario = ScenarioInput::locate("gpu-glut", None).unwrap();
    let out = run(RunSpec {
        scenarios: vec![scenario],
        ..RunSpec::new(p, 300, 3)
    });
    let s = out.stress.as_ref().unwrap();
    let d = &s.scenarios[0].derivatives;
    assert_eq!(d.len(), 4);
    // A price glut: the short swap gains, the cap loses.
    assert!(d[0].change_usd > 0.0 && d[2].change_usd < 0.0, "{d:?}");
    assert_eq!(d[0].base_usd, out.results.derivatives[0].pv_usd.value);
    // report.html's stress table has a row per derivative: the base E[PV] and the change,
    // coloured from the holder's side.
    let html = out.report_html();
    let row = |id: &str| {
        let label = format!("<td>derivative {id} E[PV] (USD)</td>");
        let at = html
            .find(&label)
            .unwrap_or_else(|| panic!("no stress row for {id}"));
        html[at..at + html[at..].find("</tr>").unwrap()].to_string()
    };
    let sw = row("SW-H100");
    assert!(
        sw.contains(&format!("<td>{:.0}</td>", d[0].base_usd))
            && sw.contains(&format!(
                "<td class=\"favourable\">{:+.0}</td>",
                d[0].change_usd
            )),
        "{sw}"
    );
    let cap = row("CAP-H100");
    assert!(
        cap.contains(&format!(
            "<td class=\"adverse\">{:+.0}</td>",
            d[2].change_usd
        )),
        "{cap}"
    );
}
