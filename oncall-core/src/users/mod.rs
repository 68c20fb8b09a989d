//! Accounts: roles, argon2id password hashing and the rules for who may do what.

use argon2::{Algorithm, Argon2, Block, Params, Version};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

mod hashing;
pub mod throttle;

pub use hashing::HashPool;

/// What a user may do. Ordered: each role can do everything the one before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum Role {
    /// Reads analyses, tickets and data sources.
    Viewer,
    /// Also runs analyses and works tickets.
    Engineer,
    /// Also manages data sources and users.
    Admin,
}

impl Role {
    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Engineer => "engineer",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "engineer" => Ok(Role::Engineer),
            "admin" => Ok(Role::Admin),
            other => Err(Error::invalid(
                "role",
                format!("`{other}` is not a role (admin, engineer, viewer)"),
            )),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account, as every front end sees it. The password hash is not part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct User {
    /// Generated in the application (UUID v7).
    pub id: Uuid,
    /// Unique, stored lower-case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// A disabled user cannot log in.
    pub disabled: bool,
    /// True while the account still has the built-in default password.
    pub password_is_default: bool,
    /// When the account was created (UTC).
    pub created_at: DateTime<Utc>,
    /// When it last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Bumped by every password change or reset. An access token carries the value
    /// it was issued with and is refused once this has moved on (see
    /// [`crate::OnCall::identify`]). Not part of the API.
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", oai(skip))]
    pub token_version: i64,
}

impl User {
    /// Fails with [`Error::Forbidden`] unless the user is enabled and has at least `role`.
    pub fn require(&self, role: Role) -> Result<()> {
        if self.disabled {
            return Err(Error::Forbidden(format!(
                "account {} is disabled",
                self.email
            )));
        }
        if self.role < role {
            return Err(Error::Forbidden(format!(
                "this needs the {role} role; {} is {}",
                self.email, self.role
            )));
        }
        Ok(())
    }
}

/// What it takes to create an account.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
pub struct NewUser {
    /// Login name; must look like an email address.
    pub email: String,
    /// Display name; defaults to the part of the email before `@`.
    #[serde(default)]
    pub name: Option<String>,
    /// First password (at least [`MIN_PASSWORD_LEN`] characters).
    pub password: String,
    /// Role of the new account.
    pub role: Role,
}

/// Shortest password accepted for a new or changed password.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted (argon2 takes any length; this bounds the work).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Lower-cases and checks an email address.
pub fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(Error::invalid(
            "email",
            format!("`{email}` is not an email address"),
        ))
    }
}

/// Checks a new password against the length rules.
pub fn check_new_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(Error::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Error::invalid(
            "password",
            format!("must be at most {MAX_PASSWORD_LEN} bytes"),
        ));
    }
    Ok(())
}

/// argon2id with OWASP's recommended parameters (m = 19 MiB, t = 2, p = 1).
const M_COST: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
/// Length of the hash output, in bytes.
const OUTPUT_LEN: usize = 32;

fn argon2id(m: u32, t: u32, p: u32, out: usize) -> Result<Argon2<'static>> {
    let params = Params::new(m, t, p, Some(out))
        .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

thread_local! {
    /// The 19 MiB of argon2 working memory, kept per thread and reused: one
    /// allocation per hashing thread for the life of the process, instead of one
    /// per hash (which the allocator kept in per-thread arenas, growing the
    /// resident set by tens of MiB per thread that ever hashed).
    static BLOCKS: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// argon2id of `password` with `salt` into `out`, on this thread's reused memory.
fn argon2_into(
    a: &Argon2<'_>,
    m_cost: u32,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let blocks = usize::try_from(m_cost).unwrap_or(usize::MAX);
    BLOCKS.with(|cell| {
        let mut memory = cell.borrow_mut();
        if memory.len() != blocks {
            *memory = vec![Block::default(); blocks];
        }
        a.hash_password_into_with_memory(password, salt, out, &mut memory[..])
            .map_err(|e| Error::Internal(format!("hashing password: {e}")))
    })
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash_password(password: &str) -> Result<String> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Error::invalid("password", "too long"));
    }
    // 16 bytes from the operating system's generator (a v4 UUID has 122 of them).
    let salt = *Uuid::new_v4().as_bytes();
    let mut out = [0u8; OUTPUT_LEN];
    let a = argon2id(M_COST, T_COST, P_COST, OUTPUT_LEN)?;
    argon2_into(&a, M_COST, password.as_bytes(), &salt, &mut out)?;
    Ok(format!(
        "$argon2id$v=19$m={M_COST},t={T_COST},p={P_COST}${}${}",
        B64.encode(salt),
        B64.encode(out)
    ))
}

