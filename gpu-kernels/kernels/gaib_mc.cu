// gaib Monte Carlo kernel: one thread per path runs every month of docs/MODEL.md (version 6).
//
// This file is a second implementation of the rules of gaib-engine (runner.rs, deal.rs,
// waterfall.rs, vault.rs) and gaib-simulator (rng.rs, model.rs, stats.rs, math.rs), transcribed
// operation by operation in the same order so that, compiled as host C++ (harness/shim.h,
// -ffp-contract=off), it reproduces the CPU backend bit for bit. It calls no libm function but
// sqrt, fabs and rint (exact in IEEE arithmetic): e^x, ln, ln(1 + x), cos/sin of 2πu and erfc
// are the model's own (MODEL.md §9.1, g_exp … below), so compiled by NVRTC (--fmad=false,
// IEEE division and square root, no flush to zero) it should compute the CPU backend's numbers
// exactly on a GPU too. Not yet verified on a GPU: none was available since model version 5
// (docs/GPU.md); the device parity check keeps version 4's last-bit tolerance until it is.
//
// It is self-contained: no #include (NVRTC has no standard headers); the host build includes
// harness/shim.h first, which defines __global__, __device__, __constant__, the thread indices
// and the atomics for a single host thread.
//
// Inputs: F (f64 buffer) and I (i32 buffer) of a FlatPlan (gpu-kernels/src/flat.rs; the slot
// numbers below must match flat.rs, checked by I[HI_MAGIC] and by the host-parity tests).
// The largest steps are __noinline__: measured with NVRTC/ptxas 13.0 on the CI machine kind,
// this halves the compile time (PTX 7.8 s instead of 16.4 s, ptxas 8.4 s instead of 19 s) and
// lowers register use for sm_90 from 166 to 118 (416-byte stack); run-time effect unmeasured.
// Output: acc, the exact fixed-point sums, counts and fixed-bin histograms of PathStats
// (128-bit sums as two u64 words added with carry: exact and independent of thread order).

#ifndef GAIB_HOST
#define GAIB_CONST __constant__
#endif

typedef unsigned long long u64;
typedef long long i64;
typedef unsigned int u32;

// ---- FlatPlan slots (mirror of gpu-kernels/src/flat.rs) ------------------------------------
#define GAIB_FLAT_MAGIC 0x6A1B0003

enum HeaderI {
  HI_MAGIC, HI_NC, HI_NF, HI_NO, HI_ND, HI_NP, HI_NT, HI_K, HI_HAS_VAULT, HI_CHOL_IDENTITY,
  HI_MAX_JUMPS, HI_SYS_STREAM, HI_NCYCLES, HI_V_NDEALS, HI_V_NHOLD, HI_V_HORIZON,
  HI_CLASS_STREAM, HI_FLEET_STREAM, HI_FLEET_CLASS, HI_FLEET_OPERATOR, HI_FLEET_CONTRACT_END,
  HI_OP_STREAM, HI_FLEET_DEALS_START, HI_FLEET_DEALS, HI_DEAL_FLEET, HI_DEAL_LIEN, HI_DEAL_KIND,
  HI_DEAL_TERM, HI_DEAL_LAG, HI_DEAL_SECURED, HI_DEAL_AMORT, HI_DEAL_GRACE, HI_DEAL_DSRA_MONTHS,
  HI_DEAL_HAS_FIXED, HI_POOL_DEALS_START, HI_POOL_DEALS, HI_POOL_TR_START, HI_TR_HAS_FIXED,
  HI_V_DEALS, HI_V_HOLD_POOL, HI_V_HOLD_TR, HI_V_CYCLE_END,
  HI_NDV, HI_DV_KIND, HI_DV_UNDER, HI_DV_FIXING, HI_DV_START, HI_DV_END,
  HI_FLEET_HEDGES_START, HI_FLEET_HEDGES, HI_FLEET_RF_START, HI_FLEET_RF,
  HF_CLASS_OU_DECAY, HF_CLASS_OU_SCALE, HF_CLASS_JUMP_RATE, HF_CLASS_JUMP_MEAN, HF_CLASS_JUMP_STD,
  HF_CHOL, HF_LOG_TREND_SHOCK, HF_INV_TREND, HF_FLEET_Y0, HF_FLEET_DECAY, HF_FLEET_PULL,
  HF_FLEET_SCALE, HF_FLEET_LOAD_PRICE, HF_FLEET_LOAD_OWN, HF_OP_HAZARD, HF_FLEET_GPU_HOURS,
  HF_FLEET_GPUS, HF_FLEET_PHI, HF_FLEET_RATE, HF_FLEET_OPEX_FIXED, HF_FLEET_OPEX_VAR,
  HF_FLEET_PURCHASE, HF_FLEET_AGE0, HF_FLEET_LIFE, HF_FLEET_FLOOR, HF_FLEET_HAIRCUT,
  HF_FLEET_LIQ_COST, HF_DEAL_FUNDED, HF_DEAL_FIXED_RATE, HF_DEAL_FLOAT_SPREAD, HF_DEAL_SWEEP,
  HF_DEAL_REFI, HF_DEAL_KICKER, HF_DEAL_RS_SHARE, HF_DEAL_RS_CAP, HF_DEAL_UNSEC_REC,
  HF_DEAL_NOTIONAL, HF_DEAL_DF, HF_DEAL_HAIRCUT, HF_BASE_RATES, HF_POOL_FEE_RATE, HF_POOL_OC,
  HF_TR_BALANCE, HF_TR_FIXED_COUPON, HF_TR_FLOAT_SPREAD, HF_TR_NOTIONAL, HF_TR_DF,
  HF_V_HOLD_FRAC, HF_V_RED_BY_CYCLE,
  HF_CLASS_PRICE0, HF_DV_SIGN, HF_DV_NOTIONAL, HF_DV_STRIKE, HF_DV_STRIKE_M, HF_DV_FLOOR,
  HF_DV_BASIS, HF_DV_REF, HF_DV_PREM, HF_DV_DF,
  HA_DEALS, HA_TRANCHES, HA_INST_SIZE, HA_INST_BINS, HA_PORT, HA_PORT_BINS, HA_VAULT,
  HA_NAV_BINS, HA_FAN_BINS, HA_CW_LEN, HA_COLL, HA_CHIST, HA_CHIST_BINS, HA_DV, HA_DV_SIZE,
  HA_PATHS, HA_ERR, HA_SIZE,
  HS_F, HS_I, HS_TRACE_STRIDE, HS_ROW_STRIDE,
  HI_COUNT
};

enum ScalarF {
  FS_COPULA_SYS, FS_COPULA_OWN, FS_FUNDED_TOTAL, FS_V_SHARES0, FS_V_BUFFER0, FS_V_TBILL,
  FS_V_MGMT, FS_V_PERF, FS_V_RED_FRACTION, FS_V_NAV0, FS_V_NAV0_PS, FS_INST_LO, FS_INST_HI,
  FS_PORT_LO, FS_PORT_HI, FS_NAV_LO, FS_NAV_HI, FS_FAN_LO, FS_FAN_HI, FS_CHIST_LO, FS_CHIST_HI,
  FS_COUNT
};

// Deal kinds, amortisation profiles, default kinds, liens (build.rs reads these #defines into
// Rust constants for flat.rs and trace.rs: one table of codes). Liens order a fleet's deals
// (the engine lists them senior first); the kernel only groups equal liens, which share pro rata.
#define KIND_LOAN 0
#define KIND_REV_SHARE 1
#define AM_ANNUITY 0
#define AM_LINEAR 1
#define AM_BULLET 2
#define DK_NONE 0
#define DK_PAYMENT 1
#define DK_REFINANCING 2
#define DK_CREDIT 3
#define LIEN_SENIOR 0
#define LIEN_PARI_PASSU 1
#define LIEN_JUNIOR 2
// Derivative kinds (a future settles as a forward) and fixings (MODEL.md §10).
#define DV_FORWARD 0
#define DV_SWAP 1
#define DV_CAP 2
#define DV_FLOOR 3
#define DV_REV_FLOOR 4
#define FX_AVERAGE 0
#define FX_MONTH_END 1

// Error bits in acc[HA_ERR].
#define ERR_MAGIC 1ull
#define ERR_SCRATCH 2ull
#define ERR_CYCLES_WAITED 4ull

// Trace fields: per deal, per fleet, per tranche, vault (mirror of flat.rs TRACE_*).
#define TR_DEAL_FIELDS 14
#define TR_FLEET_FIELDS 4
#define TR_DV_FIELDS 1
#define TR_TRANCHE_FIELDS 4
#define TR_VAULT_FIELDS 4

// ---- numerics of gaib_engine::Amount for f64 ------------------------------------------------
__device__ __forceinline__ double g_pos(double x) { return (0.0 > x) ? 0.0 : x; }
__device__ __forceinline__ double g_min(double a, double b) { return (b < a) ? b : a; }
__device__ __forceinline__ double g_max(double a, double b) { return (b > a) ? b : a; }
__device__ __forceinline__ int g_settled(double x) { return x <= 1e-9; }
__device__ __forceinline__ double g_fin(double x) { return (x - x == 0.0) ? x : 0.0; }
__device__ __forceinline__ int g_isnan(double x) { return x != x; }
// Amount::cents: half to even through the 1.5·2^52 trick (rint beyond 2^51).
__device__ __forceinline__ double g_cents(double x) {
  const double MAGIC = 6755399441055744.0;
  double c = x * 100.0;
  double r;
  if (fabs(c) < 2251799813685248.0) {
    r = (c + MAGIC) - MAGIC;
  } else {
    r = rint(c);
  }
  return r / 100.0;
}
// f64::powi: compiler-rt's __powidf2 (square-and-multiply).
__device__ __forceinline__ double g_powi(double a, int b) {
  int recip = b < 0;
  double r = 1.0;
  for (;;) {
    if (b & 1) r *= a;
    b /= 2;
    if (b == 0) break;
    a *= a;
  }
  return recip ? 1.0 / r : r;
}
// f64::clamp.
__device__ __forceinline__ double g_clamp(double x, double lo, double hi) {
  if (x < lo) x = lo;
  if (x > hi) x = hi;
  return x;
}

// ---- gaib's elementary functions (simulator/src/math.rs, MODEL.md §9.4) -----------------------
// Transcribed operation by operation from math.rs (same constants, same order; plain IEEE
// binary64 +, −, ×, ÷ and exact bit operations, no libm, no fused multiply-add), so the host
// build and the GPU compute exactly what the CPU backend computes. Constants: math.rs and
// scripts/math_constants.py.
#define G_SHIFT 6755399441055744.0
#define G_SHIFT_BITS 0x4338000000000000ull
// The exp table, indexed per thread: global memory (the constant cache serialises divergent
// indices).
#ifdef GAIB_HOST
#define GAIB_TABLE static const
#else
#define GAIB_TABLE __device__ const
#endif

__device__ __forceinline__ u64 g_bits(double x) { return (u64)__double_as_longlong(x); }
__device__ __forceinline__ double g_from_bits(u64 b) { return __longlong_as_double((i64)b); }
// 2^n for −1022 ≤ n ≤ 1023.
__device__ __forceinline__ double g_pow2(i64 n) { return g_from_bits(((u64)(n + 1023)) << 52); }

