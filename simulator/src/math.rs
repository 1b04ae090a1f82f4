//! The elementary functions of a simulated path (MODEL.md §9.4): e^x, ln x, ln(1 + x),
//! cos/sin of 2πu and erfc. Every such call the Monte Carlo makes per path goes through here.
//!
//! They are part of the model (version 5): gaib's own definitions, not the platform's libm, so
//! that every backend computes the same numbers. Each is plain IEEE-754 binary64 arithmetic
//! (+, −, ×, ÷, each rounded to nearest; no fused multiply-add, no libm call) plus exact
//! integer operations on the bits, written in the same order in the CUDA kernel
//! (`gpu-kernels/kernels/gaib_mc.cu`, `g_exp`, `g_ln`, …), which therefore computes exactly the
//! same on the host-parity harness and, compiled with `--fmad=false`, on a GPU. They are
//! branch-light (selects, a 64-entry table) so that a loop over many arguments can vectorise,
//! and cheaper than glibc's (no errno, no slow correctly-rounded paths): instructions per call
//! over an array of 2^20 arguments in the Monte Carlo's domains (callgrind marginal, x86-64,
//! release, glibc 2.36; `simulator/examples/math_cost.rs` says how), ours vs glibc's: exp 48.0
//! vs 57.5, ln 45.5 vs 57.3, ln_1p 48.0 vs 64.4, cos 2πu 27.5 vs 96.5, (sin, cos) 2πu 32.5 vs
//! 143.4.
//!
//! The constants are printed by `scripts/math_constants.py`: tables and hi/lo splits from
//! Python's `decimal` at 60 digits, polynomial coefficients near-minimax (Chebyshev) fits by
//! mpmath, every value rounded once to the nearest f64 and written as its shortest round-trip
//! decimal (Rust and C++ read it back to the same f64).
//!
//! Measured accuracy (the tests below, 2^20 pseudo-random arguments per domain, distance in ulps
//! from glibc, itself within about half an ulp; for cos/sin from glibc at a double-double
//! reduced argument): exp, ln and ln_1p ≤ 1 ulp; sin/cos of 2πu ≤ 2 ulp (the true error, checked
//! with mpmath on the 2^22 Box–Muller uniforms where the distance is 2, is at most 1.54 ulp);
//! erfc within 4 ulp of statrs' erfc (the same rational approximations on glibc's exp).

/// 1.5·2^52: adding it to |v| < 2^51 rounds v to an integer (to nearest, ties to even), held in
/// the low bits of the sum's representation.
const SHIFT: f64 = 6_755_399_441_055_744.0;
/// The bits of [`SHIFT`].
const SHIFT_BITS: u64 = 0x4338_0000_0000_0000;

/// 2^n as an f64 for −1022 ≤ n ≤ 1023 (the exponent field alone).
#[inline(always)]
fn pow2(n: i64) -> f64 {
    f64::from_bits(((n + 1023) as u64) << 52)
}

// ---- exp ------------------------------------------------------------------------------------