/// True when `password` matches the PHC `hash`. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    password.len() <= MAX_PASSWORD_LEN && verify_phc(password, hash).unwrap_or(false)
}

/// `$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`, checked on the reused memory.
fn verify_phc(password: &str, hash: &str) -> Option<bool> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
    let mut parts = hash.split('$');
    let (Some(""), Some("argon2id"), Some("v=19"), Some(params), Some(salt), Some(expected), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let (mut m, mut t, mut p) = (None, None, None);
    for kv in params.split(',') {
        let (k, v) = kv.split_once('=')?;
        let v: u32 = v.parse().ok()?;
        match k {
            "m" => m = Some(v),
            "t" => t = Some(v),
            "p" => p = Some(v),
            _ => return None,
        }
    }
    // Bound the work a stored hash can ask for (a corrupt row must not cost GiBs).
    let (m, t, p) = (m?, t?, p?);
    if m > 256 * 1024 || t > 16 || p > 16 {
        return None;
    }
    let salt = B64.decode(salt).ok()?;
    let expected = B64.decode(expected).ok()?;
    let mut out = vec![0u8; expected.len()];
    let a = argon2id(m, t, p, expected.len()).ok()?;
    argon2_into(&a, m, password.as_bytes(), &salt, &mut out).ok()?;
    // Constant time: every byte is compared.
    Some(
        out.iter()
            .zip(&expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0,
    )
}

/// A hash that never matches, verified against when the account does not exist so
/// that a login for an unknown email takes as long as one with a wrong password.
pub(crate) fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4l5K8iUQ0ZbQ4Kpj5xKj2Ib7mTqGm3v6iLWf0Lw1f1A"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_salted() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("correct horsf", &a));
        assert!(!verify_password("correct horse", "not a hash"));
        assert!(!verify_password("anything", dummy_hash()));
        // Hashes made by the argon2 crate itself (as stored before) still verify.
        use argon2::{PasswordHasher, PasswordVerifier};
        let a = argon2id(M_COST, T_COST, P_COST, OUTPUT_LEN).unwrap();
        let old = a.hash_password(b"legacy pw").unwrap().to_string();
        assert!(verify_password("legacy pw", &old), "{old}");
        assert!(!verify_password("legacy pX", &old));
        let ours = hash_password("legacy pw").unwrap();
        assert!(
            a.verify_password(b"legacy pw", ours.as_str()).is_ok(),
            "{ours}"
        );
    }

    #[test]
    fn roles_are_ordered() {
        let mut u = User {
            id: Uuid::now_v7(),
            email: "e@x.io".into(),
            name: "e".into(),
            role: Role::Engineer,
            disabled: false,
            password_is_default: false,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            token_version: 0,
        };
        assert!(u.require(Role::Viewer).is_ok());
        assert!(u.require(Role::Engineer).is_ok());
        assert_eq!(
            u.require(Role::Admin).unwrap_err().code(),
            crate::ErrorCode::Forbidden
        );
        u.role = Role::Admin;
        u.disabled = true;
        assert!(
            u.require(Role::Viewer).is_err(),
            "disabled users can do nothing"
        );
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email(" Ops@Example.COM ").unwrap(),
            "ops@example.com"
        );
        for bad in ["", "nobody", "a@b", "@x.io", "a b@x.io"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_rules() {
        assert!(check_new_password("short").is_err());
        assert!(
            check_new_password("长长长长长长长长").is_ok(),
            "characters, not bytes"
        );
        assert!(check_new_password(&"x".repeat(2000)).is_err());
    }
}
