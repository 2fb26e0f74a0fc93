// Fused LSTM and GRU layers over a whole sequence, forward and backward (back-propagation through
// time). Each step is one gemm for the recurrent product h W_hh^T (or g W_hh going back), then one
// pass over the rows for the gates. Rows are independent and gemm's summation order depends only on
// the sizes, so the result is the same for any number of threads.
//
// Layouts (row-major): xGates and gates [T, N, G * H]; h, c, hn and their gradients [T, N, H];
// wHh [G * H, H]; states [N, H]. Step s visits time t = s, or T - 1 - s when reversed.
#include "rnn.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "napi-glue.h"
#include "pool.h"

namespace ms {
namespace {

// ---- activations ----
// out = sigmoid(in) or tanh(in) over a contiguous run. float: exp by Cody-Waite range reduction
// and Cephes' degree-5 polynomial (about 1 ulp), eight lanes at a time with AVX2+FMA when the CPU
// has them (chosen once, like the gemm micro-kernel), else the same formula one element at a
// time; the last partial vector goes through a padded copy, so every element gets the same
// arithmetic. double: the C library.

enum Act { kSigmoid, kTanh };

bool useAvx2();

constexpr float kExpLo = -87.3f, kExpHi = 88.3f;  // 2^n stays a normal float
constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kP[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                         4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

float expScalar(float x) {
  x = x < kExpLo ? kExpLo : x;  // comparisons are false for NaN, which passes through
  x = x > kExpHi ? kExpHi : x;
  const float n = std::nearbyint(x * kLog2e);
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  float p = kP[0];
  for (int i = 1; i < 6; i++) p = p * r + kP[i];
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// tanh x = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|): no overflow for large |x|.
float actScalar(Act act, float x) {
  if (act == kSigmoid) return 1.0f / (1.0f + expScalar(-x));
  const float e = expScalar(-2.0f * std::fabs(x));
  return std::copysign((1.0f - e) / (1.0f + e), x);
}

__attribute__((target("avx2,fma"))) __m256 exp8(__m256 x) {
  // max/min return their second operand when either is NaN, so NaN passes through.
  x = _mm256_min_ps(_mm256_set1_ps(kExpHi), _mm256_max_ps(_mm256_set1_ps(kExpLo), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kP[0]);
  for (int i = 1; i < 6; i++) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP[i]));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

__attribute__((target("avx2,fma"))) __m256 act8(Act act, __m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  if (act == kSigmoid) return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 e = exp8(_mm256_mul_ps(_mm256_set1_ps(-2.0f), _mm256_andnot_ps(sign, x)));
  const __m256 t = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
  return _mm256_or_ps(t, _mm256_and_ps(sign, x));  // t >= 0: take x's sign
}

__attribute__((target("avx2,fma"))) void activateAvx2(Act act, const float* in, float* out, int64_t n) {
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) _mm256_storeu_ps(out + k, act8(act, _mm256_loadu_ps(in + k)));
  if (k < n) {
    float pad[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(pad, in + k, sizeof(float) * (n - k));
    _mm256_storeu_ps(pad, act8(act, _mm256_loadu_ps(pad)));
    std::memcpy(out + k, pad, sizeof(float) * (n - k));
  }
}

void activate(Act act, const float* in, float* out, int64_t n) {
  if (useAvx2()) return activateAvx2(act, in, out, n);
  for (int64_t k = 0; k < n; k++) out[k] = actScalar(act, in[k]);
}

void activate(Act act, const double* in, double* out, int64_t n) {
  for (int64_t k = 0; k < n; k++) {
    const double x = in[k];
    if (act == kTanh) {
      out[k] = std::tanh(x);
    } else if (x >= 0) {
      out[k] = 1 / (1 + std::exp(-x));
    } else {
      const double e = std::exp(x);
      out[k] = e / (1 + e);
    }
  }
}

// ---- one row of each gate pass: H elements of one batch row at one step ----
// `tmp` is scratch of 2H elements.

// LSTM forward: g holds the pre-activations [i, f, g, o] (4H) and becomes the activated gates.
template <class F>
void lstmRow(int64_t H, F* g, const F* cPrev, F* c, F* h) {
  activate(kSigmoid, g, g, 2 * H);  // i, f
  activate(kTanh, g + 2 * H, g + 2 * H, H);
  activate(kSigmoid, g + 3 * H, g + 3 * H, H);
  for (int64_t k = 0; k < H; k++) c[k] = g[H + k] * cPrev[k] + g[k] * g[2 * H + k];
  activate(kTanh, c, h, H);
  for (int64_t k = 0; k < H; k++) h[k] *= g[3 * H + k];
}

// LSTM backward: from the activated gates g, c_t, c_{t-1} and the incoming gh, gc, dh, dc, writes
// the pre-activation gradients d (4H) and the gradient dc reaching c_{t-1}.
template <class F>
[[gnu::always_inline]] inline void lstmBackRow(int64_t H, const F* __restrict g, const F* __restrict c,
                                               const F* __restrict cPrev, const F* __restrict gh,
                                               const F* __restrict gc, const F* __restrict dh, F* __restrict dc,
                                               F* __restrict d, F* __restrict tmp) {
  activate(kTanh, c, tmp, H);
  for (int64_t k = 0; k < H; k++) {
    const F i = g[k], f = g[H + k], gg = g[2 * H + k], o = g[3 * H + k];
    const F tc = tmp[k];
    const F dhv = gh[k] + dh[k];
    const F dcv = gc[k] + dc[k] + dhv * o * (F(1) - tc * tc);
    d[k] = dcv * gg * i * (F(1) - i);
    d[H + k] = dcv * cPrev[k] * f * (F(1) - f);
    d[2 * H + k] = dcv * i * (F(1) - gg * gg);
    d[3 * H + k] = dhv * tc * o * (F(1) - o);
    dc[k] = dcv * f;
  }
}

// GRU forward: x the input gates (3H), p = h_{t-1} W_hh^T + b_hh (3H); writes gates [r, z, n], hn, h.
template <class F>
void gruRow(int64_t H, const F* x, const F* p, const F* hPrev, F* g, F* hn, F* h, F* tmp) {
  for (int64_t k = 0; k < 2 * H; k++) tmp[k] = x[k] + p[k];
  activate(kSigmoid, tmp, g, 2 * H);  // r, z
  for (int64_t k = 0; k < H; k++) tmp[k] = x[2 * H + k] + g[k] * p[2 * H + k];
  activate(kTanh, tmp, g + 2 * H, H);  // n
  for (int64_t k = 0; k < H; k++) {
    const F u = g[H + k], nv = g[2 * H + k];
    hn[k] = p[2 * H + k];
    h[k] = (F(1) - u) * nv + u * hPrev[k];
  }
}

// GRU backward: writes the x-side gradient a (3H), the h-side one b (3H), and into dh the direct
// part dh z of the gradient reaching h_{t-1}.
template <class F>
[[gnu::always_inline]] inline void gruBackRow(int64_t H, const F* __restrict g, const F* __restrict hn,
                                              const F* __restrict hPrev, const F* __restrict gh, F* __restrict dh,
                                              F* __restrict a, F* __restrict b) {
  for (int64_t k = 0; k < H; k++) {
    const F r = g[k], u = g[H + k], nv = g[2 * H + k];
    const F dhv = gh[k] + dh[k];
    const F dn = dhv * (F(1) - u) * (F(1) - nv * nv);
    const F du = dhv * (hPrev[k] - nv) * u * (F(1) - u);
    const F dr = dn * hn[k] * r * (F(1) - r);
    a[k] = dr;
    a[H + k] = du;
    a[2 * H + k] = dn;
    b[k] = dr;
    b[H + k] = du;
    b[2 * H + k] = dn * r;
    dh[k] = dhv * u;
  }
}

// The backward rows are plain arithmetic: compiled for AVX2+FMA too (float), chosen like activate().
__attribute__((target("avx2,fma"))) void lstmBackRowAvx2(int64_t H, const float* g, const float* c, const float* cp,
                                                         const float* gh, const float* gc, const float* dh, float* dc,
                                                         float* d, float* tmp) {
  lstmBackRow<float>(H, g, c, cp, gh, gc, dh, dc, d, tmp);
}
__attribute__((target("avx2,fma"))) void gruBackRowAvx2(int64_t H, const float* g, const float* hn, const float* hp,
                                                        const float* gh, float* dh, float* a, float* b) {
  gruBackRow<float>(H, g, hn, hp, gh, dh, a, b);
}
bool useAvx2() {
  static const bool yes = std::strcmp(gemmIsa(), "portable") != 0;
  return yes;
}
void lstmBackRowOf(int64_t H, const float* g, const float* c, const float* cp, const float* gh, const float* gc,
                   const float* dh, float* dc, float* d, float* tmp) {
  if (useAvx2()) return lstmBackRowAvx2(H, g, c, cp, gh, gc, dh, dc, d, tmp);
  lstmBackRow<float>(H, g, c, cp, gh, gc, dh, dc, d, tmp);
}
void lstmBackRowOf(int64_t H, const double* g, const double* c, const double* cp, const double* gh, const double* gc,
                   const double* dh, double* dc, double* d, double* tmp) {
  lstmBackRow<double>(H, g, c, cp, gh, gc, dh, dc, d, tmp);
}
void gruBackRowOf(int64_t H, const float* g, const float* hn, const float* hp, const float* gh, float* dh, float* a,
                  float* b) {
  if (useAvx2()) return gruBackRowAvx2(H, g, hn, hp, gh, dh, a, b);
  gruBackRow<float>(H, g, hn, hp, gh, dh, a, b);
}
void gruBackRowOf(int64_t H, const double* g, const double* hn, const double* hp, const double* gh, double* dh,
                  double* a, double* b) {
  gruBackRow<double>(H, g, hn, hp, gh, dh, a, b);
}

// Rows per task of the gate passes: about 4096 elements each, so small layers run inline.
int64_t rowGrain(int64_t H) { return H >= 4096 ? 1 : 4096 / (H > 0 ? H : 1); }

struct Sizes {
  int64_t T, N, H;
  bool reverse;
  int64_t time(int64_t s) const { return reverse ? T - 1 - s : s; }
  int64_t prev(int64_t t) const { return reverse ? t + 1 : t - 1; }
};

// W^T [H, G] from W [G, H]: the forward's recurrent product reads it row by row (the faster
// layout for gemm's packing), once per call rather than once per step.
template <class F>
std::vector<F> transposed(const F* w, int64_t G, int64_t H) {
  std::vector<F> wt(static_cast<size_t>(G * H));
  for (int64_t j = 0; j < G; j++)
    for (int64_t k = 0; k < H; k++) wt[k * G + j] = w[j * H + k];
  return wt;
}

template <class F>
void lstmForward(const Sizes& z, const F* x, const F* w, const F* h0, const F* c0, F* h, F* c, F* gates) {
  const int64_t H = z.H, G = 4 * H, NH = z.N * H, NG = z.N * G;
  const std::vector<F> wt = transposed(w, G, H);
  for (int64_t s = 0; s < z.T; s++) {
    const int64_t t = z.time(s);
    const F* hPrev = s == 0 ? h0 : h + z.prev(t) * NH;
    const F* cPrev = s == 0 ? c0 : c + z.prev(t) * NH;
    F* gt = gates + t * NG;
    std::memcpy(gt, x + t * NG, sizeof(F) * NG);
    if (H > 0) gemm<F>(z.N, G, H, hPrev, H, 1, wt.data(), G, 1, gt, G, true, true);  // gt += hPrev W^T
    F* ht = h + t * NH;
    F* ct = c + t * NH;
    parallelFor(z.N, rowGrain(H), [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; n++) lstmRow(H, gt + n * G, cPrev + n * H, ct + n * H, ht + n * H);
    });
  }
}

template <class F>
void lstmBackward(const Sizes& z, const F* w, const F* c0, const F* gh, const F* gc, const F* c, const F* gates, F* gx,
                  F* dh, F* dc) {
  const int64_t H = z.H, G = 4 * H, NH = z.N * H, NG = z.N * G;
  // dh and dc (the outputs gh0 and gc0) carry the gradient reaching the state before each step.
  std::fill(dh, dh + NH, F(0));
  std::fill(dc, dc + NH, F(0));
  for (int64_t s = z.T - 1; s >= 0; s--) {
    const int64_t t = z.time(s);
    const F* cPrev = s == 0 ? c0 : c + z.prev(t) * NH;
    F* dt = gx + t * NG;
    const int64_t e0 = t * NH;
    parallelFor(z.N, rowGrain(H), [&](int64_t n0, int64_t n1) {
      std::vector<F> tmp(static_cast<size_t>(H));
      for (int64_t n = n0; n < n1; n++) {
        const int64_t e = n * H;
        lstmBackRowOf(H, gates + t * NG + n * G, c + e0 + e, cPrev + e, gh + e0 + e, gc + e0 + e, dh + e, dc + e,
                    dt + n * G, tmp.data());
      }
    });
    if (H > 0) gemm<F>(z.N, H, G, dt, G, 1, w, H, 1, dh, H, false, true);  // dh = dt W
  }
}

template <class F>
void gruForward(const Sizes& z, const F* x, const F* w, const F* b, const F* h0, F* h, F* gates, F* hn) {
  const int64_t H = z.H, G = 3 * H, NH = z.N * H, NG = z.N * G;
  const std::vector<F> wt = transposed(w, G, H);
  std::vector<F> hp(static_cast<size_t>(NG));
  for (int64_t s = 0; s < z.T; s++) {
    const int64_t t = z.time(s);
    const F* hPrev = s == 0 ? h0 : h + z.prev(t) * NH;
    for (int64_t n = 0; n < z.N; n++) std::memcpy(hp.data() + n * G, b, sizeof(F) * G);
    if (H > 0) gemm<F>(z.N, G, H, hPrev, H, 1, wt.data(), G, 1, hp.data(), G, true, true);  // hp = b + hPrev W^T
    parallelFor(z.N, rowGrain(H), [&](int64_t n0, int64_t n1) {
      std::vector<F> tmp(static_cast<size_t>(2 * H));
      for (int64_t n = n0; n < n1; n++) {
        const int64_t e = t * NH + n * H;
        gruRow(H, x + t * NG + n * G, hp.data() + n * G, hPrev + n * H, gates + t * NG + n * G, hn + e, h + e,
               tmp.data());
      }
    });
  }
}

template <class F>
void gruBackward(const Sizes& z, const F* w, const F* h0, const F* gh, const F* h, const F* gates, const F* hn, F* gx,
                 F* ghg, F* dh) {
  const int64_t H = z.H, G = 3 * H, NH = z.N * H, NG = z.N * G;
  std::fill(dh, dh + NH, F(0));
  for (int64_t s = z.T - 1; s >= 0; s--) {
    const int64_t t = z.time(s);
    const F* hPrev = s == 0 ? h0 : h + z.prev(t) * NH;
    F* dg = ghg + t * NG;
    parallelFor(z.N, rowGrain(H), [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; n++) {
        const int64_t e = t * NH + n * H;
        gruBackRowOf(H, gates + t * NG + n * G, hn + e, hPrev + n * H, gh + e, dh + n * H, gx + t * NG + n * G,
                     dg + n * G);
      }
    });
    // dh (the direct part dh z) += dg W.
    if (H > 0) gemm<F>(z.N, H, G, dg, G, 1, w, H, 1, dh, H, true, true);
  }
}

Sizes sizes(const Napi::CallbackInfo& info, size_t at) {
  auto i64 = [&](size_t i) { return info[i].As<Napi::Number>().Int64Value(); };
  return {i64(at), i64(at + 1), i64(at + 2), info[at + 3].As<Napi::Boolean>().Value()};
}

// Calls fn with the arrays info[0 .. count) cast to F*, F the dtype of info[0].
template <class Fn>
void withArrays(const Napi::CallbackInfo& info, size_t count, const Fn& fn) {
  std::vector<Arr> a;
  for (size_t i = 0; i < count; i++) a.push_back(arr(info[i]));
  if (a[0].dt == DT::f64) {
    std::vector<double*> p;
    for (const Arr& x : a) p.push_back(static_cast<double*>(x.data));
    fn(p);
  } else {
    std::vector<float*> p;
    for (const Arr& x : a) p.push_back(static_cast<float*>(x.data));
    fn(p);
  }
}

// lstmSequence(x, w, h0, c0, h, c, gates, T, N, H, reverse)
Napi::Value LstmSequence(const Napi::CallbackInfo& info) {
  const Sizes z = sizes(info, 7);
  withArrays(info, 7, [&](const auto& p) { lstmForward(z, p[0], p[1], p[2], p[3], p[4], p[5], p[6]); });
  return info.Env().Undefined();
}

// lstmSequenceBackward(w, c0, gh, gc, c, gates, gx, gh0, gc0, T, N, H, reverse)
Napi::Value LstmSequenceBackward(const Napi::CallbackInfo& info) {
  const Sizes z = sizes(info, 9);
  withArrays(info, 9, [&](const auto& p) { lstmBackward(z, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]); });
  return info.Env().Undefined();
}

// gruSequence(x, w, b, h0, h, gates, hn, T, N, H, reverse)
Napi::Value GruSequence(const Napi::CallbackInfo& info) {
  const Sizes z = sizes(info, 7);
  withArrays(info, 7, [&](const auto& p) { gruForward(z, p[0], p[1], p[2], p[3], p[4], p[5], p[6]); });
  return info.Env().Undefined();
}

// gruSequenceBackward(w, h0, gh, h, gates, hn, gx, ghg, gh0, T, N, H, reverse)
Napi::Value GruSequenceBackward(const Napi::CallbackInfo& info) {
  const Sizes z = sizes(info, 9);
  withArrays(info, 9, [&](const auto& p) { gruBackward(z, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]); });
  return info.Env().Undefined();
}

}  // namespace

void registerRnn(Napi::Env env, Napi::Object exports) {
  exports.Set("lstmSequence", Napi::Function::New(env, LstmSequence));
  exports.Set("lstmSequenceBackward", Napi::Function::New(env, LstmSequenceBackward));
  exports.Set("gruSequence", Napi::Function::New(env, GruSequence));
  exports.Set("gruSequenceBackward", Napi::Function::New(env, GruSequenceBackward));
}

}  // namespace ms
