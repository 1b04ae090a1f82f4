//! Run-layer errors as Python exceptions, translated once from [`RunError::class`] and the
//! variant: the exception classes live in `gaib/_errors.py` (so they carry Python attributes),
//! and fall back to built-ins when the native module is used without the package.
//!
//! | error | exception |
//! |---|---|
//! | an invalid portfolio or scenario (parse, field, reference) | `gaib.InvalidPortfolio` (a `ValueError`) with `.errors` = `[(field path, value, reason)]` |
//! | a bad argument (paths, threads, backend, out, scenario name, price) | `ValueError` |
//! | a run directory that is missing, malformed or whose inputs changed | `gaib.InvalidRun` (a `ValueError`) |
//! | a re-run that differs | `gaib.Mismatch` with `.differences` |
//! | shards that cannot merge | `gaib.NotMergeable` (a `ValueError`) |
//! | cancelled | `KeyboardInterrupt` |
//! | I/O | `OSError` |
//! | anything else | `gaib.GaibError` (a `RuntimeError`) |

use gaib_engine::{EngineError, ErrorClass};
use gaib_runs::RunError;
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// An exception of `gaib._errors` called with `args`, or `fallback(message)` when that module
/// cannot be imported.
fn package_error<'py, A>(
    py: Python<'py>,
    class: &str,
    args: A,
    message: &str,
    fallback: fn(String) -> PyErr,
) -> PyErr
where
    A: pyo3::call::PyCallArgs<'py>,
{
    let made = py
        .import("gaib._errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1(args));
    match made {
        Ok(obj) => PyErr::from_value(obj),
        Err(_) => fallback(message.to_string()),
    }
}

fn value_error(m: String) -> PyErr {
    PyValueError::new_err(m)
}

fn runtime_error(m: String) -> PyErr {
    PyRuntimeError::new_err(m)
}

/// The exception for an engine error (an invalid portfolio or scenario).
fn engine(py: Python<'_>, e: &EngineError) -> PyErr {
    let message = e.to_string();
    if e.class() != ErrorClass::Input {
        return package_error(py, "GaibError", (message.clone(),), &message, runtime_error);
    }
    let (errors, lines): (Vec<(String, String, String)>, Vec<String>) = match e {
        EngineError::Invalid { errors } => errors
            .iter()
            .map(|f| {
                (
                    (f.path.clone(), f.value.clone(), f.reason.clone()),
                    f.to_string(),
                )
            })
            .unzip(),
        _ => (Vec::new(), vec![message.clone()]),
    };
    package_error(
        py,
        "InvalidPortfolio",
        (message.clone(), errors, lines),
        &message,
        value_error,
    )
}

/// The Python exception of a run-layer error.
pub(crate) fn to_py(py: Python<'_>, e: RunError) -> PyErr {
    let message = e.to_string();
    match &e {
        RunError::Engine(x) => engine(py, x),
        RunError::Argument { .. } => PyValueError::new_err(message),
        RunError::InvalidRun { .. } => {
            package_error(py, "InvalidRun", (message.clone(),), &message, value_error)
        }
        RunError::Mismatch { differences } => package_error(
            py,
            "Mismatch",
            (message.clone(), differences.clone()),
            &message,
            runtime_error,
        ),
        RunError::NotMergeable(_) => package_error(
            py,
            "NotMergeable",
            (message.clone(),),
            &message,
            value_error,
        ),
        RunError::Cancelled => PyKeyboardInterrupt::new_err(message),
        RunError::Io { .. } => PyOSError::new_err(message),
        _ if e.class() == ErrorClass::Input => PyValueError::new_err(message),
        _ => package_error(py, "GaibError", (message.clone(),), &message, runtime_error),
    }
}

/// `Result<T, RunError>` → `PyResult<T>`.
pub(crate) trait IntoPy<T> {
    /// Translates the error with [`to_py`].
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPy<T> for gaib_runs::Result<T> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}

/// An engine error outside a run (cashflows).
pub(crate) fn engine_to_py(py: Python<'_>, e: EngineError) -> PyErr {
    to_py(py, RunError::Engine(e))
}

/// `gaib.GaibError(message)` for an internal failure of the bindings themselves.
pub(crate) fn internal(py: Python<'_>, message: String) -> PyErr {
    package_error(py, "GaibError", (message.clone(),), &message, runtime_error)
}