GAIB_TABLE double EXP_T_HI[64] = {
    1.0, 1.0108892860517005, 1.0218971486541166, 1.0330248790212284, 1.0442737824274138,
    1.0556451783605572, 1.0671404006768237, 1.0787607977571199, 1.0905077326652577,
    1.102382583307841, 1.1143867425958924, 1.1265216186082418, 1.1387886347566916,
    1.1511892299529827, 1.1637248587775775, 1.1763969916502812, 1.189207115002721,
    1.202156731452703, 1.215247359980469, 1.22848053610687, 1.241857812073484, 1.255380757024691,
    1.2690509571917332, 1.2828700160787783, 1.2968395546510096, 1.3109612115247644,
    1.3252366431597413, 1.339667524053303, 1.3542555469368927, 1.3690024229745905,
    1.383909881963832, 1.3989796725383112, 1.4142135623730951, 1.42961333839197,
    1.4451808069770467, 1.460917794180647, 1.4768261459394993, 1.4929077282912648,
    1.5091644275934228, 1.5255981507445384, 1.5422108254079407, 1.559004400237837,
    1.5759808451078865, 1.593142151342267, 1.6104903319492543, 1.6280274218573478,
    1.645755478153965, 1.6636765803267364, 1.681792830507429, 1.7001063537185235,
    1.718619298122478, 1.7373338352737062, 1.7562521603732995, 1.7753764925265212,
    1.7947090750031072, 1.8142521755003989, 1.8340080864093424, 1.8539791250833855,
    1.8741676341103, 1.8945759815869656, 1.9152065613971474, 1.9360617934922943,
    1.9571441241754002, 1.978456026387951
};
GAIB_TABLE double EXP_T_LO[64] = {
    0.0, -1.5234778603368577e-17, 5.109225028973444e-17, 7.600838874027088e-18,
    8.551889705537965e-17, 1.759325738772092e-18, -7.899853966841582e-17, -6.656660436056593e-17,
    -3.046782079812471e-17, 5.2660368715706944e-17, 1.0410278456845571e-16, 5.165856758795457e-17,
    8.912812676025408e-17, 3.250710218863827e-17, 3.8292048369240935e-17, 5.554203254218079e-17,
    3.982015231465646e-17, 6.644981499252301e-17, -7.712630692681488e-17, -1.89878163130253e-17,
    4.658027591836937e-17, -6.7113898212968784e-18, 2.667932131342186e-18, 1.713594918243561e-17,
    2.5382502794888315e-17, -7.181536135519454e-17, -2.8587312100388614e-17, 8.927282594831732e-17,
    7.70094837980299e-17, 9.593797919118849e-17, -6.770511658794786e-17, -9.614213209051323e-17,
    -9.667293313452913e-17, -1.2031642489053655e-17, -3.0237581349939873e-17,
    -5.600377186075216e-17, -3.483994556892796e-17, 1.4192920154284036e-17, -1.016455327754295e-16,
    -1.1024941712342561e-16, 7.949834809697621e-17, 3.7812070533575275e-17,
    -1.0136916471278304e-17, -1.0094406542311964e-16, 2.4707192569797888e-17,
    -6.712955084707084e-17, -1.0125679913674773e-16, 5.8909926967131e-17, 8.199010020581497e-17,
    -8.0237193703977e-18, -1.851380418263111e-17, 3.164389299292957e-17, 2.960140695448873e-17,
    6.429731796556572e-17, 1.8227458427912087e-17, -9.969531538920349e-17, 3.283107224245627e-17,
    9.761887490727594e-17, -6.122763413004143e-17, 3.4034035352165297e-17, -1.0619946056195963e-16,
    1.0332385960676326e-16, 8.960767791036668e-17, 4.0388753109278167e-17
};

// math::exp.
__device__ __forceinline__ double g_exp(double x) {
  double xc = g_clamp(x, -746.0, 710.0);
  double t = xc * 92.33248261689366 + G_SHIFT;
  double nf = t - G_SHIFT;
  i64 n = (i64)(g_bits(t) - G_SHIFT_BITS);
  double r = (xc - nf * 0.010830424696223417) - nf * 2.572804622327669e-14;
  int j = (int)(n & 63);
  i64 k = n >> 6;
  double p = r + (r * r) * (0.49999999999985073 +
                            r * (0.16666666666664534 +
                                 r * (0.04166670739526965 + r * 0.008333339151704595)));
  double th = EXP_T_HI[j];
  double y = th + (EXP_T_LO[j] + th * p);
  i64 k1 = k >> 1;
  return y * g_pow2(k1) * g_pow2(k - k1);
}

// math::ln_parts: x = 2^k·m, m ∈ [√½, √2), f = m − 1, s = f/(2 + f); *sr = s·(f²/2 + R).
__device__ __forceinline__ void g_ln_parts(double x, double* kf, double* f, double* hfsq,
                                           double* sr) {
  const u64 SQRT_HALF_BITS = 0x3FE6A09E667F3BCDull;
  int tiny = x < 2.2250738585072014e-308;
  double xs = tiny ? x * 18014398509481984.0 : x;
  i64 d = (i64)(g_bits(xs) - SQRT_HALF_BITS);
  i64 k = (d >> 52) - (tiny ? 54 : 0);
  double m = g_from_bits(((u64)d & 0xFFFFFFFFFFFFFull) + SQRT_HALF_BITS);
  double fm = m - 1.0;
  double h = 0.5 * fm * fm;
  double s = fm / (2.0 + fm);
  double z = s * s;
  double r = z * (0.666666666666667 +
                  z * (0.39999999999899505 +
                       z * (0.2857142862597575 +
                            z * (0.22222211134751835 +
                                 z * (0.18182889128412458 +
                                      z * (0.15331721495826012 + z * 0.1461645097955211))))));
  *kf = (double)k;
  *f = fm;
  *hfsq = h;
  *sr = s * (h + r);
}

// math::ln_limits.
__device__ __forceinline__ double g_ln_limits(double x, double r) {
  if (x == 0.0) return g_from_bits(0xFFF0000000000000ull);  // −∞
  if (x < 0.0) return g_from_bits(0x7FF8000000000000ull);   // NaN (f64::NAN)
  if (x < g_from_bits(0x7FF0000000000000ull)) return r;      // +∞
  return x;
}

#define G_LN2_HI 0.6931471805598903
#define G_LN2_LO 5.497923018708371e-14

// math::ln.
__device__ __forceinline__ double g_ln(double x) {
  double k, f, hfsq, sr;
  g_ln_parts(x, &k, &f, &hfsq, &sr);
  return g_ln_limits(x, k * G_LN2_HI - ((hfsq - (sr + k * G_LN2_LO)) - f));
}

// math::ln_1p.
__device__ __forceinline__ double g_ln_1p(double x) {
  double u = 1.0 + x;
  double c = (x - (u - 1.0)) / u;
  double k, f, hfsq, sr;
  g_ln_parts(u, &k, &f, &hfsq, &sr);
  double r = k * G_LN2_HI - ((hfsq - (sr + (k * G_LN2_LO + c))) - f);
  if (x == 0.0) return x;
  return g_ln_limits(u, r);
}

// math::sin_cos_tau: (sin 2πu, cos 2πu) with the exact reduction 4u = q + x.
__device__ __forceinline__ void g_sin_cos_tau(double u, double* so, double* co) {
  double u4 = u * 4.0;
  double t = u4 + G_SHIFT;
  double x = u4 - (t - G_SHIFT);
  double w = x * x;
  double sp = -0.6459640975062462 +
              w * (0.07969262624614423 +
                   w * (-0.004681754134254207 +
                        w * (0.00016044116661409423 +
                             w * (-3.5987029509735105e-06 + w * 5.642225369163528e-08))));
  double s = x * 1.5707963267948966 + x * (6.123233995736766e-17 + w * sp);
  double cp = -1.2337005501361697 +
              w * (0.2536695079010478 +
                   w * (-0.020863480763340773 +
                        w * (0.0009192602745468447 +
                             w * (-2.5202039028029178e-05 +
                                  w * (4.710678405505227e-07 + w * -6.329396344967424e-09)))));
  double c = 1.0 + w * cp;
  u64 q = g_bits(t);
  double a = (q & 1) == 0 ? s : c;
  double b = (q & 1) == 0 ? c : s;
  *so = g_from_bits(g_bits(a) ^ ((q & 2) << 62));
  *co = g_from_bits(g_bits(b) ^ (((q + 1) & 2) << 62));
}

// ---- Philox4x32-10 and the draws of simulator/src/rng.rs ------------------------------------
struct Words { u32 x0, x1, x2, x3; };

__device__ __forceinline__ Words philox(u32 c0, u32 c1, u32 c2, u32 c3, u32 k0, u32 k1) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
    u64 p0 = (u64)0xD2511F53u * (u64)c0;
    u64 p1 = (u64)0xCD9E8D57u * (u64)c2;
    u32 hi0 = (u32)(p0 >> 32), lo0 = (u32)p0;
    u32 hi1 = (u32)(p1 >> 32), lo1 = (u32)p1;
    u32 n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
  }
  Words w; w.x0 = c0; w.x1 = c1; w.x2 = c2; w.x3 = c3;
  return w;
}

__device__ __forceinline__ double g_uniform(u32 x) {
  return ((double)x + 0.5) * (1.0 / 4294967296.0);
}

__device__ __forceinline__ double g_bm_first(u32 a, u32 b) {
  double r = sqrt(-2.0 * g_ln(g_uniform(a)));
  double s, c;
  g_sin_cos_tau(g_uniform(b), &s, &c);
  return r * c;
}

__device__ __forceinline__ void g_bm(u32 a, u32 b, double* z0, double* z1) {
  double r = sqrt(-2.0 * g_ln(g_uniform(a)));
  double s, c;
  g_sin_cos_tau(g_uniform(b), &s, &c);
  *z0 = r * c;
  *z1 = r * s;
}

struct Rng { u32 k0, k1, path; };

__device__ __forceinline__ Words rng_words(const Rng& g, u32 stream, u32 step, u32 call) {
  return philox(g.path, stream, step, call, g.k0, g.k1);
}

__device__ __forceinline__ double rng_normal0(const Rng& g, u32 stream, u32 step, u32 call) {
  Words w = rng_words(g, stream, step, call);
  return g_bm_first(w.x0, w.x1);
}

__device__ __forceinline__ u32 g_poisson_inverse(double lambda, double u, u32 max) {
  if (lambda <= 0.0) return 0;
  double p = g_exp(-lambda);
  double cdf = p;
  u32 n = 0;
  while (cdf < u && n < max) {
    n += 1;
    p *= lambda / (double)n;
    cdf += p;
  }
  return n;
}

