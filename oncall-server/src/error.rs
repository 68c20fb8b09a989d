//! Every failure leaves as `{"code", "message"}` with the status of SPEC §4, and
//! every 429 and 503 with `Retry-After`.

use oncall_core::{Error, ErrorCode};
use poem::http::StatusCode;
use poem_openapi::{ApiResponse, Object, payload::Json};

/// The body of every error response.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    /// Stable machine-readable kind, e.g. `not_found`, `conflict`, `invalid`.
    pub code: String,
    /// What went wrong, in words a person can act on.
    pub message: String,
}

/// The error responses every operation may give.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// Malformed request.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No token, or an invalid or expired one.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The caller's role does not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such thing.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// Duplicate, stale version or transition not allowed.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// Body too large.
    #[oai(status = 413)]
    TooLarge(Json<ErrorBody>),
    /// The body is not `application/json` (answered by poem before any handler;
    /// listed so the document says so).
    #[oai(status = 415)]
    #[allow(dead_code)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// Validation failed.
    #[oai(status = 422)]
    Invalid(Json<ErrorBody>),
    /// Too many attempts.
    #[oai(status = 429)]
    RateLimited(Json<ErrorBody>),
    /// Our fault.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// A dependency is down.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

fn body(code: &str, message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody {
        code: code.to_owned(),
        message: message.into(),
    })
}

impl ApiError {
    /// A 401 with `message`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::Unauthorized(body("unauthorized", message))
    }

    /// The status of an error code.
    pub fn status(code: ErrorCode) -> StatusCode {
        match code {
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let code = e.code();
        let message = match code {
            // Never leak database internals to clients; the log has them.
            ErrorCode::Internal => {
                tracing::error!(error = %e, "internal error");
                "internal error; see the server log".to_owned()
            }
            _ => e.to_string(),
        };
        let b = body(code.as_str(), message);
        match code {
            ErrorCode::NotFound => ApiError::NotFound(b),
            ErrorCode::Conflict => ApiError::Conflict(b),
            ErrorCode::Invalid => ApiError::Invalid(b),
            ErrorCode::Unauthorized => ApiError::Unauthorized(b),
            ErrorCode::Forbidden => ApiError::Forbidden(b),
            ErrorCode::TooLarge => ApiError::TooLarge(b),
            ErrorCode::RateLimited => ApiError::RateLimited(b),
            ErrorCode::Unavailable => ApiError::Unavailable(b),
            ErrorCode::Internal => ApiError::Internal(b),
        }
    }
}

/// Turns errors raised outside our handlers (unparsable bodies, missing tokens,
/// unknown routes, size limits) into the same JSON shape; our own [`ApiError`]
/// responses pass through unchanged.
pub async fn to_json_response(err: poem::Error) -> poem::Response {
    let status = err.status();
    let resp = err.into_response();
    let is_json = resp
        .headers()
        .get(poem::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let text = resp.into_body().into_string().await.unwrap_or_default();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_server_error() => "internal",
        _ => "error",
    };
    let mut message = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    if status == StatusCode::UNAUTHORIZED {
        message = "missing or invalid bearer token; log in at POST /api/auth/login".into();
    } else if status == StatusCode::PAYLOAD_TOO_LARGE {
        message = "request body is larger than the 1 MiB limit".into();
    }
    let json = serde_json::json!({ "code": code, "message": message });
    poem::Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(json.to_string())
}

/// `Retry-After` of a 429 or 503 whose cause names no wait of its own.
pub const DEFAULT_RETRY_AFTER_SECONDS: u64 = 5;

/// Gives every 429 and 503 a `Retry-After` of [`DEFAULT_RETRY_AFTER_SECONDS`]
/// when it has none (a handler that knows a better wait sets its own). Senders
/// that honour it (Alertmanager, load balancers, clients) come back after a
/// pause instead of at once.
pub async fn retry_after<E: poem::Endpoint>(
    next: E,
    req: poem::Request,
) -> poem::Result<poem::Response> {
    use poem::IntoResponse;
    let mut resp = match next.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => to_json_response(e).await,
    };
    let status = resp.status();
    if (status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE)
        && !resp.headers().contains_key(poem::http::header::RETRY_AFTER)
    {
        resp.headers_mut().insert(
            poem::http::header::RETRY_AFTER,
            DEFAULT_RETRY_AFTER_SECONDS.into(),
        );
    }
    Ok(resp)
}
