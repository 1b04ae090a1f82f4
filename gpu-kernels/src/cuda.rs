//! [`CudaBackend`]: the [`Backend`] that runs `kernels/gaib_mc.cu` on an NVIDIA GPU.
//!
//! Everything CUDA is loaded at run time (cudarc `dynamic-loading`): on a machine without a
//! driver, a device or NVRTC, [`CudaBackend::new`] still succeeds and
//! [`Backend::availability`] says why it cannot run, so `--backend auto` falls back to the CPU
//! with that reason. With a device, the kernel is compiled by NVRTC to machine code for the
//! device once and cached on disk ([`crate::nvrtc::cached_cubin`]) in `new`; the
//! [`FlatPlan`] is uploaded once per run, paths are launched in chunks of
//! [`DEVICE_CHUNK_PATHS`] (bounded memory for any path count; cancellation is checked between
//! chunks), and the statistics are exact integer sums on the device (atomic 128-bit adds), so
//! the result does not depend on thread or chunk order.

use crate::acc::to_path_stats;
use crate::error::{GpuError, Result};
use crate::flat::FlatPlan;
use crate::host::{to_path_rows, KernelRun};
use crate::nvrtc::{compile, KERNEL_NAME, KERNEL_SOURCE};
use cudarc::driver::{CudaContext, CudaFunction, CudaStream, LaunchConfig, PushKernelArg};
use gaib_simulator::{
    check_paths, Availability, Backend, PathStats, RunOptions, SimPlan, Simulation,
};
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Paths per kernel launch (the unit of cancellation; memory does not grow with the run).
pub const DEVICE_CHUNK_PATHS: u64 = 1 << 20;
/// Threads per block.
pub const BLOCK_THREADS: u32 = 128;
/// Most resident threads per launch (each holds its path's scratch in global memory).
pub const MAX_THREADS: u32 = 1 << 16;
/// Most accumulator replicas (block b adds into replica b mod replicas, cutting the
/// contention on each word; the host merges them exactly).
pub const MAX_ACC_REPLICAS: u32 = 32;

struct Device {
    stream: Arc<CudaStream>,
    func: CudaFunction,
    name: String,
    compile_time: Duration,
}

/// The CUDA backend (see the module docs).
pub struct CudaBackend {
    device: std::result::Result<Device, String>,
}

impl std::fmt::Debug for CudaBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.device {
            Ok(d) => f
                .debug_struct("CudaBackend")
                .field("device", &d.name)
                .finish(),
            Err(r) => f
                .debug_struct("CudaBackend")
                .field("unavailable", r)
                .finish(),
        }
    }
}

fn open(ordinal: usize) -> std::result::Result<Device, String> {
    // SAFETY: only tries to open libcuda by its candidate names.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err("no CUDA driver (libcuda.so not found)".into());
    }
    crate::nvrtc::nvrtc_present()?;
    let n = CudaContext::device_count().map_err(|e| format!("CUDA driver: {e}"))?;
    if n <= ordinal as i32 {
        return Err(format!("no CUDA device {ordinal} ({n} found)"));
    }
    let ctx = CudaContext::new(ordinal).map_err(|e| format!("CUDA context: {e}"))?;
    let name = ctx.name().unwrap_or_else(|_| "unknown GPU".into());
    let (major, minor) = ctx
        .compute_capability()
        .map_err(|e| format!("compute capability: {e}"))?;
    let t0 = Instant::now();
    // Machine code for this device from the kernel cache (NVRTC → CUBIN on a miss), so no
    // driver JIT; the PTX path is the fallback.
    let sm = format!("sm_{major}{minor}");
    let dir = crate::nvrtc::cache_dir();
    let module = match crate::nvrtc::cached_cubin(dir.as_deref(), &sm) {
        Ok((cubin, _hit)) => ctx
            .load_module(cudarc::nvrtc::Ptx::from_binary(cubin))
            .map_err(|e| format!("loading the CUBIN for {sm}: {e}")),
        Err(e) => Err(format!("NVRTC for {sm}: {e}")),
    };
    let module = match module {
        Ok(m) => m,
        Err(cubin_err) => {
            let arch = if major >= 9 {
                "compute_90"
            } else {
                "compute_80"
            };
            let compiled = compile("gaib_mc.cu", KERNEL_SOURCE, arch)
                .map_err(|e| format!("{cubin_err}; NVRTC PTX: {e}"))?;
            ctx.load_module(cudarc::nvrtc::Ptx::from_src(compiled.ptx))
                .map_err(|e| format!("{cubin_err}; loading the PTX: {e}"))?
        }
    };
    let func = module
        .load_function(KERNEL_NAME)
        .map_err(|e| format!("kernel {KERNEL_NAME}: {e}"))?;
    let compile_time = t0.elapsed();
    Ok(Device {
        stream: ctx.default_stream(),
        func,
        name: format!("{name} (sm_{major}{minor})"),
        compile_time,
    })
}

