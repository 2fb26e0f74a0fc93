// Neural-network kernels: softmax, pooling, and Philox uniforms (convolution is in conv.cc).
#include <immintrin.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "gemm.h"
#include "kernels.h"
#include "pool.h"

namespace ms {

namespace {

// ---------------------------------------------------------------- softmax

// exp(x) for 8 floats: Cephes' expf (range reduction by ln 2, degree-5 polynomial), ~1 ulp.
// Inputs below -87.3 give 0, as the exact result rounds to (almost) 0; NaN stays NaN.
__attribute__((target("avx2,fma"))) inline __m256 exp8(__m256 x) {
  const __m256 tooSmall = _mm256_cmp_ps(x, _mm256_set1_ps(-87.3f), _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f), x);
  x = _mm256_max_ps(_mm256_set1_ps(-88.3762626647949f), x);
  __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500E-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  const __m256i n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
  y = _mm256_mul_ps(y, _mm256_castsi256_ps(n));
  return _mm256_andnot_ps(tooSmall, y);
}

__attribute__((target("avx2,fma"))) void softmaxRowAvx2(const float* x, float* o, int64_t len, bool log) {
  // Pass 1: the maximum (NaN anywhere makes the whole row NaN, as in the reference).
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  __m256 nan = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= len; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    vmax = _mm256_max_ps(vmax, v);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmax);
  float mx = -INFINITY;
  for (int k = 0; k < 8; k++) mx = std::max(mx, lanes[k]);
  bool hasNan = _mm256_movemask_ps(nan) != 0;
  for (; i < len; i++) {
    if (x[i] != x[i]) hasNan = true;
    mx = std::max(mx, x[i]);
  }
  if (hasNan) {
    for (i = 0; i < len; i++) o[i] = NAN;
    return;
  }
  if (mx == -INFINITY) mx = 0;
  // Pass 2: exp(x - max) and its sum (eight lanes, then in double).
  const __m256 m = _mm256_set1_ps(mx);
  __m256 vsum = _mm256_setzero_ps();
  for (i = 0; i + 8 <= len; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    vsum = _mm256_add_ps(vsum, e);
    if (!log) _mm256_storeu_ps(o + i, e);
  }
  _mm256_store_ps(lanes, vsum);
  double sum = 0;
  for (int k = 0; k < 8; k++) sum += lanes[k];
  for (; i < len; i++) {
    const double e = std::exp(static_cast<double>(x[i]) - mx);
    sum += e;
    if (!log) o[i] = static_cast<float>(e);
  }
  // Pass 3: normalise.
  if (log) {
    // (x - max) - log(sum) in double, rounded once, as the reference: rounding max + log(sum) to
    // float first cost up to half an ulp of that shift (15 ulps of an output near -0.8 when the
    // shift was near 10).
    const double logSum = std::log(sum);
    const __m256d vmx = _mm256_set1_pd(mx), vls = _mm256_set1_pd(logSum);
    for (i = 0; i + 4 <= len; i += 4) {
      const __m256d v = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), vmx);
      _mm_storeu_ps(o + i, _mm256_cvtpd_ps(_mm256_sub_pd(v, vls)));
    }
    for (; i < len; i++) o[i] = static_cast<float>((static_cast<double>(x[i]) - mx) - logSum);
  } else {
    const __m256 r = _mm256_set1_ps(static_cast<float>(1.0 / sum));
    for (i = 0; i + 8 <= len; i += 8) _mm256_storeu_ps(o + i, _mm256_mul_ps(_mm256_loadu_ps(o + i), r));
    for (; i < len; i++) o[i] = static_cast<float>(o[i] / sum);
  }
}

// The general path: any axis, in double, exactly the reference's arithmetic.
template <class T>
void softmaxGeneral(const T* x, T* o, int64_t len, int64_t inner, bool log) {
  double mx = -INFINITY;
  for (int64_t k = 0; k < len; k++) {
    const double v = x[k * inner];
    mx = (v != v || mx != mx) ? NAN : std::max(mx, v);
  }
  if (mx == -INFINITY) mx = 0;
  double sum = 0;
  for (int64_t k = 0; k < len; k++) sum += std::exp(x[k * inner] - mx);
  const double logSum = std::log(sum);
  for (int64_t k = 0; k < len; k++) {
    const double v = x[k * inner] - mx;
    o[k * inner] = static_cast<T>(log ? v - logSum : std::exp(v) / sum);
  }
}

