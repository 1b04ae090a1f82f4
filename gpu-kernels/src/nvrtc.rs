//! Run-time compilation of the kernels with NVRTC (through cudarc's dynamic loading, so
//! nothing links against CUDA at build time).
//!
//! [`compile`] fails on any error *and on any warning* in the compile log: the NVRTC check of
//! `scripts/test.sh` compiles every kernel for [`CHECK_ARCHS`] on a machine without a GPU
//! (NVRTC from PyPI's `nvidia-cuda-nvrtc`, found through `LD_LIBRARY_PATH`).

use crate::error::{GpuError, Result};
use std::ffi::{CStr, CString};

/// The Monte Carlo kernel's CUDA C source (`kernels/gaib_mc.cu`, the same file the host harness
/// compiles).
pub const KERNEL_SOURCE: &str = include_str!("../kernels/gaib_mc.cu");
/// Entry point of the kernel.
pub const KERNEL_NAME: &str = "gaib_simulate";
/// Every kernel source of the crate: (file name, source).
pub const KERNELS: [(&str, &str); 1] = [("gaib_mc.cu", KERNEL_SOURCE)];
/// Virtual architectures the compile check covers (A100 and H100/H200 class).
pub const CHECK_ARCHS: [&str; 2] = ["compute_80", "compute_90"];

/// NVRTC options: FP64 exactly as written (no fused multiply-add, IEEE division and square
/// root, no flush to zero); the kernel calls no libm function beyond sqrt, fabs and rint (MODEL.md
/// §9.1), so results should match the CPU bit for bit (not yet verified on a GPU).
pub fn options(arch: &str) -> Vec<String> {
    vec![
        format!("--gpu-architecture={arch}"),
        "--fmad=false".into(),
        "--prec-div=true".into(),
        "--prec-sqrt=true".into(),
        "--ftz=false".into(),
        "--std=c++14".into(),
    ]
}

/// Whether libnvrtc can be loaded here; the reason when not.
pub fn nvrtc_present() -> std::result::Result<(), String> {
    // SAFETY: only tries to open the library by its candidate names.
    if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        Ok(())
    } else {
        Err(
            "libnvrtc not found (set LD_LIBRARY_PATH to a folder with libnvrtc.so.13, e.g. \
             the output of scripts/nvrtc-tools.sh)"
                .into(),
        )
    }
}

/// A kernel compiled to PTX.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// PTX text (NUL removed).
    pub ptx: String,
    /// NVRTC's log (empty on a clean compile).
    pub log: String,
    /// The options used.
    pub options: Vec<String>,
}

fn log_of(prog: cudarc::nvrtc::sys::nvrtcProgram) -> String {
    // SAFETY: prog is a live program created by create_program.
    match unsafe { cudarc::nvrtc::result::get_program_log(prog) } {
        Ok(raw) => {
            // SAFETY: NVRTC returns a NUL-terminated log.
            let s = unsafe { CStr::from_ptr(raw.as_ptr()) };
            s.to_string_lossy().trim().to_string()
        }
        Err(e) => format!("(no log: {e:?})"),
    }
}

/// Compiles `source` (named `name`) for `arch` (e.g. `compute_90`). An error or a non-empty
/// log (NVRTC reports warnings only there) is [`GpuError::Compile`].
pub fn compile(name: &str, source: &str, arch: &str) -> Result<Compiled> {
    let (ptx, log, options) = run_nvrtc(name, source, arch, false)?;
    Ok(Compiled {
        ptx: String::from_utf8_lossy(&ptx).into_owned(),
        log,
        options,
    })
}

/// Compiles `source` to a CUBIN (device machine code) for the real architecture `sm`
/// (e.g. `sm_90`): NVRTC runs ptxas itself, so loading it needs no JIT on the device. Same
/// error and warning rules as [`compile`].
pub fn compile_cubin(name: &str, source: &str, sm: &str) -> Result<Vec<u8>> {
    Ok(run_nvrtc(name, source, sm, true)?.0)
}

/// The NVRTC version (major, minor).
pub fn version() -> Result<(i32, i32)> {
    nvrtc_present().map_err(GpuError::Unavailable)?;
    let (mut a, mut b) = (0, 0);
    // SAFETY: writes two ints.
    unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut a, &mut b) }
        .result()
        .map_err(|e| GpuError::Compile {
            arch: String::new(),
            log: format!("nvrtcVersion: {e:?}"),
        })?;
    Ok((a, b))
}

