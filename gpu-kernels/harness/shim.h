// Host shim: lets kernels/gaib_mc.cu compile as plain host C++ (the host-parity harness).
// One host thread plays one CUDA thread of a 1×1 grid, so the atomics are plain operations.
#ifndef GAIB_SHIM_H
#define GAIB_SHIM_H
#define GAIB_HOST 1
#include <math.h>
#include <string.h>

#define __device__
#define __global__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define GAIB_CONST static const

struct gaib_dim3 {
  unsigned int x, y, z;
};
static const gaib_dim3 blockIdx = {0, 0, 0};
static const gaib_dim3 threadIdx = {0, 0, 0};
static const gaib_dim3 blockDim = {1, 1, 1};
static const gaib_dim3 gridDim = {1, 1, 1};

static inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) {
  unsigned long long old = *a;
  *a = old + v;
  return old;
}
static inline unsigned long long atomicMin(unsigned long long* a, unsigned long long v) {
  unsigned long long old = *a;
  if (v < old) *a = v;
  return old;
}
static inline unsigned long long atomicMax(unsigned long long* a, unsigned long long v) {
  unsigned long long old = *a;
  if (v > old) *a = v;
  return old;
}
static inline unsigned long long atomicOr(unsigned long long* a, unsigned long long v) {
  unsigned long long old = *a;
  *a = old | v;
  return old;
}
static inline long long __double_as_longlong(double x) {
  long long r;
  memcpy(&r, &x, sizeof r);
  return r;
}
static inline double __longlong_as_double(long long x) {
  double r;
  memcpy(&r, &x, sizeof r);
  return r;
}
#endif
