//! Derivatives through the service (MODEL.md §10): a portfolio with `[[derivatives]]` posted as
//! JSON runs as a job whose results.json — byte for byte the run layer's — holds the
//! `derivatives` and, with hedges, the `hedges` comparison (the job's progress counts the
//! `unhedged` leg); the OpenAPI body schema of `POST /v1/portfolios` has the derivative terms.

mod common;

use common::{root, Fixture};
use gaib_runs::{PortfolioInput, RunControl, RunSpec};

/// tests/fixtures/derivatives/small_hedged.toml as a JSON body.
fn hedged_body() -> Vec<u8> {
    let input =
        PortfolioInput::from_file(&root().join("tests/fixtures/derivatives/small_hedged.toml"))
            .unwrap();
    serde_json::to_vec_pretty(input.portfolio()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_of_a_hedged_portfolio_reports_its_derivatives_and_hedges() {
    let f = Fixture::start().await;
    let body = hedged_body();
    let r = f.post("/v1/portfolios", body.clone()).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let pid = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let id = f
        .submit(serde_json::json!({"portfolio_id": pid, "paths": 200, "seed": 4}))
        .await;
    let st = f.wait_done(&id).await;
    assert_eq!(st["state"], "succeeded", "{st}");
    // The base leg and the unhedged leg.
    assert_eq!(st["progress"]["paths_total"], 400);
    let got = f
        .get(&format!("/v1/simulations/{id}/results"))
        .await
        .bytes()
        .await
        .unwrap();
    let direct = RunSpec::new(PortfolioInput::from_json_body(&body).unwrap(), 200, 4)
        .prepare()
        .unwrap()
        .execute(&RunControl::default(), None)
        .unwrap();
    assert_eq!(got.as_ref(), direct.output(gaib_runs::RESULTS).unwrap());
    let v: serde_json::Value = serde_json::from_slice(&got).unwrap();
    assert_eq!(v["schema_version"], 4);
    assert_eq!(v["derivatives"].as_array().unwrap().len(), 4);
    assert_eq!(v["derivatives"][0]["id"], "SW-H100");
    assert_eq!(v["hedges"]["deals"][0]["hedged_by"][0], "SW-H100");
    // The report page has the derivatives section.
    let html = f
        .get(&format!("/v1/simulations/{id}/report"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"derivatives\"") && html.contains("id=\"hedges\""));
    // The portfolio body schema documents the derivative terms.
    let doc = f.get_json("/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    assert!(
        schemas["Derivative"]["properties"]["strike_per_gpu_hour"].is_object(),
        "{}",
        schemas["Derivative"]
    );
    f.service.shutdown().await;
}
