//! HTTP integration tests of the service: a real listener on 127.0.0.1, a real SQLite file,
//! reqwest as the client.

mod common;

use common::{problem, small_body, small_json, Fixture};
use gaib_runs::{PortfolioInput, RunControl, RunSpec};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portfolios_are_stored_validated_and_served() {
    let f = Fixture::start().await;
    // Writes need a key.
    let r = f
        .http
        .post(f.url("/v1/portfolios"))
        .body(small_body())
        .send()
        .await
        .unwrap();
    problem(r, 401).await;
    let r = f
        .http
        .post(f.url("/v1/portfolios"))
        .bearer_auth("gaib_0000000000000000_00")
        .body(small_body())
        .send()
        .await
        .unwrap();
    problem(r, 401).await;

    let r = f.post("/v1/portfolios", small_body()).await;
    assert_eq!(r.status(), 201);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let v: serde_json::Value = r.json().await.unwrap();
    let id = v["id"].as_str().unwrap();
    assert_eq!(loc, format!("/v1/portfolios/{id}"));
    assert_eq!(v["portfolio_id"], "small");
    assert_eq!(v["deals"], 3);
    // The same body again: the same id, 200.
    let r = f.post("/v1/portfolios", small_body()).await;
    assert_eq!(r.status(), 200);
    let again: serde_json::Value = r.json().await.unwrap();
    assert_eq!(again["id"], v["id"]);
    // GET returns the document as posted.
    let got: serde_json::Value = f.get_json(&loc).await;
    assert_eq!(got["portfolio"], small_json());
    assert_eq!(got["sha256"], v["sha256"]);

    // Every bad field is listed with its path.
    let mut bad = small_json();
    bad["deals"][0]["principal"] = json!(-5);
    bad["deals"][1]["share"] = json!(3.0);
    bad["pools"][0]["tranches"][0]["balance"] = json!(-1);
    let p = problem(
        f.post("/v1/portfolios", serde_json::to_vec(&bad).unwrap())
            .await,
        422,
    )
    .await;
    assert_eq!(p["type"], "/problems/invalid-portfolio");
    let paths: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(paths.len() >= 3, "{p}");
    for needle in ["principal", "share", "balance"] {
        assert!(
            paths.iter().any(|x| x.contains(needle)),
            "{needle} in {paths:?}"
        );
    }
    assert!(paths.iter().any(|x| x.contains("L-1")), "{paths:?}");
    // Not JSON at all; a loan-tape reference (nothing to resolve it against).
    problem(f.post("/v1/portfolios", b"{nope".to_vec()).await, 422).await;
    let mut tape = small_json();
    tape["loan_tape"] = json!("tape.csv");
    let p = problem(
        f.post("/v1/portfolios", serde_json::to_vec(&tape).unwrap())
            .await,
        422,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("inline"), "{p}");
    // Unknown ids and routes are 404 problems; a wrong method 405.
    problem(f.get("/v1/portfolios/pf_nope").await, 404).await;
    problem(f.get("/v1/nothing-here").await, 404).await;
    let r = f.http.put(f.url("/v1/portfolios")).send().await.unwrap();
    problem(r, 405).await;
    f.service.shutdown().await;
}

