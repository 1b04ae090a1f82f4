//! `GET /`: the dashboard is self-contained (no script, no external asset) and headless
//! Chromium renders it from the live service: the asset table, a NAV-history chart, the
//! recent jobs with links to their reports.
//!
//! Chromium (Debian package `chromium`) is required when `CI` is set; elsewhere the browser
//! part is skipped with a printed note if it is not installed.

mod common;

use common::Fixture;
use gaib_testkit::{chromium, headless_dom};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_self_contained_and_chromium_renders_it() {
    let f = Fixture::start().await;
    let empty = f.get("/").await.text().await.unwrap();
    assert!(empty.contains("id=\"no-assets\"") && empty.contains("id=\"no-jobs\""));

    let pid = f.post_small().await;
    for seed in [1, 2] {
        let id = f
            .submit(json!({"portfolio_id": pid, "paths": 200, "seed": seed}))
            .await;
        assert_eq!(f.wait_done(&id).await["state"], "succeeded");
    }
    let r = f.get("/").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    let without_ns = html.replace("http://www.w3.org/2000/svg", "");
    for bad in [
        "http://", "https://", "<script", "<link", "<img", "src=", "url(",
    ] {
        assert!(!without_ns.contains(bad), "dashboard contains {bad}");
    }
    assert!(html.contains("<figure id=\"nav-sAID\">"));
    assert_eq!(html.matches("<circle").count(), 2, "two valuations drawn");
    assert_eq!(html.matches("/report\">report</a>").count(), 2);

    let Some(chromium) = chromium("the browser check of the dashboard") else {
        f.service.shutdown().await;
        return;
    };
    let url = f.url("/");
    let out = tokio::task::spawn_blocking(move || headless_dom(&chromium, &url))
        .await
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {log}");
    assert!(
        dom.contains("gaib valuation service"),
        "page did not load: {dom:.300}"
    );
    assert!(
        dom.contains("id=\"assets\"") && dom.contains(">sAID<"),
        "{dom:.500}"
    );
    assert!(dom.contains("id=\"svg-nav-sAID\""), "chart not rendered");
    assert!(dom.contains("<polyline"), "NAV line not rendered");
    assert!(dom.contains("id=\"jobs\""), "jobs table not rendered");
    assert!(
        !log.contains("CONSOLE") && !log.contains("Uncaught"),
        "page logged errors: {log}"
    );
    f.service.shutdown().await;
}
