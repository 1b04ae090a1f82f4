//! `RunDir::valuation`: a run directory's on-chain figures, from its results and manifest alone.

use gaib_engine::Decimal;
use gaib_runs::{
    decimal_to_wei, percent_to_bps, usd_to_wei, OutDir, PortfolioInput, RunControl, RunDir,
    RunError, RunSpec, VaultBook, RESULTS,
};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name)
}

/// A run of `portfolio` written to `dir`.
fn write_run(portfolio: &Path, dir: &Path) -> RunDir {
    let spec = RunSpec::new(PortfolioInput::from_file(portfolio).unwrap(), 200, 7);
    let out = spec
        .prepare()
        .unwrap()
        .execute(&RunControl::default(), None)
        .unwrap();
    OutDir::claim(dir, false).unwrap().write(&out).unwrap();
    RunDir::open(dir).unwrap()
}

#[test]
fn a_run_with_a_vault_gives_its_figures_from_results_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let portfolio = fixture("valid/small.toml");
    let run = write_run(&portfolio, &tmp.path().join("r"));
    let v = run.valuation(3_600).unwrap();

    // The book is the engine's, recorded at run time.
    let input = PortfolioInput::from_file(&portfolio).unwrap();
    let book = VaultBook::of(input.portfolio()).unwrap().unwrap();
    assert_eq!(run.results.vault_book.as_ref(), Some(&book));
    assert_eq!(book.id, "sAID");
    assert_eq!(book.shares, Decimal::from(3_000_000));
    assert_eq!(book.buffer_usd, Decimal::from(1_500_000));
    assert!(book.nav_usd > book.buffer_usd);

    let vault = run.results.valuation.vault.as_ref().unwrap();
    assert_eq!(v.asset, "sAID");
    assert_eq!(
        v.deployed_value_wei,
        decimal_to_wei(book.nav_usd - book.buffer_usd, "d").unwrap()
    );
    assert_eq!(
        v.nav_per_share_wei,
        usd_to_wei(vault.nav0_per_share_usd, "n").unwrap()
    );
    assert_eq!(
        v.haircut_bps,
        percent_to_bps(vault.haircut_pct, true, "h").unwrap()
    );
    assert_eq!(
        v.ltv_bps,
        percent_to_bps(vault.recommended_ltv_pct, false, "l").unwrap()
    );
    assert_eq!(v.observed_at, run.manifest.created_unix_s);
    assert_eq!(v.valid_until, v.observed_at + 3_600);
    assert_eq!(v.run_id_hex(), gaib_runs::sha256_hex(&run.manifest_bytes));
    // NAV per share × shares = NAV, to the f64 mark's precision.
    let nav_ps = v.nav_per_share_wei as f64 / 1e18;
    let nav = nav_ps * 3_000_000.0;
    let want = gaib_engine::Amount::to_f64(book.nav_usd);
    assert!((nav - want).abs() <= 1e-9 * want, "{nav} vs {want}");

    let e = run.valuation(u64::MAX).unwrap_err();
    assert!(matches!(e, RunError::InvalidRun { .. }), "{e}");
    assert!(e.to_string().contains("valid-for"), "{e}");
}

#[test]
fn no_vault_or_tampered_results_are_invalid_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let run = write_run(&fixture("noise_free.toml"), &tmp.path().join("plain"));
    assert_eq!(run.results.vault_book, None);
    let e = run.valuation(60).unwrap_err();
    assert!(e.to_string().contains("has no vault"), "{e}");

    let dir = tmp.path().join("vault");
    let run = write_run(&fixture("valid/small.toml"), &dir);
    let path = dir.join(RESULTS);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.push(b'\n');
    std::fs::write(&path, bytes).unwrap();
    let e = run.valuation(60).unwrap_err();
    assert!(
        e.to_string().contains("do not match its manifest") && e.to_string().contains(RESULTS),
        "{e}"
    );
}
