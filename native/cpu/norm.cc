// Normalisation kernels (batch norm, layer norm, forward and backward) and the softmax backward
// kernels. Each reads its input at most twice: one pass for the per-channel or per-row sums, one
// that writes the output. Sums run in eight lanes of the storage type (which the compiler turns
// into one vector register) and the lanes are then added in double, always in the same order.
//
// The loops are written once, as templates, and compiled twice for float32: for the baseline ISA
// and, inlined into a target("avx2") wrapper, for AVX2 (chosen at run time as the sgemm kernel is).
// Neither uses FMA and the lanes are explicit, so both give the same bits.
#include "norm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "gemm.h"
#include "napi-glue.h"
#include "pool.h"

namespace ms {

namespace {

#define MS_INLINE inline __attribute__((always_inline))

constexpr int kLanes = 8;

bool useAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && std::strcmp(gemmIsa(), "portable") != 0;
  return yes;
}

// The sum of f(i) over [0, n): lane k adds the terms with i = k (mod 8) in T, then the lanes and
// the tail are added in double.
template <class T, class F>
MS_INLINE double laneSum(int64_t n, F f) {
  T acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; k++) acc[k] += f(i + k);
  double s = 0;
  for (int k = 0; k < kLanes; k++) s += acc[k];
  for (; i < n; i++) s += f(i);
  return s;
}

// Two sums at once: f(i, u, v) gives the terms of each.
template <class T, class F>
MS_INLINE void laneSum2(int64_t n, F f, double& s1, double& s2) {
  T a[kLanes] = {}, b[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; k++) {
      T u, v;
      f(i + k, u, v);
      a[k] += u;
      b[k] += v;
    }
  }
  s1 = 0;
  s2 = 0;
  for (int k = 0; k < kLanes; k++) {
    s1 += a[k];
    s2 += b[k];
  }
  for (; i < n; i++) {
    T u, v;
    f(i, u, v);
    s1 += u;
    s2 += v;
  }
}

// A float's bits as an integer that orders like the float (for floats that are not NaN). Comparing
// these instead of the floats keeps a loop free of floating-point compares, which may trap on NaN
// and so stop the compiler from vectorizing.
MS_INLINE int32_t orderKey(float x) {
  int32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b ^ ((b >> 31) & 0x7fffffff);
}

