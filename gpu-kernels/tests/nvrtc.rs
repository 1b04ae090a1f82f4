//! NVRTC compile check: every kernel of the crate compiles through cudarc's NVRTC binding for
//! compute_80 and compute_90 with no error and no warning. Runs without a GPU (NVRTC from
//! PyPI's nvidia-cuda-nvrtc: `LD_LIBRARY_PATH=$(bash scripts/nvrtc-tools.sh)`).
//!
//! Without libnvrtc the test is skipped with a message, unless `GAIB_REQUIRE_NVRTC=1` (as in
//! scripts/test.sh), where a missing NVRTC is a failure. `GAIB_PTX_OUT=DIR` also writes the PTX
//! (e.g. for `ptxas -v`).

use gaib_gpu_kernels::nvrtc::{compile, nvrtc_present, CHECK_ARCHS, KERNELS, KERNEL_NAME};

#[test]
fn every_kernel_compiles_cleanly_for_compute_80_and_90() {
    if let Err(why) = nvrtc_present() {
        assert!(
            std::env::var("GAIB_REQUIRE_NVRTC").as_deref() != Ok("1"),
            "GAIB_REQUIRE_NVRTC=1 but {why}"
        );
        eprintln!("skipped: {why}");
        return;
    }
    for (name, src) in KERNELS {
        for arch in CHECK_ARCHS {
            let out = compile(name, src, arch).unwrap_or_else(|e| panic!("{name} {arch}: {e}"));
            assert!(out.log.is_empty(), "{name} {arch}: {}", out.log);
            assert!(
                out.ptx.contains(&format!(".entry {KERNEL_NAME}")),
                "{name} {arch}: no entry {KERNEL_NAME} in the PTX"
            );
            if let Some(dir) = std::env::var_os("GAIB_PTX_OUT") {
                let f = std::path::Path::new(&dir).join(format!("{name}.{arch}.ptx"));
                std::fs::write(&f, &out.ptx).unwrap();
            }
            let target = format!(".target sm_{}", &arch["compute_".len()..]);
            assert!(
                out.ptx.contains(&target),
                "{name} {arch}: PTX without {target}"
            );
            // No contraction of the kernel's arithmetic, and (since model version 5, which
            // calls no libdevice exp/log/sin/cos) no fused multiply-add anywhere in the PTX:
            // every operation rounds as the CPU backend's does (MODEL.md §9.1).
            assert!(
                out.options.iter().any(|o| o == "--fmad=false"),
                "{:?}",
                out.options
            );
            assert!(!out.ptx.contains("fma."), "{name} {arch}: fma in the PTX");
        }
    }
}

#[test]
fn a_broken_kernel_fails_the_check() {
    if nvrtc_present().is_err() {
        return;
    }
    let bad = "extern \"C\" __global__ void k(double* x) { x[0] = undefined_name; }";
    let err = compile("bad.cu", bad, "compute_90")
        .unwrap_err()
        .to_string();
    assert!(err.contains("undefined_name"), "{err}");
    // A warning is an error too.
    let warn = "extern \"C\" __global__ void k(double* x) { int unused_var = 1; x[0] = 1.0; }";
    let r = compile("warn.cu", warn, "compute_90");
    if let Err(e) = r {
        assert!(e.to_string().contains("warning"), "{e}");
    }
}

/// NVRTC → CUBIN (no JIT on the device) for sm_80 and sm_90, and the on-disk kernel cache:
/// a miss compiles and stores, a hit returns the same bytes without compiling.
#[test]
fn cubins_compile_and_are_cached() {
    use gaib_gpu_kernels::nvrtc::cached_cubin;
    if nvrtc_present().is_err() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("gaib-kernel-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sm in ["sm_80", "sm_90"] {
        let t = std::time::Instant::now();
        let (a, hit_a) = cached_cubin(Some(&dir), sm).unwrap();
        let miss_s = t.elapsed().as_secs_f64();
        assert!(
            !hit_a && a.starts_with(b"\x7fELF"),
            "{sm}: not an ELF CUBIN"
        );
        let t = std::time::Instant::now();
        let (b, hit_b) = cached_cubin(Some(&dir), sm).unwrap();
        let hit_s = t.elapsed().as_secs_f64();
        assert!(
            hit_b && a == b,
            "{sm}: the cache did not return the stored CUBIN"
        );
        println!(
            "{sm}: CUBIN {} bytes, compile {miss_s:.2} s, cache hit {hit_s:.4} s",
            a.len()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
