//! Security headers: `X-Content-Type-Options: nosniff` on every answer; on HTML answers (the
//! dashboard, a run's report) a Content-Security-Policy that allows no script at all (the pages
//! have none: inline or from anywhere else), styles only inline, images only `data:`, no
//! framing, no form posts, no base URL change, and `Referrer-Policy: no-referrer`.

use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of HTML answers.
pub(crate) const HTML_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn is_html(r: &Response) -> bool {
    r.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// Wraps a router in the security headers' layers (headers a handler set stay).
pub(crate) fn layer<S: Clone + Send + Sync + 'static>(r: Router<S>) -> Router<S> {
    let html_only =
        |v: &'static str| move |r: &Response| is_html(r).then_some(HeaderValue::from_static(v));
    r.layer(SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        html_only(HTML_CSP),
    ))
    .layer(SetResponseHeaderLayer::if_not_present(
        header::REFERRER_POLICY,
        html_only("no-referrer"),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ))
}