// exp for one float, written so a loop of it vectorizes: Cephes' expf (as exp8 in nn.cc), with
// round-to-nearest by adding and subtracting 1.5 * 2^23. About 1 ulp; below -87.3 it gives 0 and
// above 88.38 it saturates at 2.4e38 (as exp8 does).
MS_INLINE float expLane(float x) {
  const float lo = -88.3762626647949f, hi = 88.3762626647949f;  // clamped to these (by bits)
  const int32_t key = orderKey(x);
  uint32_t xBits;
  std::memcpy(&xBits, &x, sizeof xBits);
  const bool isNan = (xBits & 0x7fffffffu) > 0x7f800000u;
  int32_t cBits = key < orderKey(lo) ? orderKey(lo) : (key > orderKey(hi) ? orderKey(hi) : key);
  cBits ^= (cBits >> 31) & 0x7fffffff;  // orderKey is its own inverse
  float xc;
  std::memcpy(&xc, &cBits, sizeof xc);
  // t holds round(xc / ln 2) in its low mantissa bits; reading them there avoids a float-to-int
  // conversion (another instruction that may trap).
  const float t = xc * 1.44269504088896341f + 12582912.0f;
  int32_t tBits;
  std::memcpy(&tBits, &t, sizeof tBits);
  const int32_t n = tBits - 0x4b400000;
  const float fx = t - 12582912.0f;
  float r = xc - fx * 0.693359375f;
  r = r - fx * -2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * (r * r) + (r + 1.0f);
  const uint32_t bits = static_cast<uint32_t>(n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  // The selects are done on the bits, as a float select may not compute both sides.
  const float e = p * scale;
  uint32_t eBits;
  std::memcpy(&eBits, &e, sizeof eBits);
  const uint32_t keep = 0u - static_cast<uint32_t>(key >= orderKey(-87.3f));
  const uint32_t nan = 0u - static_cast<uint32_t>(isNan);
  eBits = ((eBits & keep) & ~nan) | (xBits & nan);
  float out;
  std::memcpy(&out, &eBits, sizeof out);
  return out;
}
MS_INLINE double expLane(double x) { return std::exp(x); }

// ---------------------------------------------------------------- batch norm

// kLanes values of T in one vector (GCC's vector extension: SSE registers in the baseline build,
// AVX ones in the AVX2 build; the same arithmetic lane by lane either way).
template <class T>
struct LaneVec;
template <>
struct LaneVec<float> {
  typedef float type __attribute__((vector_size(kLanes * sizeof(float))));
};
template <>
struct LaneVec<double> {
  typedef double type __attribute__((vector_size(kLanes * sizeof(double))));
};
template <class T>
using Vec = typename LaneVec<T>::type;

template <class T>
struct BatchNormArgs {
  const T *x, *w, *b, *gy, *mean, *invstd;
  T *y, *outMean, *outInvstd, *gx, *gw, *gb;
  int64_t N, C, S;
  double eps;
};

// Batch norm works on rows (row r = n C + c: one image's S values of one channel) in three steps:
// each row's two sums, each channel's statistics from its rows' sums added in image order, then
// each row of the output. Two orders give the same additions, and so the same bits:
// - channel by channel (a task takes whole channels and does all three steps for each), when rows
//   are long and a channel fits in L2: its second read of x then comes from L2;
// - row by row (the sums of all rows in parallel, the statistics serially, then all output rows in
//   parallel), when rows are short: going channel by channel would read every image's few values
//   of one channel at a stride of C x S, which ResNet-20's 16x16 and 8x8 stages spent 15-35% more
//   time on.

// Row r's sum(x - K) and sum((x - K)^2) into sums[2r], sums[2r + 1], K = x[0, c, 0] for the row's
// channel c: shifting by a value of the data keeps this form of the variance accurate (Chan, Golub
// & LeVeque 1983).
template <class T>
MS_INLINE void batchNormRowSums(const BatchNormArgs<T>& a, int64_t r, double* sums) {
  const int64_t S = a.S;
  const T K = a.N * S > 0 ? a.x[(r % a.C) * S] : T(0);
  const T* __restrict p = a.x + r * S;
  // laneSum2's two sums, written with one vector per lane set (as layerNormBackwardRows): the
  // compiler's own vectorization of laneSum2 shuffled lanes at every step and made this pass
  // most of the kernel. Same lanes, same order, same bits.
  Vec<T> accD = {}, accD2 = {};
  const Vec<T> vk = Vec<T>{} + K;
  int64_t i = 0;
  for (; i + kLanes <= S; i += kLanes) {
    Vec<T> xv;
    std::memcpy(&xv, p + i, sizeof xv);
    const Vec<T> d = xv - vk;
    accD += d;
    accD2 += d * d;
  }
  double u = 0, v = 0;
  for (int k = 0; k < kLanes; k++) {
    u += accD[k];
    v += accD2[k];
  }
  for (; i < S; i++) {
    const T d = p[i] - K;
    u += d;
    v += d * d;
  }
  sums[2 * r] = u;
  sums[2 * r + 1] = v;
}

// Channel c's mean and 1/std (into the outputs) and coef[3c..3c+2] = mean, scale, bias in T.
template <class T>
MS_INLINE void batchNormStats(const BatchNormArgs<T>& a, int64_t c, const double* sums, T* coef) {
  const int64_t N = a.N, C = a.C, S = a.S;
  const double M = static_cast<double>(N) * static_cast<double>(S);
  const T K = N * S > 0 ? a.x[c * S] : T(0);
  double s1 = 0, s2 = 0;
  for (int64_t n = 0; n < N; n++) {
    s1 += sums[2 * (n * C + c)];
    s2 += sums[2 * (n * C + c) + 1];
  }
  const double shift = s1 / M;
  const double mu = static_cast<double>(K) + shift;
  const double var = s2 / M - shift * shift;  // NaN for an empty batch, as in the reference
  const double is = 1.0 / std::sqrt((var < 0 ? 0.0 : var) + a.eps);
  a.outMean[c] = static_cast<T>(mu);
  a.outInvstd[c] = static_cast<T>(is);
  coef[3 * c] = static_cast<T>(mu);
  coef[3 * c + 1] = static_cast<T>(is * static_cast<double>(a.w[c]));
  coef[3 * c + 2] = a.b[c];
}

// y = (x - mean) * scale + bias on row r.
template <class T>
MS_INLINE void batchNormRowApply(const BatchNormArgs<T>& a, int64_t r, const T* coef) {
  const int64_t c = r % a.C, S = a.S;
  const T m = coef[3 * c], scale = coef[3 * c + 1], bias = coef[3 * c + 2];
  const T* __restrict p = a.x + r * S;
  T* __restrict q = a.y + r * S;
  for (int64_t i = 0; i < S; i++) q[i] = (p[i] - m) * scale + bias;
}

// Backward, row r: sum(gy) and sum(gy (x - mean)) into sums[2r], sums[2r + 1].
template <class T>
MS_INLINE void batchNormBackwardRowSums(const BatchNormArgs<T>& a, int64_t r, double* sums) {
  const int64_t S = a.S;
  const T m = a.mean[r % a.C];
  const T* __restrict g = a.gy + r * S;
  const T* __restrict p = a.x + r * S;
  // laneSum2's two sums with one vector per lane set (see batchNormRowSums).
  Vec<T> accG = {}, accGX = {};
  const Vec<T> vm = Vec<T>{} + m;
  int64_t i = 0;
  for (; i + kLanes <= S; i += kLanes) {
    Vec<T> gv, pv;
    std::memcpy(&gv, g + i, sizeof gv);
    std::memcpy(&pv, p + i, sizeof pv);
    accG += gv;
    accGX += gv * (pv - vm);
  }
  double u = 0, v = 0;
  for (int k = 0; k < kLanes; k++) {
    u += accG[k];
    v += accGX[k];
  }
  for (; i < S; i++) {
    u += g[i];
    v += g[i] * (p[i] - m);
  }
  sums[2 * r] = u;
  sums[2 * r + 1] = v;
}

// Channel c's gradients of w and b (into the outputs) and coef[3c..3c+2] = k1, k2, k0 in T.
template <class T>
MS_INLINE void batchNormBackwardStats(const BatchNormArgs<T>& a, int64_t c, const double* sums, T* coef) {
  const int64_t N = a.N, C = a.C;
  const double M = static_cast<double>(N) * static_cast<double>(a.S);
  double sumG = 0, sumGX = 0;
  for (int64_t n = 0; n < N; n++) {
    sumG += sums[2 * (n * C + c)];
    sumGX += sums[2 * (n * C + c) + 1];
  }
  const double is = a.invstd[c];
  const double gw = sumGX * is;
  a.gb[c] = static_cast<T>(sumG);
  a.gw[c] = static_cast<T>(gw);
  // gx = w s (gy - gb / M - xhat gw / M) = k1 gy + k2 (x - mean) + k0.
  const double ws = static_cast<double>(a.w[c]) * is;
  coef[3 * c] = static_cast<T>(ws);
  coef[3 * c + 1] = static_cast<T>(-ws * is * gw / M);
  coef[3 * c + 2] = static_cast<T>(-ws * sumG / M);
}

// gx = k1 gy + k2 (x - mean) + k0 on row r.
template <class T>
MS_INLINE void batchNormBackwardRowApply(const BatchNormArgs<T>& a, int64_t r, const T* coef) {
  const int64_t c = r % a.C, S = a.S;
  const T m = a.mean[c], k1 = coef[3 * c], k2 = coef[3 * c + 1], k0 = coef[3 * c + 2];
  const T* __restrict g = a.gy + r * S;
  const T* __restrict p = a.x + r * S;
  T* __restrict q = a.gx + r * S;
  for (int64_t i = 0; i < S; i++) q[i] = (k1 * g[i] + k2 * (p[i] - m)) + k0;
}

// The task bodies of both orders, forward (BACKWARD false) and backward.
template <class T, bool BACKWARD>
struct BatchNormSteps {
  static MS_INLINE void sums(const BatchNormArgs<T>& a, int64_t r0, int64_t r1, double* s) {
    for (int64_t r = r0; r < r1; r++) BACKWARD ? batchNormBackwardRowSums(a, r, s) : batchNormRowSums(a, r, s);
  }
  static MS_INLINE void apply(const BatchNormArgs<T>& a, int64_t r0, int64_t r1, const T* coef) {
    for (int64_t r = r0; r < r1; r++) BACKWARD ? batchNormBackwardRowApply(a, r, coef) : batchNormRowApply(a, r, coef);
  }
  static MS_INLINE void channels(const BatchNormArgs<T>& a, int64_t c0, int64_t c1, double* s, T* coef) {
    const int64_t N = a.N, C = a.C;
    for (int64_t c = c0; c < c1; c++) {
      for (int64_t n = 0; n < N; n++) BACKWARD ? batchNormBackwardRowSums(a, n * C + c, s) : batchNormRowSums(a, n * C + c, s);
      BACKWARD ? batchNormBackwardStats(a, c, s, coef) : batchNormStats(a, c, s, coef);
      for (int64_t n = 0; n < N; n++) BACKWARD ? batchNormBackwardRowApply(a, n * C + c, coef) : batchNormRowApply(a, n * C + c, coef);
    }
  }
};

// The three bodies compiled for one ISA: the baseline's, or (float32) AVX2's.
template <class T, bool BACKWARD>
struct BatchNormKernels {
  void (*sums)(const BatchNormArgs<T>&, int64_t, int64_t, double*);
  void (*apply)(const BatchNormArgs<T>&, int64_t, int64_t, const T*);
  void (*channels)(const BatchNormArgs<T>&, int64_t, int64_t, double*, T*);
};
template <class T, bool BACKWARD>
void bnSumsBase(const BatchNormArgs<T>& a, int64_t r0, int64_t r1, double* s) {
  BatchNormSteps<T, BACKWARD>::sums(a, r0, r1, s);
}
template <class T, bool BACKWARD>
void bnApplyBase(const BatchNormArgs<T>& a, int64_t r0, int64_t r1, const T* coef) {
  BatchNormSteps<T, BACKWARD>::apply(a, r0, r1, coef);
}
template <class T, bool BACKWARD>
void bnChannelsBase(const BatchNormArgs<T>& a, int64_t c0, int64_t c1, double* s, T* coef) {
  BatchNormSteps<T, BACKWARD>::channels(a, c0, c1, s, coef);
}
template <bool BACKWARD>
__attribute__((target("avx2"))) void bnSumsAvx2(const BatchNormArgs<float>& a, int64_t r0, int64_t r1, double* s) {
  BatchNormSteps<float, BACKWARD>::sums(a, r0, r1, s);
}
template <bool BACKWARD>
__attribute__((target("avx2"))) void bnApplyAvx2(const BatchNormArgs<float>& a, int64_t r0, int64_t r1, const float* coef) {
  BatchNormSteps<float, BACKWARD>::apply(a, r0, r1, coef);
}
template <bool BACKWARD>
__attribute__((target("avx2"))) void bnChannelsAvx2(const BatchNormArgs<float>& a, int64_t c0, int64_t c1, double* s, float* coef) {
  BatchNormSteps<float, BACKWARD>::channels(a, c0, c1, s, coef);
}
template <class T, bool BACKWARD>
BatchNormKernels<T, BACKWARD> batchNormKernels() {
  if constexpr (std::is_same_v<T, float>) {
    if (useAvx2()) return {bnSumsAvx2<BACKWARD>, bnApplyAvx2<BACKWARD>, bnChannelsAvx2<BACKWARD>};
  }
  return {bnSumsBase<T, BACKWARD>, bnApplyBase<T, BACKWARD>, bnChannelsBase<T, BACKWARD>};
}

// Channels per task: enough that a task has work, never fewer than one.
int64_t channelGrain(int64_t perChannel) { return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(perChannel, 1)); }

