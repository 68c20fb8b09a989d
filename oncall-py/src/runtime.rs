//! The module's tokio runtime, and the two ways Python waits for an engine future:
//! [`blocking`] (GIL released, Ctrl-C honoured) and [`awaitable`] (an asyncio
//! future through `pyo3-async-runtimes`' generic bridge, driven by this runtime).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, JoinError, Runtime};

use crate::errors::InternalError;

/// The runtime and the process it was made in.
static RUNTIME: Mutex<Option<(u32, Arc<tokio::runtime::Runtime>)>> = Mutex::new(None);

/// The module's runtime, made on first use, and made again after a `fork`: a
/// child inherits the parent's runtime object but none of its threads.
pub fn runtime() -> PyResult<Arc<tokio::runtime::Runtime>> {
    let mut slot = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    if let Some((owner, rt)) = slot.as_ref()
        && *owner == pid
    {
        return Ok(rt.clone());
    }
    if let Some(inherited) = slot.take() {
        // Dropping it would wait for threads that only exist in the parent.
        std::mem::forget(inherited);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("oncall-runtime")
        .build()
        .map_err(|e| InternalError::new_err(format!("cannot start the tokio runtime: {e}")))?;
    let rt = Arc::new(rt);
    *slot = Some((pid, rt.clone()));
    Ok(rt)
}

/// How often a blocking wait wakes to look for Ctrl-C (`KeyboardInterrupt`).
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// Runs `fut` on the runtime and waits for it with the GIL released. A signal
/// handler raising (Ctrl-C) cancels the future and propagates.
pub fn blocking<F, T>(py: Python<'_>, fut: F) -> PyResult<Py<PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    let rt = runtime()?;
    let mut task = rt.spawn(fut);
    loop {
        let step = py.detach(|| {
            // The timer must be made inside the runtime.
            rt.block_on(async { tokio::time::timeout(SIGNAL_CHECK, &mut task).await })
        });
        match step {
            Ok(Ok(result)) => return result?.into_py_any(py),
            Ok(Err(e)) => return Err(join_error(e)),
            Err(_still_running) => {
                if let Err(interrupted) = py.check_signals() {
                    task.abort();
                    return Err(interrupted);
                }
            }
        }
    }
}

/// An asyncio awaitable for `fut`, run on the module's runtime. Cancelling the
/// awaitable cancels the future.
pub fn awaitable<F, T>(py: Python<'_>, fut: F) -> PyResult<Py<PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    // Made here, where a failure can be reported, before the bridge spawns on it.
    runtime()?;
    pyo3_async_runtimes::generic::future_into_py::<ForkAwareTokio, _, _>(py, fut).map(Bound::unbind)
}

fn join_error(e: tokio::task::JoinError) -> PyErr {
    if e.is_panic() {
        InternalError::new_err(format!("the engine panicked: {e}"))
    } else {
        InternalError::new_err(format!("the engine task was cancelled: {e}"))
    }
}

/// [`runtime`] as a `pyo3-async-runtimes` runtime. (Its own `tokio` module keeps
/// one runtime for the life of the process, which a forked child cannot use.)
struct ForkAwareTokio;

tokio::task_local! {
    static TASK_LOCALS: TaskLocals;
}

/// A join error that is never a panic, for the rare case the runtime cannot start.
#[derive(Debug)]
struct NoRuntime;

impl JoinError for NoRuntime {
    fn is_panic(&self) -> bool {
        false
    }
    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        Box::new("the tokio runtime could not start")
    }
}

/// A spawned task, or nothing when no runtime could be had (then awaiting it ends
/// at once; the awaitable was already refused by [`awaitable`]).
struct Handle(Option<tokio::task::JoinHandle<()>>);

impl Future for Handle {
    type Output = Result<(), Joined>;
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.0.as_mut() {
            None => std::task::Poll::Ready(Err(Joined::NoRuntime(NoRuntime))),
            Some(h) => Pin::new(h).poll(cx).map(|r| r.map_err(Joined::Tokio)),
        }
    }
}

/// Why a spawned task ended without its value.
#[derive(Debug)]
enum Joined {
    Tokio(tokio::task::JoinError),
    NoRuntime(NoRuntime),
}

impl JoinError for Joined {
    fn is_panic(&self) -> bool {
        match self {
            Joined::Tokio(e) => e.is_panic(),
            Joined::NoRuntime(e) => e.is_panic(),
        }
    }
    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        match self {
            Joined::Tokio(e) if e.is_panic() => e.into_panic(),
            Joined::Tokio(e) => Box::new(e.to_string()),
            Joined::NoRuntime(e) => e.into_panic(),
        }
    }
}

impl Runtime for ForkAwareTokio {
    type JoinError = Joined;
    type JoinHandle = Handle;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Handle(runtime().ok().map(|rt| rt.spawn(fut)))
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        Handle(runtime().ok().map(|rt| rt.spawn_blocking(f)))
    }
}

impl ContextExt for ForkAwareTokio {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        Box::pin(TASK_LOCALS.scope(locals, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS.try_with(Clone::clone).ok()
    }
}
