// The vectorised maps of vmath.h. vmath-body.h holds the algorithms once; it is compiled three
// times below, for AVX-512 (8 doubles a vector), AVX2 + FMA (4) and plain C++ (1), each after the
// few vector operations it needs. The instruction set is the one the sgemm kernel uses
// (gemmIsa(), which MILESTONES_CPU_ISA can lower). Each instruction set's region is compiled for it
// by a pragma: GCC's target pragma, or clang's attribute push (clang ignores the GCC one).
#include "vmath.h"

// GCC writes the vector intrinsics' + and * as plain vector arithmetic, which it would fuse into
// multiply-adds under FMA targets: the AVX builds would then round differently from the portable one
// and from the reference. Every fused multiply-add here is written as fma().
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "gemm.h"
#include "napi-glue.h"
#include "pool.h"

namespace ms {

namespace {

constexpr int64_t GRAIN = 1 << 13;  // elements per task: each costs ~60 flops

#define MS_VINLINE inline __attribute__((always_inline))

namespace avx512 {
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f")
#endif
using V = __m512d;
constexpr int kLanes = 8;
MS_VINLINE V set(double v) { return _mm512_set1_pd(v); }
// The masked forms with a full mask, here and below: GCC 12's unmasked ones warn about an undefined source.
MS_VINLINE V load(const float* p) { return _mm512_maskz_cvtps_pd(0xff, _mm256_loadu_ps(p)); }
MS_VINLINE void store(float* p, V v) { _mm256_storeu_ps(p, _mm512_maskz_cvtpd_ps(0xff, v)); }
MS_VINLINE V add(V a, V b) { return _mm512_add_pd(a, b); }
MS_VINLINE V sub(V a, V b) { return _mm512_sub_pd(a, b); }
MS_VINLINE V mul(V a, V b) { return _mm512_mul_pd(a, b); }
MS_VINLINE V div(V a, V b) { return _mm512_div_pd(a, b); }
MS_VINLINE V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
MS_VINLINE V vmin(V a, V b) { return _mm512_maskz_min_pd(0xff, a, b); }
MS_VINLINE V vmax(V a, V b) { return _mm512_maskz_max_pd(0xff, a, b); }
MS_VINLINE V absval(V a) {
  return _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(a), _mm512_set1_epi64(0x7fffffffffffffffLL)));
}
MS_VINLINE V copysignOf(V m, V s) {
  const __m512i sign = _mm512_and_si512(_mm512_castpd_si512(s), _mm512_set1_epi64(static_cast<int64_t>(0x8000000000000000ULL)));
  return _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(m), sign));
}
MS_VINLINE V pow2(V t) {
  const __m512i k = _mm512_sub_epi64(_mm512_castpd_si512(t), _mm512_castpd_si512(_mm512_set1_pd(6755399441055744.0)));
  return _mm512_castsi512_pd(_mm512_maskz_slli_epi64(0xff, _mm512_add_epi64(k, _mm512_set1_epi64(1023)), 52));
}
MS_VINLINE V selectLess(V a, V b, V x, V y) { return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, b, _CMP_LT_OQ), y, x); }
MS_VINLINE V keepNaN(V x, V r) { return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), r, x); }
#include "vmath-body.h"
void run(int op, const float* x, float* o, int64_t n) { mapRange(static_cast<VOp>(op), x, o, n); }
void runGeluGrad(const float* x, const float* gy, float* o, int64_t n) { geluTanhGradRange(x, gy, o, n); }
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
}  // namespace avx512

namespace avx2 {
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
using V = __m256d;
constexpr int kLanes = 4;
MS_VINLINE V set(double v) { return _mm256_set1_pd(v); }
MS_VINLINE V load(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
MS_VINLINE void store(float* p, V v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
MS_VINLINE V add(V a, V b) { return _mm256_add_pd(a, b); }
MS_VINLINE V sub(V a, V b) { return _mm256_sub_pd(a, b); }
MS_VINLINE V mul(V a, V b) { return _mm256_mul_pd(a, b); }
MS_VINLINE V div(V a, V b) { return _mm256_div_pd(a, b); }
MS_VINLINE V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
MS_VINLINE V vmin(V a, V b) { return _mm256_min_pd(a, b); }
MS_VINLINE V vmax(V a, V b) { return _mm256_max_pd(a, b); }
MS_VINLINE V absval(V a) { return _mm256_and_pd(a, _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL))); }
MS_VINLINE V copysignOf(V m, V s) {
  return _mm256_or_pd(m, _mm256_and_pd(s, _mm256_castsi256_pd(_mm256_set1_epi64x(static_cast<int64_t>(0x8000000000000000ULL)))));
}
MS_VINLINE V pow2(V t) {
  const __m256i k = _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_castpd_si256(_mm256_set1_pd(6755399441055744.0)));
  return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(k, _mm256_set1_epi64x(1023)), 52));
}
MS_VINLINE V selectLess(V a, V b, V x, V y) { return _mm256_blendv_pd(y, x, _mm256_cmp_pd(a, b, _CMP_LT_OQ)); }
MS_VINLINE V keepNaN(V x, V r) { return _mm256_blendv_pd(r, x, _mm256_cmp_pd(x, x, _CMP_UNORD_Q)); }
#include "vmath-body.h"
void run(int op, const float* x, float* o, int64_t n) { mapRange(static_cast<VOp>(op), x, o, n); }
void runGeluGrad(const float* x, const float* gy, float* o, int64_t n) { geluTanhGradRange(x, gy, o, n); }
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
}  // namespace avx2

