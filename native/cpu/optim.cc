// Fused optimizer updates: one pass over a parameter, its gradient and its state per step, instead
// of about ten Tensor ops that each allocate an output. The arithmetic is the reference's
// (src/backend/reference/optim.ts) operation for operation: in T = float for float32 tensors, where
// each + - * / and sqrt rounds exactly as the reference's double-then-fround does, so results are
// bit-identical. That needs every a * b + c to stay two roundings, never one fused multiply-add,
// on targets that have FMA (ARM64; x86-64 built with -march=native): hence the pragmas below.
//
// Elementwise work has no reductions, so splitting it over threads cannot change a result;
// sumOfSquares sums fixed blocks whose boundaries do not depend on the thread count.
#include "optim.h"

#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "gemm.h"
#include "napi-glue.h"
#include "pool.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace ms {

namespace {

constexpr int64_t GRAIN = 1 << 14;  // elements per task (each touches 3-5 arrays)

// torch.maximum: NaN propagates (as the reference's maximum kernel).
template <class T>
inline T maximum(T a, T b) {
  return a != a || b != b ? static_cast<T>(NAN) : a > b ? a : b;
}

// The loops below are split by setting (template flags) so that each is a straight-line body
// the compiler vectorises; the arithmetic in every branch is written as in the reference. Each
// runs over [b, e) with its pointers and settings in locals (restrict, and out of reach of the
// stores), and `run` hands the ranges to the thread pool.
#define MS_RANGE inline __attribute__((always_inline))
using RangeFn = void (*)(const OptimArgs&, int64_t, int64_t);

// A loop compiled again for AVX-512: 16 floats per instruction where the baseline build has SSE2's
// 4. Square roots and divisions are what Adam's and RMSprop's loops wait on (MinAtar's centered
// RMSprop on 133k parameters: 102 us a step on one thread with SSE2, 88 with AVX-512). Vector division and square root
// round exactly as the scalar ones at any width, and contraction into FMA is off (above), so the
// results are the same bits.
template <RangeFn R>
__attribute__((target("avx512f"))) void rangeAvx512(const OptimArgs& a, int64_t b, int64_t e) {
  R(a, b, e);
}

// And for AVX2 (8 floats), where the CPU has it but not AVX-512. Without FMA in the target, so
// the compiler has nothing to contract into even if contraction were on.
template <RangeFn R>
__attribute__((target("avx2"))) void rangeAvx2(const OptimArgs& a, int64_t b, int64_t e) {
  R(a, b, e);
}

template <RangeFn R>
void run(const OptimArgs& a) {
  const RangeFn range = isaAvx512() ? rangeAvx512<R> : isaAvx2() ? rangeAvx2<R> : R;
  parallelFor(a.n, GRAIN, [&](int64_t b, int64_t e) { range(a, b, e); });
}

template <class T, bool WD, bool MOMENTUM, bool FIRST, bool NESTEROV>
MS_RANGE void sgdRange(const OptimArgs& a, int64_t b, int64_t e) {
  T* __restrict p = static_cast<T*>(a.buf[0]);
  const T* __restrict g = static_cast<const T*>(a.buf[1]);
  T* __restrict buf = static_cast<T*>(a.buf[2]);
  const T negLr = T(-a.s[0]), mom = T(a.s[1]), damp = T(1 - a.s[2]), wd = T(a.s[3]);
  const T sign = a.s[5] != 0 ? T(-1) : T(1);
  for (int64_t i = b; i < e; i++) {
    T d = g[i] * sign;
    if (WD) d = d + p[i] * wd;
    if (MOMENTUM) {
      const T m = FIRST ? d : buf[i] * mom + d * damp;
      buf[i] = m;
      d = NESTEROV ? d + m * mom : m;
    }
    p[i] = p[i] + d * negLr;
  }
}

template <class T>
void sgd(const OptimArgs& a) {
  const bool wd = a.s[3] != 0, momentum = a.s[1] != 0, nesterov = a.s[4] != 0, first = a.s[6] != 0;
  if (!momentum) return wd ? run<sgdRange<T, true, false, false, false>>(a) : run<sgdRange<T, false, false, false, false>>(a);
  if (first) {
    if (nesterov) return wd ? run<sgdRange<T, true, true, true, true>>(a) : run<sgdRange<T, false, true, true, true>>(a);
    return wd ? run<sgdRange<T, true, true, true, false>>(a) : run<sgdRange<T, false, true, true, false>>(a);
  }
  if (nesterov) return wd ? run<sgdRange<T, true, true, false, true>>(a) : run<sgdRange<T, false, true, false, true>>(a);
  return wd ? run<sgdRange<T, true, true, false, false>>(a) : run<sgdRange<T, false, true, false, false>>(a);
}

// DECAY: 0 none, 1 L2 (Adam: λθ added to the gradient), 2 decoupled (AdamW: θ ← θ (1 − lr λ)).
template <class T, int DECAY, bool AMSGRAD>
MS_RANGE void adamRange(const OptimArgs& a, int64_t b, int64_t e) {
  T* __restrict p = static_cast<T*>(a.buf[0]);
  const T* __restrict g = static_cast<const T*>(a.buf[1]);
  T* __restrict m = static_cast<T*>(a.buf[2]);
  T* __restrict v = static_cast<T*>(a.buf[3]);
  T* __restrict vMax = static_cast<T*>(a.buf[4]);
  const double lr = a.s[0], beta1 = a.s[1], beta2 = a.s[2], weightDecay = a.s[4];
  const T b1 = T(beta1), c1 = T(1 - beta1), b2 = T(beta2), c2 = T(1 - beta2), eps = T(a.s[3]);
  const T wd = T(weightDecay), decay = T(1 - lr * weightDecay);
  const T sign = a.s[6] != 0 ? T(-1) : T(1), negStep = T(-a.s[7]), bc2 = T(a.s[8]);
  for (int64_t i = b; i < e; i++) {
    T gi = g[i] * sign;
    T pi = p[i];
    if (DECAY == 2) pi = pi * decay;
    if (DECAY == 1) gi = gi + pi * wd;
    const T mi = m[i] * b1 + gi * c1;
    const T vi = v[i] * b2 + (gi * gi) * c2;
    m[i] = mi;
    v[i] = vi;
    T second = vi;
    if (AMSGRAD) {
      second = maximum(vMax[i], vi);
      vMax[i] = second;
    }
    const T denom = std::sqrt(second) / bc2 + eps;
    p[i] = pi + (mi / denom) * negStep;
  }
}

template <class T>
void adam(const OptimArgs& a) {
  const bool decoupled = a.s[5] != 0, amsgrad = a.buf[4] != nullptr;
  const int decay = decoupled ? 2 : a.s[4] != 0 ? 1 : 0;
  switch (decay) {
    case 0: return amsgrad ? run<adamRange<T, 0, true>>(a) : run<adamRange<T, 0, false>>(a);
    case 1: return amsgrad ? run<adamRange<T, 1, true>>(a) : run<adamRange<T, 1, false>>(a);
    default: return amsgrad ? run<adamRange<T, 2, true>>(a) : run<adamRange<T, 2, false>>(a);
  }
}

template <class T, bool WD, bool CENTERED, bool EPS_INSIDE, bool MOMENTUM>
MS_RANGE void rmspropRange(const OptimArgs& a, int64_t b, int64_t e) {
  T* __restrict p = static_cast<T*>(a.buf[0]);
  const T* __restrict g = static_cast<const T*>(a.buf[1]);
  T* __restrict sq = static_cast<T*>(a.buf[2]);
  T* __restrict ga = static_cast<T*>(a.buf[3]);
  T* __restrict buf = static_cast<T*>(a.buf[4]);
  const T negLr = T(-a.s[0]), alpha = T(a.s[1]), c = T(1 - a.s[1]), eps = T(a.s[2]), wd = T(a.s[3]);
  const T mom = T(a.s[4]), sign = a.s[6] != 0 ? T(-1) : T(1);
  for (int64_t i = b; i < e; i++) {
    T gi = g[i] * sign;
    if (WD) gi = gi + p[i] * wd;
    const T si = sq[i] * alpha + (gi * gi) * c;
    sq[i] = si;
    T avg = si;
    if (CENTERED) {
      const T gai = ga[i] * alpha + gi * c;
      ga[i] = gai;
      avg = si - gai * gai;
    }
    avg = EPS_INSIDE ? std::sqrt(avg + eps) : std::sqrt(avg) + eps;
    if (MOMENTUM) {
      const T bi = buf[i] * mom + gi / avg;
      buf[i] = bi;
      p[i] = p[i] + bi * negLr;
    } else {
      p[i] = p[i] + (gi / avg) * negLr;
    }
  }
}

template <class T, bool WD, bool CENTERED>
void rmspropWith(const OptimArgs& a) {
  const bool epsInside = a.s[5] != 0, momentum = a.s[4] > 0;
  if (epsInside) {
    return momentum ? run<rmspropRange<T, WD, CENTERED, true, true>>(a) : run<rmspropRange<T, WD, CENTERED, true, false>>(a);
  }
  return momentum ? run<rmspropRange<T, WD, CENTERED, false, true>>(a) : run<rmspropRange<T, WD, CENTERED, false, false>>(a);
}

template <class T>
void rmsprop(const OptimArgs& a) {
  const bool wd = a.s[3] != 0, centered = a.buf[3] != nullptr;
  if (wd) return centered ? rmspropWith<T, true, true>(a) : rmspropWith<T, true, false>(a);
  return centered ? rmspropWith<T, false, true>(a) : rmspropWith<T, false, false>(a);
}

template <class T, bool WD>
MS_RANGE void adagradRange(const OptimArgs& a, int64_t b, int64_t e) {
  T* __restrict p = static_cast<T*>(a.buf[0]);
  const T* __restrict g = static_cast<const T*>(a.buf[1]);
  T* __restrict sum = static_cast<T*>(a.buf[2]);
  const T negClr = T(-a.s[0]), eps = T(a.s[1]), wd = T(a.s[2]), sign = a.s[3] != 0 ? T(-1) : T(1);
  for (int64_t i = b; i < e; i++) {
    T gi = g[i] * sign;
    if (WD) gi = gi + p[i] * wd;
    const T s = sum[i] + gi * gi;
    sum[i] = s;
    const T std = std::sqrt(s) + eps;
    p[i] = p[i] + (gi / std) * negClr;
  }
}

template <class T, bool WD>
MS_RANGE void adadeltaRange(const OptimArgs& a, int64_t b, int64_t e) {
  T* __restrict p = static_cast<T*>(a.buf[0]);
  const T* __restrict g = static_cast<const T*>(a.buf[1]);
  T* __restrict sq = static_cast<T*>(a.buf[2]);
  T* __restrict acc = static_cast<T*>(a.buf[3]);
  const T negLr = T(-a.s[0]), rho = T(a.s[1]), c = T(1 - a.s[1]), eps = T(a.s[2]), wd = T(a.s[3]);
  const T sign = a.s[4] != 0 ? T(-1) : T(1);
  for (int64_t i = b; i < e; i++) {
    T gi = g[i] * sign;
    if (WD) gi = gi + p[i] * wd;
    const T si = sq[i] * rho + (gi * gi) * c;
    sq[i] = si;
    const T std = std::sqrt(si + eps);
    const T delta = (std::sqrt(acc[i] + eps) / std) * gi;
    acc[i] = acc[i] * rho + (delta * delta) * c;
    p[i] = p[i] + delta * negLr;
  }
}

template <class T, bool WD>
MS_RANGE void adamaxRange(const OptimArgs& a, int64_t b, int64_t e) {
  T* __restrict p = static_cast<T*>(a.buf[0]);
  const T* __restrict g = static_cast<const T*>(a.buf[1]);
  T* __restrict m = static_cast<T*>(a.buf[2]);
  T* __restrict inf = static_cast<T*>(a.buf[3]);
  const T negClr = T(-a.s[0]), b1 = T(a.s[1]), c1 = T(1 - a.s[1]), b2 = T(a.s[2]), eps = T(a.s[3]);
  const T wd = T(a.s[4]), sign = a.s[5] != 0 ? T(-1) : T(1);
  for (int64_t i = b; i < e; i++) {
    T gi = g[i] * sign;
    if (WD) gi = gi + p[i] * wd;
    const T mi = m[i] * b1 + gi * c1;
    m[i] = mi;
    const T ui = maximum(inf[i] * b2, std::fabs(gi) + eps);
    inf[i] = ui;
    p[i] = p[i] + (mi / ui) * negClr;
  }
}

template <class T>
void step(const OptimArgs& a) {
  switch (a.kind) {
    case 0: return sgd<T>(a);
    case 1: return adam<T>(a);
    case 2: return rmsprop<T>(a);
    case 3: return a.s[2] != 0 ? run<adagradRange<T, true>>(a) : run<adagradRange<T, false>>(a);
    case 4: return a.s[3] != 0 ? run<adadeltaRange<T, true>>(a) : run<adadeltaRange<T, false>>(a);
    default: return a.s[4] != 0 ? run<adamaxRange<T, true>>(a) : run<adamaxRange<T, false>>(a);
  }
}

constexpr int64_t BLOCK = 4096;  // SUM_SQUARES_BLOCK of reference/optim.ts

// One block's sum of squares: element i in lane (i mod 8), lanes added pairwise.
template <class T>
double blockSumOfSquares(const T* x, int64_t n) {
  double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; j++) {
      const double v = x[i + j];
      lane[j] += v * v;
    }
  }
  for (int j = 0; i < n; i++, j++) {
    const double v = x[i];
    lane[j] += v * v;
  }
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

