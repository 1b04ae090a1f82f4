//! # gaib-gpu-kernels
//!
//! The CUDA backend of gaib: [`CudaBackend`] implements [`gaib_simulator::Backend`] by running
//! the whole per-path model of docs/MODEL.md in one CUDA C kernel (`kernels/gaib_mc.cu`, one
//! thread per path), compiled at run time by NVRTC and loaded with cudarc's dynamic loading.
//! It builds and tests on machines without CUDA: there the backend reports
//! `unavailable: <reason>` and `--backend auto` falls back to the CPU.
//!
//! - [`FlatPlan`]: a [`gaib_simulator::SimPlan`] (stochastic arrays and the engine's
//!   cash-flow terms) lowered into plain f64/i32 buffers with offset tables and kind tags.
//! - [`acc`]: the kernel's exact fixed-point sums and fixed-bin histograms → `PathStats`.
//! - [`nvrtc`]: the kernel source and its NVRTC compile (warnings are errors).
//! - [`host`]: the same kernel source compiled as host C++ (the host-parity harness).
//! - [`parity`]: path-by-path comparison of a kernel run with the CPU backend.
//! - [`trace`]: month-by-month traces of one path from the engine and from the kernel, and
//!   the first divergence between them.
//!
//! **Architecture invariant:** the kernel is a second implementation of the engine's rules, so
//! it is held to the CPU backend path for path by the host-parity tests (`tests/parity.rs`);
//! the CPU backend keeps driving the engine's own machine. The crate knows no file, CLI or
//! HTTP.

pub mod acc;
mod cuda;
mod error;
mod flat;
pub mod host;
pub mod nvrtc;
pub mod parity;
pub mod trace;

pub use cuda::{
    merge_replicas, CudaBackend, RowsFn, BLOCK_THREADS, DEVICE_CHUNK_PATHS, MAX_ACC_REPLICAS,
    MAX_THREADS,
};
pub use error::{GpuError, Result};
pub use flat::{
    AccLayout, FlatPlan, HeaderSlot, DERIVATIVE_HEAD_WORDS, FLAT_MAGIC, INSTRUMENT_HEAD_WORDS,
    MOMENT_WORDS, TRACE_DEAL_FIELDS, TRACE_DERIVATIVE_FIELDS, TRACE_FLEET_FIELDS,
    TRACE_TRANCHE_FIELDS, TRACE_VAULT_FIELDS,
};