fn run_nvrtc(
    name: &str,
    source: &str,
    arch: &str,
    cubin: bool,
) -> Result<(Vec<u8>, String, Vec<String>)> {
    nvrtc_present().map_err(GpuError::Unavailable)?;
    let fail = |log: String| GpuError::Compile {
        arch: arch.into(),
        log,
    };
    let src = CString::new(source).map_err(|_| fail("source contains a NUL byte".into()))?;
    let cname = CString::new(name).map_err(|_| fail("name contains a NUL byte".into()))?;
    let prog = cudarc::nvrtc::result::create_program(&src, Some(&cname))
        .map_err(|e| fail(format!("create program: {e:?}")))?;
    let opts = options(arch);
    // SAFETY: prog was created above and is destroyed once below.
    let res = unsafe { cudarc::nvrtc::result::compile_program(prog, &opts) };
    let log = log_of(prog);
    let out = match res {
        Err(e) => Err(fail(format!("{e:?}: {log}"))),
        Ok(()) if !log.is_empty() => Err(fail(format!("warnings: {log}"))),
        Ok(()) if cubin => {
            let mut size = 0usize;
            // SAFETY: prog compiled; the buffer has the size NVRTC reports.
            unsafe { cudarc::nvrtc::sys::nvrtcGetCUBINSize(prog, &mut size) }
                .result()
                .and_then(|()| {
                    let mut buf = vec![0u8; size];
                    unsafe { cudarc::nvrtc::sys::nvrtcGetCUBIN(prog, buf.as_mut_ptr().cast()) }
                        .result()
                        .map(|()| buf)
                })
                .map_err(|e| fail(format!("get CUBIN: {e:?}")))
        }
        // SAFETY: compiled successfully.
        Ok(()) => match unsafe { cudarc::nvrtc::result::get_ptx(prog) } {
            Ok(raw) => {
                // SAFETY: NVRTC's PTX is NUL-terminated.
                let ptx = unsafe { CStr::from_ptr(raw.as_ptr()) };
                Ok(ptx.to_bytes().to_vec())
            }
            Err(e) => Err(fail(format!("get PTX: {e:?}"))),
        },
    };
    // SAFETY: prog is live and not used afterwards.
    let _ = unsafe { cudarc::nvrtc::result::destroy_program(prog) };
    out.map(|bytes| (bytes, log, opts))
}

/// Where compiled kernels are cached: `GAIB_KERNEL_CACHE`, else `$XDG_CACHE_HOME/gaib`, else
/// `$HOME/.cache/gaib`; None when none is set.
pub fn cache_dir() -> Option<std::path::PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    env("GAIB_KERNEL_CACHE")
        .map(Into::into)
        .or_else(|| env("XDG_CACHE_HOME").map(|d| std::path::PathBuf::from(d).join("gaib")))
        .or_else(|| env("HOME").map(|d| std::path::PathBuf::from(d).join(".cache/gaib")))
}

/// The kernel's CUBIN for `sm` from the cache in `dir` (keyed by a hash of the source, the
/// options, the architecture and the NVRTC version), compiled and stored on a miss. Returns
/// the CUBIN and whether it came from the cache. A cache that cannot be written is skipped.
pub fn cached_cubin(dir: Option<&std::path::Path>, sm: &str) -> Result<(Vec<u8>, bool)> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    KERNEL_SOURCE.hash(&mut h);
    options(sm).hash(&mut h);
    version()?.hash(&mut h);
    let file = dir.map(|d| d.join(format!("gaib_mc-{sm}-{:016x}.cubin", h.finish())));
    if let Some(bytes) = file.as_ref().and_then(|f| std::fs::read(f).ok()) {
        if bytes.starts_with(b"\x7fELF") {
            return Ok((bytes, true));
        }
    }
    let cubin = compile_cubin("gaib_mc.cu", KERNEL_SOURCE, sm)?;
    if let (Some(d), Some(f)) = (dir, file.as_ref()) {
        let tmp = f.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::create_dir_all(d).is_ok() && std::fs::write(&tmp, &cubin).is_ok() {
            let _ = std::fs::rename(&tmp, f);
        }
    }
    Ok((cubin, false))
}
