//! Structure jobs over real HTTP: `POST /v1/simulations/{id}/structures` against a finished
//! simulation, validated at submit (422 naming the field and value, 404/409 for the
//! simulation), computed by a worker through the run layer; the result equals what
//! `gaib_runs` computes from the simulation's run directory, byte for byte, and the run
//! directory itself is left untouched.

mod common;

use common::{problem, Fixture};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_structure_job_sizes_a_finished_runs_tranches() {
    let f = Fixture::start().await;
    let (sim, st) = f.run_small(300, 4).await;
    let run_dir = f.service.state().jobs.run_dir(&sim);
    let manifest_before = std::fs::read(run_dir.join("manifest.json")).unwrap();
    let body = json!({
        "targets": [{"tranche": "P1/A", "metric": "el", "max_pct": 0.5}],
    });
    let path = format!("/v1/simulations/{sim}/structures");
    let r = f.post(&path, serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(r.status(), 202, "{:?}", r.text().await);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let v: serde_json::Value = r.json().await.unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(loc, format!("/v1/structures/{id}"));
    assert_eq!(v["simulation"], sim.as_str());
    assert_eq!(v["request"]["targets"], body["targets"]);
    let t = Instant::now();
    let done = loop {
        let v = f.get_json(&loc).await;
        if ["succeeded", "failed", "cancelled"].contains(&v["state"].as_str().unwrap()) {
            break v;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "structure job stuck: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["run_id"], st["run_id"]);
    let r = f.get(&format!("{loc}/result")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let got = r.bytes().await.unwrap();
    // The run layer on the same run directory gives the same bytes.
    let dir = gaib_runs::RunDir::open(&run_dir).unwrap();
    let request = gaib_runs::StructureRequest::new(
        vec!["P1/A:el=0.5".parse().unwrap()],
        None,
        gaib_runs::DEFAULT_EL_LEVEL_PCT,
    );
    let want = dir.structure(&request).unwrap().to_json_bytes().unwrap();
    assert_eq!(got.as_ref(), want.as_slice());
    let doc: serde_json::Value = serde_json::from_slice(&got).unwrap();
    assert_eq!(doc["structure"]["tranches"][0]["meets_target"], true);
    assert_eq!(
        std::fs::read(run_dir.join("manifest.json")).unwrap(),
        manifest_before
    );
    // A structure job is not a simulation, and a simulation is not a structure job.
    problem(f.get(&format!("/v1/simulations/{id}")).await, 404).await;
    problem(f.get(&format!("/v1/structures/{sim}")).await, 404).await;

    // The dashboard lists both jobs, each linking where it lives: every /v1 link it shows
    // answers 200 (the structure job's used to point at /v1/simulations/{id}/report, a 404).
    let html = f.get("/").await.text().await.unwrap();
    assert!(
        html.contains(&format!("href=\"/v1/structures/{id}/result\"")),
        "{html}"
    );
    assert!(!html.contains(&format!("/v1/simulations/{id}")), "{html}");
    let links: Vec<&str> = html
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|l| l.starts_with("/v1/"))
        .collect();
    assert!(links.len() >= 5, "{links:?}");
    for link in links {
        assert_eq!(f.get(link).await.status(), 200, "dashboard link {link}");
    }

    // Bad requests are refused at submit, naming the field and the value.
    for (body, field, value) in [
        (
            json!({"targets": [{"tranche": "P1/Z", "metric": "pd", "max_pct": 1}]}),
            "tranche",
            "P1/Z",
        ),
        (
            json!({"targets": [{"tranche": "P1/A", "metric": "pd", "max_pct": 150}]}),
            "target",
            "P1/A:pd=150",
        ),
        (
            json!({"targets": [{"tranche": "P1/E", "metric": "el", "max_pct": 1}]}),
            "target",
            "P1/E",
        ),
        (json!({"breakeven_pool": "NOPE"}), "pool", "NOPE"),
        (
            json!({"breakeven_pool": "P1", "el_level_pct": 0}),
            "el_level_pct",
            "0",
        ),
        (json!({}), "target", "(none)"),
    ] {
        let p = problem(f.post(&path, serde_json::to_vec(&body).unwrap()).await, 422).await;
        assert_eq!(p["errors"][0]["path"], field, "{body}: {p}");
        assert!(
            p["errors"][0]["value"].as_str().unwrap().contains(value),
            "{body}: {p}"
        );
    }
    let p = problem(f.post(&path, b"{\"targets\": 3}".to_vec()).await, 422).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("expected a sequence"),
        "{p}"
    );
    problem(
        f.post(
            "/v1/simulations/job_nope/structures",
            serde_json::to_vec(&json!({"breakeven_pool": "P1"})).unwrap(),
        )
        .await,
        404,
    )
    .await;
    problem(f.get(&format!("/v1/structures/{id}x")).await, 404).await;
    // A finished structure job cannot be cancelled; another key may not try.
    let del = |key: String| {
        let url = f.url(&format!("/v1/structures/{id}"));
        let http = f.http.clone();
        async move { http.delete(url).bearer_auth(key).send().await.unwrap() }
    };
    problem(del(f.key.clone()).await, 409).await;
    problem(del(f.admin.clone()).await, 403).await;
    // The OpenAPI document has the three operations with their answers.
    let doc = f.get_json("/openapi.json").await;
    let p = &doc["paths"];
    for status in ["202", "404", "409", "422"] {
        let r = &p["/v1/simulations/{id}/structures"]["post"]["responses"][status];
        assert!(r.is_object(), "{status}");
    }
    assert!(p["/v1/structures/{id}"]["get"]["responses"]["200"].is_object());
    assert!(p["/v1/structures/{id}/result"]["get"]["responses"]["409"].is_object());
    assert!(doc["components"]["schemas"]["StructureJobRequest"].is_object());
}