template <class T>
double sumOfSquaresTyped(const T* x, int64_t n, double total) {
  const int64_t blocks = (n + BLOCK - 1) / BLOCK;
  std::vector<double> partial(blocks);
  // Four blocks per task; the partial sums are then added in block order on this thread.
  parallelFor(blocks, 4, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; k++) {
      const int64_t begin = k * BLOCK, len = begin + BLOCK < n ? BLOCK : n - begin;
      partial[k] = blockSumOfSquares(x + begin, len);
    }
  });
  for (int64_t k = 0; k < blocks; k++) total += partial[k];
  return total;
}

}  // namespace

void optimizerStep(const OptimArgs& a) {
  if (a.dt == DT::f64) step<double>(a);
  else step<float>(a);
}

double sumOfSquares(DT dt, const void* x, int64_t n, double total) {
  if (dt == DT::f64) return sumOfSquaresTyped(static_cast<const double*>(x), n, total);
  return sumOfSquaresTyped(static_cast<const float*>(x), n, total);
}

void scaleInPlace(DT dt, void* x, int64_t n, const void* factor) {
  auto scale = [&](auto* d) {
    using T = std::remove_pointer_t<decltype(d)>;
    const T f = *static_cast<const T*>(factor);
    parallelFor(n, GRAIN, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) d[i] = d[i] * f;
    });
  };
  if (dt == DT::f64) scale(static_cast<double*>(x));
  else scale(static_cast<float*>(x));
}

