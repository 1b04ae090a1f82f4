//! The crate's one error type.

/// Errors of the CUDA backend, its lowering and its host harness.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// The plan uses something the kernel does not implement; the backend refuses the run
    /// rather than compute something else.
    #[error("not supported by the CUDA kernel: {what}")]
    Unsupported {
        /// What is not supported.
        what: String,
    },
    /// No usable CUDA driver, device or NVRTC here (the reason, as `Availability` reports it).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// NVRTC rejected the kernel source, or warned (the compile log).
    #[error("NVRTC compile of {arch} failed: {log}")]
    Compile {
        /// Virtual architecture, e.g. `compute_90`.
        arch: String,
        /// The compiler's log (or error).
        log: String,
    },
    /// A CUDA driver call failed.
    #[error("CUDA driver: {0}")]
    Driver(String),
    /// The kernel reported an inconsistency (error bits in its accumulator).
    #[error("kernel: {0}")]
    Kernel(String),
    /// The simulator rejected something (e.g. a path range).
    #[error(transparent)]
    Sim(#[from] gaib_simulator::SimError),
}

/// Result alias of this crate.
pub type Result<T, E = GpuError> = std::result::Result<T, E>;

impl From<GpuError> for gaib_simulator::SimError {
    fn from(e: GpuError) -> Self {
        match e {
            GpuError::Sim(s) => s,
            GpuError::Unavailable(reason) => gaib_simulator::SimError::Unavailable {
                backend: "cuda".into(),
                reason,
            },
            GpuError::Unsupported { what } => gaib_simulator::SimError::Unavailable {
                backend: "cuda".into(),
                reason: format!("not supported by the CUDA kernel: {what}"),
            },
            other => gaib_simulator::SimError::Runtime(other.to_string()),
        }
    }
}