// ---------------------------------------------------------------- layer norm

template <class T>
struct LayerNormArgs {
  const T *x, *w, *b, *gy, *mean, *rstd;
  T *y, *outMean, *outRstd, *gx;
  T* partial;  // backward: per task, D sums of gy * xhat then D sums of gy
  int64_t D;
  int64_t grain;
  double eps;
};

template <class T>
MS_INLINE void layerNormRows(const LayerNormArgs<T>& a, int64_t r0, int64_t r1) {
  const int64_t D = a.D;
  for (int64_t r = r0; r < r1; r++) {
    const T* __restrict p = a.x + r * D;
    const double mu = laneSum<T>(D, [&](int64_t i) { return p[i]; }) / static_cast<double>(D);
    const T m = static_cast<T>(mu);
    const double var = laneSum<T>(D, [&](int64_t i) {
                         const T d = p[i] - m;
                         return d * d;
                       }) /
                       static_cast<double>(D);
    const double rs = 1.0 / std::sqrt(var + a.eps);
    a.outMean[r] = m;
    a.outRstd[r] = static_cast<T>(rs);
    const T s = static_cast<T>(rs);
    const T* __restrict w = a.w;
    const T* __restrict b = a.b;
    T* __restrict q = a.y + r * D;
    for (int64_t i = 0; i < D; i++) q[i] = (p[i] - m) * s * w[i] + b[i];
  }
}