/// Above it e^x overflows (e^710 > f64::MAX): arguments are clamped to it, giving +∞.
const EXP_X_MAX: f64 = 710.0;
/// Below it e^x is under half the least subnormal: arguments are clamped to it, giving +0.
const EXP_X_MIN: f64 = -746.0;
/// 64/ln 2.
const EXP_INV_STEP: f64 = 92.332_482_616_893_66;
/// ln2/64 rounded to 36 significant bits: n·hi is exact for |n| < 2^17.
const EXP_STEP_HI: f64 = 0.010_830_424_696_223_417;
/// ln2/64 − [`EXP_STEP_HI`].
const EXP_STEP_LO: f64 = 2.572_804_622_327_669e-14;
/// (e^r − 1 − r)/r² ≈ P0 + P1·r + P2·r² + P3·r³ on |r| ≤ ln2/128 (abs. error 1.5e-13, so
/// e^r − 1 to a relative 4.4e-18).
const EXP_P: [f64; 4] = [
    0.499_999_999_999_850_73,
    0.166_666_666_666_645_34,
    0.041_666_707_395_269_65,
    0.008_333_339_151_704_595,
];
/// 2^(j/64) = `EXP_T_HI[j] + EXP_T_LO[j]`, j = 0..63.
#[rustfmt::skip]
#[allow(clippy::approx_constant)] // entry 32 is 2^(32/64) = √2, as the script prints it
const EXP_T_HI: [f64; 64] = [
    1.0, 1.0108892860517005, 1.0218971486541166, 1.0330248790212284, 1.0442737824274138,
    1.0556451783605572, 1.0671404006768237, 1.0787607977571199, 1.0905077326652577,
    1.102382583307841, 1.1143867425958924, 1.1265216186082418, 1.1387886347566916,
    1.1511892299529827, 1.1637248587775775, 1.1763969916502812, 1.189207115002721,
    1.202156731452703, 1.215247359980469, 1.22848053610687, 1.241857812073484,
    1.255380757024691, 1.2690509571917332, 1.2828700160787783, 1.2968395546510096,
    1.3109612115247644, 1.3252366431597413, 1.339667524053303, 1.3542555469368927,
    1.3690024229745905, 1.383909881963832, 1.3989796725383112, 1.4142135623730951,
    1.42961333839197, 1.4451808069770467, 1.460917794180647, 1.4768261459394993,
    1.4929077282912648, 1.5091644275934228, 1.5255981507445384, 1.5422108254079407,
    1.559004400237837, 1.5759808451078865, 1.593142151342267, 1.6104903319492543,
    1.6280274218573478, 1.645755478153965, 1.6636765803267364, 1.681792830507429,
    1.7001063537185235, 1.718619298122478, 1.7373338352737062, 1.7562521603732995,
    1.7753764925265212, 1.7947090750031072, 1.8142521755003989, 1.8340080864093424,
    1.8539791250833855, 1.8741676341103, 1.8945759815869656, 1.9152065613971474,
    1.9360617934922943, 1.9571441241754002, 1.978456026387951,
];
/// See [`EXP_T_HI`].
#[rustfmt::skip]
const EXP_T_LO: [f64; 64] = [
    0.0, -1.5234778603368577e-17, 5.109225028973444e-17, 7.600838874027088e-18,
    8.551889705537965e-17, 1.759325738772092e-18, -7.899853966841582e-17,
    -6.656660436056593e-17, -3.046782079812471e-17, 5.2660368715706944e-17,
    1.0410278456845571e-16, 5.165856758795457e-17, 8.912812676025408e-17,
    3.250710218863827e-17, 3.8292048369240935e-17, 5.554203254218079e-17,
    3.982015231465646e-17, 6.644981499252301e-17, -7.712630692681488e-17,
    -1.89878163130253e-17, 4.658027591836937e-17, -6.7113898212968784e-18,
    2.667932131342186e-18, 1.713594918243561e-17, 2.5382502794888315e-17,
    -7.181536135519454e-17, -2.8587312100388614e-17, 8.927282594831732e-17,
    7.70094837980299e-17, 9.593797919118849e-17, -6.770511658794786e-17,
    -9.614213209051323e-17, -9.667293313452913e-17, -1.2031642489053655e-17,
    -3.0237581349939873e-17, -5.600377186075216e-17, -3.483994556892796e-17,
    1.4192920154284036e-17, -1.016455327754295e-16, -1.1024941712342561e-16,
    7.949834809697621e-17, 3.7812070533575275e-17, -1.0136916471278304e-17,
    -1.0094406542311964e-16, 2.4707192569797888e-17, -6.712955084707084e-17,
    -1.0125679913674773e-16, 5.8909926967131e-17, 8.199010020581497e-17,
    -8.0237193703977e-18, -1.851380418263111e-17, 3.164389299292957e-17,
    2.960140695448873e-17, 6.429731796556572e-17, 1.8227458427912087e-17,
    -9.969531538920349e-17, 3.283107224245627e-17, 9.761887490727594e-17,
    -6.122763413004143e-17, 3.4034035352165297e-17, -1.0619946056195963e-16,
    1.0332385960676326e-16, 8.960767791036668e-17, 4.0388753109278167e-17,
];

/// e^x.
///
/// x = (64k + j)·ln2/64 + r with n = 64k + j = round(x·64/ln2) and |r| ≤ ln2/128 (r exact up to
/// the tiny rounding of n·(ln2/64)_lo: (ln2/64)_hi has 36 bits, so n·hi and x − n·hi are
/// exact); e^x = 2^k · `(T_HI[j] + (T_LO[j] + T_HI[j]·p))`, p = r + r²·P(r) ≈ e^r − 1; the
/// scaling multiplies by 2^⌊k/2⌋ and 2^(k−⌊k/2⌋) (both normal, the first product exact), so a
/// subnormal result is rounded once and an overflow gives +∞. x > 710 → +∞, x < −746 → +0,
/// NaN → NaN. Max error 1 ulp (subnormal results: 1 ulp of the subnormal grid).
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    let xc = x.clamp(EXP_X_MIN, EXP_X_MAX);
    let t = xc * EXP_INV_STEP + SHIFT;
    let nf = t - SHIFT;
    // n = round(x·64/ln 2) (garbage but harmless for NaN: the result is NaN anyway).
    let n = t.to_bits().wrapping_sub(SHIFT_BITS) as i64;
    let r = (xc - nf * EXP_STEP_HI) - nf * EXP_STEP_LO;
    let j = (n & 63) as usize;
    let k = n >> 6;
    let p = r + (r * r) * (EXP_P[0] + r * (EXP_P[1] + r * (EXP_P[2] + r * EXP_P[3])));
    let th = EXP_T_HI[j];
    let y = th + (EXP_T_LO[j] + th * p);
    let k1 = k >> 1;
    y * pow2(k1) * pow2(k - k1)
}

