//! The built web UI at `/`, with SPA fallback to `index.html`; without a build,
//! `/` says how to make one. Also the security headers every response carries.

use std::path::{Path, PathBuf};

use poem::endpoint::StaticFilesEndpoint;
use poem::http::HeaderValue;
use poem::{
    Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Request, Response, handler, http::StatusCode,
};

#[handler]
fn not_built() -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/html; charset=utf-8")
        .body(
            "<!doctype html><title>oncall-assistant</title><h1>oncall-assistant</h1>\
             <p>The web UI is not built. Build it with <code>npm ci &amp;&amp; npm run build</code> \
             in <code>frontend/</code> (or set <code>ONCALL_WEB_DIR</code>), then restart.</p>\
             <p>The API is at <a href=\"/docs\">/docs</a>.</p>",
        )
}

/// Serves `dir` when it holds an `index.html`, else the how-to page.
pub fn endpoint(dir: &Path) -> poem::endpoint::BoxEndpoint<'static> {
    let index: PathBuf = dir.join("index.html");
    if index.is_file() {
        StaticFilesEndpoint::new(dir)
            .index_file("index.html")
            .fallback_to_index()
            .into_endpoint()
            .catch_all_error(static_error)
            .boxed()
    } else {
        not_built.map_to_response().boxed()
    }
}

/// A static-file error as its status alone: poem's own messages name the file's
/// path on disk (`forbidden: /srv/ui/.env`).
async fn static_error(err: poem::Error) -> Response {
    let status = err.status();
    Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .body(status.canonical_reason().unwrap_or("error"))
}

/// The Content-Security-Policy of the UI and the API: only our own scripts,
/// styles (inline ones too: the component library injects them), images, and
/// connections; never framed.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The API documentation page runs its own inline script.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/// Adds the security headers to every response (unless a handler set its own):
/// CSP with `frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`,
/// `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`.
pub async fn security_headers<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let docs = req.uri().path().starts_with("/docs");
    let mut resp = next.call(req).await?.into_response();
    let headers = resp.headers_mut();
    let csp = if docs { DOCS_CSP } else { CSP };
    for (name, value) in [
        ("content-security-policy", csp),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    Ok(resp)
}