template <class T>
MS_INLINE void layerNormBackwardRows(const LayerNormArgs<T>& a, int64_t r0, int64_t r1) {
  const int64_t D = a.D;
  // Locals marked restrict, so the compiler need not reload them after every store.
  T* __restrict pw = a.partial + (r0 / a.grain) * 2 * D;
  T* __restrict pb = pw + D;
  const T* __restrict w = a.w;
  for (int64_t r = r0; r < r1; r++) {
    const T* __restrict g = a.gy + r * D;
    const T* __restrict p = a.x + r * D;
    T* __restrict q = a.gx + r * D;
    const T m = a.mean[r], s = a.rstd[r];
    // laneSum2's two sums written with one vector per lane set: the compiler's own vectorization
    // of that loop shuffles lanes at every step. The lanes, and so the result, are the same.
    typedef T Vec __attribute__((vector_size(kLanes * sizeof(T))));
    Vec accG = {}, accGX = {};
    const Vec vm = Vec{} + m, vs = Vec{} + s;
    int64_t j = 0;
    for (; j + kLanes <= D; j += kLanes) {
      Vec gv, wv, pv;
      std::memcpy(&gv, g + j, sizeof gv);
      std::memcpy(&wv, w + j, sizeof wv);
      std::memcpy(&pv, p + j, sizeof pv);
      const Vec t = gv * wv;
      accG += t;
      accGX += t * ((pv - vm) * vs);
    }
    double sumG = 0, sumGX = 0;
    for (int k = 0; k < kLanes; k++) {
      sumG += accG[k];
      sumGX += accGX[k];
    }
    for (; j < D; j++) {
      const T t = g[j] * w[j];
      sumG += t;
      sumGX += t * ((p[j] - m) * s);
    }
    // gx = rstd (g - mean(g) - xhat mean(g xhat)), g = gy * w.
    const T A = static_cast<T>(sumG / static_cast<double>(D)), B = static_cast<T>(sumGX / static_cast<double>(D));
    for (int64_t i = 0; i < D; i++) q[i] = s * ((g[i] * w[i] - A) - ((p[i] - m) * s) * B);
    for (int64_t i = 0; i < D; i++) {
      pw[i] += g[i] * ((p[i] - m) * s);
      pb[i] += g[i];
    }
  }
}

