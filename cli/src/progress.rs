//! The terminal side of run control: an indicatif progress bar fed by the run layer's
//! progress callback, and Ctrl-C wired to the run's cancellation token.

use gaib_runs::{CancelToken, ProgressFn};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar over `total` paths (hidden when `show` is false).
pub(crate) struct Bar(ProgressBar);

/// A bar over `total` paths on stderr, or a hidden one.
pub(crate) fn progress_bar(total: u64, show: bool) -> Bar {
    if !show {
        return Bar(ProgressBar::hidden());
    }
    let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    b.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {msg:>12} {wide_bar} {human_pos}/{human_len} paths ({per_sec}, ETA {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Bar(b)
}

impl Bar {
    /// The run layer's progress callback: moves the bar and shows the leg being simulated.
    pub(crate) fn callback(&self) -> Box<ProgressFn> {
        let b = self.0.clone();
        Box::new(move |p| {
            if b.message() != p.leg {
                b.set_message(p.leg.to_string());
            }
            b.set_position(p.paths_done);
        })
    }

    /// Clears the bar (finished, failed or interrupted alike).
    pub(crate) fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A cancellation token that Ctrl-C triggers (the handler is installed once per process; a
/// command makes one run at a time).
pub(crate) fn cancel_on_ctrl_c() -> CancelToken {
    let token = CancelToken::new();
    let t = token.clone();
    if let Err(e) = ctrlc::set_handler(move || t.cancel()) {
        tracing::warn!("cannot install the Ctrl-C handler: {e}");
    }
    token
}
