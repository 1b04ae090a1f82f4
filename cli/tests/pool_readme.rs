//! The README's "A pool on chain" block run verbatim on a real anvil (parsed out of README.md, so
//! the README cannot drift from what works): `gaib deploy` with deployments/anvil-pool.toml,
//! subscriptions, revenue through the RevenueRouter, the waterfall's `closePeriod`, claims, and
//! per-tranche prices from a run co-signed with `gaib publish --tranches`.
//! Skipped with a note when anvil is not installed; fails under `CI`.

mod common;

use common::{readme_chain_tools, run_readme_block, text};

#[test]
fn readme_pool_section_runs_verbatim() {
    let Some(tools) = readme_chain_tools() else {
        return;
    };
    let (tmp, out) = run_readme_block(
        "A pool on chain: deploy → revenue → waterfall → claims",
        "anvil-pool.toml",
        tools,
        "echo \"@@equity $(cast call $(at TrancheToken:E) 'claimable(address)(uint256)' $ME)\"\n",
        300,
    );
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    // collected, A's balance after the period, A's claimable, A's claimable after the claim
    assert!(
        lines[0].starts_with("2000000000000000000000000 "),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("149559000000000000000000000 "),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with("1614444579999999999999999 "),
        "{stdout}"
    );
    assert_eq!(lines[3], "0", "{stdout}");
    // the senior's published price: the first of the co-signed report's prices
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out/q4/tranches.json")).unwrap(),
    )
    .unwrap();
    let senior = report["tranche_report"]["prices"][0].as_str().unwrap();
    assert_eq!(
        report["signatures"].as_array().unwrap().len(),
        1,
        "signer 1's"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&format!("{senior} "))),
        "tranchePrice(0) = {senior}: {stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("published tranche prices round 1 ")),
        "{stdout}"
    );
    // the equity's residual interest, 2 000 000 − 800 000 − 48 192.08 − 814 444.58 − 274 692.50,
    // less the 1 wei a claim rounds down
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("@@equity 62670839999999999999999 ")),
        "{stdout}"
    );
}