// ---------------------------------------------------------------- pooling

void avgWindow(int64_t o, int64_t size, int64_t k, int64_t s, int64_t p, int64_t& start, int64_t& end,
               int64_t& padded) {
  start = o * s - p;
  end = std::min(start + k, size + p);
  padded = end - start;
  start = std::max<int64_t>(start, 0);
  end = std::min(end, size);
}

template <class T, bool BACKWARD>
void avgPoolTyped(const T* in, T* out, const PoolGeom& g) {
  parallelFor(g.NC, 1, [&](int64_t b, int64_t e) {
    std::vector<double> plane(BACKWARD ? g.H * g.W : 0);  // the gradient is accumulated in double
    for (int64_t nc = b; nc < e; nc++) {
      std::fill(plane.begin(), plane.end(), 0.0);
      for (int64_t oh = 0; oh < g.HO; oh++) {
        int64_t h0, h1, hp, w0, w1, wp;
        avgWindow(oh, g.H, g.kh, g.sh, g.ph, h0, h1, hp);
        for (int64_t ow = 0; ow < g.WO; ow++) {
          avgWindow(ow, g.W, g.kw, g.sw, g.pw, w0, w1, wp);
          const double div = g.divisorOverride != 0 ? g.divisorOverride
                             : g.countIncludePad   ? static_cast<double>(hp * wp)
                                                   : static_cast<double>((h1 - h0) * (w1 - w0));
          const int64_t yi = (nc * g.HO + oh) * g.WO + ow;
          if (BACKWARD) {
            const double v = in[yi] / div;
            for (int64_t ih = h0; ih < h1; ih++)
              for (int64_t iw = w0; iw < w1; iw++) plane[ih * g.W + iw] += v;
          } else {
            double acc = 0;
            for (int64_t ih = h0; ih < h1; ih++)
              for (int64_t iw = w0; iw < w1; iw++) acc += in[(nc * g.H + ih) * g.W + iw] / div;
            out[yi] = static_cast<T>(acc);
          }
        }
      }
      if (BACKWARD)
        for (int64_t i = 0; i < g.H * g.W; i++) out[nc * g.H * g.W + i] = static_cast<T>(plane[i]);
    }
  });
}

// ---------------------------------------------------------------- Philox

inline void philoxBlock(uint32_t k0, uint32_t k1, uint64_t counter, uint32_t out[4]) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  for (int round = 0; round < 10; round++) {
    const uint64_t p0 = static_cast<uint64_t>(0xd2511f53u) * c0;
    const uint64_t p1 = static_cast<uint64_t>(0xcd9e8d57u) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9e3779b9u;
    k1 += 0xbb67ae85u;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

}  // namespace

void softmax(DT dt, const void* x, void* out, int64_t outer, int64_t len, int64_t inner, bool log) {
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    std::strcmp(gemmIsa(), "portable") != 0;
  const int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(len, 1));
  if (dt == DT::f32 && inner == 1 && avx2) {
    const float* X = static_cast<const float*>(x);
    float* O = static_cast<float*>(out);
    parallelFor(outer, grain, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; r++) softmaxRowAvx2(X + r * len, O + r * len, len, log);
    });
    return;
  }
  auto run = [&](auto* X, auto* O) {
    parallelFor(outer * inner, grain, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; t++) {
        const int64_t o = t / inner, j = t % inner;
        softmaxGeneral(X + o * len * inner + j, O + o * len * inner + j, len, inner, log);
      }
    });
  };
  if (dt == DT::f32)
    run(static_cast<const float*>(x), static_cast<float*>(out));
  else
    run(static_cast<const double*>(x), static_cast<double*>(out));
}

#define MS_FLOAT_DISPATCH(dt, T, ...) \
  if (dt == DT::f32) {                \
    using T = float;                  \
    __VA_ARGS__;                      \
  } else {                            \
    using T = double;                 \
    __VA_ARGS__;                      \
  }