namespace portable {
using V = double;
constexpr int kLanes = 1;
MS_VINLINE V set(double v) { return v; }
MS_VINLINE V load(const float* p) { return *p; }
MS_VINLINE void store(float* p, V v) { *p = static_cast<float>(v); }
MS_VINLINE V add(V a, V b) { return a + b; }
MS_VINLINE V sub(V a, V b) { return a - b; }
MS_VINLINE V mul(V a, V b) { return a * b; }
MS_VINLINE V div(V a, V b) { return a / b; }
MS_VINLINE V fma(V a, V b, V c) { return std::fma(a, b, c); }
// As the vector forms: the second operand when either is NaN (keepNaN restores NaN inputs).
MS_VINLINE V vmin(V a, V b) { return a < b ? a : b; }
MS_VINLINE V vmax(V a, V b) { return a > b ? a : b; }
MS_VINLINE V absval(V a) { return std::fabs(a); }
MS_VINLINE V copysignOf(V m, V s) { return std::copysign(m, s); }
MS_VINLINE V pow2(V t) {
  int64_t bits, magic;
  const double m = 6755399441055744.0;
  std::memcpy(&bits, &t, sizeof bits);
  std::memcpy(&magic, &m, sizeof magic);
  const int64_t e = (bits - magic + 1023) << 52;
  double r;
  std::memcpy(&r, &e, sizeof r);
  return r;
}
MS_VINLINE V selectLess(V a, V b, V x, V y) { return a < b ? x : y; }
MS_VINLINE V keepNaN(V x, V r) { return x != x ? x : r; }
#include "vmath-body.h"
void run(int op, const float* x, float* o, int64_t n) { mapRange(static_cast<VOp>(op), x, o, n); }
void runGeluGrad(const float* x, const float* gy, float* o, int64_t n) { geluTanhGradRange(x, gy, o, n); }
}  // namespace portable

using Run = void (*)(int, const float*, float*, int64_t);
using RunGrad = void (*)(const float*, const float*, float*, int64_t);

int isaLevel() {
  const char* isa = gemmIsa();
  return std::strcmp(isa, "avx512") == 0 ? 2 : std::strcmp(isa, "avx2") == 0 ? 1 : 0;
}

Run chooseRun() {
  const Run runs[] = {portable::run, avx2::run, avx512::run};
  return runs[isaLevel()];
}

RunGrad chooseRunGrad() {
  const RunGrad runs[] = {portable::runGeluGrad, avx2::runGeluGrad, avx512::runGeluGrad};
  return runs[isaLevel()];
}

// float64: libm's tanh, in the reference's operation order.
void geluTanhBackwardF64(const double* x, const double* gy, double* o, int64_t n) {
  const double S = 0.7978845608028654;
  parallelFor(n, GRAIN, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) {
      const double v = x[i], x2 = v * v;
      const double t = std::tanh(S * (v + 0.044715 * v * v * v));
      const double du = S * (1 + 0.134145 * x2);
      o[i] = gy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
    }
  });
}

// geluTanhBackward(x, gy, out): three typed arrays of one float dtype and one length
Napi::Value GeluTanhBackward(const Napi::CallbackInfo& info) {
  const Arr x = arr(info[0]), gy = arr(info[1]), o = arr(info[2]);
  if (x.dt == DT::f64) {
    geluTanhBackwardF64(static_cast<const double*>(x.data), static_cast<const double*>(gy.data), static_cast<double*>(o.data),
                        x.length);
  } else {
    static const RunGrad run = chooseRunGrad();
    const float* xs = static_cast<const float*>(x.data);
    const float* gs = static_cast<const float*>(gy.data);
    float* os = static_cast<float*>(o.data);
    parallelFor(x.length, GRAIN, [&](int64_t b, int64_t e) { run(xs + b, gs + b, os + b, e - b); });
  }
  return info.Env().Undefined();
}

}  // namespace

void registerVmath(Napi::Env env, Napi::Object exports) {
  exports.Set("geluTanhBackward", Napi::Function::New(env, GeluTanhBackward));
}

bool vectorUnaryF32(int op, const float* x, float* o, int64_t n) {
  if (op != 3 && op != 10 && op != 11 && op != 15 && op != 16) return false;
  static const Run run = chooseRun();
  parallelFor(n, GRAIN, [&](int64_t b, int64_t e) { run(op, x + b, o + b, e - b); });
  return true;
}

}  // namespace ms
