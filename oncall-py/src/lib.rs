//! Python bindings for oncall-assistant: the `oncall` module, a thin layer over
//! [`oncall_core::OnCall`]. Every method is one call into the engine (as the local
//! admin, like the CLI); every error the engine raises becomes a subclass of
//! `oncall.OnCallError` chosen by its [`oncall_core::ErrorCode`].
//!
//! - [`runtime`]: one tokio runtime for the module, made on first use and made
//!   again in a child process after `fork` (the parent's worker threads do not
//!   exist there). Blocking calls release the GIL while they wait.
//! - [`engine`]: the `OnCall` (blocking) and `AsyncOnCall` (awaitables) classes.
//! - [`records`]: the frozen result objects (`Analysis`, `Ticket`, ...).

// pyo3's `#[pymodule]`/`#[pyclass]`/`#[pymethods]` macros expand to `unsafe` FFI
// glue (module init, type slots). The workspace denies `unsafe_code`; this crate's
// own code contains no `unsafe` block, only what the macros generate.
#![allow(unsafe_code)]

mod convert;
mod engine;
mod errors;
mod records;
mod runtime;

use pyo3::prelude::*;

/// The native part of the `oncall` package (re-exported by `oncall/__init__.py`).
#[pymodule]
#[pyo3(name = "_oncall")]
fn oncall(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<engine::OnCall>()?;
    m.add_class::<engine::AsyncOnCall>()?;
    m.add_class::<records::Analysis>()?;
    m.add_class::<records::DataSource>()?;
    m.add_class::<records::ConnectionTest>()?;
    m.add_class::<records::Ticket>()?;
    m.add_class::<records::AccuracyReport>()?;
    m.add_class::<records::User>()?;
    Ok(())
}