// ---- math::erfc: statrs' erfc (Boost's rational approximations, same coefficients) on g_exp ----
GAIB_CONST double ERF_AN[8] = {0.00337916709551257388990745, -0.00073695653048167948530905, -0.374732337392919607868241, 0.0817442448733587196071743, -0.0421089319936548595203468, 0.0070165709512095756344528, -0.00495091255982435110337458, 0.000871646599037922480317225};
GAIB_CONST double ERF_AD[8] = {1.0, -0.218088218087924645390535, 0.412542972725442099083918, -0.0841891147873106755410271, 0.0655338856400241519690695, -0.0120019604454941768171266, 0.00408165558926174048329689, -0.000615900721557769691924509};
GAIB_CONST double ERF_BN[6] = {-0.0361790390718262471360258, 0.292251883444882683221149, 0.281447041797604512774415, 0.125610208862766947294894, 0.0274135028268930549240776, 0.00250839672168065762786937};
GAIB_CONST double ERF_BD[6] = {1.0, 1.8545005897903486499845, 1.43575803037831418074962, 0.582827658753036572454135, 0.124810476932949746447682, 0.0113724176546353285778481};
GAIB_CONST double ERF_CN[7] = {-0.0397876892611136856954425, 0.153165212467878293257683, 0.191260295600936245503129, 0.10276327061989304213645, 0.029637090615738836726027, 0.0046093486780275489468812, 0.000307607820348680180548455};
GAIB_CONST double ERF_CD[7] = {1.0, 1.95520072987627704987886, 1.64762317199384860109595, 0.768238607022126250082483, 0.209793185936509782784315, 0.0319569316899913392596356, 0.00213363160895785378615014};
GAIB_CONST double ERF_DN[7] = {-0.0300838560557949717328341, 0.0538578829844454508530552, 0.0726211541651914182692959, 0.0367628469888049348429018, 0.00964629015572527529605267, 0.00133453480075291076745275, 0.778087599782504251917881e-4};
GAIB_CONST double ERF_DD[8] = {1.0, 1.75967098147167528287343, 1.32883571437961120556307, 0.552528596508757581287907, 0.133793056941332861912279, 0.0179509645176280768640766, 0.00104712440019937356634038, -0.106640381820357337177643e-7};
GAIB_CONST double ERF_EN[7] = {-0.0117907570137227847827732, 0.014262132090538809896674, 0.0202234435902960820020765, 0.00930668299990432009042239, 0.00213357802422065994322516, 0.00025022987386460102395382, 0.120534912219588189822126e-4};
GAIB_CONST double ERF_ED[7] = {1.0, 1.50376225203620482047419, 0.965397786204462896346934, 0.339265230476796681555511, 0.0689740649541569716897427, 0.00771060262491768307365526, 0.000371421101531069302990367};
GAIB_CONST double ERF_FN[7] = {-0.00546954795538729307482955, 0.00404190278731707110245394, 0.0054963369553161170521356, 0.00212616472603945399437862, 0.000394984014495083900689956, 0.365565477064442377259271e-4, 0.135485897109932323253786e-5};
GAIB_CONST double ERF_FD[8] = {1.0, 1.21019697773630784832251, 0.620914668221143886601045, 0.173038430661142762569515, 0.0276550813773432047594539, 0.00240625974424309709745382, 0.891811817251336577241006e-4, -0.465528836283382684461025e-11};
GAIB_CONST double ERF_GN[6] = {-0.00270722535905778347999196, 0.0013187563425029400461378, 0.00119925933261002333923989, 0.00027849619811344664248235, 0.267822988218331849989363e-4, 0.923043672315028197865066e-6};
GAIB_CONST double ERF_GD[7] = {1.0, 0.814632808543141591118279, 0.268901665856299542168425, 0.0449877216103041118694989, 0.00381759663320248459168994, 0.000131571897888596914350697, 0.404815359675764138445257e-11};
GAIB_CONST double ERF_HN[6] = {-0.00109946720691742196814323, 0.000406425442750422675169153, 0.000274499489416900707787024, 0.465293770646659383436343e-4, 0.320955425395767463401993e-5, 0.778286018145020892261936e-7};
GAIB_CONST double ERF_HD[6] = {1.0, 0.588173710611846046373373, 0.139363331289409746077541, 0.0166329340417083678763028, 0.00100023921310234908642639, 0.24254837521587225125068e-4};
GAIB_CONST double ERF_IN[5] = {-0.00056907993601094962855594, 0.000169498540373762264416984, 0.518472354581100890120501e-4, 0.382819312231928859704678e-5, 0.824989931281894431781794e-7};
GAIB_CONST double ERF_ID[6] = {1.0, 0.339637250051139347430323, 0.043472647870310663055044, 0.00248549335224637114641629, 0.535633305337152900549536e-4, -0.117490944405459578783846e-12};
GAIB_CONST double ERF_JN[5] = {-0.000241313599483991337479091, 0.574224975202501512365975e-4, 0.115998962927383778460557e-4, 0.581762134402593739370875e-6, 0.853971555085673614607418e-8};
GAIB_CONST double ERF_JD[5] = {1.0, 0.233044138299687841018015, 0.0204186940546440312625597, 0.000797185647564398289151125, 0.117019281670172327758019e-4};
GAIB_CONST double ERF_KN[5] = {-0.000146674699277760365803642, 0.162666552112280519955647e-4, 0.269116248509165239294897e-5, 0.979584479468091935086972e-7, 0.101994647625723465722285e-8};
GAIB_CONST double ERF_KD[5] = {1.0, 0.165907812944847226546036, 0.0103361716191505884359634, 0.000286593026373868366935721, 0.298401570840900340874568e-5};
GAIB_CONST double ERF_LN[5] = {-0.583905797629771786720406e-4, 0.412510325105496173512992e-5, 0.431790922420250949096906e-6, 0.993365155590013193345569e-8, 0.653480510020104699270084e-10};
GAIB_CONST double ERF_LD[5] = {1.0, 0.105077086072039915406159, 0.00414278428675475620830226, 0.726338754644523769144108e-4, 0.477818471047398785369849e-6};
GAIB_CONST double ERF_MN[4] = {-0.196457797609229579459841e-4, 0.157243887666800692441195e-5, 0.543902511192700878690335e-7, 0.317472492369117710852685e-9};
GAIB_CONST double ERF_MD[5] = {1.0, 0.052803989240957632204885, 0.000926876069151753290378112, 0.541011723226630257077328e-5, 0.535093845803642394908747e-15};
GAIB_CONST double ERF_NN[4] = {-0.789224703978722689089794e-5, 0.622088451660986955124162e-6, 0.145728445676882396797184e-7, 0.603715505542715364529243e-10};
GAIB_CONST double ERF_ND[4] = {1.0, 0.0375328846356293715248719, 0.000467919535974625308126054, 0.193847039275845656900547e-5};

__device__ __forceinline__ double g_poly(double z, const double* c, int n) {
  double acc = 0.0;
  for (int i = n - 1; i >= 0; --i) acc = acc * z + c[i];
  return acc;
}
#define POLY(z, A) g_poly((z), A, (int)(sizeof(A) / sizeof(A[0])))

// statrs' erf_impl for z ≥ 0 (the negative cases are unrolled in g_erf_impl: no recursion on
// the device).
__device__ __noinline__ double g_erf_pos(double z, int inv) {
  double result;
  if (z < 0.5) {
    if (z < 1e-10) {
      result = z * 1.125 + z * 0.003379167095512573896158903121545171688;
    } else {
      result = z * 1.125 + z * POLY(z, ERF_AN) / POLY(z, ERF_AD);
    }
  } else if (z < 110.0) {
    double r, b;
    if (z < 0.75) { r = POLY(z - 0.5, ERF_BN) / POLY(z - 0.5, ERF_BD); b = 0.3440242112; }
    else if (z < 1.25) { r = POLY(z - 0.75, ERF_CN) / POLY(z - 0.75, ERF_CD); b = 0.419990927; }
    else if (z < 2.25) { r = POLY(z - 1.25, ERF_DN) / POLY(z - 1.25, ERF_DD); b = 0.4898625016; }
    else if (z < 3.5) { r = POLY(z - 2.25, ERF_EN) / POLY(z - 2.25, ERF_ED); b = 0.5317370892; }
    else if (z < 5.25) { r = POLY(z - 3.5, ERF_FN) / POLY(z - 3.5, ERF_FD); b = 0.5489973426; }
    else if (z < 8.0) { r = POLY(z - 5.25, ERF_GN) / POLY(z - 5.25, ERF_GD); b = 0.5571740866; }
    else if (z < 11.5) { r = POLY(z - 8.0, ERF_HN) / POLY(z - 8.0, ERF_HD); b = 0.5609807968; }
    else if (z < 17.0) { r = POLY(z - 11.5, ERF_IN) / POLY(z - 11.5, ERF_ID); b = 0.5626493692; }
    else if (z < 24.0) { r = POLY(z - 17.0, ERF_JN) / POLY(z - 17.0, ERF_JD); b = 0.5634598136; }
    else if (z < 38.0) { r = POLY(z - 24.0, ERF_KN) / POLY(z - 24.0, ERF_KD); b = 0.5638477802; }
    else if (z < 60.0) { r = POLY(z - 38.0, ERF_LN) / POLY(z - 38.0, ERF_LD); b = 0.5640528202; }
    else if (z < 85.0) { r = POLY(z - 60.0, ERF_MN) / POLY(z - 60.0, ERF_MD); b = 0.5641309023; }
    else { r = POLY(z - 85.0, ERF_NN) / POLY(z - 85.0, ERF_ND); b = 0.5641584396; }
    double g = g_exp(-z * z) / z;
    result = g * b + g * r;
  } else {
    result = 0.0;
  }
  if (inv && z >= 0.5) return result;
  if (z >= 0.5 || inv) return 1.0 - result;
  return result;
}

__device__ double g_erf_impl(double z, int inv) {
  if (z < 0.0) {
    if (!inv) return -g_erf_pos(-z, 0);
    if (z < -0.5) return 2.0 - g_erf_pos(-z, 1);
    return 1.0 + g_erf_pos(-z, 0);
  }
  return g_erf_pos(z, inv);
}

__device__ double g_erfc(double x) {
  if (g_isnan(x)) return x;
  if (x > 1.7976931348623157e308) return 0.0;
  if (x < -1.7976931348623157e308) return 2.0;
  return g_erf_impl(x, 1);
}

// simulator::default_time: tau = −ln(1 − Phi(a))/h without cancellation.
__device__ double g_default_time(double a, double h) {
  const double sqrt2 = 1.4142135623730951;
  double cdf = 0.5 * g_erfc(-a / sqrt2);
  double mls;
  if (cdf < 0.5) mls = -g_ln_1p(-cdf);
  else mls = -g_ln(0.5 * g_erfc(a / sqrt2));
  return mls / h;
}

__device__ __forceinline__ double g_logistic_clamped(double y) {
  return g_clamp(1.0 / (1.0 + g_exp(-y)), 1e-15, 1.0 - 1e-15);
}

// simulator::stats::clean_loss_fraction.
__device__ __forceinline__ double g_clean_loss(double x) {
  if (fabs(x) < 1e-12) return 0.0;
  if (fabs(x - 1.0) < 1e-12) return 1.0;
  return x;
}

// ---- exact accumulators of simulator/src/stats.rs -------------------------------------------
// ExactSum: trunc(v·2^60) as a 128-bit two's-complement integer in two u64 words (lo, hi).
__device__ __forceinline__ void acc_fixed(u64* a, double v) {
  if (g_isnan(v)) v = 0.0;
  v = g_clamp(v, -1.0e5, 1.0e5);
  double whole = trunc(v);
  i64 frac = (i64)((v - whole) * 1152921504606846976.0);
  i64 w = (i64)whole;
  u64 lo = ((u64)w) << 60;
  u64 hi = (u64)(w >> 4);
  u64 flo = (u64)frac;
  u64 fhi = frac < 0 ? ~0ull : 0ull;
  u64 lo2 = lo + flo;
  u64 hi2 = hi + fhi + (lo2 < lo ? 1ull : 0ull);
  u64 old = atomicAdd(&a[0], lo2);
  u64 carry = (old + lo2 < old) ? 1ull : 0ull;
  atomicAdd(&a[1], hi2 + carry);
}

__device__ __forceinline__ void acc_count(u64* a, u64 n) { atomicAdd(a, n); }

// Moments: n, sum (2 words), sumsq (2 words).
__device__ __forceinline__ void acc_moments(u64* a, double x) {
  if (g_isnan(x)) x = 0.0;
  else x = g_clamp(x, -1.0e5, 1.0e5);
  atomicAdd(&a[0], 1ull);
  acc_fixed(&a[1], x);
  acc_fixed(&a[3], x * x);
}

// Order-preserving key of a non-NaN f64 (for exact atomic min/max).
__device__ __forceinline__ u64 g_key(double x) {
  u64 b = (u64)__double_as_longlong(x);
  return (b >> 63) ? ~b : (b | 0x8000000000000000ull);
}

// Histogram: counts[bins], at_lo, underflow, overflow, min key, max key.
__device__ __forceinline__ void acc_hist(u64* a, int bins, double lo, double hi, double x) {
  if (!g_isnan(x)) {
    u64 k = g_key(x);
    atomicMin(&a[bins + 3], k);
    atomicMax(&a[bins + 4], k);
  }
  if (x < lo) { atomicAdd(&a[bins + 1], 1ull); return; }
  if (x == lo) { atomicAdd(&a[bins], 1ull); return; }
  double b = floor((x - lo) / (hi - lo) * (double)bins);
  if (b >= 0.0 && b < (double)bins) atomicAdd(&a[(int)b], 1ull);
  else atomicAdd(&a[bins + 2], 1ull);
}

