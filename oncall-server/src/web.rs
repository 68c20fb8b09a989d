//! The built web UI at `/`, with SPA fallback to `index.html`; without a build,
//! `/` says how to make one.

use std::path::{Path, PathBuf};

use poem::endpoint::StaticFilesEndpoint;
use poem::{EndpointExt, IntoEndpoint, Response, handler, http::StatusCode};

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
            .map_to_response()
            .boxed()
    } else {
        not_built.map_to_response().boxed()
    }
}
