//! The README's "A pool on chain" block run verbatim on a real anvil (parsed out of README.md, so
//! the README cannot drift from what works): `gaib deploy` with deployments/anvil-pool.toml,
//! subscriptions, revenue through the RevenueRouter, the waterfall's `closePeriod` and claims.
//! Skipped with a note when anvil is not installed; fails under `CI`.

mod common;

use common::{readme_chain_tools, run_readme_block, text};

#[test]
fn readme_pool_section_runs_verbatim() {
    let Some(tools) = readme_chain_tools() else {
        return;
    };
    let (_tmp, out) = run_readme_block(
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
    // the equity's residual interest, 2 000 000 − 800 000 − 48 192.08 − 814 444.58 − 274 692.50,
    // less the 1 wei a claim rounds down
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("@@equity 62670839999999999999999 ")),
        "{stdout}"
    );
}