// Instrument block offsets (relative).
#define IN_PV 0
#define IN_LOSS 5
#define IN_LOSS_PATHS 10
#define IN_DEFAULT_PATHS 11
#define IN_DEFAULT_1Y 12
#define IN_LOD 13
#define IN_L1Y 18
#define IN_CF 23

// stats::record_default.
__device__ __forceinline__ void acc_default(u64* s, int defaulted, u32 month, double lf) {
  if (defaulted) {
    acc_count(&s[IN_DEFAULT_PATHS], 1);
    acc_moments(&s[IN_LOD], lf);
  }
  if (defaulted && month >= 1 && month <= 12) {
    acc_count(&s[IN_DEFAULT_1Y], 1);
    acc_moments(&s[IN_L1Y], lf);
  } else {
    acc_moments(&s[IN_L1Y], 0.0);
  }
}

// ---- the path's state in strided scratch (element j of a thread at base[j * stride]) --------
struct Ctx {
  const double* F;
  const int* I;
  double* sf;
  int* si;
  int st;
  int nc, nf, no, nd, np, nt, K, ncy, ndv;
  // f64 scratch
  int eps, z, x, jumps, price, pot, y, util, coll_left, frev, fnoi, fhw, fhedge;
  int prevp, fixsum, dvset, dvpv;
  int bal, dsra, recv, pamt, fl, loss, dpv, dloss;
  int trbal, arr, feearr, pb, tf, trpv, trrecv, trwd, vs, vead, qsh;
  int nf64;
  // i32 scratch
  int dm, credit, def, done, ko, phas, pmon, dkind, ddm, tdm, sidm, sidp, vint, qcyc, dvpaid;
  int ni32;
};

// Deal flow fields (block of nd each).
#define FL_INTEREST 0
#define FL_SCHED 1
#define FL_PREPAY 2
#define FL_REFI 3
#define FL_RSCAP 4
#define FL_RSINC 5
#define FL_KICKER 6
#define FL_RECOVERY 7
#define FL_EAD 8
#define FL_SHORTFALL 9
#define FL_CASHLEFT 10
#define FL_BEND 11
#define FL_COUNT 12
// Tranche flow fields (block of nt each).
#define TF_INT 0
#define TF_PRIN 1
#define TF_SHORT 2
#define TF_WD 3
#define TF_BEND 4
#define TF_COUNT 5
// Vault scalars.
#define VS_BUFFER 0
#define VS_SHARES 1
#define VS_MQF 2
#define VS_LAST_S 3
#define VS_LAST_U 4
#define VS_HZ_S 5
#define VS_HZ_U 6
#define VS_COUNT 8
#define VI_NEXT 0
#define VI_WORST 1
#define VI_HEAD 2
#define VI_TAIL 3

#define SF(o, j) c.sf[(c.o + (j)) * c.st]
#define SI(o, j) c.si[(c.o + (j)) * c.st]
#define FLW(f, d) c.sf[(c.fl + (f) * c.nd + (d)) * c.st]
#define TFW(f, t) c.sf[(c.tf + (f) * c.nt + (t)) * c.st]
#define PF(slot, j) c.F[c.I[slot] + (j)]
#define PI(slot, j) c.I[c.I[slot] + (j)]

__device__ void ctx_layout(Ctx& c) {
  const int* I = c.I;
  c.nc = I[HI_NC]; c.nf = I[HI_NF]; c.no = I[HI_NO]; c.nd = I[HI_ND]; c.np = I[HI_NP];
  c.nt = I[HI_NT]; c.K = I[HI_K]; c.ncy = I[HI_NCYCLES]; c.ndv = I[HI_NDV];
  int o = 0;
  c.eps = o; o += c.nc; c.z = o; o += c.nc; c.x = o; o += c.nc; c.jumps = o; o += c.nc;
  c.price = o; o += c.nc; c.pot = o; o += c.nc;
  c.y = o; o += c.nf; c.util = o; o += c.nf; c.coll_left = o; o += c.nf; c.frev = o; o += c.nf;
  c.fnoi = o; o += c.nf; c.fhw = o; o += c.nf;
  c.bal = o; o += c.nd; c.dsra = o; o += c.nd; c.recv = o; o += c.nd; c.pamt = o; o += c.nd;
  c.fl = o; o += FL_COUNT * c.nd; c.loss = o; o += c.nd; c.dpv = o; o += c.nd;
  c.dloss = o; o += c.nd;
  c.trbal = o; o += c.nt; c.arr = o; o += c.np; c.feearr = o; o += c.np; c.pb = o; o += c.np;
  c.tf = o; o += TF_COUNT * c.nt; c.trpv = o; o += c.nt; c.trrecv = o; o += c.nt;
  c.trwd = o; o += c.nt; c.vs = o; o += VS_COUNT; c.vead = o; o += c.nd;
  c.qsh = o; o += c.ncy + 1;
  c.fhedge = o; o += c.nf; c.prevp = o; o += c.nc;
  c.fixsum = o; o += c.ndv; c.dvset = o; o += c.ndv; c.dvpv = o; o += c.ndv;
  c.nf64 = o;
  o = 0;
  c.dm = o; o += c.no; c.credit = o; o += c.no;
  c.def = o; o += c.nd; c.done = o; o += c.nd; c.ko = o; o += c.nd; c.phas = o; o += c.nd;
  c.pmon = o; o += c.nd; c.dkind = o; o += c.nd; c.ddm = o; o += c.nd;
  c.tdm = o; o += c.nt; c.sidm = o; o += c.np; c.sidp = o; o += c.np;
  c.vint = o; o += 4; c.qcyc = o; o += c.ncy + 1;
  c.dvpaid = o; o += c.ndv;
  c.ni32 = o;
}

// ---- deals (engine/src/deal.rs) --------------------------------------------------------------
__device__ __forceinline__ double annuity_payment(double b, double r, u32 n) {
  if (n == 0) return b;
  if (r <= 0.0) return b / (double)n;
  double q = g_powi(1.0 + r, (int)n);
  return b * r * q / (q - 1.0);
}

// DealState::debt_service: (interest, scheduled principal) of month k on the current balance.
__device__ __noinline__ void debt_service(const Ctx& c, int d, u32 k, double base_rate, int balloon,
                             double* interest_out, double* sched_out) {
  if (PI(HI_DEAL_KIND, d) != KIND_LOAN) { *interest_out = 0.0; *sched_out = 0.0; return; }
  double annual = g_pos(PI(HI_DEAL_HAS_FIXED, d) ? PF(HF_DEAL_FIXED_RATE, d)
                                                 : base_rate + PF(HF_DEAL_FLOAT_SPREAD, d));
  double r = annual / 12.0;
  double b = SF(bal, d);
  double interest = g_cents(b * r);
  u32 term = (u32)PI(HI_DEAL_TERM, d);
  u32 grace = (u32)PI(HI_DEAL_GRACE, d);
  double sched;
  if (balloon && k >= term) {
    sched = b;
  } else if (k <= grace) {
    sched = 0.0;
  } else {
    int am = PI(HI_DEAL_AMORT, d);
    if (am == AM_BULLET) {
      sched = 0.0;
    } else if (am == AM_LINEAR) {
      sched = g_min(g_cents(PF(HF_DEAL_FUNDED, d) / (double)(term - grace)), b);
    } else {
      u32 left = term > k ? term - k : 0u;
      u32 n = left == 0xFFFFFFFFu ? left : left + 1u;
      sched = g_min(g_pos(g_cents(annuity_payment(b, r, n) - interest)), b);
    }
  }
  *interest_out = interest;
  *sched_out = sched;
}

__device__ double dsra_target(const Ctx& c, int d, u32 k, double base_rate) {
  if (PI(HI_DEAL_KIND, d) != KIND_LOAN) return 0.0;
  double i, sp;
  debt_service(c, d, k, base_rate, 0, &i, &sp);
  return g_cents((double)PI(HI_DEAL_DSRA_MONTHS, d) * (i + sp));
}

__device__ void deal_reset(Ctx& c, int d, double r1) {
  SF(bal, d) = PF(HF_DEAL_FUNDED, d);
  SF(dsra, d) = 0.0;
  SF(recv, d) = 0.0;
  SI(def, d) = 0; SI(done, d) = 0; SI(ko, d) = 0; SI(phas, d) = 0; SI(pmon, d) = 0;
  SF(pamt, d) = 0.0;
  SF(dsra, d) = dsra_target(c, d, 1, r1);
}

struct MonthIn { double revenue, cash, base_rate, refi_coll; int credit; };

__device__ __noinline__ void step_loan(Ctx& c, int d, u32 k, const MonthIn& m) {
  double cash_sweep = PF(HF_DEAL_SWEEP, d);
  double refi_ratio = PF(HF_DEAL_REFI, d);
  double kicker_share = PF(HF_DEAL_KICKER, d);
  int is_final = k >= (u32)PI(HI_DEAL_TERM, d);
  // MODEL.md §4.1 steps 3 and 4: a credit default in the final month comes before maturity.
  int matures = is_final && !m.credit;
  double interest_due, sched;
  debt_service(c, d, k, m.base_rate, 1, &interest_due, &sched);
  if (is_final && m.credit) sched = 0.0;
  double due = interest_due + sched;
  double cash = g_pos(m.cash);
  double excess;
  if (cash >= due) {
    FLW(FL_INTEREST, d) = interest_due;
    FLW(FL_SCHED, d) = sched;
    SF(bal, d) -= sched;
    excess = cash - due;
  } else if (cash + SF(dsra, d) >= due) {
    double draw = due - cash;
    SF(dsra, d) -= draw;
    FLW(FL_INTEREST, d) = interest_due;
    FLW(FL_SCHED, d) = sched;
    SF(bal, d) -= sched;
    excess = 0.0;
  } else {
    double available = cash + SF(dsra, d);
    SF(dsra, d) = 0.0;
    double interest_paid = g_min(available, interest_due);
    double principal_paid = available - interest_paid;
    FLW(FL_INTEREST, d) = interest_paid;
    FLW(FL_SCHED, d) = principal_paid;
    SF(bal, d) -= principal_paid;
    double unpaid = interest_due - interest_paid;
    FLW(FL_CASHLEFT, d) = g_min(m.cash, 0.0);
    int balloon_only = matures && g_settled(unpaid);
    if (balloon_only && m.refi_coll >= refi_ratio * SF(bal, d)) {
      FLW(FL_REFI, d) = SF(bal, d);
      SF(bal, d) = 0.0;
      SI(done, d) = 1;
      return;
    }
    FLW(FL_EAD, d) = SF(bal, d) + unpaid;
    SI(dkind, d) = balloon_only ? DK_REFINANCING : DK_PAYMENT;
    SF(bal, d) = 0.0;
    SI(def, d) = 1;
    SI(done, d) = 1;
    return;
  }
  if (!is_final && !g_settled(SF(bal, d))) {
    double target = dsra_target(c, d, k + 1, m.base_rate);
    if (SF(dsra, d) < target) {
      double refill = g_min(excess, target - SF(dsra, d));
      SF(dsra, d) += refill;
      excess -= refill;
    } else {
      SF(dsra, d) = target;
    }
  }
  double kicker = g_pos(g_min(g_cents(kicker_share * m.revenue), excess));
  FLW(FL_KICKER, d) = kicker;
  excess -= kicker;
  if (!is_final) {
    double sweep = g_pos(g_min(g_cents(cash_sweep * excess), SF(bal, d)));
    FLW(FL_PREPAY, d) = sweep;
    SF(bal, d) -= sweep;
    excess -= sweep;
  }
  if (matures || g_settled(SF(bal, d))) {
    excess += SF(dsra, d);
    SF(dsra, d) = 0.0;
    SF(bal, d) = 0.0;
    if (!is_final && kicker_share > 0.0) SI(ko, d) = 1;
    else SI(done, d) = 1;
  }
  FLW(FL_CASHLEFT, d) = excess + g_min(m.cash, 0.0);
}