__attribute__((target("avx2"))) void layerNormAvx2(const LayerNormArgs<float>& a, int64_t r0, int64_t r1) {
  layerNormRows<float>(a, r0, r1);
}
__attribute__((target("avx2"))) void layerNormBackwardAvx2(const LayerNormArgs<float>& a, int64_t r0, int64_t r1) {
  layerNormBackwardRows<float>(a, r0, r1);
}
template <class T>
void layerNormBase(const LayerNormArgs<T>& a, int64_t r0, int64_t r1) {
  layerNormRows<T>(a, r0, r1);
}
template <class T>
void layerNormBackwardBase(const LayerNormArgs<T>& a, int64_t r0, int64_t r1) {
  layerNormBackwardRows<T>(a, r0, r1);
}

// Rows per task, from the row length alone (so the column sums of layerNormBackward are split
// into the same partial sums for any number of threads).
int64_t rowGrain(int64_t len) { return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(len, 1)); }

// ---------------------------------------------------------------- softmax backward

template <class T>
struct SoftmaxBackwardArgs {
  const T *y, *gy;
  T* out;
  int64_t len, inner;
  bool log;
};

template <class T>
MS_INLINE void softmaxBackwardRows(const SoftmaxBackwardArgs<T>& a, int64_t r0, int64_t r1) {
  const int64_t len = a.len;
  for (int64_t r = r0; r < r1; r++) {
    const T* __restrict y = a.y + r * len;
    const T* __restrict g = a.gy + r * len;
    T* __restrict q = a.out + r * len;
    if (a.log) {
      const T s = static_cast<T>(laneSum<T>(len, [&](int64_t i) { return g[i]; }));
      for (int64_t i = 0; i < len; i++) q[i] = g[i] - expLane(y[i]) * s;
    } else {
      const T d = static_cast<T>(laneSum<T>(len, [&](int64_t i) { return g[i] * y[i]; }));
      for (int64_t i = 0; i < len; i++) q[i] = y[i] * (g[i] - d);
    }
  }
}

