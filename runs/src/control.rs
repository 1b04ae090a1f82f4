//! Per-run control: a cancellation token and a progress callback, instead of process-global
//! state, so that a service can run and cancel many jobs at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A cancellation token: cheap to clone, shared between the run and whoever may cancel it (a
/// Ctrl-C handler, an HTTP `DELETE`). The run stops between chunks and returns
/// [`crate::RunError::Cancelled`]; nothing is written.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop at the next chunk boundary.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The flag the simulator's backends poll.
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

/// Where a run is: reported between chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress<'a> {
    /// The leg being simulated: `base`, a bump id (`price_level`, ...) or a scenario id.
    pub leg: &'a str,
    /// Paths done over all legs so far.
    pub paths_done: u64,
    /// Paths of all legs together (paths × legs).
    pub paths_total: u64,
}

/// The callback type of [`RunControl::progress`].
pub type ProgressFn = dyn Fn(Progress<'_>) + Send + Sync;

/// How a caller controls one run.
#[derive(Default)]
pub struct RunControl {
    /// Cancels the run between chunks.
    pub cancel: CancelToken,
    /// Called after every chunk of paths (and once at the start of each leg with the paths
    /// done so far), from the thread that called [`crate::PreparedRun::execute`].
    pub progress: Option<Box<ProgressFn>>,
}

impl RunControl {
    /// A control with this token and no progress callback.
    pub fn with_cancel(cancel: CancelToken) -> Self {
        Self {
            cancel,
            progress: None,
        }
    }

    pub(crate) fn report(&self, leg: &str, paths_done: u64, paths_total: u64) {
        if let Some(f) = &self.progress {
            f(Progress {
                leg,
                paths_done,
                paths_total,
            });
        }
    }
}

impl std::fmt::Debug for RunControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunControl")
            .field("cancel", &self.cancel)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}