// ---- ln, ln_1p ------------------------------------------------------------------------------

/// The bits of √½ (rounded): mantissas are reduced into [√½, √2).
const LN_SQRT_HALF_BITS: u64 = 0x3FE6_A09E_667F_3BCD;
/// The fraction field of an f64.
const MANT_MASK: u64 = (1 << 52) - 1;
/// 2^54, scales a subnormal argument of ln to a normal one.
const TWO_54: f64 = 18_014_398_509_481_984.0;
/// ln 2 rounded to 42 significant bits: k·hi is exact for |k| < 2^11.
const LN2_HI: f64 = 0.693_147_180_559_890_3;
/// ln 2 − [`LN2_HI`].
const LN2_LO: f64 = 5.497_923_018_708_371e-14;
/// (2·atanh(s) − 2s)/s³ ≈ `Σ LN_P[i]·z^i` in z = s² ≤ 0.02944 (abs. error 3.2e-16, so
/// ln((1+s)/(1−s)) to a relative 4.6e-18).
const LN_P: [f64; 7] = [
    0.666_666_666_666_667,
    0.399_999_999_998_995_05,
    0.285_714_286_259_757_5,
    0.222_222_111_347_518_35,
    0.181_828_891_284_124_58,
    0.153_317_214_958_260_12,
    0.146_164_509_795_521_1,
];

/// The reduction of ln for x > 0: x = 2^k·m with m ∈ [√½, √2), f = m − 1 (exact),
/// s = f/(2 + f), so ln m = 2·atanh(s) = f − f²/2 + s·(f²/2 + R), R = s²·LN_P(s²).
/// Returns (k, f, f²/2, s·(f²/2 + R)); garbage (never a panic) for x ≤ 0, ∞ or NaN.
#[inline(always)]
fn ln_parts(x: f64) -> (f64, f64, f64, f64) {
    let tiny = x < f64::MIN_POSITIVE;
    let xs = if tiny { x * TWO_54 } else { x };
    let (k, f, hfsq, sr) = ln_parts_normal(xs);
    // k is an integer below 2^11 in magnitude: the subtraction in f64 is exact.
    (k - if tiny { 54.0 } else { 0.0 }, f, hfsq, sr)
}

/// [`ln_parts`] of a normal x (no subnormal scaling).
#[inline(always)]
fn ln_parts_normal(xs: f64) -> (f64, f64, f64, f64) {
    let d = xs.to_bits().wrapping_sub(LN_SQRT_HALF_BITS) as i64;
    let k = d >> 52;
    let m = f64::from_bits((d as u64 & MANT_MASK) + LN_SQRT_HALF_BITS);
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z
        * (LN_P[0]
            + z * (LN_P[1]
                + z * (LN_P[2] + z * (LN_P[3] + z * (LN_P[4] + z * (LN_P[5] + z * LN_P[6]))))));
    (k as f64, f, hfsq, s * (hfsq + r))
}

/// ln's value `r` at a finite x > 0, the limits elsewhere: ln 0 = −∞, ln(x < 0) = NaN,
/// ln ∞ = ∞, ln NaN = NaN.
#[inline(always)]
fn ln_limits(x: f64, r: f64) -> f64 {
    if x == 0.0 {
        f64::NEG_INFINITY
    } else if x < 0.0 {
        f64::NAN
    } else if x < f64::INFINITY {
        r
    } else {
        x
    }
}

/// ln x: k·ln2 + ln m from the exponent and mantissa bits (`ln_parts`), combined as
/// k·ln2_hi − ((f²/2 − (s·(f²/2 + R) + k·ln2_lo)) − f). Subnormal x is scaled by 2^54 first.
/// ln 0 = −∞, x < 0 → NaN, ln ∞ = ∞. Max error 1 ulp.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    let (k, f, hfsq, sr) = ln_parts(x);
    ln_limits(x, k * LN2_HI - ((hfsq - (sr + k * LN2_LO)) - f))
}

/// [`ln`] of a uniform u ∈ [2^-33, 1) as [`crate::rng::uniform`] makes them (a normal
/// number, finite, > 0): the same operations as `ln` without the subnormal scaling and the
/// limits, neither of which applies there, so the same bits (Box–Muller's radius in vector
/// code: five fewer operations).
#[inline(always)]
pub fn ln_unit(u: f64) -> f64 {
    debug_assert!((f64::MIN_POSITIVE..1.0).contains(&u));
    let (k, f, hfsq, sr) = ln_parts_normal(u);
    k * LN2_HI - ((hfsq - (sr + k * LN2_LO)) - f)
}

