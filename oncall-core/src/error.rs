//! One error type for the whole engine, and the transport-neutral [`ErrorCode`]
//! every front end maps: the server to an HTTP status, the CLI to an exit code,
//! the Python bindings to an exception class.

use std::fmt;

/// What kind of failure an [`Error`] is, independent of any transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The thing asked for does not exist.
    NotFound,
    /// The request clashes with the current state (duplicate, stale version,
    /// transition not allowed).
    Conflict,
    /// The input is malformed or fails validation.
    Invalid,
    /// No identity, or the credentials are wrong or expired.
    Unauthorized,
    /// The identity is known but its role does not allow this.
    Forbidden,
    /// The input is larger than the engine accepts.
    TooLarge,
    /// Too many attempts; try again later.
    RateLimited,
    /// A dependency (database, data source, LLM) cannot be reached or failed.
    Unavailable,
    /// A bug or an unexpected state on our side.
    Internal,
}

impl ErrorCode {
    /// The stable snake_case name used in API bodies (`{"code": "not_found"}`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Invalid => "invalid",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every error the engine returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A record looked up by key does not exist.
    #[error("{what} {key} not found")]
    NotFound {
        /// The kind of record, e.g. `"ticket"`.
        what: &'static str,
        /// The key that was looked up.
        key: String,
    },
    /// A unique key is already taken, a version is stale, or a transition is not allowed.
    #[error("{0}")]
    Conflict(String),
    /// Input failed validation; `field` names the offending field when there is one.
    #[error("{}{message}", field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default())]
    Invalid {
        /// The field at fault, if the error concerns one.
        field: Option<String>,
        /// What is wrong, in words a user can act on.
        message: String,
    },
    /// Missing or wrong credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller's role does not allow the operation.
    #[error("{0}")]
    Forbidden(String),
    /// Input over a size limit.
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts.
    #[error("{0}")]
    RateLimited(String),
    /// Configuration is missing or inconsistent.
    #[error("configuration: {0}")]
    Config(String),
    /// The database failed or cannot be reached.
    #[error("database: {0}")]
    Database(#[source] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("database migration failed: {0}")]
    Migration(#[source] sqlx::migrate::MigrateError),
    /// An external dependency (data source, LLM) failed.
    #[error("{0}")]
    Unavailable(String),
    /// Something that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The transport-neutral kind of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Invalid { .. } => ErrorCode::Invalid,
            Error::Unauthorized(_) => ErrorCode::Unauthorized,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::TooLarge(_) => ErrorCode::TooLarge,
            Error::RateLimited(_) => ErrorCode::RateLimited,
            Error::Config(_) => ErrorCode::Invalid,
            Error::Database(e) if is_unavailable(e) => ErrorCode::Unavailable,
            Error::Database(_) | Error::Migration(_) | Error::Internal(_) => ErrorCode::Internal,
            Error::Unavailable(_) => ErrorCode::Unavailable,
        }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(what: &'static str, key: impl fmt::Display) -> Self {
        Error::NotFound {
            what,
            key: key.to_string(),
        }
    }

    /// Shorthand for an [`Error::Invalid`] about one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

fn is_unavailable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    )
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Database(e)
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Migration(e)
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_its_field() {
        let e = Error::invalid("email", "must contain @");
        assert_eq!(e.to_string(), "email: must contain @");
        assert_eq!(e.code(), ErrorCode::Invalid);
    }

    #[test]
    fn codes_have_stable_names() {
        assert_eq!(
            Error::not_found("ticket", "INC-1").code().as_str(),
            "not_found"
        );
        assert_eq!(
            serde_json::to_string(&ErrorCode::RateLimited).unwrap(),
            "\"rate_limited\""
        );
    }
}