__device__ void step_kicker_only(Ctx& c, int d, u32 k, const MonthIn& m) {
  double kicker = g_pos(g_min(g_cents(PF(HF_DEAL_KICKER, d) * m.revenue), m.cash));
  FLW(FL_KICKER, d) = kicker;
  FLW(FL_CASHLEFT, d) = m.cash - kicker;
  if (k >= (u32)PI(HI_DEAL_TERM, d) && !m.credit) { SI(ko, d) = 0; SI(done, d) = 1; }
}

__device__ void step_rev_share(Ctx& c, int d, u32 k, const MonthIn& m) {
  double advance = PF(HF_DEAL_FUNDED, d);
  double cap_left = g_pos(PF(HF_DEAL_RS_CAP, d) * advance - SF(recv, d));
  double pay = g_min(g_cents(PF(HF_DEAL_RS_SHARE, d) * g_pos(m.revenue)), cap_left);
  double capital = g_min(pay, SF(bal, d));
  FLW(FL_RSCAP, d) = capital;
  FLW(FL_RSINC, d) = pay - capital;
  SF(bal, d) -= capital;
  SF(recv, d) += pay;
  FLW(FL_CASHLEFT, d) = m.cash - pay;
  if (g_settled(cap_left - pay) || (k >= (u32)PI(HI_DEAL_TERM, d) && !m.credit)) {
    FLW(FL_SHORTFALL, d) = g_pos(SF(bal, d));
    SF(bal, d) = 0.0;
    SI(done, d) = 1;
  }
}

// DealState::step_into.
__device__ void deal_step(Ctx& c, int d, u32 k, const MonthIn& m) {
  for (int f = 0; f < FL_COUNT; ++f) FLW(f, d) = 0.0;
  FLW(FL_CASHLEFT, d) = m.cash;
  SI(dkind, d) = DK_NONE;
  if (SI(phas, d) && (u32)SI(pmon, d) <= k) {
    FLW(FL_RECOVERY, d) = SF(pamt, d);
    SI(phas, d) = 0;
  }
  if (SI(done, d)) return;
  if (SI(ko, d)) step_kicker_only(c, d, k, m);
  else if (PI(HI_DEAL_KIND, d) == KIND_LOAN) step_loan(c, d, k, m);
  else step_rev_share(c, d, k, m);
  if (m.credit && !SI(done, d)) {
    // A hybrid repaid early defaults too, with exposure 0 (MODEL.md §4.3, §5).
    SI(ko, d) = 0;
    FLW(FL_EAD, d) += SF(bal, d);
    SI(dkind, d) = DK_CREDIT;
    SF(bal, d) = 0.0;
    SI(def, d) = 1;
    SI(done, d) = 1;
  }
  FLW(FL_BEND, d) = SF(bal, d);
}

__device__ __forceinline__ double interest_proceeds(const Ctx& c, int d) {
  return FLW(FL_INTEREST, d) + FLW(FL_RSINC, d) + FLW(FL_KICKER, d);
}
__device__ __forceinline__ double principal_proceeds(const Ctx& c, int d) {
  return FLW(FL_SCHED, d) + FLW(FL_PREPAY, d) + FLW(FL_REFI, d) + FLW(FL_RSCAP, d) +
         FLW(FL_RECOVERY, d);
}
__device__ __forceinline__ double total_received(const Ctx& c, int d) {
  return interest_proceeds(c, d) + principal_proceeds(c, d);
}

// CashflowPlan::assign_recoveries.
__device__ __noinline__ void assign_recoveries(Ctx& c, int fleet, u32 k, double nlv) {
  double full = g_pos(nlv);
  double available = full * SF(coll_left, fleet);
  double start = available;
  int o0 = PI(HI_FLEET_DEALS_START, fleet), o1 = PI(HI_FLEET_DEALS_START, fleet + 1);
  int i = o0;
  while (i < o1) {
    int lien = PI(HI_DEAL_LIEN, PI(HI_FLEET_DEALS, i));
    int j = i;
    double claims = 0.0;
    while (j < o1 && PI(HI_DEAL_LIEN, PI(HI_FLEET_DEALS, j)) == lien) {
      int d = PI(HI_FLEET_DEALS, j);
      if (SI(dkind, d) != DK_NONE && PI(HI_DEAL_SECURED, d))
        claims += g_pos(FLW(FL_EAD, d) - SF(dsra, d));
      j += 1;
    }
    double alloc = g_min(available, claims);
    for (int x = i; x < j; ++x) {
      int d = PI(HI_FLEET_DEALS, x);
      if (SI(dkind, d) == DK_NONE) continue;
      double ead = FLW(FL_EAD, d);
      double dsra = SF(dsra, d);
      SF(dsra, d) = 0.0;
      double rec;
      if (PI(HI_DEAL_SECURED, d)) {
        double claim = g_pos(ead - dsra);
        double share = claims > 0.0 ? alloc * claim / claims : 0.0;
        rec = g_min(share + dsra, ead);
      } else {
        rec = g_min(g_cents(PF(HF_DEAL_UNSEC_REC, d) * ead) + dsra, ead);
      }
      SF(loss, d) += ead - rec;
      u32 due = k + (u32)PI(HI_DEAL_LAG, d);
      if (due > (u32)c.K) due = (u32)c.K;
      SI(phas, d) = 1;
      SI(pmon, d) = (int)due;
      SF(pamt, d) = rec;
    }
    available -= alloc;
    i = j;
  }
  if (start > 0.0) SF(coll_left, fleet) = SF(coll_left, fleet) * (available / start);
  for (int x = o0; x < o1; ++x) {
    int d = PI(HI_FLEET_DEALS, x);
    if (SI(phas, d) && (u32)SI(pmon, d) <= k && SI(dkind, d) != DK_NONE) {
      FLW(FL_RECOVERY, d) += SF(pamt, d);
      SI(phas, d) = 0;
    }
  }
}

// ---- pool waterfall (engine/src/waterfall.rs) ------------------------------------------------
struct Proceeds { double interest, principal; };

__device__ __forceinline__ double take(Proceeds& p, double due, int principal_too) {
  double a = g_min(g_pos(due), p.interest);
  p.interest -= a;
  double paid = a;
  if (principal_too) {
    double b = g_min(g_pos(due) - a, p.principal);
    p.principal -= b;
    paid += b;
  }
  return paid;
}

// WaterfallState::step; returns whether the senior ends the month with arrears.
__device__ __noinline__ int waterfall_step(Ctx& c, int q, double ip, double pp, double perf, double base_rate,
                              int legal_final) {
  int t0 = PI(HI_POOL_TR_START, q);
  int eq = PI(HI_POOL_TR_START, q + 1) - t0 - 1;
  for (int t = 0; t <= eq; ++t)
    for (int f = 0; f < TF_COUNT; ++f) TFW(f, t0 + t) = 0.0;
  Proceeds cash;
  cash.interest = g_pos(ip);
  cash.principal = g_pos(pp);
  double fees_due = SF(feearr, q) + g_cents(PF(HF_POOL_FEE_RATE, q) / 12.0 * g_pos(perf));
  double fees = take(cash, fees_due, legal_final);
  SF(feearr, q) = fees_due - fees;
  for (int j = 0; j < eq; ++j) {
    int tj = t0 + j;
    double coupon = g_pos(PI(HI_TR_HAS_FIXED, tj) ? PF(HF_TR_FIXED_COUPON, tj)
                                                  : base_rate + PF(HF_TR_FLOAT_SPREAD, tj));
    double due = g_cents(SF(trbal, tj) * coupon / 12.0);
    if (j == 0) due += SF(arr, q);
    double paid = take(cash, due, legal_final);
    TFW(TF_INT, tj) = paid;
    double sh = due - paid;
    if (j == 0) {
      SF(arr, q) = sh;
    } else {
      TFW(TF_SHORT, tj) = sh;
      SF(trbal, tj) += sh;
    }
    if (legal_final) {
      double pay = take(cash, SF(trbal, tj), 1);
      TFW(TF_PRIN, tj) += pay;
      SF(trbal, tj) -= pay;
    }
  }
  double oc = PF(HF_POOL_OC, q);
  if (oc > 0.0 && !legal_final) {
    int s = -1;
    for (int j = 0; j < eq; ++j)
      if (!g_settled(SF(trbal, t0 + j))) { s = j; break; }
    if (s >= 0) {
      double senior = SF(trbal, t0 + s);
      if (perf < oc * senior) {
        double cure = g_min(g_pos(senior - g_pos(perf) / oc), cash.interest);
        cash.interest -= cure;
        for (int j = s; j < eq; ++j) {
          double pay = g_min(cure, SF(trbal, t0 + j));
          TFW(TF_PRIN, t0 + j) += pay;
          SF(trbal, t0 + j) -= pay;
          cure -= pay;
        }
        cash.interest += cure;
      }
    }
  }
  double fee_cure = g_min(cash.principal, SF(feearr, q));
  cash.principal -= fee_cure;
  SF(feearr, q) -= fee_cure;
  int sid = 0;
  if (eq > 0) {
    double cure = g_min(cash.principal, SF(arr, q));
    cash.principal -= cure;
    SF(arr, q) -= cure;
    TFW(TF_INT, t0) += cure;
    TFW(TF_SHORT, t0) = SF(arr, q);
    sid = !g_settled(SF(arr, q));
  }
  for (int j = 0; j < eq; ++j) {
    double pay = g_min(cash.principal, SF(trbal, t0 + j));
    TFW(TF_PRIN, t0 + j) += pay;
    SF(trbal, t0 + j) -= pay;
    cash.principal -= pay;
  }
  TFW(TF_INT, t0 + eq) = cash.interest;
  TFW(TF_PRIN, t0 + eq) = cash.principal;
  if (legal_final) {
    for (int j = 0; j < eq; ++j) {
      TFW(TF_WD, t0 + j) = SF(trbal, t0 + j) + (j == 0 ? SF(arr, q) : 0.0);
      SF(trbal, t0 + j) = 0.0;
    }
    SF(arr, q) = 0.0;
  }
  for (int j = 0; j <= eq; ++j) TFW(TF_BEND, t0 + j) = SF(trbal, t0 + j);
  return sid;
}

// ---- derivatives (engine/src/derivative.rs, MODEL.md §10) -------------------------------------
// DerivativeParams::fixing, then Amount::from_f64.
__device__ __forceinline__ double dv_fixing(const Ctx& c, int i, double prev, double price) {
  double b = PF(HF_DV_BASIS, i);
  if (PI(HI_DV_FIXING, i) == FX_MONTH_END) return g_fin(b * price);
  return g_fin(b * (0.5 * (prev + price)));
}

__device__ __forceinline__ int dv_active(const Ctx& c, int i, u32 k) {
  return (u32)PI(HI_DV_START, i) <= k && k <= (u32)PI(HI_DV_END, i);
}