void maxPool2dIndices(DT dt, const void* x, int32_t* out, const PoolGeom& g) {
  MS_FLOAT_DISPATCH(dt, T, {
    const T* X = static_cast<const T*>(x);
    parallelFor(g.NC, 1, [&](int64_t b, int64_t e) {
      for (int64_t nc = b; nc < e; nc++) {
        const T* plane = X + nc * g.H * g.W;
        for (int64_t oh = 0; oh < g.HO; oh++) {
          for (int64_t ow = 0; ow < g.WO; ow++) {
            T best = 0;
            int64_t bi = -1;
            for (int64_t kh = 0; kh < g.kh; kh++) {
              const int64_t ih = oh * g.sh - g.ph + kh * g.dh;
              if (ih < 0 || ih >= g.H) continue;
              for (int64_t kw = 0; kw < g.kw; kw++) {
                const int64_t iw = ow * g.sw - g.pw + kw * g.dw;
                if (iw < 0 || iw >= g.W) continue;
                const T v = plane[ih * g.W + iw];
                // The first maximum in scan order wins; NaN wins over any number.
                if (bi < 0 || v > best || (v != v && best == best)) {
                  best = v;
                  bi = ih * g.W + iw;
                }
              }
            }
            out[(nc * g.HO + oh) * g.WO + ow] = static_cast<int32_t>(bi);
          }
        }
      }
    });
  });
}

void avgPool2d(DT dt, const void* x, void* y, const PoolGeom& g) {
  MS_FLOAT_DISPATCH(dt, T, avgPoolTyped<T, false>(static_cast<const T*>(x), static_cast<T*>(y), g));
}
void avgPool2dBackward(DT dt, const void* gy, void* gx, const PoolGeom& g) {
  MS_FLOAT_DISPATCH(dt, T, avgPoolTyped<T, true>(static_cast<const T*>(gy), static_cast<T*>(gx), g));
}

namespace {

// Sum of squares of n contiguous floats in double: 16 lanes (k mod 16) in two vectors of 8, then the
// lanes in a fixed order. One thread owns each sub-tensor, so the order never depends on threads.
__attribute__((target("avx512f"))) double sumSquares512(const float* x, int64_t n) {
  __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    // The masked form with every lane kept: GCC 12 warns about the unmasked one's undefined source.
    const __m512d lo = _mm512_maskz_cvtps_pd(0xff, _mm256_loadu_ps(x + k));
    const __m512d hi = _mm512_maskz_cvtps_pd(0xff, _mm256_loadu_ps(x + k + 8));
    a0 = _mm512_fmadd_pd(lo, lo, a0);
    a1 = _mm512_fmadd_pd(hi, hi, a1);
  }
  alignas(64) double lanes[16];
  _mm512_store_pd(lanes, a0);
  _mm512_store_pd(lanes + 8, a1);
  double s = 0;
  for (int l = 0; l < 16; l++) s += lanes[l];
  for (; k < n; k++) s += static_cast<double>(x[k]) * x[k];
  return s;
}

__attribute__((target("avx512f"))) void scale512(const float* x, float* o, int64_t n, float f) {
  for (int64_t k = 0; k < n; k++) o[k] = x[k] * f;
}