/// ln(1 + x) (x ≥ −1), accurate near 0: u = 1 + x rounded, c = (x − (u − 1))/u the relative
/// rounding error of u (so ln(1 + x) = ln u + c to first order), added to ln u's low part.
/// ±0 → ±0, −1 → −∞, x < −1 → NaN. Max error 1 ulp.
#[inline(always)]
pub fn ln_1p(x: f64) -> f64 {
    let u = 1.0 + x;
    let c = (x - (u - 1.0)) / u;
    let (k, f, hfsq, sr) = ln_parts(u);
    let r = k * LN2_HI - ((hfsq - (sr + (k * LN2_LO + c))) - f);
    if x == 0.0 {
        x
    } else {
        ln_limits(u, r)
    }
}

// ---- cos, sin of 2πu ------------------------------------------------------------------------

/// π/2 rounded.
const SIN_S0_HI: f64 = std::f64::consts::FRAC_PI_2;
/// π/2 − [`SIN_S0_HI`].
const SIN_S0_LO: f64 = 6.123_233_995_736_766e-17;
/// (sin(πx/2)/x − π/2)/x² ≈ `Σ SIN_P[i]·w^i` in w = x² ≤ 1/4 (abs. error 8.3e-17).
const SIN_P: [f64; 6] = [
    -0.645_964_097_506_246_2,
    0.079_692_626_246_144_23,
    -0.004_681_754_134_254_207,
    0.000_160_441_166_614_094_23,
    -3.598_702_950_973_510_5e-6,
    5.642_225_369_163_528e-8,
];
/// (cos(πx/2) − 1)/x² ≈ `Σ COS_P[i]·w^i` in w = x² ≤ 1/4 (abs. error 7.8e-17).
const COS_P: [f64; 7] = [
    -1.233_700_550_136_169_7,
    0.253_669_507_901_047_8,
    -0.020_863_480_763_340_773,
    0.000_919_260_274_546_844_7,
    -2.520_203_902_802_917_8e-5,
    4.710_678_405_505_227e-7,
    -6.329_396_344_967_424e-9,
];

/// The exact reduction of 2πu: 4u = q + x with q = round(4u) (ties to even) and |x| ≤ 1/2, both
/// exact in binary (for |u| < 2^49); 2πu = q·π/2 + x·π/2. Returns (the low bits of q, x), and
/// (sin, cos) of x·π/2 by the polynomials: sin = x·S0_hi + x·(S0_lo + w·SIN_P(w)),
/// cos = 1 + w·COS_P(w), w = x².
#[inline(always)]
fn tau_parts(u: f64) -> (u64, f64, f64) {
    let u4 = u * 4.0;
    let t = u4 + SHIFT;
    let x = u4 - (t - SHIFT);
    let w = x * x;
    let sp =
        SIN_P[0] + w * (SIN_P[1] + w * (SIN_P[2] + w * (SIN_P[3] + w * (SIN_P[4] + w * SIN_P[5]))));
    let s = x * SIN_S0_HI + x * (SIN_S0_LO + w * sp);
    let cp = COS_P[0]
        + w * (COS_P[1]
            + w * (COS_P[2] + w * (COS_P[3] + w * (COS_P[4] + w * (COS_P[5] + w * COS_P[6])))));
    let c = 1.0 + w * cp;
    (t.to_bits(), s, c)
}

/// `v` with its sign flipped when bit 1 of `q` is set (a half turn).
#[inline(always)]
fn half_turn(v: f64, q: u64) -> f64 {
    f64::from_bits(v.to_bits() ^ ((q & 2) << 62))
}

/// cos(2πu), exact argument reduction in u (|u| < 2^49; the model calls it on (0, 1)). Max error
/// about 1.5 ulp.
#[inline(always)]
pub fn cos_tau(u: f64) -> f64 {
    sin_cos_tau(u).1
}

/// (sin 2πu, cos 2πu): by the quadrant q mod 4 of the reduction, (s, c), (c, −s), (−s, −c),
/// (−c, s). Max error about 1.5 ulp each.
#[inline(always)]
pub fn sin_cos_tau(u: f64) -> (f64, f64) {
    let (q, s, c) = tau_parts(u);
    let (a, b) = if q & 1 == 0 { (s, c) } else { (c, s) };
    (half_turn(a, q), half_turn(b, q.wrapping_add(1)))
}

// ---- erfc -----------------------------------------------------------------------------------