__attribute__((target("avx2"))) void softmaxBackwardAvx2(const SoftmaxBackwardArgs<float>& a, int64_t r0, int64_t r1) {
  softmaxBackwardRows<float>(a, r0, r1);
}
template <class T>
void softmaxBackwardBase(const SoftmaxBackwardArgs<T>& a, int64_t r0, int64_t r1) {
  softmaxBackwardRows<T>(a, r0, r1);
}

// A softmax along a non-last axis: for each outer index, the len rows of inner values are summed
// column by column (in double), so the loops run along contiguous memory.
template <class T>
void softmaxBackwardStrided(const T* Y, const T* G, T* O, int64_t outer, int64_t len, int64_t inner, bool log) {
  parallelFor(outer, rowGrain(len * inner), [&](int64_t o0, int64_t o1) {
    std::vector<double> acc(inner);
    for (int64_t o = o0; o < o1; o++) {
      const T* y = Y + o * len * inner;
      const T* g = G + o * len * inner;
      T* q = O + o * len * inner;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t k = 0; k < len; k++)
        for (int64_t j = 0; j < inner; j++) acc[j] += log ? g[k * inner + j] : g[k * inner + j] * y[k * inner + j];
      for (int64_t k = 0; k < len; k++) {
        for (int64_t j = 0; j < inner; j++) {
          const int64_t i = k * inner + j;
          const T d = static_cast<T>(acc[j]);
          q[i] = log ? g[i] - expLane(y[i]) * d : y[i] * (g[i] - d);
        }
      }
    }
  });
}

}  // namespace

