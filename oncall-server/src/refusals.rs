//! Requests refused before a handler ran, in the user's words (`abc` is not a valid
//! analysis id, rather than poem's "failed to parse path param0"), one log line per
//! refused request, and the URL to open printed at startup.

use poem::Response;
use poem::http::StatusCode;
use poem_openapi::error::{ParseParamError, ParsePathError};

/// What an id in the path of `template` names, for messages.
fn id_of(template: &str) -> &'static str {
    let under = |p: &str| template.starts_with(p);
    if under("/api/analysis") {
        "analysis id"
    } else if under("/api/datasources") {
        "data source id"
    } else if under("/api/users") {
        "user id"
    } else if under("/api/webhooks") {
        "webhook endpoint id"
    } else if under("/api/notification-channels") {
        "notification channel id"
    } else {
        "id"
    }
}

/// The value of the `index`-th `{…}` parameter of `template` in `path`.
fn path_value<'a>(template: &str, path: &'a str, index: usize) -> Option<&'a str> {
    let pos = template
        .split('/')
        .enumerate()
        .filter(|(_, s)| s.starts_with('{'))
        .nth(index)?
        .0;
    path.split('/').nth(pos)
}

/// A 400 in the user's words for a path or query parameter that does not parse,
/// or `None` for any other error. `template` is the route's documented template
/// (`/api/analysis/{id}`), `path` the request's path.
pub(crate) fn bad_parameter(err: &poem::Error, template: &str, path: &str) -> Option<Response> {
    let (name, reason) = match (
        err.downcast_ref::<ParsePathError>(),
        err.downcast_ref::<ParseParamError>(),
    ) {
        (Some(e), _) => (e.name, e.reason.as_str()),
        (None, Some(e)) => (e.name, e.reason.as_str()),
        (None, None) => return None,
    };
    let message = match name
        .strip_prefix("param")
        .and_then(|n| n.parse::<usize>().ok())
    {
        // poem-openapi numbers path parameters `param0`, `param1`, ...
        Some(index) => {
            let value = path_value(template, path, index).unwrap_or_default();
            let value = percent_decoded(value);
            let shown: String = value.chars().take(80).collect();
            if shown.is_empty() {
                format!("the {} is missing from the path", id_of(template))
            } else {
                format!(
                    "`{shown}` is not a valid {} (expected a UUID such as \
                     0192c5e4-7b1a-7c3d-9e2f-1a2b3c4d5e6f)",
                    id_of(template)
                )
            }
        }
        None => format!("query parameter `{name}`: {reason}"),
    };
    let json = serde_json::json!({"code": "bad_request", "message": message});
    Some(
        Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .content_type("application/json; charset=utf-8")
            .body(json.to_string()),
    )
}

fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Logs one line for a refused request (any 4xx but 404 of the web UI), with the
/// route template rather than the raw path where there is one.
pub(crate) fn log_refused(method: &str, route: &str, path: &str, status: StatusCode) {
    if !status.is_client_error() || (status == StatusCode::NOT_FOUND && route == "static") {
        return;
    }
    let path: String = path.chars().take(200).collect();
    tracing::info!(
        method,
        route,
        path = %path,
        status = status.as_u16(),
        "request refused: {}",
        status.canonical_reason().unwrap_or("client error")
    );
}

/// The URL to open in a browser for a listening address: a wildcard address
/// (`0.0.0.0`, `[::]`) is reachable on the loopback one.
pub fn url_to_open(addr: &str) -> String {
    let (host, port) = match addr.rsplit_once(':') {
        Some((h, p)) => (h, p),
        None => (addr, "80"),
    };
    let host = match host {
        "" | "0.0.0.0" => "127.0.0.1",
        "[::]" | "::" => "[::1]",
        h => h,
    };
    format!("http://{host}:{port}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_to_open() {
        assert_eq!(url_to_open("0.0.0.0:8000"), "http://127.0.0.1:8000/");
        assert_eq!(url_to_open("[::]:8000"), "http://[::1]:8000/");
        assert_eq!(url_to_open("127.0.0.1:9000"), "http://127.0.0.1:9000/");
        assert_eq!(url_to_open("oncall.local:80"), "http://oncall.local:80/");
    }

    #[test]
    fn path_values_by_parameter_position() {
        assert_eq!(
            path_value("/api/analysis/{id}/events", "/api/analysis/nope/events", 0),
            Some("nope")
        );
        assert_eq!(percent_decoded("a%20b%zz"), "a b%zz");
        assert_eq!(
            id_of("/api/notification-channels/{id}"),
            "notification channel id"
        );
    }
}
