//! The exception classes, one per [`ErrorCode`], under `oncall.OnCallError`.
//!
//! ```text
//! OnCallError                  code: the engine's ErrorCode name
//! ├── NotFound                 not_found
//! ├── Conflict                 conflict      (duplicate, stale version, bad transition)
//! ├── InvalidInput             invalid       (validation, configuration)
//! │   └── TooLarge             too_large
//! ├── Unauthorized             unauthorized
//! │   └── Forbidden            forbidden     (known identity, role too low)
//! ├── Unavailable              unavailable   (database, data source, LLM)
//! │   └── RateLimited          rate_limited  (try again later)
//! └── InternalError            internal
//! ```
//!
//! Each class carries its code as the class attribute `code`. The errors are made
//! lazily (no GIL needed), so futures running on the tokio runtime can return them.

use oncall_core::{Error, ErrorCode};
use pyo3::prelude::*;

pyo3::create_exception!(
    oncall,
    OnCallError,
    pyo3::exceptions::PyException,
    "Base class of every error the oncall engine raises; `code` names its kind."
);
pyo3::create_exception!(
    oncall,
    NotFound,
    OnCallError,
    "The thing asked for does not exist."
);
pyo3::create_exception!(
    oncall,
    Conflict,
    OnCallError,
    "Clashes with the current state: duplicate, stale version, transition not allowed."
);
pyo3::create_exception!(
    oncall,
    InvalidInput,
    OnCallError,
    "The input (or a setting) is malformed or fails validation."
);
pyo3::create_exception!(
    oncall,
    TooLarge,
    InvalidInput,
    "The input is over a size limit."
);
pyo3::create_exception!(
    oncall,
    Unauthorized,
    OnCallError,
    "No identity, or wrong or expired credentials."
);
pyo3::create_exception!(
    oncall,
    Forbidden,
    Unauthorized,
    "The identity is known but its role does not allow this."
);
pyo3::create_exception!(
    oncall,
    Unavailable,
    OnCallError,
    "A dependency (database, data source, LLM) cannot be reached or failed."
);
pyo3::create_exception!(
    oncall,
    RateLimited,
    Unavailable,
    "Too many attempts; try again later."
);
pyo3::create_exception!(
    oncall,
    InternalError,
    OnCallError,
    "A bug or an unexpected state in the engine."
);

/// Adds the classes to the module, each with its `code`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let classes = [
        ("OnCallError", py.get_type::<OnCallError>(), "internal"),
        ("NotFound", py.get_type::<NotFound>(), "not_found"),
        ("Conflict", py.get_type::<Conflict>(), "conflict"),
        ("InvalidInput", py.get_type::<InvalidInput>(), "invalid"),
        ("TooLarge", py.get_type::<TooLarge>(), "too_large"),
        (
            "Unauthorized",
            py.get_type::<Unauthorized>(),
            "unauthorized",
        ),
        ("Forbidden", py.get_type::<Forbidden>(), "forbidden"),
        ("Unavailable", py.get_type::<Unavailable>(), "unavailable"),
        ("RateLimited", py.get_type::<RateLimited>(), "rate_limited"),
        ("InternalError", py.get_type::<InternalError>(), "internal"),
    ];
    for (name, class, code) in classes {
        class.setattr("code", code)?;
        m.add(name, class)?;
    }
    Ok(())
}

/// The exception for an engine error.
pub fn to_py(e: Error) -> PyErr {
    let message = e.to_string();
    match e.code() {
        ErrorCode::NotFound => NotFound::new_err(message),
        ErrorCode::Conflict => Conflict::new_err(message),
        ErrorCode::Invalid => InvalidInput::new_err(message),
        ErrorCode::TooLarge => TooLarge::new_err(message),
        ErrorCode::Unauthorized => Unauthorized::new_err(message),
        ErrorCode::Forbidden => Forbidden::new_err(message),
        ErrorCode::Unavailable => Unavailable::new_err(message),
        ErrorCode::RateLimited => RateLimited::new_err(message),
        ErrorCode::Internal => InternalError::new_err(message),
    }
}

/// `InvalidInput` about one argument, as the engine words its own.
pub fn invalid(field: &str, message: impl Into<String>) -> PyErr {
    to_py(Error::invalid(field, message))
}