namespace {

struct View {
  void* data;
  DT dt;
  int64_t length;
};

// A typed array's data, dtype (float32 or float64) and length (napi-glue.h reads it in one N-API call).
View view(const Napi::Value& v) {
  const Arr a = arr(v);
  return {a.data, a.dt == DT::f64 ? DT::f64 : DT::f32, a.length};
}

// optim(kind, param, grad, state0, state1, state2, settings): state buffers may be null; settings
// is a Float64Array.
Napi::Value Optim(const Napi::CallbackInfo& info) {
  OptimArgs a{};
  a.kind = static_cast<int>(info[0].As<Napi::Number>().Int32Value());
  const View p = view(info[1]);
  a.dt = p.dt;
  a.n = p.length;
  a.buf[0] = p.data;
  for (int i = 1; i < 5; i++) a.buf[i] = info[i + 1].IsNull() ? nullptr : view(info[i + 1]).data;
  const View s = view(info[6]);
  const double* settings = static_cast<const double*>(s.data);
  for (int64_t i = 0; i < s.length && i < 9; i++) a.s[i] = settings[i];
  optimizerStep(a);
  return info.Env().Undefined();
}

// sumOfSquares(inputs, out): out[0] = the sum of squares of every element of every input.
Napi::Value SumOfSquares(const Napi::CallbackInfo& info) {
  Napi::Array inputs = info[0].As<Napi::Array>();
  double total = 0;
  for (uint32_t i = 0; i < inputs.Length(); i++) {
    const View x = view(inputs.Get(i));
    total = sumOfSquares(x.dt, x.data, x.length, total);
  }
  *static_cast<double*>(view(info[1]).data) = total;
  return info.Env().Undefined();
}

// scale(x, factor): x *= factor[0].
Napi::Value Scale(const Napi::CallbackInfo& info) {
  const View x = view(info[0]);
  scaleInPlace(x.dt, x.data, x.length, view(info[1]).data);
  return info.Env().Undefined();
}

}  // namespace

void registerOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("optim", Napi::Function::New(env, Optim));
  exports.Set("sumOfSquares", Napi::Function::New(env, SumOfSquares));
  exports.Set("scale", Napi::Function::New(env, Scale));
}

}  // namespace ms