// Philox4x32-10 on V x 8 blocks at once, one block per 64-bit lane (the 32-bit words in the low
// halves; _mm512_mul_epu32 reads only those, so the high halves may carry garbage until the end).
// Blocks [blk, blk + 8V) -> floats o[4 blk, 4 blk + 32V), each word w as (w >> 8) * 2^-24, exactly
// as philoxBlock and the float32 branch below compute them. The scalar loop is bound by the
// latency of its multiply chain (about 12 cycles per float); V interleaved vectors hide it.
template <int V>
__attribute__((target("avx512f"))) inline void philoxFloats512(uint32_t key0, uint32_t key1, uint64_t first,
                                                               float* o) {
  // The masked forms with every lane kept: GCC 12 warns about the unmasked ones' undefined source.
  const __mmask8 all = 0xff;
  const __m512i m0 = _mm512_set1_epi64(0xd2511f53u), m1 = _mm512_set1_epi64(0xcd9e8d57u);
  __m512i c0[V], c1[V], c2[V], c3[V];
  for (int v = 0; v < V; v++) {
    const __m512i ctr = _mm512_add_epi64(_mm512_set1_epi64(static_cast<int64_t>(first + 8 * v)),
                                         _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
    c0[v] = ctr;                         // low word in the low half
    c1[v] = _mm512_maskz_srli_epi64(all, ctr, 32);  // high word
    c2[v] = c3[v] = _mm512_setzero_si512();
  }
  uint32_t k0 = key0, k1 = key1;
  for (int round = 0; round < 10; round++) {
    const __m512i kk0 = _mm512_set1_epi64(k0), kk1 = _mm512_set1_epi64(k1);
    for (int v = 0; v < V; v++) {
      const __m512i p0 = _mm512_maskz_mul_epu32(all, c0[v], m0), p1 = _mm512_maskz_mul_epu32(all, c2[v], m1);
      const __m512i n0 = _mm512_xor_si512(_mm512_xor_si512(_mm512_maskz_srli_epi64(all, p1, 32), c1[v]), kk0);
      const __m512i n2 = _mm512_xor_si512(_mm512_xor_si512(_mm512_maskz_srli_epi64(all, p0, 32), c3[v]), kk1);
      c1[v] = p1;  // its low half is the low word of the product
      c3[v] = p0;
      c0[v] = n0;
      c2[v] = n2;
    }
    k0 += 0x9e3779b9u;
    k1 += 0xbb67ae85u;
  }
  // Words in draw order: block j's four words c0, c1, c2, c3, then block j + 1's. The low halves
  // are the even 32-bit lanes: pair c0 with c1 and c2 with c3, then interleave the pairs.
  const __m512i pairs = _mm512_set_epi32(30, 14, 28, 12, 26, 10, 24, 8, 22, 6, 20, 4, 18, 2, 16, 0);
  const __m512i lo4 = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0), hi4 = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
  const __m512 scale = _mm512_set1_ps(1.0f / 16777216.0f);
  for (int v = 0; v < V; v++) {
    const __m512i a = _mm512_permutex2var_epi32(c0[v], pairs, c1[v]);  // c0[j], c1[j] for j < 8
    const __m512i b = _mm512_permutex2var_epi32(c2[v], pairs, c3[v]);  // c2[j], c3[j]
    const __m512i w[2] = {_mm512_permutex2var_epi64(a, lo4, b), _mm512_permutex2var_epi64(a, hi4, b)};
    for (int h = 0; h < 2; h++)
      _mm512_storeu_ps(o + 32 * v + 16 * h,
                       _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_srli_epi32(0xffff, w[h], 8)), scale));
  }
}

// The same in AVX2: 4 blocks per vector (one per 64-bit lane), V = 8 vectors interleaved, so a
// call makes 32 blocks (128 floats) as philoxFloats512<4> does.
template <int V>
__attribute__((target("avx2"))) inline void philoxFloats256(uint32_t key0, uint32_t key1, uint64_t first, float* o) {
  const __m256i m0 = _mm256_set1_epi64x(0xd2511f53u), m1 = _mm256_set1_epi64x(0xcd9e8d57u);
  __m256i c0[V], c1[V], c2[V], c3[V];
  #pragma GCC unroll 8
  for (int v = 0; v < V; v++) {
    const __m256i ctr = _mm256_add_epi64(_mm256_set1_epi64x(static_cast<int64_t>(first + 4 * v)),
                                         _mm256_set_epi64x(3, 2, 1, 0));
    c0[v] = ctr;
    c1[v] = _mm256_srli_epi64(ctr, 32);
    c2[v] = c3[v] = _mm256_setzero_si256();
  }
  uint32_t k0 = key0, k1 = key1;
  for (int round = 0; round < 10; round++) {
    const __m256i kk0 = _mm256_set1_epi64x(k0), kk1 = _mm256_set1_epi64x(k1);
    #pragma GCC unroll 8
    for (int v = 0; v < V; v++) {
      const __m256i p0 = _mm256_mul_epu32(c0[v], m0), p1 = _mm256_mul_epu32(c2[v], m1);
      const __m256i n0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), c1[v]), kk0);
      const __m256i n2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), c3[v]), kk1);
      c1[v] = p1;
      c3[v] = p0;
      c0[v] = n0;
      c2[v] = n2;
    }
    k0 += 0x9e3779b9u;
    k1 += 0xbb67ae85u;
  }
  // Low halves in draw order: (c0, c1) and (c2, c3) pairs per block, then blocks 0, 1 | 2, 3.
  const __m256 scale = _mm256_set1_ps(1.0f / 16777216.0f);
  #pragma GCC unroll 8
  for (int v = 0; v < V; v++) {
    const __m256i a = _mm256_blend_epi32(c0[v], _mm256_slli_epi64(c1[v], 32), 0xAA);  // c0[j], c1[j]
    const __m256i b = _mm256_blend_epi32(c2[v], _mm256_slli_epi64(c3[v], 32), 0xAA);  // c2[j], c3[j]
    const __m256i lo = _mm256_unpacklo_epi64(a, b), hi = _mm256_unpackhi_epi64(a, b);  // blocks 0, 2 | 1, 3
    const __m256i w[2] = {_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31)};
    for (int h = 0; h < 2; h++)
      _mm256_storeu_ps(o + 16 * v + 8 * h, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(w[h], 8)), scale));
  }
}

