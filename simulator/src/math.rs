//! The elementary functions of a simulated path (MODEL.md §9): e^x, ln x, ln(1 + x) and
//! cos/sin of 2πu, every call the Monte Carlo makes per path goes through here.
//!
//! One module so that what the model computes is defined in one place on the CPU, and so that
//! the CUDA kernel (`gaib-gpu-kernels/kernels/gaib_mc.cu`) can compute exactly the same.
//! Today these are the platform's libm (Rust's `f64` methods).

/// e^x.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    x.exp()
}

/// ln x (x > 0).
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    x.ln()
}

/// ln(1 + x) (x > −1), accurate near 0.
#[inline(always)]
pub fn ln_1p(x: f64) -> f64 {
    x.ln_1p()
}

/// cos(2πu), for u in (0, 1).
#[inline(always)]
pub fn cos_tau(u: f64) -> f64 {
    (std::f64::consts::TAU * u).cos()
}

/// (sin 2πu, cos 2πu), for u in (0, 1).
#[inline(always)]
pub fn sin_cos_tau(u: f64) -> (f64, f64) {
    (std::f64::consts::TAU * u).sin_cos()
}
