//! The OpenAPI document is the service's contract: answers the service gives for real (an
//! inverted history range, JSON results, undecodable path parameters) have a documented status
//! and content type, and the portfolio body is published as the engine's own schema.
//! (scripts/api-conformance.sh runs schemathesis over the whole document.)

mod common;

use common::{small_json, Fixture};
use serde_json::{json, Value};

/// Asserts that `doc` documents `status` with `content_type` for `method template`.
fn assert_documented(doc: &Value, method: &str, template: &str, status: u16, content_type: &str) {
    let op = &doc["paths"][template][method];
    assert!(op.is_object(), "{method} {template} is not documented");
    let r = &op["responses"][status.to_string()];
    assert!(
        r.is_object(),
        "{method} {template} answers {status}, not documented: {}",
        op["responses"]
    );
    let media = content_type.split(';').next().unwrap().trim();
    assert!(
        r["content"][media].is_object(),
        "{method} {template} {status} answers {media}, documented: {}",
        r["content"]
    );
}

/// Sends a GET; asserts the answer's status and that it is documented under `template`.
async fn get_documented(f: &Fixture, doc: &Value, path: &str, template: &str, status: u16) {
    let r = f.get(path).await;
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(
        r.status().as_u16(),
        status,
        "GET {path}: {}",
        r.text().await.unwrap()
    );
    assert_documented(doc, "get", template, status, &ct);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_have_documented_statuses_and_content_types() {
    let f = Fixture::start().await;
    let doc: Value = f.get_json("/openapi.json").await;

    // Path parameters that do not decode (invalid UTF-8 after percent-decoding): 400.
    for (path, template) in [
        ("/v1/simulations/%FF", "/v1/simulations/{id}"),
        ("/v1/portfolios/%C3%28", "/v1/portfolios/{id}"),
        ("/v1/collateral/%FF%FE", "/v1/collateral/{asset}"),
        (
            "/v1/valuations/%FF/history",
            "/v1/valuations/{asset}/history",
        ),
    ] {
        get_documented(&f, &doc, path, template, 400).await;
    }

    // A finished job: JSON results (the default) and an inverted history range.
    let (id, _) = f.run_small(300, 11).await;
    let results = "/v1/simulations/{id}/results";
    get_documented(
        &f,
        &doc,
        &format!("/v1/simulations/{id}/results"),
        results,
        200,
    )
    .await;
    assert_documented(
        &doc,
        "get",
        results,
        200,
        "application/vnd.apache.arrow.stream",
    );
    let history = "/v1/valuations/{asset}/history";
    get_documented(&f, &doc, "/v1/valuations/sAID/history", history, 200).await;
    get_documented(
        &f,
        &doc,
        "/v1/valuations/sAID/history?to=-9223372036854775808",
        history,
        422,
    )
    .await;
    get_documented(&f, &doc, "/v1/valuations/sAID/history?from=x", history, 400).await;
    f.service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portfolio_body_is_published_as_the_engines_schema() {
    let f = Fixture::start().await;
    let doc: Value = f.get_json("/openapi.json").await;

    // The request body of POST /v1/portfolios is the engine's Portfolio schema, not `Object`.
    let body = &doc["paths"]["/v1/portfolios"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    assert_eq!(body["$ref"], "#/components/schemas/Portfolio", "{body}");
    let schemas = &doc["components"]["schemas"];
    let portfolio = &schemas["Portfolio"];
    assert_eq!(portfolio["additionalProperties"], false, "{portfolio}");
    let required: Vec<&str> = portfolio["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for field in ["portfolio", "market", "gpu_classes", "operators", "fleets"] {
        assert!(
            required.contains(&field),
            "{field} not required: {required:?}"
        );
    }
    // Every field of the posted fixture is a documented property, down to the deals.
    let small = small_json();
    for key in small.as_object().unwrap().keys() {
        assert!(
            portfolio["properties"][key].is_object(),
            "portfolio field {key} not in the schema"
        );
    }
    assert_eq!(
        portfolio["properties"]["deals"]["items"]["$ref"],
        "#/components/schemas/DealRecord"
    );
    let deal = &schemas["DealRecord"];
    for d in small["deals"].as_array().unwrap() {
        for key in d.as_object().unwrap().keys() {
            assert!(
                deal["properties"][key].is_object(),
                "deal field {key} not in {deal}"
            );
        }
    }
    let kinds = &schemas["DealKind"]["enum"];
    assert_eq!(
        kinds,
        &json!(["loan", "revenue_share", "hybrid"]),
        "{kinds}"
    );
    f.service.shutdown().await;
}