/// The bytes of `results.json` of the same run through the run layer directly.
fn direct_results(paths: u64, seed: u64) -> Vec<u8> {
    let spec = RunSpec::new(
        PortfolioInput::from_json_body(&small_body()).unwrap(),
        paths,
        seed,
    );
    let out = spec
        .prepare()
        .unwrap()
        .execute(&RunControl::default(), None)
        .unwrap();
    out.output(gaib_runs::RESULTS).unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_and_publishes_results_rows_report_bundle_and_valuation() {
    let f = Fixture::start().await;
    let (id, st) = f.run_small(300, 11).await;
    assert_eq!(st["progress"]["paths_done"], 300);
    assert_eq!(st["progress"]["paths_total"], 300);
    assert_eq!(st["attempts"], 1);

    // Results: byte for byte the run layer's results.json.
    let r = f.get(&format!("/v1/simulations/{id}/results")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let body = r.bytes().await.unwrap();
    assert_eq!(body.as_ref(), direct_results(300, 11).as_slice());

    // Arrow IPC stream of the per-path rows, in the simulator's column layout.
    let r = f
        .http
        .get(f.url(&format!("/v1/simulations/{id}/results")))
        .header("accept", "application/vnd.apache.arrow.stream")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.apache.arrow.stream"
    );
    let bytes = r.bytes().await.unwrap();
    let reader =
        arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None).unwrap();
    let schema = reader.schema();
    let input = PortfolioInput::from_json_body(&small_body()).unwrap();
    let plan = gaib_simulator::lower(input.portfolio()).unwrap();
    let names: Vec<String> = gaib_simulator::PathRows::columns(&plan)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let got: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(got, names);
    let mut rows = 0;
    let mut next_path = 0u64;
    for b in reader {
        let b = b.unwrap();
        let p = b
            .column(0)
            .as_any()
            .downcast_ref::<arrow_array::UInt64Array>()
            .unwrap();
        for v in p.values().iter() {
            assert_eq!(*v, next_path);
            next_path += 1;
        }
        rows += b.num_rows();
    }
    assert_eq!(rows, 300);

    // The report page, from the stored run.
    let r = f.get(&format!("/v1/simulations/{id}/report")).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("gaib risk report"));

    // The bundle: a tar of the run directory that re-runs bit for bit after extraction.
    let r = f.get(&format!("/v1/simulations/{id}/bundle")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-tar");
    let tar = r.bytes().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    tar::Archive::new(std::io::Cursor::new(tar))
        .unpack(out.path())
        .unwrap();
    let run = gaib_runs::RunDir::open(&out.path().join(&id)).unwrap();
    run.verify(Some(2), &RunControl::default()).unwrap();
    assert_eq!(
        std::fs::read(out.path().join(&id).join("results.json")).unwrap(),
        body.as_ref()
    );

    // The valuation and the collateral parameters of the vault.
    let v: serde_json::Value = f.get_json("/v1/valuations/sAID").await;
    assert_eq!(v["asset"], "sAID");
    assert_eq!(v["job_id"], id.as_str());
    assert_eq!(v["run_id"], st["run_id"]);
    assert_eq!(
        v["run_id"].as_str().unwrap(),
        gaib_runs::sha256_hex(&std::fs::read(out.path().join(&id).join("manifest.json")).unwrap())
    );
    assert!(v["nav_per_share_usd"].as_f64().unwrap() > 0.0);
    assert_eq!(v["tranches"].as_array().unwrap().len(), 3);
    let c: serde_json::Value = f.get_json("/v1/collateral/sAID").await;
    assert_eq!(c["price"], v["nav_per_share_usd"]);
    assert_eq!(c["haircut_bps"], v["haircut_bps"]);
    assert_eq!(c["ltv_bps"], v["ltv_bps"]);
    assert_eq!(
        c["valid_until"].as_u64().unwrap(),
        c["observed_at"].as_u64().unwrap() + 86_400
    );
    let h: serde_json::Value = f.get_json("/v1/valuations/sAID/history?from=0").await;
    assert_eq!(h["valuations"].as_array().unwrap().len(), 1);
    let h: serde_json::Value = f.get_json("/v1/valuations/sAID/history?to=1").await;
    assert_eq!(h["valuations"].as_array().unwrap().len(), 0);
    problem(f.get("/v1/valuations/sAID/history?from=5&to=1").await, 422).await;
    problem(f.get("/v1/valuations/sAID/history?from=x").await, 400).await;
    problem(f.get("/v1/valuations/nope").await, 404).await;
    problem(f.get("/v1/collateral/nope").await, 404).await;
    problem(f.get("/v1/simulations/job_nope").await, 404).await;
    problem(f.get("/v1/simulations/job_nope/results").await, 404).await;

    // Published valuations are append-only.
    let db = &f.service.state().db;
    let e = db
        .execute_raw("UPDATE valuations SET asset = 'x'")
        .unwrap_err()
        .to_string();
    assert!(e.contains("append-only"), "{e}");
    let e = db
        .execute_raw("DELETE FROM valuations")
        .unwrap_err()
        .to_string();
    assert!(e.contains("append-only"), "{e}");
    let c2: serde_json::Value = f.get_json("/v1/collateral/sAID").await;
    assert_eq!(c2, c);

    // Metrics count requests by route and status, jobs by state, paths simulated.
    let m = f.get("/metrics").await.text().await.unwrap();
    for needle in [
        "gaib_http_requests_total{route=\"/v1/simulations/{id}\",method=\"GET\",status=\"200\"}",
        "gaib_http_request_duration_seconds_bucket{route=\"/v1/collateral/{asset}\",le=\"+Inf\"}",
        "gaib_jobs{state=\"succeeded\"} 1",
        "gaib_paths_simulated_total 300",
        "status=\"404\"",
    ] {
        assert!(m.contains(needle), "{needle} not in\n{m}");
    }
    assert_eq!(f.get("/readyz").await.status(), 200);
    assert_eq!(f.get("/healthz").await.text().await.unwrap(), "ok\n");
    f.service.shutdown().await;
}