impl CudaBackend {
    /// The backend on device 0. Never fails: an unusable machine gives a backend whose
    /// [`Backend::availability`] carries the reason (a panic inside the driver bindings is
    /// caught and reported the same way).
    pub fn new() -> Self {
        Self::on_device(0)
    }

    /// The backend on device `ordinal`.
    pub fn on_device(ordinal: usize) -> Self {
        let device = std::panic::catch_unwind(|| open(ordinal))
            .unwrap_or_else(|_| Err("the CUDA driver bindings panicked while loading".into()));
        CudaBackend { device }
    }

    /// The device's name and compute capability, if available.
    pub fn device_name(&self) -> Option<&str> {
        self.device.as_ref().ok().map(|d| d.name.as_str())
    }

    /// Time the kernel took to be ready in [`CudaBackend::new`]: the CUBIN from the cache (or
    /// NVRTC on a miss) and the module load.
    pub fn compile_time(&self) -> Option<Duration> {
        self.device.as_ref().ok().map(|d| d.compile_time)
    }

    fn dev(&self) -> Result<&Device> {
        self.device
            .as_ref()
            .map_err(|r| GpuError::Unavailable(r.clone()))
    }

    /// Runs `paths` of a lowered plan on the device; with `rows`, also every path's row
    /// (as [`crate::host::run`]: the same kernel, so both can be compared path by path).
    pub fn run_flat(
        &self,
        flat: &FlatPlan,
        paths: Range<u64>,
        seed: u64,
        rows: bool,
        opts: &RunOptions,
    ) -> Result<KernelRun> {
        let mut all = Vec::new();
        let mut keep = |_: u64, r: &[f64]| -> Result<()> {
            all.extend_from_slice(r);
            Ok(())
        };
        let sink: Option<&mut RowsFn<'_>> = if rows { Some(&mut keep) } else { None };
        let stats = self.run_stream(flat, paths, seed, opts, sink, &mut |_| {})?;
        Ok(KernelRun { stats, rows: all })
    }

