//! `gaib serve` and `gaib keys` as processes: a job's results equal `gaib run`'s results.json
//! byte for byte, its bundle is accepted by `gaib reproduce`, and after a SIGKILL mid-job a
//! restart on the same database runs the queued job and fails the interrupted one explicitly.
//! HTTP/1.1 over a plain TcpStream on 127.0.0.1 (no client library needed).

mod common;

use common::{gaib_in, root, text};
use gaib_testkit::small_body;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One HTTP request; returns (status, body).
fn http(addr: &str, method: &str, path: &str, key: Option<&str>, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
}

fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", text(b)))
}

/// A `gaib serve` process and its address.
struct Server {
    child: Child,
    addr: String,
    /// Everything it wrote on stderr so far (its log).
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    /// Waits (up to 10 s) until its log has a line containing every one of `parts`; returns it.
    fn log_line(&self, parts: &[&str]) -> String {
        let t = Instant::now();
        loop {
            let log = self.log.lock().unwrap().clone();
            if let Some(l) = log.lines().find(|l| parts.iter().all(|p| l.contains(p))) {
                return l.to_string();
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "no log line with {parts:?} in:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gaib"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            "var/gaib.db",
            "--threads",
            "1",
        ])
        .args(extra)
        .current_dir(dir)
        .env("GAIB_SCENARIOS", root().join("data/scenarios"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "gaib serve exited");
        log.lock().unwrap().push_str(&line);
        if let Some(a) = line.trim().strip_prefix("gaib serve: listening on http://") {
            break a.to_string();
        }
    };
    // Keep reading stderr into the log so the server never blocks on a full pipe.
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut line = String::new();
        while err.read_line(&mut line).unwrap_or(0) > 0 {
            sink.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    Server { child, addr, log }
}

/// Stores the small portfolio with `key`; returns its id.
fn post_small(addr: &str, key: &str) -> String {
    let (s, b) = http(addr, "POST", "/v1/portfolios", Some(key), &small_body());
    assert_eq!(s, 201, "{}", text(&b));
    json(&b)["id"].as_str().unwrap().to_string()
}

fn create_key(dir: &Path) -> String {
    let out = gaib_in(
        &["keys", "create", "--name", "ci", "--db", "var/gaib.db"],
        dir,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let key = text(&out.stdout).trim().to_string();
    assert!(key.starts_with("gaib_") && !key.contains('\n'), "{key}");
    key
}

fn wait_state(addr: &str, id: &str, states: &[&str]) -> serde_json::Value {
    let t = Instant::now();
    loop {
        let (s, b) = http(addr, "GET", &format!("/v1/simulations/{id}"), None, b"");
        assert_eq!(s, 200, "{}", text(&b));
        let v = json(&b);
        if states.contains(&v["state"].as_str().unwrap()) {
            return v;
        }
        assert!(t.elapsed() < Duration::from_secs(120), "stuck: {v}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn submit(addr: &str, key: &str, body: serde_json::Value) -> String {
    let (s, b) = http(
        addr,
        "POST",
        "/v1/simulations",
        Some(key),
        &serde_json::to_vec(&body).unwrap(),
    );
    assert_eq!(s, 202, "{}", text(&b));
    json(&b)["id"].as_str().unwrap().to_string()
}

#[test]
fn keys_are_printed_once_and_stored_only_as_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path());
    let secret = key.rsplit('_').next().unwrap();
    let db = std::fs::read(dir.path().join("var/gaib.db")).unwrap();
    let wal = std::fs::read(dir.path().join("var/gaib.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the secret is stored"
        );
    }
    let out = gaib_in(
        &["keys", "create", "--name", "", "--db", "var/gaib.db"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // Roles: writer by default, admin on request, nothing else.
    let args = [
        "keys",
        "create",
        "--name",
        "ops",
        "--db",
        "var/gaib.db",
        "--role",
    ];
    let admin = gaib_in(&[&args[..], &["admin"]].concat(), dir.path());
    assert_eq!(admin.status.code(), Some(0), "{}", text(&admin.stderr));
    let admin_id = text(&admin.stdout).split('_').nth(1).unwrap().to_string();
    assert!(
        text(&admin.stderr).contains(&format!("admin API key 'ops' (id {admin_id})")),
        "{}",
        text(&admin.stderr)
    );
    let db = gaib_api::Db::open(&dir.path().join("var/gaib.db")).unwrap();
    assert_eq!(db.key(&admin_id).unwrap().unwrap().role, "admin");
    let writer_id = key.split('_').nth(1).unwrap();
    assert_eq!(db.key(writer_id).unwrap().unwrap().role, "writer");
    let out = gaib_in(&[&args[..], &["root"]].concat(), dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn job_results_equal_gaib_run_byte_for_byte_and_the_bundle_reproduces() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let body = small_body();
    std::fs::write(d.join("small.json"), &body).unwrap();
    let out = gaib_in(
        &[
            "run",
            "small.json",
            "--paths",
            "400",
            "--seed",
            "9",
            "--out",
            "cli-run",
            "--quiet",
            "--threads",
            "2",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let expected = std::fs::read(d.join("cli-run/results.json")).unwrap();

    let key = create_key(d);
    let srv = serve(d, &[]);
    let (s, b) = http(&srv.addr, "POST", "/v1/portfolios", Some(&key), &body);
    assert_eq!(s, 201, "{}", text(&b));
    let pid = json(&b)["id"].as_str().unwrap().to_string();
    let id = submit(
        &srv.addr,
        &key,
        serde_json::json!({"portfolio_id": pid, "paths": 400, "seed": 9}),
    );
    let st = wait_state(&srv.addr, &id, &["succeeded", "failed", "cancelled"]);
    assert_eq!(st["state"], "succeeded", "{st}");
    let (s, got) = http(
        &srv.addr,
        "GET",
        &format!("/v1/simulations/{id}/results"),
        None,
        b"",
    );
    assert_eq!(s, 200);
    assert!(
        got == expected,
        "results differ from gaib run's results.json"
    );

    // The bundle, extracted, is a run directory `gaib reproduce` accepts.
    let (s, tar) = http(
        &srv.addr,
        "GET",
        &format!("/v1/simulations/{id}/bundle"),
        None,
        b"",
    );
    assert_eq!(s, 200);
    std::fs::write(d.join("bundle.tar"), tar).unwrap();
    let x = Command::new("tar")
        .args(["-xf", "bundle.tar"])
        .current_dir(d)
        .status()
        .unwrap();
    assert!(x.success());
    let out = gaib_in(&["reproduce", &id], d);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn after_sigkill_mid_job_a_restart_runs_the_queued_job_and_fails_the_interrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("serve.toml"), "max_attempts = 1\n").unwrap();
    let key = create_key(d);
    let mut srv = serve(d, &["--config", "serve.toml"]);
    let pid = post_small(&srv.addr, &key);
    let long = submit(
        &srv.addr,
        &key,
        serde_json::json!({"portfolio_id": pid, "paths": 100_000_000u64, "seed": 1}),
    );
    let short = submit(
        &srv.addr,
        &key,
        serde_json::json!({"portfolio_id": pid, "paths": 200, "seed": 1}),
    );
    wait_state(&srv.addr, &long, &["running"]);
    let (_, b) = http(
        &srv.addr,
        "GET",
        &format!("/v1/simulations/{short}"),
        None,
        b"",
    );
    assert_eq!(json(&b)["state"], "queued");

    let killed = Command::new("kill")
        .args(["-KILL", &srv.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = srv.child.wait().unwrap();
    assert!(!status.success());
    drop(srv);

    let srv = serve(d, &["--config", "serve.toml"]);
    // The crash recovery is logged.
    srv.log_line(&["WARN", "recovered jobs interrupted by a stop"]);
    let st = wait_state(&srv.addr, &long, &["failed"]);
    assert_eq!(st["error"]["class"], "interrupted", "{st}");
    assert!(
        st["error"]["detail"].as_str().unwrap().contains("stopped"),
        "{st}"
    );
    let st = wait_state(&srv.addr, &short, &["succeeded", "failed"]);
    assert_eq!(st["state"], "succeeded", "{st}");
    let (s, _) = http(
        &srv.addr,
        "GET",
        &format!("/v1/simulations/{short}/results"),
        None,
        b"",
    );
    assert_eq!(s, 200);
}

#[cfg(unix)]
#[test]
fn after_sigkill_a_running_job_restarts_from_the_beginning_and_completes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = create_key(d);
    let mut srv = serve(d, &[]);
    let pid = post_small(&srv.addr, &key);
    // Large enough to be caught running, small enough to finish after the restart.
    let id = submit(
        &srv.addr,
        &key,
        serde_json::json!({"portfolio_id": pid, "paths": 300_000, "seed": 4, "path_rows": false}),
    );
    wait_state(&srv.addr, &id, &["running"]);
    Command::new("kill")
        .args(["-KILL", &srv.child.id().to_string()])
        .status()
        .unwrap();
    let _ = srv.child.wait();
    drop(srv);
    let srv = serve(d, &[]);
    let st = wait_state(&srv.addr, &id, &["succeeded", "failed"]);
    // Either it had finished just before the kill (attempt 1) or it ran again (attempt 2).
    assert_eq!(st["state"], "succeeded", "{st}");
    assert!(st["attempts"] == 2 || st["note"].is_null(), "{st}");
}

#[test]
fn the_log_has_requests_with_their_key_id_and_a_500s_detail_but_never_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = create_key(d);
    let (key_id, secret) = key
        .strip_prefix("gaib_")
        .and_then(|k| k.split_once('_'))
        .unwrap();
    let srv = serve(d, &["--log-format", "json"]);
    let pid = post_small(&srv.addr, &key);
    // The request span: method, route, status, latency and the key's id, as JSON. A rejected
    // request is an INFO line by default (a success only at debug level).
    let (s, b) = http(
        &srv.addr,
        "POST",
        "/v1/simulations",
        Some(&key),
        format!(r#"{{"portfolio_id": "{pid}", "paths": 0}}"#).as_bytes(),
    );
    assert_eq!(s, 422, "{}", text(&b));
    let line = srv.log_line(&["answered", "/v1/simulations", key_id]);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["level"], "INFO", "{line}");
    let span = &v["span"];
    assert_eq!(span["name"], "request", "{line}");
    assert_eq!(span["method"], "POST", "{line}");
    assert_eq!(span["route"], "/v1/simulations", "{line}");
    assert_eq!(span["status"], 422, "{line}");
    assert_eq!(span["key_id"], key_id, "{line}");
    assert!(span["latency_ms"].as_f64().unwrap() >= 0.0, "{line}");

    // Job lifecycle events.
    let id = submit(
        &srv.addr,
        &key,
        serde_json::json!({"portfolio_id": pid, "paths": 200, "seed": 3}),
    );
    let st = wait_state(&srv.addr, &id, &["succeeded", "failed"]);
    assert_eq!(st["state"], "succeeded", "{st}");
    for event in ["job queued", "job started", "job succeeded"] {
        srv.log_line(&[event, &id]);
    }

    // A real 500: the job's run directory lost its manifest under the running service.
    let manifest = d.join("var/runs").join(&id).join("manifest.json");
    std::fs::remove_file(&manifest).unwrap();
    let (s, b) = http(
        &srv.addr,
        "GET",
        &format!("/v1/simulations/{id}/results"),
        None,
        b"",
    );
    assert_eq!(s, 500, "{}", text(&b));
    let answer = json(&b);
    assert!(
        answer["detail"].as_str().unwrap().contains("logged"),
        "{answer}"
    );
    // The detail the answer leaves out is in the log, in the request's span.
    let line = srv.log_line(&["ERROR", &format!("of job {id} is missing")]);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["span"]["route"], "/v1/simulations/{id}/results", "{line}");
    let line = srv.log_line(&["answered", "/v1/simulations/{id}/results", "500"]);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["level"], "ERROR", "{line}");

    let log = srv.log.lock().unwrap().clone();
    assert!(!log.contains(secret), "the key's secret is in the log");
    for l in log.lines().filter(|l| l.starts_with('{')) {
        serde_json::from_str::<serde_json::Value>(l)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"));
    }
}
