//! Python bindings for oncall-assistant: the `oncall` module, a thin layer over
//! [`oncall_core::OnCall`]. Every error the engine raises maps to a subclass of
//! `oncall.OnCallError`.

use pyo3::prelude::*;

pyo3::create_exception!(oncall, OnCallError, pyo3::exceptions::PyException);

/// The `oncall` Python module.
#[pymodule]
fn oncall(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("OnCallError", m.py().get_type::<OnCallError>())?;
    Ok(())
}