// DerivativeParams::settlement: the month-k settlement to the holder, USD.
__device__ double dv_settlement(const Ctx& c, int i, u32 k, double fix, double fix_sum,
                                double revenue) {
  if (!dv_active(c, i, k)) return 0.0;
  double n = PF(HF_DV_NOTIONAL, i), strike = PF(HF_DV_STRIKE, i);
  double payoff;
  switch (PI(HI_DV_KIND, i)) {
    case DV_SWAP: payoff = g_cents(n * (fix - strike)); break;
    case DV_CAP: payoff = g_cents(n * g_pos(fix - strike)); break;
    case DV_FLOOR: payoff = g_cents(n * g_pos(strike - fix)); break;
    case DV_REV_FLOOR: payoff = g_cents(g_pos(PF(HF_DV_FLOOR, i) - revenue)); break;
    default:
      if (k == (u32)PI(HI_DV_END, i)) payoff = g_cents(n * (fix_sum - PF(HF_DV_STRIKE_M, i)));
      else return 0.0;
  }
  return PF(HF_DV_SIGN, i) * payoff;
}

// ---- CashflowPlan::step (engine/src/runner.rs) -----------------------------------------------
__device__ void cashflow_step(Ctx& c, u32 k) {
  double t = (double)k / 12.0;
  int bi = (int)k - 1;
  if (bi < 0) bi = 0;
  if (bi > c.K - 1) bi = c.K - 1;
  double base_rate = PF(HF_BASE_RATES, bi);
  for (int q = 0; q < c.np; ++q) {
    double b = 0.0;
    for (int x = PI(HI_POOL_DEALS_START, q); x < PI(HI_POOL_DEALS_START, q + 1); ++x) {
      int d = PI(HI_POOL_DEALS, x);
      if (!SI(done, d)) b += SF(bal, d);
    }
    SF(pb, q) = b;
  }
  for (int d = 0; d < c.nd; ++d) SF(loss, d) = 0.0;
  // Derivatives on a class index settle before any fleet pays its deals.
  for (int i = 0; i < c.ndv; ++i) {
    if (PI(HI_DV_KIND, i) == DV_REV_FLOOR) continue;
    int cls = PI(HI_DV_UNDER, i);
    double fix = dv_fixing(c, i, SF(prevp, cls), SF(price, cls));
    if (dv_active(c, i, k)) SF(fixsum, i) += fix;
    SF(dvset, i) = dv_settlement(c, i, k, fix, SF(fixsum, i), 0.0);
  }
  for (int fi = 0; fi < c.nf; ++fi) {
    int cls = PI(HI_FLEET_CLASS, fi);
    double u = g_fin(SF(util, fi));
    double price = g_fin(SF(price, cls));
    double phi = k <= (u32)PI(HI_FLEET_CONTRACT_END, fi) ? PF(HF_FLEET_PHI, fi) : 0.0;
    double spot = 1.0 - phi;
    double gh = PF(HF_FLEET_GPU_HOURS, fi);
    double revenue = g_cents(gh * (phi * PF(HF_FLEET_RATE, fi) + spot * u * price));
    double opex = g_cents(gh * (PF(HF_FLEET_OPEX_FIXED, fi) +
                                PF(HF_FLEET_OPEX_VAR, fi) * (spot * u + phi)));
    for (int x = PI(HI_FLEET_RF_START, fi); x < PI(HI_FLEET_RF_START, fi + 1); ++x) {
      int i = PI(HI_FLEET_RF, x);
      SF(dvset, i) = dv_settlement(c, i, k, 0.0, 0.0, revenue);
    }
    double hedge = 0.0;
    double noi;
    if (PI(HI_FLEET_HEDGES_START, fi) == PI(HI_FLEET_HEDGES_START, fi + 1)) {
      noi = revenue - opex;
    } else {
      for (int x = PI(HI_FLEET_HEDGES_START, fi); x < PI(HI_FLEET_HEDGES_START, fi + 1); ++x)
        hedge += SF(dvset, PI(HI_FLEET_HEDGES, x));
      noi = revenue - opex + hedge;
    }
    SF(fhedge, fi) = hedge;
    double straight = 1.0 - (PF(HF_FLEET_AGE0, fi) + t) / PF(HF_FLEET_LIFE, fi);
    double hvpg = PF(HF_FLEET_PURCHASE, fi) * fmax(straight, PF(HF_FLEET_FLOOR, fi)) *
                  SF(pot, cls);
    double hw = PF(HF_FLEET_GPUS, fi) * g_fin(hvpg);
    SF(frev, fi) = revenue;
    SF(fnoi, fi) = noi;
    SF(fhw, fi) = hw;
    double after_haircut = hw * (1.0 - PF(HF_FLEET_HAIRCUT, fi));
    int credit = SI(credit, PI(HI_FLEET_OPERATOR, fi));
    double cash = noi;
    int any_default = 0;
    for (int x = PI(HI_FLEET_DEALS_START, fi); x < PI(HI_FLEET_DEALS_START, fi + 1); ++x) {
      int d = PI(HI_FLEET_DEALS, x);
      MonthIn m;
      m.revenue = revenue; m.cash = cash; m.base_rate = base_rate;
      m.refi_coll = after_haircut; m.credit = credit;
      deal_step(c, d, k, m);
      cash = FLW(FL_CASHLEFT, d);
      any_default |= SI(dkind, d) != DK_NONE;
      if (!g_settled(FLW(FL_SHORTFALL, d))) SF(loss, d) += FLW(FL_SHORTFALL, d);
    }
    if (any_default) assign_recoveries(c, fi, k, after_haircut - PF(HF_FLEET_LIQ_COST, fi));
  }
  if (c.ndv > 0)
    for (int cl = 0; cl < c.nc; ++cl) SF(prevp, cl) = SF(price, cl);
  for (int q = 0; q < c.np; ++q) {
    double ip = 0.0, pp = 0.0;
    for (int x = PI(HI_POOL_DEALS_START, q); x < PI(HI_POOL_DEALS_START, q + 1); ++x) {
      int d = PI(HI_POOL_DEALS, x);
      ip += interest_proceeds(c, d);
      pp += principal_proceeds(c, d);
    }
    SI(sidm, q) = waterfall_step(c, q, ip, pp, SF(pb, q), base_rate, k >= (u32)c.K);
  }
}

// ---- the vault (engine/src/vault.rs) --------------------------------------------------------
__device__ __forceinline__ double tranche_mark(const Ctx& c, int q, double value, int t) {
  int t0 = PI(HI_POOL_TR_START, q);
  int eq = PI(HI_POOL_TR_START, q + 1) - t0 - 1;
  double above = 0.0;
  int lim = t < eq ? t : eq;
  for (int i = 0; i < lim; ++i) above += SF(trbal, t0 + i);
  double left = g_pos(value - above);
  return t == eq ? left : g_min(left, SF(trbal, t0 + t));
}

__device__ __forceinline__ void deal_marks(const Ctx& c, int d, double* s, double* u) {
  if (!SI(done, d)) { *s = SF(bal, d); *u = SF(bal, d); return; }
  if (SI(phas, d)) { *s = SF(vead, d); *u = SF(pamt, d); return; }
  *s = 0.0; *u = 0.0;
}

__device__ void holdings_marks(const Ctx& c, double* ms_out, double* mu_out) {
  double ms = 0.0, mu = 0.0;
  int nvd = c.I[HI_V_NDEALS];
  for (int i = 0; i < nvd; ++i) {
    double a, b;
    deal_marks(c, PI(HI_V_DEALS, i), &a, &b);
    ms += a;
    mu += b;
  }
  int nh = c.I[HI_V_NHOLD];
  for (int h = 0; h < nh; ++h) {
    int q = PI(HI_V_HOLD_POOL, h), t = PI(HI_V_HOLD_TR, h);
    double frac = PF(HF_V_HOLD_FRAC, h);
    double vs = 0.0, vu = 0.0;
    for (int x = PI(HI_POOL_DEALS_START, q); x < PI(HI_POOL_DEALS_START, q + 1); ++x) {
      double a, b;
      deal_marks(c, PI(HI_POOL_DEALS, x), &a, &b);
      vs += a;
      vu += b;
    }
    ms += frac * tranche_mark(c, q, vs, t);
    mu += frac * tranche_mark(c, q, vu, t);
  }
  *ms_out = ms;
  *mu_out = mu;
}

__device__ __forceinline__ double vault_queued(const Ctx& c) {
  double s = 0.0;
  for (int i = SI(vint, VI_HEAD); i < SI(vint, VI_TAIL); ++i) s += SF(qsh, i);
  return s;
}

__device__ void vault_reset(Ctx& c) {
  const double* F = c.F;
  SF(vs, VS_BUFFER) = F[FS_V_BUFFER0];
  SF(vs, VS_SHARES) = F[FS_V_SHARES0];
  SF(vs, VS_MQF) = 0.0;
  double ps0 = F[FS_V_SHARES0] > 0.0 ? F[FS_V_NAV0] / F[FS_V_SHARES0] : 0.0;
  SF(vs, VS_LAST_S) = ps0;
  SF(vs, VS_LAST_U) = ps0;
  SF(vs, VS_HZ_S) = 0.0;
  SF(vs, VS_HZ_U) = 0.0;
  SI(vint, VI_NEXT) = 0; SI(vint, VI_WORST) = 0; SI(vint, VI_HEAD) = 0; SI(vint, VI_TAIL) = 0;
  for (int d = 0; d < c.nd; ++d) SF(vead, d) = 0.0;
}

// VaultState::step; returns the NAV per share (staking, unstaking) after redemptions.
__device__ __noinline__ void vault_step(Ctx& c, u32 k, double* ps_s, double* ps_u) {
  const double* F = c.F;
  for (int d = 0; d < c.nd; ++d)
    if (SI(dkind, d) != DK_NONE) SF(vead, d) = FLW(FL_EAD, d);
  double buffer = SF(vs, VS_BUFFER);
  buffer += g_pos(buffer) * F[FS_V_TBILL];
  double income = 0.0;
  int nvd = c.I[HI_V_NDEALS];
  for (int i = 0; i < nvd; ++i) {
    int d = PI(HI_V_DEALS, i);
    buffer += total_received(c, d);
    income += interest_proceeds(c, d);
  }
  int nh = c.I[HI_V_NHOLD];
  for (int h = 0; h < nh; ++h) {
    int q = PI(HI_V_HOLD_POOL, h), t = PI(HI_V_HOLD_TR, h);
    int tix = PI(HI_POOL_TR_START, q) + t;
    double frac = PF(HF_V_HOLD_FRAC, h);
    buffer += frac * (TFW(TF_INT, tix) + TFW(TF_PRIN, tix));
    income += frac * TFW(TF_INT, tix);
  }
  double ms, mu;
  holdings_marks(c, &ms, &mu);
  double fees = F[FS_V_PERF] * g_pos(income) + F[FS_V_MGMT] * g_pos(buffer + ms);
  buffer -= fees;
  double shares = SF(vs, VS_SHARES);
  double shares0 = F[FS_V_SHARES0];
  double tiny = 1e-12 * shares0;
  int ncy = c.ncy;
  while (SI(vint, VI_NEXT) < ncy && (u32)PI(HI_V_CYCLE_END, SI(vint, VI_NEXT)) == k) {
    SI(vint, VI_NEXT) += 1;
    int next = SI(vint, VI_NEXT);
    u32 cycle = (u32)next;
    double fraction = next - 1 < ncy ? PF(HF_V_RED_BY_CYCLE, next - 1) : F[FS_V_RED_FRACTION];
    SF(vs, VS_BUFFER) = buffer;
    double req = fraction * g_pos(shares - vault_queued(c));
    if (req > tiny) {
      int tail = SI(vint, VI_TAIL);
      SF(qsh, tail) = req;
      SI(qcyc, tail) = (int)cycle;
      SI(vint, VI_TAIL) = tail + 1;
    }
    double price = shares > tiny ? (buffer + mu) / shares : 0.0;
    while (SI(vint, VI_HEAD) < SI(vint, VI_TAIL)) {
      if (price <= 0.0 || buffer <= 0.0) break;
      int h = SI(vint, VI_HEAD);
      double paid = g_min(SF(qsh, h), buffer / price);
      buffer -= paid * price;
      shares -= paid;
      SF(qsh, h) -= paid;
      if (SF(qsh, h) <= tiny) {
        u32 w = cycle - (u32)SI(qcyc, h) + 1u;
        if (w > (u32)SI(vint, VI_WORST)) SI(vint, VI_WORST) = (int)w;
        SI(vint, VI_HEAD) = h + 1;
      } else {
        break;
      }
    }
    if (shares0 > 0.0) SF(vs, VS_MQF) = g_max(SF(vs, VS_MQF), vault_queued(c) / shares0);
    if (SI(vint, VI_HEAD) < SI(vint, VI_TAIL)) {
      u32 w = cycle - (u32)SI(qcyc, SI(vint, VI_HEAD)) + 2u;
      if (w > (u32)SI(vint, VI_WORST)) SI(vint, VI_WORST) = (int)w;
    }
  }
  double nav_s = buffer + ms, nav_u = buffer + mu;
  if (shares > tiny) {
    SF(vs, VS_LAST_S) = nav_s / shares;
    SF(vs, VS_LAST_U) = nav_u / shares;
  }
  SF(vs, VS_BUFFER) = buffer;
  SF(vs, VS_SHARES) = shares;
  *ps_s = SF(vs, VS_LAST_S);
  *ps_u = SF(vs, VS_LAST_U);
}