/// Boost's rational approximations of erf/erfc (as in statrs 0.19's `erf_impl`, same
/// coefficients), lowest degree first: erf on [0, 0.5) (ERF_AN/ERF_AD) and erfc on
/// [0.5, 110) in 13 pieces.
#[rustfmt::skip]
#[allow(clippy::excessive_precision)] // statrs' (Boost's) literals, kept digit for digit
mod erf_coeffs {
    pub(super) const AN: [f64; 8] = [0.00337916709551257388990745, -0.00073695653048167948530905, -0.374732337392919607868241, 0.0817442448733587196071743, -0.0421089319936548595203468, 0.0070165709512095756344528, -0.00495091255982435110337458, 0.000871646599037922480317225];
    pub(super) const AD: [f64; 8] = [1.0, -0.218088218087924645390535, 0.412542972725442099083918, -0.0841891147873106755410271, 0.0655338856400241519690695, -0.0120019604454941768171266, 0.00408165558926174048329689, -0.000615900721557769691924509];
    pub(super) const BN: [f64; 6] = [-0.0361790390718262471360258, 0.292251883444882683221149, 0.281447041797604512774415, 0.125610208862766947294894, 0.0274135028268930549240776, 0.00250839672168065762786937];
    pub(super) const BD: [f64; 6] = [1.0, 1.8545005897903486499845, 1.43575803037831418074962, 0.582827658753036572454135, 0.124810476932949746447682, 0.0113724176546353285778481];
    pub(super) const CN: [f64; 7] = [-0.0397876892611136856954425, 0.153165212467878293257683, 0.191260295600936245503129, 0.10276327061989304213645, 0.029637090615738836726027, 0.0046093486780275489468812, 0.000307607820348680180548455];
    pub(super) const CD: [f64; 7] = [1.0, 1.95520072987627704987886, 1.64762317199384860109595, 0.768238607022126250082483, 0.209793185936509782784315, 0.0319569316899913392596356, 0.00213363160895785378615014];
    pub(super) const DN: [f64; 7] = [-0.0300838560557949717328341, 0.0538578829844454508530552, 0.0726211541651914182692959, 0.0367628469888049348429018, 0.00964629015572527529605267, 0.00133453480075291076745275, 0.778087599782504251917881e-4];
    pub(super) const DD: [f64; 8] = [1.0, 1.75967098147167528287343, 1.32883571437961120556307, 0.552528596508757581287907, 0.133793056941332861912279, 0.0179509645176280768640766, 0.00104712440019937356634038, -0.106640381820357337177643e-7];
    pub(super) const EN: [f64; 7] = [-0.0117907570137227847827732, 0.014262132090538809896674, 0.0202234435902960820020765, 0.00930668299990432009042239, 0.00213357802422065994322516, 0.00025022987386460102395382, 0.120534912219588189822126e-4];
    pub(super) const ED: [f64; 7] = [1.0, 1.50376225203620482047419, 0.965397786204462896346934, 0.339265230476796681555511, 0.0689740649541569716897427, 0.00771060262491768307365526, 0.000371421101531069302990367];
    pub(super) const FN: [f64; 7] = [-0.00546954795538729307482955, 0.00404190278731707110245394, 0.0054963369553161170521356, 0.00212616472603945399437862, 0.000394984014495083900689956, 0.365565477064442377259271e-4, 0.135485897109932323253786e-5];
    pub(super) const FD: [f64; 8] = [1.0, 1.21019697773630784832251, 0.620914668221143886601045, 0.173038430661142762569515, 0.0276550813773432047594539, 0.00240625974424309709745382, 0.891811817251336577241006e-4, -0.465528836283382684461025e-11];
    pub(super) const GN: [f64; 6] = [-0.00270722535905778347999196, 0.0013187563425029400461378, 0.00119925933261002333923989, 0.00027849619811344664248235, 0.267822988218331849989363e-4, 0.923043672315028197865066e-6];
    pub(super) const GD: [f64; 7] = [1.0, 0.814632808543141591118279, 0.268901665856299542168425, 0.0449877216103041118694989, 0.00381759663320248459168994, 0.000131571897888596914350697, 0.404815359675764138445257e-11];
    pub(super) const HN: [f64; 6] = [-0.00109946720691742196814323, 0.000406425442750422675169153, 0.000274499489416900707787024, 0.465293770646659383436343e-4, 0.320955425395767463401993e-5, 0.778286018145020892261936e-7];
    pub(super) const HD: [f64; 6] = [1.0, 0.588173710611846046373373, 0.139363331289409746077541, 0.0166329340417083678763028, 0.00100023921310234908642639, 0.24254837521587225125068e-4];
    pub(super) const IN: [f64; 5] = [-0.00056907993601094962855594, 0.000169498540373762264416984, 0.518472354581100890120501e-4, 0.382819312231928859704678e-5, 0.824989931281894431781794e-7];
    pub(super) const ID: [f64; 6] = [1.0, 0.339637250051139347430323, 0.043472647870310663055044, 0.00248549335224637114641629, 0.535633305337152900549536e-4, -0.117490944405459578783846e-12];
    pub(super) const JN: [f64; 5] = [-0.000241313599483991337479091, 0.574224975202501512365975e-4, 0.115998962927383778460557e-4, 0.581762134402593739370875e-6, 0.853971555085673614607418e-8];
    pub(super) const JD: [f64; 5] = [1.0, 0.233044138299687841018015, 0.0204186940546440312625597, 0.000797185647564398289151125, 0.117019281670172327758019e-4];
    pub(super) const KN: [f64; 5] = [-0.000146674699277760365803642, 0.162666552112280519955647e-4, 0.269116248509165239294897e-5, 0.979584479468091935086972e-7, 0.101994647625723465722285e-8];
    pub(super) const KD: [f64; 5] = [1.0, 0.165907812944847226546036, 0.0103361716191505884359634, 0.000286593026373868366935721, 0.298401570840900340874568e-5];
    pub(super) const LN: [f64; 5] = [-0.583905797629771786720406e-4, 0.412510325105496173512992e-5, 0.431790922420250949096906e-6, 0.993365155590013193345569e-8, 0.653480510020104699270084e-10];
    pub(super) const LD: [f64; 5] = [1.0, 0.105077086072039915406159, 0.00414278428675475620830226, 0.726338754644523769144108e-4, 0.477818471047398785369849e-6];
    pub(super) const MN: [f64; 4] = [-0.196457797609229579459841e-4, 0.157243887666800692441195e-5, 0.543902511192700878690335e-7, 0.317472492369117710852685e-9];
    pub(super) const MD: [f64; 5] = [1.0, 0.052803989240957632204885, 0.000926876069151753290378112, 0.541011723226630257077328e-5, 0.535093845803642394908747e-15];
    pub(super) const NN: [f64; 4] = [-0.789224703978722689089794e-5, 0.622088451660986955124162e-6, 0.145728445676882396797184e-7, 0.603715505542715364529243e-10];
    pub(super) const ND: [f64; 4] = [1.0, 0.0375328846356293715248719, 0.000467919535974625308126054, 0.193847039275845656900547e-5];
}

