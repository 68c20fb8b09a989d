//! `POST /api/auth/login`, `GET /api/auth/me`, `POST /api/auth/password`, `GET /api/info`.

use std::sync::Arc;

use oncall_core::users::User;
use poem::web::{Data, RemoteAddr};
use poem_openapi::{Object, OpenApi, payload::Json};

use super::{ApiResult, Tag};
use crate::AppState;
use crate::auth::BearerAuth;

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
    /// Exchange email and password for an access token. Failed attempts are
    /// limited per account and per client address (429 with a wait).
    #[oai(path = "/api/auth/login", method = "post")]
    async fn login(
        &self,
        state: Data<&Arc<AppState>>,
        remote: &RemoteAddr,
        body: Json<LoginRequest>,
    ) -> ApiResult<Json<LoginResponse>> {
        let account = format!("acct:{}", body.email.trim().to_lowercase());
        let client = format!(
            "ip:{}",
            remote
                .as_socket_addr()
                .map_or_else(|| remote.to_string(), |a| a.ip().to_string())
        );
        let keys = [account.as_str(), client.as_str()];
        if let Some(wait) = state.throttle.retry_after(&keys) {
            return Err(oncall_core::Error::RateLimited(format!(
                "too many failed logins; try again in {wait} s"
            ))
            .into());
        }
        match state.oncall.authenticate(&body.email, &body.password).await {
            Ok(user) => {
                state.throttle.succeeded(&account);
                Ok(Json(LoginResponse::issue(&state, &user)?))
            }
            Err(e) => {
                if e.code() == oncall_core::ErrorCode::Unauthorized {
                    state.throttle.failed(&keys);
                }
                Err(e.into())
            }
        }
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
