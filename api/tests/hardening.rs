//! What a hostile or careless client cannot do to the service: grow `/metrics` without bound
//! with invented methods or paths, or have an HTML answer run script (security headers).

mod common;

use common::Fixture;

/// The `gaib_http_requests_total` lines of the exposition.
fn request_lines(m: &str) -> Vec<&str> {
    m.lines()
        .filter(|l| l.starts_with("gaib_http_requests_total{"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_labels_are_bounded_to_known_methods_and_route_templates() {
    let f = Fixture::start().await;
    // Invented methods on a real route and on no route, and many distinct unknown paths.
    for (i, m) in ["FOO", "BARBAZ", "X-PROBE-1", "X-PROBE-2"]
        .iter()
        .enumerate()
    {
        let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
        let r = f
            .http
            .request(method.clone(), f.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{m} /healthz: {}", r.status());
        let r = f
            .http
            .request(method, f.url(&format!("/no/such/path/{i}")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{m}: {}", r.status());
    }
    for i in 0..5 {
        assert_eq!(f.get(&format!("/v1/nothing-{i}")).await.status(), 404);
    }
    // A matched route is counted under its template, not the path as sent.
    assert_eq!(
        f.get("/v1/simulations/job_does_not_exist").await.status(),
        404
    );

    let m = f.get("/metrics").await.text().await.unwrap();
    let lines = request_lines(&m);
    for bad in [
        "FOO",
        "BARBAZ",
        "X-PROBE",
        "/no/such",
        "nothing-",
        "job_does_not_exist",
    ] {
        assert!(
            !m.contains(bad),
            "label value {bad:?} leaked into /metrics:\n{}",
            lines.join("\n")
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=\"/healthz\"") && l.contains("method=\"other\"")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=\"(unmatched)\"") && l.contains("method=\"GET\"")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=\"/v1/simulations/{id}\"") && l.contains("status=\"404\"")),
        "{lines:#?}"
    );
    // Every method label is one of a fixed set.
    let known = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT", "other",
    ];
    for l in &lines {
        let method = l
            .split("method=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(known.contains(&method), "{l}");
    }
    f.service.shutdown().await;
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_answers_forbid_script_and_every_answer_forbids_sniffing() {
    let f = Fixture::start().await;
    let r = f.get("/").await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").unwrap().starts_with("text/html"));
    assert_eq!(header(&r, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&r, "referrer-policy"), Some("no-referrer"));
    let csp = header(&r, "content-security-policy").expect("a CSP on the dashboard");
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    assert!(directives.contains(&"default-src 'none'"), "{csp}");
    assert!(directives.contains(&"frame-ancestors 'none'"), "{csp}");
    // No script source at all: not inline, not from elsewhere (script-src falls back to
    // default-src 'none').
    assert!(!csp.contains("script-src"), "{csp}");
    assert!(!csp.contains("http"), "{csp}");
    assert!(!directives
        .iter()
        .any(|d| d.starts_with("default-src") && d.contains("unsafe")));

    // JSON and problem answers: nosniff, and no HTML-only headers.
    for path in ["/readyz", "/v1/collateral/nothing"] {
        let r = f.get(path).await;
        assert_eq!(
            header(&r, "x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(header(&r, "content-security-policy"), None, "{path}");
    }
    f.service.shutdown().await;
}