namespace {
// Runs batch norm (or its backward) on args `a` in the order that suits its shape (see above).
template <class T, bool BACKWARD>
void batchNormRun(const BatchNormArgs<T>& a) {
  const BatchNormKernels<T, BACKWARD> k = batchNormKernels<T, BACKWARD>();
  const int64_t N = a.N, C = a.C, S = a.S;
  std::vector<double> sums(static_cast<size_t>(2 * N * C));
  std::vector<T> coef(static_cast<size_t>(3 * C));
  // Channel by channel where rows are at least 2 KiB and a channel's values fit in 1 MiB.
  const bool byChannel = S * static_cast<int64_t>(sizeof(T)) >= 2048 && N * S * static_cast<int64_t>(sizeof(T)) <= (1 << 20);
  if (byChannel) {
    parallelFor(C, channelGrain(N * S), [&](int64_t c0, int64_t c1) { k.channels(a, c0, c1, sums.data(), coef.data()); });
    return;
  }
  const int64_t grain = channelGrain(S);
  parallelFor(N * C, grain, [&](int64_t r0, int64_t r1) { k.sums(a, r0, r1, sums.data()); });
  for (int64_t c = 0; c < C; c++) BACKWARD ? batchNormBackwardStats(a, c, sums.data(), coef.data()) : batchNormStats(a, c, sums.data(), coef.data());
  parallelFor(N * C, grain, [&](int64_t r0, int64_t r1) { k.apply(a, r0, r1, coef.data()); });
}
}  // namespace

void batchNorm(DT dt, const void* x, const void* w, const void* b, void* y, void* mean, void* invstd, int64_t N,
               int64_t C, int64_t S, double eps) {
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    batchNormRun<T, false>(BatchNormArgs<T>{static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(b),
                                            nullptr, nullptr, nullptr, static_cast<T*>(y), static_cast<T*>(mean),
                                            static_cast<T*>(invstd), nullptr, nullptr, nullptr, N, C, S, eps});
  };
  if (dt == DT::f32)
    run(static_cast<float*>(nullptr));
  else
    run(static_cast<double*>(nullptr));
}

void batchNormBackward(DT dt, const void* gy, const void* x, const void* mean, const void* invstd, const void* w,
                       void* gx, void* gw, void* gb, int64_t N, int64_t C, int64_t S) {
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    batchNormRun<T, true>(BatchNormArgs<T>{static_cast<const T*>(x), static_cast<const T*>(w), nullptr,
                                           static_cast<const T*>(gy), static_cast<const T*>(mean),
                                           static_cast<const T*>(invstd), nullptr, nullptr, nullptr, static_cast<T*>(gx),
                                           static_cast<T*>(gw), static_cast<T*>(gb), N, C, S, 0.0});
  };
  if (dt == DT::f32)
    run(static_cast<float*>(nullptr));
  else
    run(static_cast<double*>(nullptr));
}

void layerNorm(DT dt, const void* x, const void* w, const void* b, void* y, void* mean, void* rstd, int64_t rows,
               int64_t D, double eps) {
  auto run = [&](auto* tag, auto kernel) {
    using T = std::remove_pointer_t<decltype(tag)>;
    LayerNormArgs<T> a{static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(b), nullptr, nullptr,
                       nullptr, static_cast<T*>(y), static_cast<T*>(mean), static_cast<T*>(rstd), nullptr, nullptr,
                       D, rowGrain(D), eps};
    parallelFor(rows, a.grain, [&](int64_t r0, int64_t r1) { kernel(a, r0, r1); });
  };
  if (dt == DT::f32)
    run(static_cast<float*>(nullptr), useAvx2() ? layerNormAvx2 : layerNormBase<float>);
  else
    run(static_cast<double*>(nullptr), layerNormBase<double>);
}