__device__ __forceinline__ u32 vault_worst_at_end(const Ctx& c) {
  u32 worst = (u32)SI(vint, VI_WORST);
  if (SI(vint, VI_HEAD) < SI(vint, VI_TAIL)) {
    u32 last = (u32)SI(vint, VI_NEXT);
    u32 w = last - (u32)SI(qcyc, SI(vint, VI_HEAD)) + 2u;
    if (w > worst) worst = w;
  }
  return worst;
}

// ---- the market (simulator/src/model.rs) ----------------------------------------------------
__device__ void draw_default_months(Ctx& c, const Rng& g) {
  double m = rng_normal0(g, (u32)c.I[HI_SYS_STREAM], 0, 0);
  for (int o = 0; o < c.no; ++o) {
    double e = rng_normal0(g, (u32)PI(HI_OP_STREAM, o), 0, 0);
    double h = PF(HF_OP_HAZARD, o);
    SI(dm, o) = 0;
    if (h <= 0.0) continue;
    double a = c.F[FS_COPULA_SYS] * m + c.F[FS_COPULA_OWN] * e;
    double tau = g_default_time(a, h);
    double month = ceil(tau * 12.0);
    if (month <= (double)c.K) {
      u32 mm = month <= 0.0 ? 0u : (u32)month;
      SI(dm, o) = (int)(mm > 1u ? mm : 1u);
    }
  }
}

// Month k's normal of an entity (MODEL.md §9, version 6): months k and k + 1 (k odd) share call
// 0 of step k, month k taking Box–Muller's z0 = r·cos and month k + 1 its z1 = r·sin of words
// (x0, x1). An even month draws its pair again (the same bits as the odd month did) instead
// of keeping the sine in scratch memory.
__device__ __forceinline__ double g_month_normal(const Words& w, bool second) {
  double z0, z1;
  g_bm(w.x0, w.x1, &z0, &z1);
  return second ? z1 : z0;
}

__device__ __noinline__ void market_month(Ctx& c, const Rng& g, u32 k) {
  int nc = c.nc;
  int ki = (int)k - 1;
  u32 max_jumps = (u32)c.I[HI_MAX_JUMPS];
  // The month pair's step (odd) and whether k is its second month.
  bool second = k % 2u == 0u;
  u32 kp = second ? k - 1u : k;
  for (int cl = 0; cl < nc; ++cl) {
    u32 stream = (u32)PI(HI_CLASS_STREAM, cl);
    Words w = rng_words(g, stream, kp, 0);
    SF(eps, cl) = g_month_normal(w, second);
    double lam = PF(HF_CLASS_JUMP_RATE, cl);
    if (lam > 0.0) {
      u32 n = g_poisson_inverse(lam, g_uniform(second ? w.x3 : w.x2), max_jumps);
      double z4[4] = {0.0, 0.0, 0.0, 0.0};
      for (u32 j = 0; j < n; ++j) {
        if (j % 4 == 0) {
          Words v = rng_words(g, stream, k, 1 + j / 4);
          g_bm(v.x0, v.x1, &z4[0], &z4[1]);
          g_bm(v.x2, v.x3, &z4[2], &z4[3]);
        }
        SF(jumps, cl) += PF(HF_CLASS_JUMP_MEAN, cl) + PF(HF_CLASS_JUMP_STD, cl) * z4[j % 4];
      }
    }
  }
  if (c.I[HI_CHOL_IDENTITY]) {
    for (int i = 0; i < nc; ++i) SF(z, i) = SF(eps, i);
  } else {
    for (int i = 0; i < nc; ++i) {
      double s = -0.0;
      for (int j = 0; j <= i; ++j) s += PF(HF_CHOL, i * nc + j) * SF(eps, j);
      SF(z, i) = s;
    }
  }
  for (int cl = 0; cl < nc; ++cl) {
    SF(x, cl) = SF(x, cl) * PF(HF_CLASS_OU_DECAY, cl) + PF(HF_CLASS_OU_SCALE, cl) * SF(z, cl);
    double dev = SF(x, cl) + SF(jumps, cl);
    double lts = PF(HF_LOG_TREND_SHOCK, ki * nc + cl);
    SF(price, cl) = g_exp(lts + dev);
    SF(pot, cl) = SF(price, cl) * PF(HF_INV_TREND, ki * nc + cl);
  }
  for (int f = 0; f < c.nf; ++f) {
    double xi = g_month_normal(rng_words(g, (u32)PI(HI_FLEET_STREAM, f), kp, 0), second);
    double w = PF(HF_FLEET_LOAD_PRICE, f) * SF(eps, PI(HI_FLEET_CLASS, f)) +
               PF(HF_FLEET_LOAD_OWN, f) * xi;
    SF(y, f) = SF(y, f) * PF(HF_FLEET_DECAY, f) + PF(HF_FLEET_PULL, f) + PF(HF_FLEET_SCALE, f) * w;
    SF(util, f) = g_logistic_clamped(SF(y, f));
  }
  for (int o = 0; o < c.no; ++o) SI(credit, o) = (u32)SI(dm, o) == k;
}

// ---- one path, recorded into acc (simulator/src/model.rs Worker::run_path) --------------------
__device__ __forceinline__ u64* inst_acc(const Ctx& c, u64* acc, int base, int i) {
  return acc + c.I[base] + i * c.I[HA_INST_SIZE];
}

__device__ __noinline__ void record_month(Ctx& c, u64* acc, u32 k) {
  int ki = (int)k - 1;
  int K = c.K;
  for (int d = 0; d < c.nd; ++d) {
    double cf = total_received(c, d);
    double inv = 1.0 / PF(HF_DEAL_NOTIONAL, d);
    if (cf != 0.0) {
      SF(dpv, d) += cf * PF(HF_DEAL_DF, d * K + ki);
      u64* s = inst_acc(c, acc, HA_DEALS, d);
      acc_fixed(&s[IN_CF + 2 * ki], cf * inv);
      acc_fixed(&s[IN_CF + 2 * K + 2 * ki], principal_proceeds(c, d) * inv);
    }
    SF(dloss, d) += SF(loss, d);
    if (SI(dkind, d) != DK_NONE && SI(ddm, d) == 0) SI(ddm, d) = (int)k;
    if (!SI(done, d) && SF(bal, d) > 1e-9) {
      int fleet = PI(HI_DEAL_FLEET, d);
      double coll = SF(fhw, fleet) * (1.0 - PF(HF_DEAL_HAIRCUT, d)) + SF(dsra, d);
      double ratio = fmin(coll / SF(bal, d), 1.0e3);
      acc_moments(acc + c.I[HA_COLL] + (d * K + ki) * 5, ratio);
      int cb = c.I[HA_CHIST_BINS];
      acc_hist(acc + c.I[HA_CHIST] + (d * K + ki) * (cb + 5), cb, c.F[FS_CHIST_LO],
               c.F[FS_CHIST_HI], ratio);
    }
  }
  for (int i = 0; i < c.ndv; ++i) {
    double cv = SF(dvset, i);
    if (cv != 0.0) {
      SF(dvpv, i) += cv * PF(HF_DV_DF, i * K + ki);
      if (cv > 0.0) SI(dvpaid, i) = 1;
      acc_fixed(acc + c.I[HA_DV] + i * c.I[HA_DV_SIZE] + 6 + 2 * ki, cv / PF(HF_DV_REF, i));
    }
  }
  for (int q = 0; q < c.np; ++q) {
    if (SI(sidm, q)) SI(sidp, q) = 1;
    int t0 = PI(HI_POOL_TR_START, q), t1 = PI(HI_POOL_TR_START, q + 1);
    for (int t = 0; t < t1 - t0; ++t) {
      int tix = t0 + t;
      double cf = TFW(TF_INT, tix) + TFW(TF_PRIN, tix);
      SF(trwd, tix) += TFW(TF_WD, tix);
      double notional = PF(HF_TR_NOTIONAL, tix);
      if (SI(tdm, tix) == 0 &&
          (SF(trwd, tix) > 1e-12 * notional || (t == 0 && SI(sidp, q)))) {
        SI(tdm, tix) = (int)k;
      }
      if (cf != 0.0) {
        double inv = 1.0 / notional;
        SF(trpv, tix) += cf * PF(HF_TR_DF, tix * K + ki);
        SF(trrecv, tix) += cf;
        u64* s = inst_acc(c, acc, HA_TRANCHES, tix);
        acc_fixed(&s[IN_CF + 2 * ki], cf * inv);
        acc_fixed(&s[IN_CF + 2 * K + 2 * ki], TFW(TF_PRIN, tix) * inv);
      }
    }
  }
}

// Vault accumulator offsets (relative to HA_VAULT).
__device__ __forceinline__ int v_nav_u(const Ctx& c) { (void)c; return 5; }
__device__ __forceinline__ int v_nav_s_hist(const Ctx& c) { (void)c; return 10; }
__device__ __forceinline__ int v_nav_u_hist(const Ctx& c) { return 10 + c.I[HA_NAV_BINS] + 5; }
__device__ __forceinline__ int v_monthly_s(const Ctx& c) { return 10 + 2 * (c.I[HA_NAV_BINS] + 5); }
__device__ __forceinline__ int v_monthly_u(const Ctx& c) { return v_monthly_s(c) + 5 * c.K; }
__device__ __forceinline__ int v_monthly_hist(const Ctx& c) { return v_monthly_u(c) + 5 * c.K; }
__device__ __forceinline__ int v_qnc(const Ctx& c) {
  return v_monthly_hist(c) + c.K * (c.I[HA_FAN_BINS] + 5);
}
__device__ __forceinline__ int v_mqf(const Ctx& c) { return v_qnc(c) + 3; }
__device__ __forceinline__ int v_mcw(const Ctx& c) { return v_mqf(c) + 5; }
__device__ __forceinline__ int v_cw(const Ctx& c) { return v_mcw(c) + 5; }