/// A job that names `cuda` where CUDA cannot run is refused at submit (422 with the reason),
/// not accepted and failed by the worker; where CUDA runs, there is nothing to refuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_cuda_backend_is_refused_at_submit() {
    if gaib_runs::select(gaib_runs::BackendSelection::Cuda, Some(1)).is_ok() {
        return;
    }
    let f = Fixture::start().await;
    let pid = f.post_small().await;
    let body = json!({"portfolio_id": pid, "paths": 10, "seed": 1, "backend": "cuda"});
    let p = problem(
        f.post("/v1/simulations", serde_json::to_vec(&body).unwrap())
            .await,
        422,
    )
    .await;
    assert!(p.to_string().contains("cuda"), "{p}");
    f.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_simulation_requests_are_problems_naming_the_field() {
    let f = Fixture::start().await;
    let pid = f.post_small().await;
    let cases = [
        (
            json!({"portfolio_id": pid, "paths": 0, "seed": 1}),
            422,
            "paths",
        ),
        (
            json!({"portfolio_id": "pf_nope", "paths": 10, "seed": 1}),
            422,
            "portfolio_id",
        ),
        (
            json!({"portfolio_id": pid, "paths": 10, "seed": 1, "backend": "tpu"}),
            422,
            "backend",
        ),
        (
            json!({"portfolio_id": pid, "paths": 10, "seed": 1, "scenarios": ["../etc"]}),
            422,
            "scenarios[0]",
        ),
        (
            json!({"portfolio_id": pid, "paths": 10, "seed": 1, "scenarios": ["no-such"]}),
            422,
            "scenarios[0]",
        ),
        (
            json!({"portfolio_id": pid, "paths": 10, "seed": 1, "path_start": 4294967295u64}),
            422,
            "paths",
        ),
        (
            json!({"portfolio_id": pid, "paths": 10, "seed": 1, "scenarios": ["gpu-glut"], "sensitivities": true}),
            422,
            "sensitivities",
        ),
        (
            json!({"portfolio_id": pid, "paths": 200000, "seed": 1, "path_rows": true}),
            422,
            "path_rows",
        ),
    ];
    for (body, status, field) in cases {
        let p = problem(
            f.post("/v1/simulations", serde_json::to_vec(&body).unwrap())
                .await,
            status,
        )
        .await;
        assert_eq!(p["errors"][0]["path"], field, "{body}: {p}");
    }
    // Wrong types and unknown fields are 422 naming the field; broken JSON 400.
    for (body, detail) in [
        (
            &br#"{"portfolio_id": "x", "paths": "ten", "seed": 1}"#[..],
            "invalid type",
        ),
        (
            &br#"{"portfolio_id": "x", "paths": 1, "seed": 1, "colour": 1}"#[..],
            "colour",
        ),
    ] {
        let p = problem(f.post("/v1/simulations", body.to_vec()).await, 422).await;
        assert!(p["detail"].as_str().unwrap().contains(detail), "{p}");
    }
    problem(
        f.post("/v1/simulations", b"{\"portfolio".to_vec()).await,
        400,
    )
    .await;
    // A stress job with a known scenario runs.
    let id = f
        .submit(json!({"portfolio_id": pid, "paths": 100, "seed": 1, "scenarios": ["gpu-glut"]}))
        .await;
    let st = f.wait_done(&id).await;
    assert_eq!(st["state"], "succeeded", "{st}");
    assert_eq!(st["progress"]["paths_total"], 200);
    f.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_cancels_a_running_job_through_its_token_and_queued_ones_at_once() {
    let f = Fixture::start_with(|c| c.threads = Some(1)).await;
    let pid = f.post_small().await;
    let long = json!({"portfolio_id": pid, "paths": 50_000_000u64, "seed": 2});
    let a = f.submit(long.clone()).await;
    let b = f.submit(long).await;
    f.wait_running(&a).await;
    let st: serde_json::Value = f.get_json(&format!("/v1/simulations/{b}")).await;
    assert_eq!(st["state"], "queued", "one worker: the second waits");

    // Another key may not cancel it.
    let other = gaib_api::create_key(&f.service.state().db, "other").unwrap();
    let r = f
        .http
        .delete(f.url(&format!("/v1/simulations/{a}")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    problem(r, 403).await;
    let del = |id: String| {
        f.http
            .delete(f.url(&format!("/v1/simulations/{id}")))
            .bearer_auth(&f.key)
            .send()
    };
    assert_eq!(del(b.clone()).await.unwrap().status(), 202);
    let st: serde_json::Value = f.get_json(&format!("/v1/simulations/{b}")).await;
    assert_eq!(st["state"], "cancelled");
    assert_eq!(del(a.clone()).await.unwrap().status(), 202);
    let st = f.wait_done(&a).await;
    assert_eq!(st["state"], "cancelled", "{st}");
    assert!(st["progress"]["paths_done"].as_u64().unwrap() < 50_000_000);
    problem(f.get(&format!("/v1/simulations/{a}/results")).await, 409).await;
    problem(del(a.clone()).await.unwrap(), 409).await;
    problem(del("job_nope".into()).await.unwrap(), 404).await;
    assert!(
        !f.service.state().jobs.run_dir(&a).exists(),
        "nothing written"
    );
    f.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_job_limit_and_body_limit() {
    let f = Fixture::start_with(|c| {
        c.rate_limit_burst = 4;
        c.rate_limit_per_minute = 6;
        c.max_body_bytes = 4096;
        c.max_jobs_per_key = 1;
        c.threads = Some(1);
    })
    .await;
    // Body limit: 413 as a problem (the attempt spends one of the key's tokens).
    let big = vec![b' '; 5000];
    let p = problem(f.post("/v1/portfolios", big).await, 413).await;
    assert_eq!(p["type"], "/problems/body-too-large");
    let pid = f.post_small().await;
    // Job limit: one active job per key.
    let a = f
        .submit(json!({"portfolio_id": pid, "paths": 50_000_000u64, "seed": 2}))
        .await;
    let p = problem(
        f.post(
            "/v1/simulations",
            serde_json::to_vec(&json!({"portfolio_id": pid, "paths": 10, "seed": 2})).unwrap(),
        )
        .await,
        429,
    )
    .await;
    assert_eq!(p["type"], "/problems/job-limit");
    // Rate limit: the burst of 4 is spent (413, portfolio, job, refused job): 429 with
    // Retry-After.
    let r = f.post("/v1/portfolios", small_body()).await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "{retry}");
    let p = problem(r, 429).await;
    assert_eq!(p["type"], "/problems/rate-limit");
    assert_eq!(p["retry_after_s"], retry);
    // Reads are public and not rate limited.
    for _ in 0..10 {
        assert_eq!(f.get(&format!("/v1/simulations/{a}")).await.status(), 200);
    }
    f.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_answers_allowed_origins_only() {
    let f = Fixture::start_with(|c| c.cors_origins = vec!["https://risk.example".into()]).await;
    let pre = |origin: &'static str| {
        f.http
            .request(reqwest::Method::OPTIONS, f.url("/v1/portfolios"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let r = pre("https://risk.example").await.unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://risk.example"
    );
    let r = pre("https://evil.example").await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    f.service.shutdown().await;
}

/// Replaces `{param}` segments by `nope`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "nope" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_3_1_and_covers_every_route() {
    let f = Fixture::start().await;
    let doc: serde_json::Value = f.get_json("/openapi.json").await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/v1/portfolios", "post"),
        ("/v1/portfolios/{id}", "get"),
        ("/v1/simulations", "post"),
        ("/v1/simulations/{id}", "get"),
        ("/v1/simulations/{id}", "delete"),
        ("/v1/simulations/{id}/results", "get"),
        ("/v1/simulations/{id}/report", "get"),
        ("/v1/simulations/{id}/bundle", "get"),
        ("/v1/valuations/{asset}", "get"),
        ("/v1/valuations/{asset}/history", "get"),
        ("/v1/collateral/{asset}", "get"),
        ("/v1/reports/{asset}/latest", "get"),
        ("/v1/portfolios/{id}", "delete"),
        ("/v1/assets", "post"),
        ("/v1/assets", "get"),
        ("/v1/holds", "get"),
        ("/v1/holds/{seq}/release", "post"),
        ("/v1/simulations/{id}/structures", "post"),
        ("/v1/structures/{id}", "get"),
        ("/v1/structures/{id}", "delete"),
        ("/v1/structures/{id}/result", "get"),
        ("/v1/tranche-publications/{pool}", "get"),
    ];
    for (p, m) in expected {
        let op = &paths[p][m];
        assert!(op.is_object(), "{m} {p} not documented");
        let responses = op["responses"].as_object().unwrap();
        assert!(!responses.is_empty(), "{m} {p}: no responses");
        for (code, r) in responses {
            if code.starts_with('4') || code.starts_with('5') {
                assert!(
                    r["content"]["application/problem+json"].is_object(),
                    "{m} {p} {code}: error not documented as problem+json"
                );
            }
        }
    }
    // Every documented operation is routed (the fallback answers 'no such route'), and every
    // routed path's answers are documented statuses.
    let mut n = 0;
    for (p, item) in paths {
        for m in ["get", "post", "delete"] {
            let Some(op) = item.get(m) else { continue };
            n += 1;
            let method = reqwest::Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let r = f
                .http
                .request(method, f.url(&concrete(p)))
                .bearer_auth(&f.key)
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16().to_string();
            let body = r.text().await.unwrap();
            assert!(!body.contains("no such route"), "{m} {p} is not routed");
            assert!(
                op["responses"].get(&status).is_some(),
                "{m} {p} answered {status}, not documented: {body}"
            );
        }
    }
    assert_eq!(n, expected.len(), "documented operations");
    f.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_requeues_a_running_job_and_a_restart_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = common::test_config(dir.path());
    c.threads = Some(1);
    let s = gaib_api::Service::start(c.clone()).await.unwrap();
    let key = gaib_api::create_key(&s.state().db, "k").unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://{}", s.addr());
    let post = |path: &str, body: Vec<u8>| {
        http.post(format!("{base}{path}"))
            .bearer_auth(&key)
            .body(body)
            .send()
    };
    let pid: serde_json::Value = post("/v1/portfolios", small_body())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body = json!({"portfolio_id": pid["id"], "paths": 50_000_000u64, "seed": 3});
    let job: serde_json::Value = post("/v1/simulations", serde_json::to_vec(&body).unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap().to_string();
    loop {
        let st = s.state().db.job(&id).unwrap().unwrap();
        if st.state == "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    s.shutdown().await;
    // Re-queued by the shutdown, not cancelled or lost, and the stop used up no attempt.
    let db = gaib_api::Db::open(&c.db).unwrap();
    let row = db.job(&id).unwrap().unwrap();
    assert_eq!(row.state, "queued");
    assert_eq!(row.attempts, 0);
    // Then a crash while it runs again (what `kill -9` leaves: the job marked running): with
    // max_attempts = 2 the restart re-queues it rather than failing it.
    assert_eq!(db.claim_next_job().unwrap().unwrap().id, id);
    drop(db);
    assert_eq!(c.max_attempts, 2);
    // Cancel it before the restart would finish 5e7 paths: a queued job cancels at once.
    let s = gaib_api::Service::start(c).await.unwrap();
    let st = s.state().db.job(&id).unwrap().unwrap();
    assert!(
        ["queued", "running"].contains(&st.state.as_str()),
        "{}",
        st.state
    );
    assert!(s.state().jobs.cancel(&id).unwrap());
    s.shutdown().await;
}
