// The host-parity harness: the kernel source itself (not a copy), compiled as host C++.
#include "shim.h"
#include "../kernels/gaib_mc.cu"

// Header sizes, so the Rust side can check its slot tables against this build.
extern "C" int gaib_host_header_counts(int* n_i, int* n_f) {
  *n_i = HI_COUNT;
  *n_f = FS_COUNT;
  return GAIB_FLAT_MAGIC;
}

// Philox4x32-10 of the kernel, for the Random123 known-answer test.
extern "C" void gaib_host_philox(const unsigned int* ctr, const unsigned int* key,
                                 unsigned int* out) {
  Words w = philox(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1]);
  out[0] = w.x0;
  out[1] = w.x1;
  out[2] = w.x2;
  out[3] = w.x3;
}

// The kernel's erfc, default time and cents rounding, for unit tests against the Rust ones.
extern "C" double gaib_host_erfc(double x) { return g_erfc(x); }
extern "C" double gaib_host_default_time(double a, double h) { return g_default_time(a, h); }
extern "C" double gaib_host_cents(double x) { return g_cents(x); }

// The kernel's elementary functions, for bit-for-bit tests against simulator::math.
extern "C" double gaib_host_exp(double x) { return g_exp(x); }
extern "C" double gaib_host_ln(double x) { return g_ln(x); }
extern "C" double gaib_host_ln_1p(double x) { return g_ln_1p(x); }
extern "C" void gaib_host_sin_cos_tau(double u, double* s, double* c) { g_sin_cos_tau(u, s, c); }