__device__ void vault_month(Ctx& c, u64* acc, u32 k) {
  if (!c.I[HI_HAS_VAULT]) return;
  double pss, psu;
  vault_step(c, k, &pss, &psu);
  u64* v = acc + c.I[HA_VAULT];
  int ki = (int)k - 1;
  double nav0_ps = c.F[FS_V_NAV0_PS];
  double rs = 0.0, ru = 0.0;
  if (nav0_ps > 0.0) { rs = pss / nav0_ps; ru = psu / nav0_ps; }
  acc_moments(v + v_monthly_s(c) + 5 * ki, rs);
  acc_moments(v + v_monthly_u(c) + 5 * ki, ru);
  int fan = c.I[HA_FAN_BINS];
  acc_hist(v + v_monthly_hist(c) + ki * (fan + 5), fan, c.F[FS_FAN_LO], c.F[FS_FAN_HI], ru);
  if (k == (u32)c.I[HI_V_HORIZON]) {
    SF(vs, VS_HZ_S) = pss;
    SF(vs, VS_HZ_U) = psu;
    int nb = c.I[HA_NAV_BINS];
    acc_moments(v, rs);
    acc_moments(v + v_nav_u(c), ru);
    acc_hist(v + v_nav_s_hist(c), nb, c.F[FS_NAV_LO], c.F[FS_NAV_HI], rs);
    acc_hist(v + v_nav_u_hist(c), nb, c.F[FS_NAV_LO], c.F[FS_NAV_HI], ru);
  }
}

__device__ __noinline__ void record_path(Ctx& c, u64* acc, double* row) {
  acc_count(acc + c.I[HA_PATHS], 1);
  int bins = c.I[HA_INST_BINS];
  double lo = c.F[FS_INST_LO], hi = c.F[FS_INST_HI];
  double total_loss = 0.0, n_defaults = 0.0;
  for (int d = 0; d < c.nd; ++d) {
    u64* s = inst_acc(c, acc, HA_DEALS, d);
    double inv = 1.0 / PF(HF_DEAL_NOTIONAL, d);
    double pv = SF(dpv, d) * inv;
    acc_moments(&s[IN_PV], pv);
    double lf = g_clean_loss(SF(dloss, d) * inv);
    acc_moments(&s[IN_LOSS], lf);
    acc_hist(&s[IN_CF + 4 * c.K], bins, lo, hi, lf);
    if (lf > 1e-12) acc_count(&s[IN_LOSS_PATHS], 1);
    int defaulted = SI(ddm, d) != 0;
    if (defaulted) n_defaults += 1.0;
    acc_default(s, defaulted, (u32)SI(ddm, d), lf);
    total_loss += SF(dloss, d);
    if (row) {
      row[3 * d] = pv;
      row[3 * d + 1] = lf;
      row[3 * d + 2] = (double)SI(ddm, d);
    }
  }
  for (int q = 0; q < c.np; ++q) {
    int t0 = PI(HI_POOL_TR_START, q), t1 = PI(HI_POOL_TR_START, q + 1);
    int eq = t1 - t0 - 1;
    for (int t = 0; t <= eq; ++t) {
      int tix = t0 + t;
      u64* s = inst_acc(c, acc, HA_TRANCHES, tix);
      double notional = PF(HF_TR_NOTIONAL, tix);
      double loss = SF(trwd, tix);
      if (t == eq) loss += g_max(notional - SF(trrecv, tix), 0.0);
      double lf = g_clean_loss(loss / notional);
      double pv = SF(trpv, tix) / notional;
      acc_moments(&s[IN_PV], pv);
      acc_moments(&s[IN_LOSS], lf);
      acc_hist(&s[IN_CF + 4 * c.K], bins, lo, hi, lf);
      if (lf > 1e-12) acc_count(&s[IN_LOSS_PATHS], 1);
      int defaulted = SF(trwd, tix) > 1e-12 * notional || (t == 0 && SI(sidp, q));
      acc_default(s, defaulted, (u32)SI(tdm, tix), lf);
      if (row) {
        double* r = row + 3 * c.nd + 3 * tix;
        r[0] = pv;
        r[1] = lf;
        r[2] = (double)SI(tdm, tix);
      }
    }
  }
  double pl = c.F[FS_FUNDED_TOTAL] > 0.0 ? g_clean_loss(total_loss / c.F[FS_FUNDED_TOTAL]) : 0.0;
  u64* pa = acc + c.I[HA_PORT];
  int pbins = c.I[HA_PORT_BINS];
  acc_moments(pa, pl);
  acc_hist(pa + 5, pbins, c.F[FS_PORT_LO], c.F[FS_PORT_HI], pl);
  acc_moments(pa + 5 + pbins + 5, n_defaults);
  if (row) row[3 * (c.nd + c.nt)] = pl;
  if (c.I[HI_HAS_VAULT]) {
    u64* v = acc + c.I[HA_VAULT];
    u32 worst = vault_worst_at_end(c);
    for (u32 n = 1; n <= 3; ++n)
      if (worst > n) acc_count(v + v_qnc(c) + (n - 1), 1);
    acc_moments(v + v_mqf(c), SF(vs, VS_MQF));
    acc_moments(v + v_mcw(c), (double)worst);
    if ((int)worst < c.I[HA_CW_LEN]) acc_count(v + v_cw(c) + worst, 1);
    else atomicOr(acc + c.I[HA_ERR], ERR_CYCLES_WAITED);
    if (row) {
      double* r = row + 3 * (c.nd + c.nt) + 1;
      r[0] = SF(vs, VS_HZ_S);
      r[1] = SF(vs, VS_HZ_U);
      r[2] = SF(vs, VS_MQF);
      r[3] = (double)worst;
    }
  }
  int dv_row = 3 * (c.nd + c.nt) + 1 + (c.I[HI_HAS_VAULT] ? 4 : 0);
  for (int i = 0; i < c.ndv; ++i) {
    u64* s = acc + c.I[HA_DV] + i * c.I[HA_DV_SIZE];
    // The statistic keeps the deterministic premium out (E[PV] = mean * ref - s*premium,
    // simulator/src/derivatives.rs); the per-path row is the holder's PV with it.
    acc_moments(s, SF(dvpv, i) / PF(HF_DV_REF, i));
    if (SI(dvpaid, i)) acc_count(s + 5, 1);
    if (row) row[dv_row + i] = (SF(dvpv, i) - PF(HF_DV_PREM, i)) / PF(HF_DV_REF, i);
  }
}

// Per-month trace of one path (debug mode): the fields of flat.rs TRACE_* in that order.
__device__ void trace_month(const Ctx& c, double* tr, u32 k) {
  double* m = tr + ((int)k - 1) * c.I[HS_TRACE_STRIDE];
  int o = 0;
  for (int d = 0; d < c.nd; ++d) {
    m[o++] = FLW(FL_BEND, d);
    m[o++] = FLW(FL_INTEREST, d);
    m[o++] = FLW(FL_SCHED, d);
    m[o++] = FLW(FL_PREPAY, d);
    m[o++] = FLW(FL_REFI, d);
    m[o++] = FLW(FL_RSCAP, d);
    m[o++] = FLW(FL_RSINC, d);
    m[o++] = FLW(FL_KICKER, d);
    m[o++] = FLW(FL_RECOVERY, d);
    m[o++] = (double)SI(dkind, d);
    m[o++] = FLW(FL_EAD, d);
    m[o++] = SF(loss, d);
    m[o++] = FLW(FL_CASHLEFT, d);
    m[o++] = SF(dsra, d);
  }
  for (int f = 0; f < c.nf; ++f) {
    m[o++] = SF(frev, f);
    m[o++] = SF(fnoi, f);
    m[o++] = SF(fhw, f);
    m[o++] = SF(fhedge, f);
  }
  for (int t = 0; t < c.nt; ++t) {
    m[o++] = TFW(TF_INT, t);
    m[o++] = TFW(TF_PRIN, t);
    m[o++] = TFW(TF_WD, t);
    m[o++] = TFW(TF_BEND, t);
  }
  for (int i = 0; i < c.ndv; ++i) m[o++] = SF(dvset, i);
  if (c.I[HI_HAS_VAULT]) {
    m[o++] = SF(vs, VS_BUFFER);
    m[o++] = SF(vs, VS_SHARES);
    m[o++] = SF(vs, VS_LAST_S);
    m[o++] = SF(vs, VS_LAST_U);
  }
}

__device__ void run_path(Ctx& c, u64* acc, u32 k0, u32 k1, u32 path, double* row, double* tr) {
  Rng g;
  g.k0 = k0; g.k1 = k1; g.path = path;
  int K = c.K;
  double r1 = K > 0 ? PF(HF_BASE_RATES, 0) : 0.0;
  for (int d = 0; d < c.nd; ++d) {
    deal_reset(c, d, r1);
    SF(dpv, d) = 0.0; SF(dloss, d) = 0.0; SI(ddm, d) = 0; SI(dkind, d) = DK_NONE;
  }
  for (int f = 0; f < c.nf; ++f) SF(coll_left, f) = 1.0;
  for (int q = 0; q < c.np; ++q) {
    SF(arr, q) = 0.0; SF(feearr, q) = 0.0; SI(sidp, q) = 0; SI(sidm, q) = 0;
  }
  for (int t = 0; t < c.nt; ++t) {
    SF(trbal, t) = PF(HF_TR_BALANCE, t);
    SF(trpv, t) = 0.0; SF(trrecv, t) = 0.0; SF(trwd, t) = 0.0; SI(tdm, t) = 0;
  }
  draw_default_months(c, g);
  for (int cl = 0; cl < c.nc; ++cl) { SF(x, cl) = 0.0; SF(jumps, cl) = 0.0; }
  for (int f = 0; f < c.nf; ++f) SF(y, f) = PF(HF_FLEET_Y0, f);
  for (int cl = 0; cl < c.nc; ++cl) SF(prevp, cl) = PF(HF_CLASS_PRICE0, cl);
  for (int i = 0; i < c.ndv; ++i) {
    SF(fixsum, i) = 0.0; SF(dvpv, i) = 0.0; SI(dvpaid, i) = 0;
  }
  if (c.I[HI_HAS_VAULT]) vault_reset(c);
  for (u32 k = 1; k <= (u32)K; ++k) {
    market_month(c, g, k);
    cashflow_step(c, k);
    record_month(c, acc, k);
    vault_month(c, acc, k);
    if (tr) trace_month(c, tr, k);
  }
  record_path(c, acc, row);
}

// The kernel: threads stride over paths path0 .. path0 + n_paths. Scratch holds
// I[HS_F] doubles and I[HS_I] ints per thread, strided by the total thread count. `rows`
// (optional): I[HS_ROW_STRIDE] doubles per path; `trace` (optional): the months of path
// `trace_path`, I[HS_TRACE_STRIDE] doubles per month. `acc` holds `replicas` accumulators of
// I[HA_SIZE] words each.
extern "C" __global__ void gaib_simulate(const double* F, const int* I, u64* acc,
                                         double* scratch_f, int* scratch_i, double* rows,
                                         double* trace, u32 seed_lo, u32 seed_hi, u32 path0,
                                         u32 n_paths, u32 trace_path, u32 replicas) {
  u32 tid = blockIdx.x * blockDim.x + threadIdx.x;
  u32 nthreads = gridDim.x * blockDim.x;
  // Block b adds into accumulator replica b mod replicas (fewer threads per contended word);
  // the host merges the replicas exactly.
  acc += (u64)(blockIdx.x % (replicas > 0 ? replicas : 1u)) * (u64)I[HA_SIZE];
  if (I[HI_MAGIC] != GAIB_FLAT_MAGIC) {
    if (tid == 0) atomicOr(acc + I[HA_ERR], ERR_MAGIC);
    return;
  }
  Ctx c;
  c.F = F;
  c.I = I;
  ctx_layout(c);
  if (c.nf64 != I[HS_F] || c.ni32 != I[HS_I]) {
    if (tid == 0) atomicOr(acc + I[HA_ERR], ERR_SCRATCH);
    return;
  }
  c.sf = scratch_f + tid;
  c.si = scratch_i + tid;
  c.st = (int)nthreads;
  for (u32 p = tid; p < n_paths; p += nthreads) {
    u32 path = path0 + p;
    double* row = rows ? rows + (u64)p * (u64)I[HS_ROW_STRIDE] : 0;
    double* tr = (trace && path == trace_path) ? trace : 0;
    run_path(c, acc, seed_lo, seed_hi, path, row, tr);
  }
}