/// `Σ c[i]·z^i` by Horner from the highest degree, starting from 0.0 (as the kernel's `g_poly`).
#[inline(always)]
fn poly(z: f64, c: &[f64]) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * z + ci)
}

/// erf(z) (`inv` false) or erfc(z) (`inv` true) for z ≥ 0: Boost's rational approximations;
/// for z ≥ 0.5, erfc(z) = e^(−z²)/z · (b + R(z − z0)) on the piece [z0, z1) holding z.
#[allow(clippy::excessive_precision)] // statrs' literal, kept digit for digit
fn erf_pos(z: f64, inv: bool) -> f64 {
    use erf_coeffs::*;
    let result = if z < 0.5 {
        if z < 1e-10 {
            z * 1.125 + z * 0.003_379_167_095_512_573_896_158_903_121_545_171_688
        } else {
            z * 1.125 + z * poly(z, &AN) / poly(z, &AD)
        }
    } else if z < 110.0 {
        let (r, b) = if z < 0.75 {
            (poly(z - 0.5, &BN) / poly(z - 0.5, &BD), 0.344_024_211_2)
        } else if z < 1.25 {
            (poly(z - 0.75, &CN) / poly(z - 0.75, &CD), 0.419_990_927)
        } else if z < 2.25 {
            (poly(z - 1.25, &DN) / poly(z - 1.25, &DD), 0.489_862_501_6)
        } else if z < 3.5 {
            (poly(z - 2.25, &EN) / poly(z - 2.25, &ED), 0.531_737_089_2)
        } else if z < 5.25 {
            (poly(z - 3.5, &FN) / poly(z - 3.5, &FD), 0.548_997_342_6)
        } else if z < 8.0 {
            (poly(z - 5.25, &GN) / poly(z - 5.25, &GD), 0.557_174_086_6)
        } else if z < 11.5 {
            (poly(z - 8.0, &HN) / poly(z - 8.0, &HD), 0.560_980_796_8)
        } else if z < 17.0 {
            (poly(z - 11.5, &IN) / poly(z - 11.5, &ID), 0.562_649_369_2)
        } else if z < 24.0 {
            (poly(z - 17.0, &JN) / poly(z - 17.0, &JD), 0.563_459_813_6)
        } else if z < 38.0 {
            (poly(z - 24.0, &KN) / poly(z - 24.0, &KD), 0.563_847_780_2)
        } else if z < 60.0 {
            (poly(z - 38.0, &LN) / poly(z - 38.0, &LD), 0.564_052_820_2)
        } else if z < 85.0 {
            (poly(z - 60.0, &MN) / poly(z - 60.0, &MD), 0.564_130_902_3)
        } else {
            (poly(z - 85.0, &NN) / poly(z - 85.0, &ND), 0.564_158_439_6)
        };
        let g = exp(-z * z) / z;
        g * b + g * r
    } else {
        0.0
    };
    if inv && z >= 0.5 {
        result
    } else if z >= 0.5 || inv {
        1.0 - result
    } else {
        result
    }
}

