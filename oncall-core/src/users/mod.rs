//! Accounts: roles, argon2id password hashing and the rules for who may do what.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

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
fn argon2id() -> Result<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash_password(password: &str) -> Result<String> {
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Error::invalid("password", "too long"));
    }
    let hash = argon2id()?
        .hash_password(password.as_bytes())
        .map_err(|e| Error::Internal(format!("hashing password: {e}")))?;
    Ok(hash.to_string())
}

/// True when `password` matches the PHC `hash`. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        return false;
    }
    argon2id().is_ok_and(|a| a.verify_password(password.as_bytes(), hash).is_ok())
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
