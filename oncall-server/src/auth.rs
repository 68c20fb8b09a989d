//! Bearer tokens (JWT, HS256 pinned, `exp` checked) and the client address logins
//! are throttled by.

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

/// A single-use stream ticket in the `ticket` query parameter (from `POST
/// /api/analysis/{id}/stream-ticket`), for clients that cannot set headers (a
/// browser's `EventSource`). Only the event stream takes it. Holds the account
/// and the analysis the ticket is for.
#[derive(Debug, SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "ticket",
    key_in = "query",
    checker = "check_stream_ticket"
)]
pub struct StreamTicketAuth(pub (User, Uuid));

async fn check_stream_ticket(
    req: &Request,
    key: poem_openapi::auth::ApiKey,
) -> Option<(User, Uuid)> {
    let state = req.data::<std::sync::Arc<AppState>>()?;
    state.oncall.redeem_stream_ticket(&key.key).await.ok()
}

/// Either way of opening an event stream.
#[derive(Debug, SecurityScheme)]
pub enum StreamAuth {
    /// `Authorization: Bearer ...`.
    Bearer(BearerAuth),
    /// `?ticket=...`.
    Ticket(StreamTicketAuth),
}

impl StreamAuth {
    /// The authenticated user.
    pub fn user(&self) -> &User {
        match self {
            StreamAuth::Bearer(b) => &b.0,
            StreamAuth::Ticket(t) => &t.0.0,
        }
    }

    /// Whether this may open the stream of `analysis` (a ticket is for one).
    pub fn allows(&self, analysis: Uuid) -> bool {
        match self {
            StreamAuth::Bearer(_) => true,
            StreamAuth::Ticket(t) => t.0.1 == analysis,
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

/// What a token of an account that still has the built-in default password may
/// reach: its password change, and what the login page and the change form need.
const OPEN_WHILE_DEFAULT_PASSWORD: [&str; 4] = [
    "/api/auth/password",
    "/api/auth/me",
    "/api/auth/login",
    "/api/info",
];

/// Answers 403 `password_change_required` to every API request made with the
/// token of an account that still has the default password, but the few in
/// [`OPEN_WHILE_DEFAULT_PASSWORD`]: the password must be changed first.
pub async fn require_password_change<E: poem::Endpoint>(
    next: E,
    req: Request,
) -> poem::Result<poem::Response> {
    use poem::IntoResponse;
    let path = req.uri().path();
    if path.starts_with("/api/")
        && !OPEN_WHILE_DEFAULT_PASSWORD.contains(&path)
        && let Some(user) = bearer_user(&req).await
        && user.password_is_default
    {
        let body = serde_json::json!({
            "code": "password_change_required",
            "message": "this account still has the default password: change it first \
                        (POST /api/auth/password)",
        });
        return Ok(poem::Response::builder()
            .status(poem::http::StatusCode::FORBIDDEN)
            .content_type("application/json; charset=utf-8")
            .body(body.to_string()));
    }
    Ok(next.call(req).await?.into_response())
}

/// The account behind the request's bearer token, if it is a valid one.
async fn bearer_user(req: &Request) -> Option<User> {
    let value = req
        .headers()
        .get(poem::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    check_token(
        req,
        Bearer {
            token: token.trim().to_owned(),
        },
    )
    .await
}

/// The client address a login attempt is charged to: the peer's IP, or, when
/// `ONCALL_TRUSTED_PROXY_HEADER` names a header (the server runs behind a proxy
/// that sets it), the last address in that header, the one the proxy itself
/// added. A missing or unparsable header falls back to the peer (so a client
/// cannot pick its own key by sending garbage).
pub fn client_address(req: &Request, trusted_header: Option<&str>) -> String {
    address_of(req.remote_addr(), req.headers(), trusted_header)
}

fn address_of(
    peer: &poem::web::RemoteAddr,
    headers: &poem::http::HeaderMap,
    trusted_header: Option<&str>,
) -> String {
    let peer = peer
        .as_socket_addr()
        .map_or_else(|| peer.to_string(), |a| a.ip().to_string());
    let Some(name) = trusted_header else {
        return peer;
    };
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|last| last.trim().parse::<std::net::IpAddr>().ok())
        .map_or(peer, |ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_addresses_come_from_the_peer_or_the_trusted_header_only() {
        let peer: std::net::SocketAddr = "10.0.0.9:5000".parse().unwrap();
        let peer = poem::web::RemoteAddr(poem::Addr::SocketAddr(peer));
        let with = |xff: Option<&str>, trusted: Option<&str>| {
            let mut h = poem::http::HeaderMap::new();
            if let Some(v) = xff {
                h.insert("x-forwarded-for", v.parse().unwrap());
            }
            address_of(&peer, &h, trusted)
        };
        // Without a configured header, a client's X-Forwarded-For is ignored.
        assert_eq!(with(Some("1.2.3.4"), None), "10.0.0.9");
        let h = Some("X-Forwarded-For");
        assert_eq!(with(None, h), "10.0.0.9");
        // The proxy appends the real client last; what the client wrote comes first.
        assert_eq!(with(Some("6.6.6.6, 203.0.113.7"), h), "203.0.113.7");
        assert_eq!(with(Some("not an ip"), h), "10.0.0.9");
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
