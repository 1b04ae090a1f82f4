//! The kernel's building blocks, compiled as host C++, against the Rust ones: Philox against
//! the Random123 known answers, the elementary functions of `gaib_simulator::math` bit for bit,
//! default times (erfc), cents rounding.

use gaib_engine::Amount;
use gaib_gpu_kernels::host;

#[test]
fn philox_matches_random123_known_answers_and_the_simulator() {
    let kat: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
        (
            [0, 0, 0, 0],
            [0, 0],
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8],
        ),
        (
            [0xffff_ffff; 4],
            [0xffff_ffff; 2],
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd],
        ),
        (
            [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
            [0xa409_3822, 0x299f_31d0],
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
        ),
    ];
    for (c, k, want) in kat {
        assert_eq!(host::philox(c, k), want);
    }
    for i in 0..1000u32 {
        let c = [i, i.wrapping_mul(2_654_435_761), 7, i >> 3];
        let k = [i ^ 0xdead_beef, 42];
        assert_eq!(host::philox(c, k), gaib_simulator::rng::philox4x32_10(c, k));
    }
}

/// Deterministic xorshift64 words.
fn words(seed: u64) -> impl Iterator<Item = u64> {
    let mut x = seed;
    std::iter::repeat_with(move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    })
}

#[test]
fn elementary_functions_are_bit_identical_to_the_simulator() {
    use gaib_simulator::math;
    let same = |what: &str, x: f64, got: f64, want: f64| {
        assert!(
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
            "{what}({x:e}): kernel {got:e} vs simulator {want:e}"
        );
    };
    let check = |x: f64| {
        same("exp", x, host::exp(x), math::exp(x));
        same("ln", x, host::ln(x), math::ln(x));
        same("ln_1p", x, host::ln_1p(x), math::ln_1p(x));
        let ((ks, kc), (rs, rc)) = (host::sin_cos_tau(x), math::sin_cos_tau(x));
        same("sin_tau", x, ks, rs);
        same("cos_tau", x, kc, rc);
        same("erfc", x, host::erfc(x), math::erfc(x));
    };
    // Any bit pattern, and values in the model's domains (prices' log-levels, Box–Muller's
    // uniforms, −Phi of default times).
    for w in words(0x9e37_79b9_7f4a_7c15).take(200_000) {
        let unit = (w >> 11) as f64 / (1u64 << 53) as f64;
        check(f64::from_bits(w));
        check(-745.0 + 1454.0 * unit);
        check(gaib_simulator::rng::uniform(w as u32));
        check(-0.5 * unit);
    }
    for x in [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.25,
        0.5,
        1e-300,
        5e-324,
        -745.5,
        709.9,
        f64::MAX,
    ] {
        check(x);
    }
    for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
        check(x);
    }
}

#[test]
fn default_time_is_bit_identical_to_the_simulator() {
    for i in -4000..=4000 {
        let a = f64::from(i) * 0.0025 * 3.7;
        for h in [1e-4, 0.01005, 0.16, 2.5] {
            let (got, want) = (host::default_time(a, h), gaib_simulator::default_time(a, h));
            assert!(
                got.to_bits() == want.to_bits(),
                "a {a} h {h}: kernel {got:e} vs simulator {want:e}"
            );
        }
    }
    assert_eq!(host::erfc(0.0), 1.0);
    assert_eq!(host::erfc(f64::INFINITY), 0.0);
    assert_eq!(host::erfc(f64::NEG_INFINITY), 2.0);
}

#[test]
fn cents_rounding_is_the_engines() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..50_000i32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 10f64.powi(i % 16 - 2);
        for y in [v, (v * 100.0).trunc() / 100.0 + 0.005, 1e17 * v] {
            assert_eq!(host::cents(y).to_bits(), y.cents().to_bits(), "{y}");
        }
    }
}
