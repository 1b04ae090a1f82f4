//! Helpers of the service's integration tests: a real service on 127.0.0.1 (any free port)
//! over a real SQLite file in a temporary directory, and a reqwest client.
#![allow(dead_code)]

use gaib_api::{Config, Service};
use std::path::Path;
use std::time::{Duration, Instant};

/// The repository root; the small test portfolio as a JSON value and as a request body.
#[allow(unused_imports)] // each test binary uses some of them
pub(crate) use gaib_testkit::{root, small_body, small_json};

/// A running service with a key.
pub(crate) struct Fixture {
    /// The temp dir holding the database and the run directories.
    pub(crate) dir: tempfile::TempDir,
    /// The service.
    pub(crate) service: Service,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// A write key, owner of the asset `sAID` (the small portfolio's vault).
    pub(crate) key: String,
    /// An admin key (it registered `sAID` to `key`).
    pub(crate) admin: String,
    /// The client.
    pub(crate) http: reqwest::Client,
}

/// A configuration for tests: any free port, a temp database, 2 threads per job, and
/// valuations of any path count published (tests run small jobs; the default is 10 000).
pub(crate) fn test_config(dir: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        db: dir.join("var/gaib.db"),
        threads: Some(2),
        min_publish_paths: 1,
        ..Config::default()
    }
}

impl Fixture {
    /// A service with the default test configuration.
    pub(crate) async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A service whose test configuration `edit` changes.
    pub(crate) async fn start_with(edit: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut c = test_config(dir.path());
        edit(&mut c);
        let service = Service::start(c).await.expect("service starts");
        let key = gaib_api::create_key(&service.state().db, "test").unwrap();
        let admin =
            gaib_api::create_key_with_role(&service.state().db, "admin", gaib_api::Role::Admin)
                .unwrap();
        let base = format!("http://{}", service.addr());
        let f = Self {
            dir,
            service,
            base,
            key,
            admin,
            http: reqwest::Client::new(),
        };
        let owner = f.key.split('_').nth(1).unwrap();
        let r = f
            .post_as(
                &f.admin,
                "/v1/assets",
                serde_json::json!({"asset": "sAID", "owner_key_id": owner}),
            )
            .await;
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
        f
    }

    /// POST of a JSON value with `key`.
    pub(crate) async fn post_as(
        &self,
        key: &str,
        path: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A URL of the service.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET.
    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// GET with the key; the body as JSON.
    pub(crate) async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get(path).await.json().await.unwrap()
    }

    /// POST with the key.
    pub(crate) async fn post(&self, path: &str, body: Vec<u8>) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Stores the small portfolio; returns its id.
    pub(crate) async fn post_small(&self) -> String {
        let r = self.post("/v1/portfolios", small_body()).await;
        assert!(r.status().is_success(), "{:?}", r.text().await);
        let v: serde_json::Value = r.json().await.unwrap();
        v["id"].as_str().unwrap().to_string()
    }

    /// Stores the small portfolio and runs a job of `paths` paths with `seed` to success;
    /// returns the job's id and final status.
    pub(crate) async fn run_small(&self, paths: u32, seed: u64) -> (String, serde_json::Value) {
        let pid = self.post_small().await;
        let id = self
            .submit(serde_json::json!({"portfolio_id": pid, "paths": paths, "seed": seed}))
            .await;
        let st = self.wait_done(&id).await;
        assert_eq!(st["state"], "succeeded", "{st}");
        (id, st)
    }

    /// Submits a job; returns its id.
    pub(crate) async fn submit(&self, body: serde_json::Value) -> String {
        let r = self
            .post("/v1/simulations", serde_json::to_vec(&body).unwrap())
            .await;
        assert_eq!(r.status(), 202, "{:?}", r.text().await);
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let v: serde_json::Value = r.json().await.unwrap();
        let id = v["id"].as_str().unwrap().to_string();
        assert_eq!(loc, format!("/v1/simulations/{id}"));
        id
    }

    /// Polls a job until it reaches a final state; returns its status.
    pub(crate) async fn wait_done(&self, id: &str) -> serde_json::Value {
        let done = |s: &str| ["succeeded", "failed", "cancelled"].contains(&s);
        self.poll_job(id, done, 120, 50, "job stuck").await
    }

    /// Polls a job until it is running.
    pub(crate) async fn wait_running(&self, id: &str) {
        self.poll_job(id, |s| s == "running", 60, 20, "job never ran")
            .await;
    }

    /// Polls job `id` every `every_ms` milliseconds until its state satisfies `until`; returns
    /// its status. Fails with `stuck` and the status after `limit_s` seconds.
    async fn poll_job(
        &self,
        id: &str,
        until: impl Fn(&str) -> bool,
        limit_s: u64,
        every_ms: u64,
        stuck: &str,
    ) -> serde_json::Value {
        let t = Instant::now();
        loop {
            let v = self.get_json(&format!("/v1/simulations/{id}")).await;
            if until(v["state"].as_str().unwrap()) {
                return v;
            }
            assert!(t.elapsed() < Duration::from_secs(limit_s), "{stuck}: {v}");
            tokio::time::sleep(Duration::from_millis(every_ms)).await;
        }
    }
}

/// Asserts a response is problem+json with `status`; returns the problem.
pub(crate) async fn problem(r: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(r.status().as_u16(), status, "status");
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(ct, "application/problem+json", "content type");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["status"], status);
    assert!(v["type"].as_str().unwrap().starts_with("/problems/"));
    assert!(!v["detail"].as_str().unwrap().is_empty());
    v
}