/// erfc x = 1 − erf x = (2/√π)·∫ₓ^∞ e^(−t²) dt: statrs' (Boost's) rational approximations,
/// transcribed, with this module's [`exp`]. erfc(NaN) = NaN, erfc(+∞) = 0, erfc(−∞) = 2.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        x
    } else if x == f64::INFINITY {
        0.0
    } else if x == f64::NEG_INFINITY {
        2.0
    } else if x < 0.0 {
        if x < -0.5 {
            2.0 - erf_pos(-x, true)
        } else {
            1.0 + erf_pos(-x, false)
        }
    } else {
        erf_pos(x, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arguments per domain (2^20 ≥ 10^6; the test profile is optimised, so this takes well
    /// under a second).
    const N: u64 = 1 << 20;

    /// Deterministic xorshift64 stream of uniforms in [0, 1) with 53 random bits.
    struct Draws(u64);
    impl Draws {
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn unit(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
        }
    }

    /// Distance in ulps between two finite values of the same sign (0 if both NaN or equal).
    fn ulps(a: f64, b: f64) -> u64 {
        if a == b || (a.is_nan() && b.is_nan()) {
            return 0;
        }
        assert!(
            a.is_finite() && b.is_finite() && (a >= 0.0) == (b >= 0.0),
            "{a} vs {b}"
        );
        a.to_bits().abs_diff(b.to_bits())
    }

    /// Max ulp distance of `ours` from `reference` over `n` arguments drawn by `arg`.
    fn max_ulps(
        n: u64,
        seed: u64,
        mut arg: impl FnMut(&mut Draws) -> f64,
        ours: impl Fn(f64) -> f64,
        reference: impl Fn(f64) -> f64,
    ) -> (u64, f64) {
        let mut d = Draws(seed);
        let mut worst = (0, 0.0);
        for _ in 0..n {
            let x = arg(&mut d);
            let e = ulps(ours(x), reference(x));
            if e > worst.0 {
                worst = (e, x);
            }
        }
        worst
    }

    #[test]
    fn exp_is_within_one_ulp_of_glibc() {
        for (lo, hi, seed) in [(-745.0, 709.0, 1), (-50.0, 50.0, 2), (-0.01, 0.01, 3)] {
            let w = max_ulps(N, seed, |d| lo + (hi - lo) * d.unit(), exp, f64::exp);
            assert!(w.0 <= 1, "exp on [{lo}, {hi}]: {} ulp at {:e}", w.0, w.1);
        }
        // Near the limits, and the limits.
        let w = max_ulps(N / 8, 4, |d| 700.0 + 9.78 * d.unit(), exp, f64::exp);
        assert!(w.0 <= 1, "{w:?}");
        let w = max_ulps(N / 8, 5, |d| -745.1 + 40.0 * d.unit(), exp, f64::exp);
        assert!(w.0 <= 1, "{w:?}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert_eq!(exp(709.79), f64::INFINITY);
        assert_eq!(exp(1e300), f64::INFINITY);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(-745.2), 0.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(1e-300), 1.0);
        assert_eq!(exp(std::f64::consts::LN_2), 2.0);
    }

    /// A positive f64 spread over every binade, subnormals included.
    fn any_positive(d: &mut Draws) -> f64 {
        f64::from_bits(d.next_u64() % 0x7FF0_0000_0000_0000).max(f64::from_bits(1))
    }

    #[test]
    fn ln_is_within_one_ulp_of_glibc() {
        // Box–Muller's uniforms (x + 0.5)·2^-32 and a dense (2^-33, 1).
        let uniform = |d: &mut Draws| crate::rng::uniform(d.next_u64() as u32);
        let w = max_ulps(N, 6, uniform, ln, f64::ln);
        assert!(w.0 <= 1, "{w:?}");
        let w = max_ulps(N, 7, |d| (d.unit() * 33.0).exp2() / 8.6e9, ln, f64::ln);
        assert!(w.0 <= 1, "{w:?}");
        let w = max_ulps(N, 8, any_positive, ln, f64::ln);
        assert!(w.0 <= 1, "{w:?}");
        let w = max_ulps(N / 4, 9, |d| 1.0 + (d.unit() - 0.5) * 1e-6, ln, f64::ln);
        assert!(w.0 <= 1, "{w:?}");
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(2.0), std::f64::consts::LN_2);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(-0.0), f64::NEG_INFINITY);
        assert!(ln(-1.0).is_nan() && ln(f64::NEG_INFINITY).is_nan() && ln(f64::NAN).is_nan());
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert_eq!(ln(f64::MAX), f64::MAX.ln());
        assert_eq!(ln(f64::from_bits(1)), f64::from_bits(1).ln());
    }

    #[test]
    fn ln_1p_is_within_one_ulp_of_glibc() {
        // −cdf for cdf ∈ [0, 1/2) (default times), small and large arguments.
        let w = max_ulps(N, 10, |d| -0.5 * d.unit(), ln_1p, f64::ln_1p);
        assert!(w.0 <= 1, "{w:?}");
        let w = max_ulps(
            N,
            11,
            |d| -(d.unit() * 60.0 - 61.0).exp2(),
            ln_1p,
            f64::ln_1p,
        );
        assert!(w.0 <= 1, "{w:?}");
        let w = max_ulps(N / 4, 12, any_positive, ln_1p, f64::ln_1p);
        assert!(w.0 <= 1, "{w:?}");
        let w = max_ulps(N / 4, 13, |d| d.unit() - 1.0, ln_1p, f64::ln_1p);
        assert!(w.0 <= 1, "{w:?}");
        assert_eq!(ln_1p(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(ln_1p(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(ln_1p(1e-300), 1e-300);
        assert_eq!(ln_1p(-1.0), f64::NEG_INFINITY);
        assert!(ln_1p(-1.5).is_nan() && ln_1p(f64::NAN).is_nan());
        assert_eq!(ln_1p(f64::INFINITY), f64::INFINITY);
        assert_eq!(ln_1p(1.0), std::f64::consts::LN_2);
    }

    /// (sin, cos)(2πu) by glibc at the reduced argument (q, x·π/2 as a double-double).
    fn reference_sin_cos(u: f64) -> (f64, f64) {
        let u4 = u * 4.0;
        let q = u4.round_ties_even();
        let x = u4 - q;
        let hi = x * SIN_S0_HI;
        let lo = x.mul_add(SIN_S0_HI, -hi) + x * SIN_S0_LO;
        let (s, c) = hi.sin_cos();
        let (s, c) = (s + c * lo, c - s * lo);
        match (q as i64).rem_euclid(4) {
            0 => (s, c),
            1 => (c, -s),
            2 => (-s, -c),
            _ => (-c, s),
        }
    }

    #[test]
    fn ln_unit_is_ln_on_every_uniform() {
        let mut d = Draws(0x51_7E57_u64);
        let ends = [0u32, 1, 2, 0x7FFF_FFFF, 0x8000_0000, u32::MAX - 1, u32::MAX];
        let words = ends
            .into_iter()
            .chain((0..200_000).map(|_| d.next_u64() as u32));
        for x in words {
            let u = crate::rng::uniform(x);
            assert_eq!(ln_unit(u).to_bits(), ln(u).to_bits(), "u({x})");
        }
    }

    #[test]
    fn sin_cos_tau_are_within_two_ulp_and_exact_at_quarter_turns() {
        let uniform = |d: &mut Draws| crate::rng::uniform(d.next_u64() as u32);
        let sin = |u| sin_cos_tau(u).0;
        let (rs, rc) = (|u| reference_sin_cos(u).0, |u| reference_sin_cos(u).1);
        for (seed, arg) in [
            (14, &uniform as &dyn Fn(&mut Draws) -> f64),
            (15, &|d| d.unit()),
        ] {
            let w = max_ulps(N, seed, arg, sin, rs);
            assert!(w.0 <= 2, "sin {w:?}");
            let w = max_ulps(N, seed, arg, cos_tau, rc);
            assert!(w.0 <= 2, "cos {w:?}");
        }
        // cos_tau is sin_cos_tau's cosine; odd/even symmetry is exact.
        let mut d = Draws(16);
        for _ in 0..N / 16 {
            let u = d.unit() * 8.0 - 4.0;
            let (s, c) = sin_cos_tau(u);
            assert_eq!(cos_tau(u).to_bits(), c.to_bits());
            let (sm, cm) = sin_cos_tau(-u);
            assert_eq!((sm, cm), (-s, c), "{u}");
        }
        for (u, s, c) in [
            (0.25, 1.0, 0.0),
            (0.5, 0.0, -1.0),
            (0.75, -1.0, 0.0),
            (1.0, 0.0, 1.0),
        ] {
            assert_eq!(sin_cos_tau(u), (s, c), "{u}");
        }
        assert!(cos_tau(f64::NAN).is_nan() && sin_cos_tau(f64::NAN).0.is_nan());
    }

    #[test]
    fn erfc_is_statrs_within_a_few_ulp() {
        let w = max_ulps(
            N / 4,
            17,
            |d| d.unit() * 60.0 - 10.0,
            erfc,
            statrs::function::erf::erfc,
        );
        assert!(w.0 <= 4, "{w:?}");
        assert_eq!(erfc(0.0), 1.0);
        assert_eq!(erfc(f64::INFINITY), 0.0);
        assert_eq!(erfc(f64::NEG_INFINITY), 2.0);
        assert_eq!(erfc(200.0), 0.0);
        assert!(erfc(f64::NAN).is_nan());
    }
}