// dropoutApply512 and dropoutScale512 in AVX2 (n a multiple of 8): every lane divided, the dropped
// ones then zeroed (the same bits in the kept lanes, +0 in the others).
__attribute__((target("avx2"))) void dropoutApply256(const float* u, const float* x, float* y, uint8_t* keep,
                                                     int64_t n, float thr, float scale) {
  const __m256 t = _mm256_set1_ps(thr), s = _mm256_set1_ps(scale);
  for (int64_t j = 0; j < n; j += 8) {
    const __m256 m = _mm256_cmp_ps(_mm256_loadu_ps(u + j), t, _CMP_GE_OQ);
    _mm256_storeu_ps(y + j, _mm256_and_ps(m, _mm256_div_ps(_mm256_loadu_ps(x + j), s)));
    const int bits = _mm256_movemask_ps(m);
    for (int l = 0; l < 8; l++) keep[j + l] = static_cast<uint8_t>(bits >> l & 1);
  }
}

__attribute__((target("avx2"))) int64_t dropoutScale256(const float* g, const uint8_t* keep, float* out, int64_t n,
                                                        float scale) {
  const __m256 s = _mm256_set1_ps(scale);
  for (int64_t j = 0; j < n; j += 8) {
    const __m256i k = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(keep + j)));
    const __m256 m = _mm256_castsi256_ps(_mm256_cmpgt_epi32(k, _mm256_setzero_si256()));
    _mm256_storeu_ps(out + j, _mm256_and_ps(m, _mm256_div_ps(_mm256_loadu_ps(g + j), s)));
  }
  return n;
}

// keep = u >= thr, y = keep ? x / scale : 0 over n floats, n a multiple of 16: the division only
// in the kept lanes (a masked vdivps), the mask written out as bytes. (Masked forms with every lane
// kept where GCC 12 warns about the unmasked ones' undefined source.)
__attribute__((target("avx512f"))) void dropoutApply512(const float* u, const float* x, float* y, uint8_t* keep,
                                                         int64_t n, float thr, float scale) {
  const __m512 t = _mm512_set1_ps(thr), s = _mm512_set1_ps(scale);
  const __m512i one = _mm512_set1_epi32(1);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = _mm512_cmp_ps_mask(_mm512_loadu_ps(u + j), t, _CMP_GE_OQ);
    _mm512_storeu_ps(y + j, _mm512_maskz_div_ps(m, _mm512_loadu_ps(x + j), s));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(keep + j), _mm512_maskz_cvtepi32_epi8(0xffff, _mm512_maskz_mov_epi32(m, one)));
  }
}

// out = keep ? g / scale : 0 over n floats (n a multiple of 16); returns n.
__attribute__((target("avx512f"))) int64_t dropoutScale512(const float* g, const uint8_t* keep, float* out, int64_t n,
                                                             float scale) {
  const __m512 s = _mm512_set1_ps(scale);
  for (int64_t j = 0; j < n; j += 16) {
    const __m128i k = _mm_loadu_si128(reinterpret_cast<const __m128i*>(keep + j));
    const __mmask16 m = _mm_movemask_epi8(_mm_cmpeq_epi8(k, _mm_setzero_si128())) ^ 0xffff;
    _mm512_storeu_ps(out + j, _mm512_maskz_div_ps(m, _mm512_loadu_ps(g + j), s));
  }
  return n;
}

}  // namespace