void layerNormBackward(DT dt, const void* gy, const void* x, const void* mean, const void* rstd, const void* w,
                       void* gx, void* gw, void* gb, int64_t rows, int64_t D) {
  auto run = [&](auto* tag, auto kernel) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const int64_t grain = rowGrain(D);
    const int64_t tasks = (rows + grain - 1) / grain;
    std::vector<T> partial(static_cast<size_t>(tasks * 2 * D), T(0));
    LayerNormArgs<T> a{static_cast<const T*>(x), static_cast<const T*>(w), nullptr, static_cast<const T*>(gy),
                       static_cast<const T*>(mean), static_cast<const T*>(rstd), nullptr, nullptr, nullptr,
                       static_cast<T*>(gx), partial.data(), D, grain, 0.0};
    parallelFor(rows, grain, [&](int64_t r0, int64_t r1) { kernel(a, r0, r1); });
    // The weight and bias gradients: the tasks' partial sums, added in task order.
    T* GW = static_cast<T*>(gw);
    T* GB = static_cast<T*>(gb);
    for (int64_t i = 0; i < D; i++) {
      double sw = 0, sb = 0;
      for (int64_t t = 0; t < tasks; t++) {
        sw += partial[t * 2 * D + i];
        sb += partial[t * 2 * D + D + i];
      }
      GW[i] = static_cast<T>(sw);
      GB[i] = static_cast<T>(sb);
    }
  };
  if (dt == DT::f32)
    run(static_cast<float*>(nullptr), useAvx2() ? layerNormBackwardAvx2 : layerNormBackwardBase<float>);
  else
    run(static_cast<double*>(nullptr), layerNormBackwardBase<double>);
}

void softmaxBackward(DT dt, const void* y, const void* gy, void* out, int64_t outer, int64_t len, int64_t inner,
                     bool log) {
  auto run = [&](auto* tag, auto kernel) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* Y = static_cast<const T*>(y);
    const T* G = static_cast<const T*>(gy);
    T* O = static_cast<T*>(out);
    if (inner != 1) {
      softmaxBackwardStrided(Y, G, O, outer, len, inner, log);
      return;
    }
    SoftmaxBackwardArgs<T> a{Y, G, O, len, 1, log};
    parallelFor(outer, rowGrain(len), [&](int64_t r0, int64_t r1) { kernel(a, r0, r1); });
  };
  if (dt == DT::f32)
    run(static_cast<float*>(nullptr), useAvx2() ? softmaxBackwardAvx2 : softmaxBackwardBase<float>);
  else
    run(static_cast<double*>(nullptr), softmaxBackwardBase<double>);
}

// ---------------------------------------------------------------- N-API glue

namespace {

struct View {
  void* data;
  DT dt;
};

View view(const Napi::Value& v) {
  const Arr a = arr(v);
  return {a.data, a.dt == DT::f64 ? DT::f64 : DT::f32};
}
void* ptr(const Napi::Value& v) { return view(v).data; }

// batchNorm(x, w, b, y, mean, invstd, N, C, S, eps)
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  View x = view(info[0]);
  batchNorm(x.dt, x.data, ptr(info[1]), ptr(info[2]), ptr(info[3]), ptr(info[4]), ptr(info[5]), i64(info[6]),
            i64(info[7]), i64(info[8]), info[9].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

// batchNormBackward(gy, x, mean, invstd, w, gx, gw, gb, N, C, S)
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  View gy = view(info[0]);
  batchNormBackward(gy.dt, gy.data, ptr(info[1]), ptr(info[2]), ptr(info[3]), ptr(info[4]), ptr(info[5]),
                    ptr(info[6]), ptr(info[7]), i64(info[8]), i64(info[9]), i64(info[10]));
  return info.Env().Undefined();
}

// layerNorm(x, w, b, y, mean, rstd, rows, D, eps)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  View x = view(info[0]);
  layerNorm(x.dt, x.data, ptr(info[1]), ptr(info[2]), ptr(info[3]), ptr(info[4]), ptr(info[5]), i64(info[6]),
            i64(info[7]), info[8].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

// layerNormBackward(gy, x, mean, rstd, w, gx, gw, gb, rows, D)
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  View gy = view(info[0]);
  layerNormBackward(gy.dt, gy.data, ptr(info[1]), ptr(info[2]), ptr(info[3]), ptr(info[4]), ptr(info[5]),
                    ptr(info[6]), ptr(info[7]), i64(info[8]), i64(info[9]));
  return info.Env().Undefined();
}

// softmaxBackward(y, gy, out, outer, len, inner, log)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  View y = view(info[0]);
  softmaxBackward(y.dt, y.data, ptr(info[1]), ptr(info[2]), i64(info[3]), i64(info[4]), i64(info[5]),
                  info[6].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

}  // namespace

void registerNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward));
}

}  // namespace ms
