//! A published collateral price can be trusted: assets are registered once to an owning key,
//! only that key's jobs publish them and only past the guards (paths, price move), held
//! valuations wait for an admin; valuations cannot be REPLACEd; keys have roles; workers serve
//! keys round-robin; a key holds a bounded number of portfolios and deletes unused ones; a
//! database of the release before all this migrates forward.

mod common;

use common::{problem, small_body, small_json, Fixture};
use gaib_api::db::{state, JobRow, PortfolioRow, Stored};
use gaib_api::{create_key_with_role, Db, Role};
use serde_json::{json, Value};

/// The small portfolio with `shares` vault shares (its price scales by 3 000 000 / shares).
fn with_shares(shares: u64) -> Value {
    let mut v = small_json();
    v["vault"]["shares"] = json!(shares);
    v
}

fn id_of(key: &str) -> &str {
    key.split('_').nth(1).unwrap()
}

/// Stores a portfolio with `key`; returns its id.
async fn store(f: &Fixture, key: &str, portfolio: Value) -> String {
    let r = f.post_as(key, "/v1/portfolios", portfolio).await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

/// Runs a job of `paths` paths with `key` to its end; returns its status.
async fn run(f: &Fixture, key: &str, pid: &str, paths: u64) -> Value {
    let r = f
        .post_as(
            key,
            "/v1/simulations",
            json!({"portfolio_id": pid, "paths": paths, "seed": 5}),
        )
        .await;
    assert_eq!(r.status(), 202, "{:?}", r.text().await);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let st = f.wait_done(&id).await;
    assert_eq!(st["state"], "succeeded", "{st}");
    st
}

async fn collateral(f: &Fixture) -> reqwest::Response {
    f.get("/v1/collateral/sAID").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_publishes_and_guards_hold_until_an_admin_releases() {
    let f = Fixture::start_with(|c| c.min_publish_paths = 200).await;
    let db = f.service.state().db.clone();
    let pid = f.post_small().await;

    // Too few paths: held, nothing published.
    let st = run(&f, &f.key, &pid, 100).await;
    assert_eq!(st["publication"]["status"], "held", "{st}");
    assert_eq!(st["publication"]["reason"], "too-few-paths");
    problem(collateral(&f).await, 404).await;

    // Enough paths, the owner's key: published.
    let st = run(&f, &f.key, &pid, 200).await;
    assert_eq!(st["publication"]["status"], "published", "{st}");
    let published_job = st["id"].as_str().unwrap().to_string();
    let c0: Value = collateral(&f).await.json().await.unwrap();
    let p0 = c0["price"].as_f64().unwrap();

    // Another writer key's portfolio of the same vault id, one share: held, price unchanged.
    let other = create_key_with_role(&db, "other", Role::Writer).unwrap();
    let evil = store(&f, &other, with_shares(1)).await;
    let st = run(&f, &other, &evil, 200).await;
    assert_eq!(st["publication"]["status"], "held", "{st}");
    assert_eq!(st["publication"]["reason"], "not-owner");
    assert_eq!(collateral(&f).await.json::<Value>().await.unwrap(), c0);

    // The owner's own price jumping 50 %: held too.
    let jump = store(&f, &f.key, with_shares(2_000_000)).await;
    let st = run(&f, &f.key, &jump, 200).await;
    assert_eq!(st["publication"]["reason"], "price-move", "{st}");
    let jump_seq = st["publication"]["seq"].as_i64().unwrap();
    assert_eq!(collateral(&f).await.json::<Value>().await.unwrap(), c0);
    let v: Value = f.get_json("/v1/valuations/sAID").await;
    assert_eq!(v["nav_per_share_usd"].as_f64().unwrap(), p0);
    // What the keeper and the reports read: the published valuation, not the held ones.
    let latest = db.latest_valuations().unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].job_id, published_job);
    assert_eq!(
        db.latest_valuation("sAID").unwrap().unwrap().job_id,
        published_job
    );

    // Visible in the API and on the dashboard.
    let holds: Value = f.get_json("/v1/holds").await;
    let reasons: Vec<&str> = holds["holds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["too-few-paths", "not-owner", "price-move"]);
    let page = f.get("/").await.text().await.unwrap();
    assert!(page.contains("id=\"holds\"") && page.contains("not-owner"));

    // Only an admin releases; an older hold than the published valuation stays held.
    let release = format!("/v1/holds/{jump_seq}/release");
    problem(f.post_as(&f.key, &release, json!({})).await, 403).await;
    let first = holds["holds"][0]["seq"].as_i64().unwrap();
    let stale = format!("/v1/holds/{first}/release");
    problem(f.post_as(&f.admin, &stale, json!({})).await, 409).await;
    let r = f.post_as(&f.admin, &release, json!({})).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let c1: Value = collateral(&f).await.json().await.unwrap();
    let p1 = c1["price"].as_f64().unwrap();
    assert!((p1 / p0 - 1.5).abs() < 1e-9, "{p1} vs {p0}");
    problem(f.post_as(&f.admin, &release, json!({})).await, 404).await;
    let h: Value = f.get_json("/v1/valuations/sAID/history").await;
    assert_eq!(h["valuations"].as_array().unwrap().len(), 2);

    // A reader key writes nothing.
    let reader = create_key_with_role(&db, "reader", Role::Reader).unwrap();
    let p = problem(
        f.post_as(&reader, "/v1/portfolios", small_json()).await,
        403,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("reader"), "{p}");
    f.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_registered_once_by_admin_keys_to_writer_keys() {
    let f = Fixture::start().await;
    let db = f.service.state().db.clone();
    let reg = |asset: &str, owner: &str| json!({"asset": asset, "owner_key_id": owner});
    let owner = id_of(&f.key).to_string();
    problem(
        f.post_as(&f.key, "/v1/assets", reg("X1", &owner)).await,
        403,
    )
    .await;
    let p = problem(
        f.post_as(&f.admin, "/v1/assets", reg("sAID", &owner)).await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains(&owner), "{p}");
    let p = problem(
        f.post_as(&f.admin, "/v1/assets", reg("s AID", &owner))
            .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["path"], "asset");
    let p = problem(
        f.post_as(&f.admin, "/v1/assets", reg("X1", "00ff")).await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["path"], "owner_key_id");
    assert_eq!(p["errors"][0]["value"], "00ff");
    let reader = create_key_with_role(&db, "r", Role::Reader).unwrap();
    let p = problem(
        f.post_as(&f.admin, "/v1/assets", reg("X1", id_of(&reader)))
            .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["path"], "owner_key_id");
    let r = f.post_as(&f.admin, "/v1/assets", reg("X1", &owner)).await;
    assert_eq!(r.status(), 201);
    let all: Value = f.get_json("/v1/assets").await;
    let names: Vec<(&str, &str)> = all["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["asset"].as_str().unwrap(),
                a["owner_key_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("X1", owner.as_str()), ("sAID", owner.as_str())]);
    f.service.shutdown().await;
}

#[test]
fn insert_or_replace_and_replace_into_cannot_overwrite_a_valuation() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("v.db")).unwrap();
    db.execute_raw(
        "INSERT INTO valuations (asset, job_id, run_id, record, observed_at) \
         VALUES ('sAID', 'job_good', 'r', '{}', 1)",
    )
    .unwrap();
    let seq = db.latest_valuation("sAID").unwrap().unwrap().seq;
    for verb in ["INSERT OR REPLACE INTO", "REPLACE INTO"] {
        let e = db
            .execute_raw(&format!(
                "{verb} valuations (seq, asset, job_id, run_id, record, observed_at) \
                 VALUES ({seq}, 'sAID', 'job_evil', 'r', '{{\"price\": 5000000}}', 2)"
            ))
            .unwrap_err()
            .to_string();
        assert!(e.contains("append-only"), "{verb}: {e}");
    }
    let row = db.latest_valuation("sAID").unwrap().unwrap();
    assert_eq!((row.seq, row.job_id.as_str()), (seq, "job_good"));
}

#[test]
fn a_database_of_schema_version_2_migrates_forward() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    std::fs::copy(
        common::root().join("api/tests/fixtures/schema-v2.db"),
        &path,
    )
    .unwrap();
    let db = Db::open(&path).unwrap();
    assert_eq!(db.schema_version().unwrap(), 4);
    // Migration 4: the keeper's tranche price publications, none yet.
    assert!(db.tranche_publications("P1", 10).unwrap().is_empty());
    // The old key is a writer and still authenticates.
    let header = format!("Bearer gaib_00000000000000aa_{}", "a".repeat(64));
    let key = gaib_api::auth::verify(&db, Some(&header)).unwrap();
    assert_eq!(key.role, Role::Writer);
    // It owns the portfolio it ran a job on; nobody owns the idle one.
    assert!(db.owns_portfolio("pf_used", &key.id).unwrap());
    assert!(!db.owns_portfolio("pf_idle", &key.id).unwrap());
    // Its valuation stays published.
    assert_eq!(
        db.latest_valuation("sAID").unwrap().unwrap().job_id,
        "job_old"
    );
    assert!(db.open_holds(10).unwrap().is_empty());
}

fn job(id: &str, key: &str, created_at: i64) -> JobRow {
    JobRow {
        id: id.into(),
        key_id: key.into(),
        portfolio_id: "pf_1".into(),
        request: "{}".into(),
        scenarios: Vec::new(),
        state: state::QUEUED.into(),
        paths_total: 1,
        paths_done: 0,
        attempts: 0,
        error: None,
        error_class: None,
        run_id: None,
        created_at,
        started_at: None,
        finished_at: None,
    }
}

#[test]
fn workers_claim_jobs_round_robin_between_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("q.db")).unwrap();
    let p = PortfolioRow {
        id: "pf_1".into(),
        portfolio_id: "small".into(),
        sha256: "x".into(),
        body: small_body(),
        created_at: 0,
    };
    assert_eq!(db.store_portfolio(&p, "a", 10).unwrap(), Stored::Created);
    for (i, (id, key)) in [("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b")]
        .into_iter()
        .enumerate()
    {
        db.insert_job(&job(id, key, i as i64)).unwrap();
    }
    let claim = || db.claim_next_job().unwrap().unwrap().id;
    // Key b's one job does not wait behind all of key a's.
    assert_eq!(claim(), "a1");
    assert_eq!(claim(), "b1");
    db.end_job("a1", state::SUCCEEDED, None, None).unwrap();
    db.end_job("b1", state::SUCCEEDED, None, None).unwrap();
    db.insert_job(&job("b2", "b", 9)).unwrap();
    // With nothing running, the key served longest ago goes first.
    assert_eq!(claim(), "a2");
    assert_eq!(claim(), "b2");
    assert_eq!(claim(), "a3");
    assert!(db.claim_next_job().unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_holds_a_bounded_number_of_portfolios_and_deletes_unused_ones() {
    let f = Fixture::start_with(|c| c.max_portfolios_per_key = 2).await;
    let compact = small_json();
    let p1 = f.post_small().await;
    let p2 = store(&f, &f.key, compact.clone()).await;
    assert_ne!(p1, p2, "whitespace makes another id");
    // A third variant is over the cap; the same bodies again are not.
    let mut third = small_body();
    third.push(b'\n');
    let r = f
        .http
        .post(f.url("/v1/portfolios"))
        .bearer_auth(&f.key)
        .body(third.clone())
        .send()
        .await
        .unwrap();
    let p = problem(r, 409).await;
    assert_eq!(p["type"], "/problems/portfolio-limit");
    assert_eq!(
        f.post_as(&f.key, "/v1/portfolios", compact).await.status(),
        200
    );

    // Another key cannot run this key's portfolio, nor delete it.
    let other = create_key_with_role(&f.service.state().db, "o", Role::Writer).unwrap();
    let r = f
        .post_as(
            &other,
            "/v1/simulations",
            json!({"portfolio_id": p1, "paths": 10, "seed": 1}),
        )
        .await;
    assert_eq!(problem(r, 422).await["errors"][0]["path"], "portfolio_id");
    let delete = |key: &str, id: &str| {
        f.http
            .delete(f.url(&format!("/v1/portfolios/{id}")))
            .bearer_auth(key)
            .send()
    };
    problem(delete(&other, &p1).await.unwrap(), 404).await;

    // In use by a queued or running job: refused; once it ended: deleted.
    let long = f
        .submit(json!({"portfolio_id": p1, "paths": 50_000_000u64, "seed": 2}))
        .await;
    problem(delete(&f.key, &p1).await.unwrap(), 409).await;
    assert!(f.service.state().jobs.cancel(&long).unwrap());
    assert_eq!(f.wait_done(&long).await["state"], "cancelled");
    assert_eq!(delete(&f.key, &p1).await.unwrap().status(), 204);
    // The job still refers to it: kept for its history, no longer this key's.
    assert_eq!(f.get(&format!("/v1/portfolios/{p1}")).await.status(), 200);
    let r = f
        .post_as(
            &f.key,
            "/v1/simulations",
            json!({"portfolio_id": p1, "paths": 10, "seed": 1}),
        )
        .await;
    problem(r, 422).await;
    // Unused and unclaimed: gone.
    assert_eq!(delete(&f.key, &p2).await.unwrap().status(), 204);
    problem(f.get(&format!("/v1/portfolios/{p2}")).await, 404).await;
    problem(delete(&f.key, &p2).await.unwrap(), 404).await;
    // Room again.
    let r = f
        .http
        .post(f.url("/v1/portfolios"))
        .bearer_auth(&f.key)
        .body(third)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    f.service.shutdown().await;
}