namespace {

template <class T>
void renormTyped(const T* X, T* O, int64_t outer, int64_t len, int64_t inner, double p, double maxnorm) {
  const bool fast = std::is_same<T, float>::value && isaAvx512() && p == 2;
  const bool inPlace = static_cast<const void*>(X) == static_cast<void*>(O);
  const T cap = static_cast<T>(maxnorm), eps = static_cast<T>(1e-7);
  parallelFor(len, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(outer * inner, 1)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) {
      double s = 0;
      for (int64_t o = 0; o < outer; o++) {
        const T* row = X + (o * len + i) * inner;
        if constexpr (std::is_same<T, float>::value) {
          if (fast) {
            s += sumSquares512(row, inner);
            continue;
          }
        }
        for (int64_t k = 0; k < inner; k++) {
          const double v = std::fabs(static_cast<double>(row[k]));
          s += p == 2 ? v * v : p == 1 ? v : std::pow(v, p);
        }
      }
      const T norm = static_cast<T>(p == 2 ? std::sqrt(s) : p == 1 ? s : std::pow(s, 1 / p));
      const T factor = norm > cap ? static_cast<T>(cap / static_cast<T>(norm + eps)) : T(1);
      if (factor == T(1) && inPlace) continue;
      for (int64_t o = 0; o < outer; o++) {
        const T* row = X + (o * len + i) * inner;
        T* dst = O + (o * len + i) * inner;
        if constexpr (std::is_same<T, float>::value) {
          if (fast) {
            scale512(row, dst, inner, factor);
            continue;
          }
        }
        for (int64_t k = 0; k < inner; k++) dst[k] = row[k] * factor;
      }
    }
  });
}

}  // namespace

void renorm(DT dt, const void* x, void* out, int64_t outer, int64_t len, int64_t inner, double p, double maxnorm) {
  // As the reference (src/backend/reference/nn.ts): the norm summed in double and rounded to the
  // dtype, the factor computed in the dtype. A sub-tensor inside the ball computed in place is not
  // written at all (a max-norm constraint leaves most rows of a weight so).
  MS_FLOAT_DISPATCH(dt, T, renormTyped<T>(static_cast<const T*>(x), static_cast<T*>(out), outer, len, inner, p, maxnorm));
}

void dropout(DT dt, const void* x, void* y, uint8_t* keep, int64_t n, uint32_t key0, uint32_t key1, double counter,
             double p) {
  // The uniform draw philoxUniform makes at this counter, compared and applied in the same pass;
  // p and 1 - p rounded to the dtype, the quotient rounded once (src/backend/reference/index.ts).
  const uint64_t base = static_cast<uint64_t>(counter);
  if (dt == DT::f32) {
    const float* X = static_cast<const float*>(x);
    float* Y = static_cast<float*>(y);
    const float thr = static_cast<float>(p), scale = static_cast<float>(1 - p);
    const bool vec = isaAvx512(), vec256 = isaAvx2();
    parallelFor((n + 3) / 4, 4096, [&](int64_t b, int64_t e) {
      alignas(64) float u[128];
      int64_t blk = b;
      if (vec)
        for (; blk + 32 <= e && (blk + 32) * 4 <= n; blk += 32) {
          philoxFloats512<4>(key0, key1, base + static_cast<uint64_t>(blk), u);
          dropoutApply512(u, X + blk * 4, Y + blk * 4, keep + blk * 4, 128, thr, scale);
        }
      if (vec256)
        for (; blk + 32 <= e && (blk + 32) * 4 <= n; blk += 32) {
          philoxFloats256<8>(key0, key1, base + static_cast<uint64_t>(blk), u);
          dropoutApply256(u, X + blk * 4, Y + blk * 4, keep + blk * 4, 128, thr, scale);
        }
      uint32_t w[4];
      for (; blk < e; blk++) {
        philoxBlock(key0, key1, base + blk, w);
        for (int l = 0; l < 4; l++) {
          const int64_t i = blk * 4 + l;
          if (i >= n) break;
          const bool k = static_cast<float>((w[l] >> 8) * (1.0 / 16777216.0)) >= thr;
          keep[i] = k;
          Y[i] = k ? X[i] / scale : 0.0f;
        }
      }
    });
    return;
  }
  const double* X = static_cast<const double*>(x);
  double* Y = static_cast<double*>(y);
  const double scale = 1 - p;
  parallelFor((2 * n + 3) / 4, 4096, [&](int64_t b, int64_t e) {
    uint32_t w[4];
    for (int64_t blk = b; blk < e; blk++) {
      philoxBlock(key0, key1, base + blk, w);
      for (int l = 0; l < 4; l += 2) {
        const int64_t i = (blk * 4 + l) / 2;
        if (i >= n) break;
        const double u = ((w[l] >> 5) * 67108864.0 + (w[l + 1] >> 6)) * (1.0 / 9007199254740992.0);
        keep[i] = u >= p;
        Y[i] = u >= p ? X[i] / scale : 0.0;
      }
    }
  });
}