    /// As [`CudaBackend::run_flat`], handing each launch's rows (first path, `row_stride`
    /// doubles per path) to `on_rows` in path order instead of keeping them, and telling
    /// `progress` the paths of each launch once it has completed.
    pub fn run_stream(
        &self,
        flat: &FlatPlan,
        paths: Range<u64>,
        seed: u64,
        opts: &RunOptions,
        mut on_rows: Option<&mut RowsFn<'_>>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<PathStats> {
        let rows = on_rows.is_some();
        check_paths(&paths)?;
        let dev = self.dev()?;
        let s = &dev.stream;
        let drv = |e: cudarc::driver::DriverError| GpuError::Driver(e.to_string());
        let f = s.clone_htod(&flat.f64s).map_err(drv)?;
        let i = s.clone_htod(&flat.i32s).map_err(drv)?;
        let total = paths.end - paths.start;
        let chunk = DEVICE_CHUNK_PATHS.min(total.max(1));
        let threads = (chunk.min(u64::from(MAX_THREADS)) as u32).max(1);
        let blocks = threads.div_ceil(BLOCK_THREADS);
        let replicas = blocks.min(MAX_ACC_REPLICAS);
        let init: Vec<u64> = (0..replicas)
            .flat_map(|_| flat.acc_init.iter().copied())
            .collect();
        let mut acc = s.clone_htod(&init).map_err(drv)?;
        let nthreads = (blocks * BLOCK_THREADS) as usize;
        let mut sf = s
            .alloc_zeros::<f64>(nthreads * flat.scratch_f64.max(1))
            .map_err(drv)?;
        let mut si = s
            .alloc_zeros::<i32>(nthreads * flat.scratch_i32.max(1))
            .map_err(drv)?;
        let mut rows_dev = if rows {
            Some(
                s.alloc_zeros::<f64>((chunk as usize * flat.row_stride).max(1))
                    .map_err(drv)?,
            )
        } else {
            None
        };
        let null: u64 = 0;
        let (seed_lo, seed_hi) = (seed as u32, (seed >> 32) as u32);
        let mut start = paths.start;
        while start < paths.end {
            if opts
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed))
            {
                return Err(GpuError::Sim(gaib_simulator::SimError::Cancelled));
            }
            let n = (paths.end - start).min(chunk);
            let (path0, n32) = (start as u32, n as u32);
            let cfg = LaunchConfig {
                grid_dim: (blocks, 1, 1),
                block_dim: (BLOCK_THREADS, 1, 1),
                shared_mem_bytes: 0,
            };
            let mut b = s.launch_builder(&dev.func);
            b.arg(&f).arg(&i).arg(&mut acc).arg(&mut sf).arg(&mut si);
            match rows_dev.as_mut() {
                Some(r) => b.arg(r),
                None => b.arg(&null),
            };
            b.arg(&null)
                .arg(&seed_lo)
                .arg(&seed_hi)
                .arg(&path0)
                .arg(&n32)
                .arg(&0u32)
                .arg(&replicas);
            // SAFETY: the argument list matches gaib_simulate's signature; every buffer has
            // the size the FlatPlan header declares for `nthreads` threads and `chunk` rows.
            unsafe { b.launch(cfg) }.map_err(drv)?;
            s.synchronize().map_err(drv)?;
            if let (Some(r), Some(f)) = (rows_dev.as_ref(), on_rows.as_mut()) {
                let all = s.clone_dtoh(r).map_err(drv)?;
                f(start, &all[..n as usize * flat.row_stride])?;
            }
            start += n;
            progress(n);
        }
        let host_acc = s.clone_dtoh(&acc).map_err(drv)?;
        merge_replicas(flat, &host_acc)
    }
}

/// A consumer of per-path rows: (first path of the rows, `row_stride` doubles per path).
pub type RowsFn<'a> = dyn FnMut(u64, &[f64]) -> Result<()> + 'a;

/// The exact merge of the accumulator replicas in `words` (each `flat.layout.size` long).
pub fn merge_replicas(flat: &FlatPlan, words: &[u64]) -> Result<PathStats> {
    let mut total = flat.template.clone();
    for part in words.chunks(flat.layout.size) {
        total.merge(&to_path_stats(flat, part)?);
    }
    Ok(total)
}

impl Default for CudaBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for CudaBackend {
    fn name(&self) -> &'static str {
        "cuda"
    }

    fn availability(&self) -> Availability {
        match &self.device {
            Ok(_) => Availability::Available,
            Err(r) => Availability::Unavailable(r.clone()),
        }
    }

    fn threads(&self) -> usize {
        MAX_THREADS as usize
    }

    /// One [`FlatPlan`] built and uploaded for the whole range; progress after each launch.
    fn simulate(&self, plan: &SimPlan, sim: Simulation<'_>) -> gaib_simulator::Result<PathStats> {
        let flat = FlatPlan::new(plan)?;
        let mut no_progress = |_: u64| {};
        let progress: &mut dyn FnMut(u64) = match sim.progress {
            Some(p) => p,
            None => &mut no_progress,
        };
        let (paths, seed, opts) = (sim.paths, sim.seed, sim.opts);
        let Some(sink) = sim.sink else {
            return Ok(self.run_stream(&flat, paths, seed, opts, None, progress)?);
        };
        let mut hand = |path0: u64, r: &[f64]| -> Result<()> {
            sink.accept(&to_path_rows(plan, &flat, r, path0))
                .map_err(|e| GpuError::Sim(gaib_simulator::SimError::Sink(e)))
        };
        Ok(self.run_stream(&flat, paths, seed, opts, Some(&mut hand), progress)?)
    }
}
