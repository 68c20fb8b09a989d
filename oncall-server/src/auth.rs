//! Bearer tokens (JWT, HS256 pinned, `exp` checked) and login throttling.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use oncall_core::users::User;
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppState;

/// What an access token says.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    email: String,
    role: String,
    iat: i64,
    exp: i64,
    /// The account's token version at issue (see `User::token_version`); tokens
    /// issued before the claim existed count as version 0.
    #[serde(default)]
    ver: i64,
}

/// Signs and checks access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime_secs: i64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(<redacted>)")
    }
}

impl TokenKeys {
    /// Keys for `secret`, tokens living `hours`.
    pub fn new(secret: &str, hours: u32) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 30;
        validation.set_required_spec_claims(&["exp", "sub"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            lifetime_secs: i64::from(hours) * 3600,
        }
    }

    /// Token lifetime in seconds.
    pub fn lifetime_secs(&self) -> i64 {
        self.lifetime_secs
    }

    /// A signed token for `user`.
    pub fn issue(&self, user: &User) -> oncall_core::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.id.to_string(),
            email: user.email.clone(),
            role: user.role.to_string(),
            iat: now,
            exp: now + self.lifetime_secs,
            ver: user.token_version,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| oncall_core::Error::Internal(format!("signing token: {e}")))
    }

    /// The user id a valid, unexpired token names, and the token version it was
    /// issued at.
    fn verify(&self, token: &str) -> Option<(Uuid, i64)> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        Some((Uuid::parse_str(&data.claims.sub).ok()?, data.claims.ver))
    }
}

/// A bearer access token from `POST /api/auth/login`.
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_token")]
pub struct BearerAuth(pub User);

/// The same access token in the `access_token` query parameter, for clients that
/// cannot set headers (a browser's `EventSource`). Only the event stream takes it.
#[derive(Debug, SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "access_token",
    key_in = "query",
    checker = "check_query_token"
)]
pub struct QueryToken(pub User);

async fn check_query_token(req: &Request, key: poem_openapi::auth::ApiKey) -> Option<User> {
    check_token(req, Bearer { token: key.key }).await
}

/// Either way of presenting a token.
#[derive(Debug, SecurityScheme)]
pub enum StreamAuth {
    /// `Authorization: Bearer ...`.
    Bearer(BearerAuth),
    /// `?access_token=...`.
    Query(QueryToken),
}

impl StreamAuth {
    /// The authenticated user.
    pub fn user(&self) -> &User {
        match self {
            StreamAuth::Bearer(b) => &b.0,
            StreamAuth::Query(q) => &q.0,
        }
    }
}

/// Accepts a valid token of an existing, enabled account whose password has not
/// changed since the token was issued. The account comes from
/// [`oncall_core::OnCall::identify`]: disabling it, changing its role or its
/// password through this server takes effect on the next request; through another
/// process sharing the database, within [`oncall_core::IDENTITY_TTL`] (2 s).
async fn check_token(req: &Request, bearer: Bearer) -> Option<User> {
    let state = req.data::<std::sync::Arc<AppState>>()?;
    let (id, version) = state.tokens.verify(&bearer.token)?;
    state.oncall.identify(id, version).await.ok()
}

/// Counts failed logins per key (account, client address) in a sliding window.
#[derive(Debug)]
pub struct LoginThrottle {
    window: Duration,
    max_failures: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginThrottle {
    /// At most `max_failures` failures per key within `window`.
    pub fn new(max_failures: usize, window: Duration) -> Self {
        LoginThrottle {
            window,
            max_failures,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait when any of `keys` is over the limit.
    pub fn retry_after(&self, keys: &[&str]) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for key in keys {
            if let Some(times) = map.get_mut(*key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                if times.len() >= self.max_failures
                    && let Some(oldest) = times.first()
                {
                    let left = self.window.saturating_sub(now.duration_since(*oldest));
                    wait = Some(wait.unwrap_or(0).max(left.as_secs().max(1)));
                }
            }
        }
        wait
    }

    /// Records a failed attempt for each key.
    pub fn failed(&self, keys: &[&str]) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            // Bound memory under a spray of addresses: forget entries outside the window.
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < self.window));
        }
        for key in keys {
            map.entry((*key).to_owned()).or_default().push(now);
        }
    }

    /// Forgets the account's failures after a successful login.
    pub fn succeeded(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_blocks_after_the_limit_and_forgets_on_success() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(t.retry_after(&["acct:a", "ip:1"]).is_none());
            t.failed(&["acct:a", "ip:1"]);
        }
        assert!(t.retry_after(&["acct:a"]).is_some());
        assert!(t.retry_after(&["ip:1"]).is_some());
        assert!(t.retry_after(&["acct:b", "ip:2"]).is_none());
        t.succeeded("acct:a");
        assert!(t.retry_after(&["acct:a"]).is_none());
    }

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let keys = TokenKeys::new("0123456789abcdef0123", 1);
        let user = User {
            id: Uuid::now_v7(),
            email: "a@b.io".into(),
            name: "a".into(),
            role: oncall_core::users::Role::Viewer,
            disabled: false,
            password_is_default: false,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            token_version: 0,
        };
        let token = keys.issue(&user).unwrap();
        assert_eq!(keys.verify(&token), Some((user.id, 0)));
        let other = TokenKeys::new("another-secret-0123456", 1);
        assert_eq!(other.verify(&token), None);
        assert_eq!(keys.verify(&format!("{token}x")), None);
        // alg=none is refused: the algorithm is pinned.
        let parts: Vec<&str> = token.split('.').collect();
        let none_header = base64_url("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        assert_eq!(keys.verify(&format!("{none_header}.{}.", parts[1])), None);
        // Expired tokens are refused.
        let expired = TokenKeys {
            lifetime_secs: -3600,
            ..TokenKeys::new("0123456789abcdef0123", 1)
        };
        assert_eq!(keys.verify(&expired.issue(&user).unwrap()), None);
    }

    fn base64_url(s: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }
}