void dropoutBackward(DT dt, const void* g, const uint8_t* keep, void* out, int64_t n, double p) {
  if (dt == DT::f32) {
    const float* G = static_cast<const float*>(g);
    float* O = static_cast<float*>(out);
    const float scale = static_cast<float>(1 - p);
    const bool vec = isaAvx512(), vec256 = isaAvx2();
    parallelFor(n, 1 << 15, [&](int64_t b, int64_t e) {
      int64_t i = b;
      if (vec) i = b + dropoutScale512(G + b, keep + b, O + b, (e - b) / 16 * 16, scale);
      if (vec256) i = b + dropoutScale256(G + b, keep + b, O + b, (e - b) / 8 * 8, scale);
      for (; i < e; i++) O[i] = keep[i] ? G[i] / scale : 0.0f;
    });
    return;
  }
  const double* G = static_cast<const double*>(g);
  double* O = static_cast<double*>(out);
  const double scale = 1 - p;
  parallelFor(n, 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) O[i] = keep[i] ? G[i] / scale : 0.0;
  });
}

void philoxUniform(DT dt, void* out, int64_t n, uint32_t key0, uint32_t key1, double counter) {
  // Word w of the draw is lane w % 4 of block counter + w / 4 (src/backend/philox.ts).
  const uint64_t base = static_cast<uint64_t>(counter);
  const bool f64 = dt == DT::f64;
  const int64_t words = f64 ? 2 * n : n;
  const int64_t blocks = (words + 3) / 4;
  const bool vec = !f64 && isaAvx512(), vec256 = !f64 && isaAvx2();
  parallelFor(blocks, 4096, [&](int64_t b, int64_t e) {
    uint32_t w[4];
    int64_t blk = b;
    if (vec)  // whole groups of 32 blocks whose 128 floats all lie inside the output
      for (; blk + 32 <= e && (blk + 32) * 4 <= n; blk += 32)
        philoxFloats512<4>(key0, key1, base + static_cast<uint64_t>(blk), static_cast<float*>(out) + blk * 4);
    if (vec256)
      for (; blk + 32 <= e && (blk + 32) * 4 <= n; blk += 32)
        philoxFloats256<8>(key0, key1, base + static_cast<uint64_t>(blk), static_cast<float*>(out) + blk * 4);
    for (; blk < e; blk++) {
      philoxBlock(key0, key1, base + blk, w);
      if (f64) {
        double* o = static_cast<double*>(out);
        for (int l = 0; l < 4; l += 2) {
          const int64_t i = (blk * 4 + l) / 2;
          if (i < n) o[i] = ((w[l] >> 5) * 67108864.0 + (w[l + 1] >> 6)) * (1.0 / 9007199254740992.0);
        }
      } else {
        float* o = static_cast<float*>(out);
        for (int l = 0; l < 4; l++) {
          const int64_t i = blk * 4 + l;
          if (i < n) o[i] = static_cast<float>((w[l] >> 8) * (1.0 / 16777216.0));
        }
      }
    }
  });
}

}  // namespace ms
