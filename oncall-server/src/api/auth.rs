//! `POST /api/auth/login`, `GET /api/auth/me`, `POST /api/auth/password`, `GET /api/info`.

use std::sync::Arc;

use oncall_core::LoginRefused;
use oncall_core::users::User;
use poem::Request;
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{ApiResult, Tag};
use crate::AppState;
use crate::auth::BearerAuth;
use crate::error::{ApiError, ErrorBody};

/// Why a login was refused: the usual error responses, with `Retry-After` on a
/// 429 (too many attempts from this address for this account, or the server is
/// busy checking passwords).
#[derive(Debug, ApiResponse)]
enum LoginError {
    /// Malformed request.
    #[oai(status = 400)]
    #[allow(dead_code)]
    BadRequest(Json<ErrorBody>),
    /// Wrong email or password (the same answer for an unknown or disabled
    /// account).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// Body too large.
    #[oai(status = 413)]
    #[allow(dead_code)]
    TooLarge(Json<ErrorBody>),
    /// The body is not `application/json`.
    #[oai(status = 415)]
    #[allow(dead_code)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// Validation failed.
    #[oai(status = 422)]
    Invalid(Json<ErrorBody>),
    /// Too many attempts, or the server is busy: wait `Retry-After` seconds.
    #[oai(status = 429)]
    RateLimited(
        Json<ErrorBody>,
        /// Seconds to wait before the next attempt.
        #[oai(header = "Retry-After")]
        u64,
    ),
    /// Our fault.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// A dependency is down.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

impl From<LoginRefused> for LoginError {
    fn from(refused: LoginRefused) -> Self {
        match ApiError::from(refused.error) {
            ApiError::BadRequest(b) => LoginError::BadRequest(b),
            ApiError::Unauthorized(b) | ApiError::Forbidden(b) | ApiError::NotFound(b) => {
                LoginError::Unauthorized(b)
            }
            ApiError::Conflict(b) | ApiError::Invalid(b) => LoginError::Invalid(b),
            ApiError::TooLarge(b) => LoginError::TooLarge(b),
            ApiError::UnsupportedMediaType(b) => LoginError::UnsupportedMediaType(b),
            ApiError::RateLimited(b) => {
                LoginError::RateLimited(b, refused.retry_after.unwrap_or(1))
            }
            ApiError::Internal(b) => LoginError::Internal(b),
            ApiError::Unavailable(b) => LoginError::Unavailable(b),
        }
    }
}

impl From<oncall_core::Error> for LoginError {
    fn from(e: oncall_core::Error) -> Self {
        LoginRefused::from(e).into()
    }
}

/// Login credentials.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
struct LoginRequest {
    /// Account email.
    email: String,
    /// Password.
    password: String,
}

/// An access token.
#[derive(Debug, Object)]
struct LoginResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    access_token: String,
    /// Always `bearer`.
    token_type: String,
    /// Seconds until it expires.
    expires_in: i64,
}

/// A password change of the caller's own account.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
struct PasswordChange {
    /// The current password.
    current_password: String,
    /// The new password (at least 8 characters).
    new_password: String,
}

/// The account after a password change, with a new access token: every token
/// issued before the change (this request's too) no longer works.
#[derive(Debug, Object)]
struct PasswordChanged {
    /// The account as it is now.
    user: User,
    /// The new token: `access_token`, `token_type`, `expires_in`.
    #[oai(flatten)]
    token: LoginResponse,
}

impl LoginResponse {
    /// A fresh access token for `user`.
    fn issue(state: &AppState, user: &User) -> oncall_core::Result<Self> {
        Ok(LoginResponse {
            access_token: state.tokens.issue(user)?,
            token_type: "bearer".into(),
            expires_in: state.tokens.lifetime_secs(),
        })
    }
}

/// Public facts the login page needs.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct ServerInfo {
    /// Server version.
    version: String,
    /// Set while the first admin account still has its default password: the
    /// email to show as a hint on the login page.
    default_account: Option<String>,
    /// Whether an LLM is configured.
    llm_enabled: bool,
    /// The LLM model analyses ask, when one is configured.
    llm_model: Option<String>,
}

/// Authentication operations.
#[derive(Debug)]
pub struct AuthApi;

#[OpenApi(tag = "Tag::Auth")]
impl AuthApi {
    /// Exchange email and password for an access token. Attempts are throttled
    /// per (account, client address): a few are free, then each must wait twice
    /// as long as the one before (429 with `Retry-After`).
    #[oai(path = "/api/auth/login", method = "post")]
    async fn login(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> Result<Json<LoginResponse>, LoginError> {
        let client = crate::auth::client_address(
            req,
            state.oncall.settings().trusted_proxy_header.as_deref(),
        );
        let user = state
            .oncall
            .login(&body.email, &body.password, &client)
            .await?;
        Ok(Json(LoginResponse::issue(&state, &user)?))
    }

    /// The account the token belongs to.
    #[oai(path = "/api/auth/me", method = "get")]
    async fn me(&self, auth: BearerAuth) -> ApiResult<Json<User>> {
        Ok(Json(auth.0))
    }

    /// Change the caller's own password. Every access token issued before stops
    /// working (log out everywhere else); the answer carries a new one.
    #[oai(path = "/api/auth/password", method = "post")]
    async fn change_password(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: Json<PasswordChange>,
    ) -> ApiResult<Json<PasswordChanged>> {
        let user = state
            .oncall
            .change_password(&auth.0, &body.current_password, &body.new_password)
            .await?;
        Ok(Json(PasswordChanged {
            token: LoginResponse::issue(&state, &user)?,
            user,
        }))
    }

    /// Version, LLM availability and, while the default password is in use, the
    /// default account to hint at on the login page.
    #[oai(path = "/api/info", method = "get")]
    async fn info(&self, state: Data<&Arc<AppState>>) -> ApiResult<Json<ServerInfo>> {
        let default_in_use = state.oncall.default_password_in_use().await?;
        let settings = state.oncall.settings();
        Ok(Json(ServerInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            default_account: default_in_use.then(|| settings.admin_email.clone()),
            llm_enabled: state.oncall.llm_model().is_some(),
            llm_model: state.oncall.llm_model().map(|(model, _)| model.to_owned()),
        }))
    }
}
