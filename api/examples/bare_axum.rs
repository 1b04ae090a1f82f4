//! The baseline of `scripts/bench-api.sh`: a bare axum server on the same runtime as
//! `gaib serve`, answering `GET /v1/collateral/{asset}` with a fixed JSON body of a given size
//! (no state, no middleware), so the service's overhead per request can be measured against it.
//!
//! `cargo run --release -p gaib-api --example bare_axum -- --listen 127.0.0.1:0 --bytes 200`

use axum::http::header;
use axum::routing::get;
use axum::Router;

fn main() -> std::io::Result<()> {
    let mut listen = "127.0.0.1:0".to_string();
    let mut bytes = 200usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().unwrap_or(listen),
            "--bytes" => bytes = args.next().and_then(|b| b.parse().ok()).unwrap_or(bytes),
            other => {
                eprintln!("usage: bare_axum [--listen ADDR] [--bytes N] (unknown {other})");
                std::process::exit(2);
            }
        }
    }
    // A JSON string of exactly `bytes` bytes (at least the two quotes).
    let body = format!("\"{}\"", "x".repeat(bytes.saturating_sub(2)));
    let body = axum::body::Bytes::from(body);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let app = Router::new().route(
            "/v1/collateral/{asset}",
            get(move || {
                let b = body.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], b) }
            }),
        );
        let l = tokio::net::TcpListener::bind(&listen).await?;
        eprintln!("bare axum: listening on http://{}", l.local_addr()?);
        axum::serve(l, app).await
    })
}
