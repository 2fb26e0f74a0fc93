// Neural-network kernels: softmax, convolution (im2col + GEMM), pooling, and Philox uniforms.
#include <immintrin.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
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
    const __m256 shift = _mm256_set1_ps(static_cast<float>(mx + std::log(sum)));
    for (i = 0; i + 8 <= len; i += 8) _mm256_storeu_ps(o + i, _mm256_sub_ps(_mm256_loadu_ps(x + i), shift));
    const double s = mx + std::log(sum);
    for (; i < len; i++) o[i] = static_cast<float>(x[i] - s);
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

// ---------------------------------------------------------------- convolution

template <class T>
struct Buf {
  std::vector<T> v;
  T* get(size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
  }
};
template <class T>
Buf<T>& colBuf() {
  static thread_local Buf<T> b;
  return b;
}

// The adjoint of unfolding (im2col): adds col back into channels [c0, c0 + Cg) of one image.
template <class T>
void col2im(const T* col, const ConvGeom& g, int64_t c0, T* x) {
  const int64_t P = g.HO * g.WO;
  for (int64_t c = 0; c < g.Cg; c++) {
    T* plane = x + (c0 + c) * g.H * g.W;
    for (int64_t kh = 0; kh < g.KH; kh++) {
      for (int64_t kw = 0; kw < g.KW; kw++) {
        const T* row = col + ((c * g.KH + kh) * g.KW + kw) * P;
        const int64_t off = kw * g.dw - g.pw;
        int64_t owLo = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
        int64_t owHi = g.W - off <= 0 ? 0 : (g.W - off + g.sw - 1) / g.sw;
        owLo = std::min(owLo, g.WO);
        owHi = std::max(owLo, std::min(owHi, g.WO));
        for (int64_t oh = 0; oh < g.HO; oh++) {
          const int64_t ih = oh * g.sh - g.ph + kh * g.dh;
          if (ih < 0 || ih >= g.H) continue;
          const T* r = row + oh * g.WO;
          T* dst = plane + ih * g.W + off;
          for (int64_t ow = owLo; ow < owHi; ow++) dst[ow * g.sw] += r[ow];
        }
      }
    }
  }
}

// True when the unfolded image is the image itself (1x1 kernel, stride 1, no padding).
bool pointwise(const ConvGeom& g) {
  return g.KH == 1 && g.KW == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
}

// Implicit im2col: packs one GEMM panel of the unfolded image col[(c, kh, kw), (oh, ow)] for
// channels starting at c0, straight from the image. Rows k0.. are (c, kh, kw) triples and columns
// j0.. output positions; runs of positions in one output row read one input row.
template <class T>
void packColPanel(const T* x, const ConvGeom& g, int64_t c0, int64_t k0, int64_t kc, int64_t j0, int64_t nr,
                  int64_t NR, T* out) {
  const int64_t KK = g.KH * g.KW;
  for (int64_t k = k0; k < k0 + kc; k++) {
    const int64_t c = k / KK, kh = (k % KK) / g.KW, kw = k % g.KW;
    const T* plane = x + (c0 + c) * g.H * g.W;
    T* o = out + (k - k0) * NR;
    int64_t j = 0;
    while (j < nr) {
      const int64_t p = j0 + j, oh = p / g.WO, ow = p % g.WO;
      const int64_t seg = std::min(nr - j, g.WO - ow);
      const int64_t ih = oh * g.sh - g.ph + kh * g.dh;
      if (ih < 0 || ih >= g.H) {
        std::fill(o + j, o + j + seg, T(0));
      } else {
        const T* row = plane + ih * g.W;
        const int64_t off = kw * g.dw - g.pw;  // iw = (ow + t) * sw + off
        if (g.sw == 1) {
          const int64_t lo = std::min(seg, std::max<int64_t>(0, -off - ow));
          const int64_t hi = std::max(lo, std::min(seg, g.W - off - ow));
          // Plain loops: the runs are short (one output row), where a memcpy call costs more.
          const T* src = row + ow + off;
          for (int64_t t = 0; t < lo; t++) o[j + t] = T(0);
          for (int64_t t = lo; t < hi; t++) o[j + t] = src[t];
          for (int64_t t = hi; t < seg; t++) o[j + t] = T(0);
        } else {
          for (int64_t t = 0; t < seg; t++) {
            const int64_t iw = (ow + t) * g.sw + off;
            o[j + t] = iw >= 0 && iw < g.W ? row[iw] : T(0);
          }
        }
      }
      j += seg;
    }
    std::fill(o + nr, o + NR, T(0));
  }
}

// The same unfolded matrix read transposed (rows: output positions k0.., columns: (c, kh, kw)
// triples j0..), for the weight gradient. Each packed row is written in order; away from the
// borders it is a gather through a per-panel offset table, with no bounds checks.
template <class T>
void packColTPanel(const T* x, const ConvGeom& g, int64_t c0, int64_t k0, int64_t kc, int64_t j0, int64_t nr,
                   int64_t NR, T* out) {
  const int64_t KK = g.KH * g.KW;
  int64_t plane[32], dy[32], dx[32];  // NR <= 32
  int64_t dyMin = INT64_MAX, dyMax = INT64_MIN, dxMin = INT64_MAX, dxMax = INT64_MIN;
  for (int64_t j = 0; j < nr; j++) {
    const int64_t q = j0 + j, c = q / KK, kh = (q % KK) / g.KW, kw = q % g.KW;
    plane[j] = (c0 + c) * g.H * g.W;
    dy[j] = kh * g.dh - g.ph;
    dx[j] = kw * g.dw - g.pw;
    dyMin = std::min(dyMin, dy[j]);
    dyMax = std::max(dyMax, dy[j]);
    dxMin = std::min(dxMin, dx[j]);
    dxMax = std::max(dxMax, dx[j]);
  }
  int64_t off[32];
  for (int64_t j = 0; j < nr; j++) off[j] = plane[j] + dy[j] * g.W + dx[j];
  int64_t oh = k0 / g.WO, ow = k0 % g.WO;
  for (int64_t k = 0; k < kc; k++) {
    T* o = out + k * NR;
    const int64_t y0 = oh * g.sh, x0 = ow * g.sw;
    if (y0 + dyMin >= 0 && y0 + dyMax < g.H && x0 + dxMin >= 0 && x0 + dxMax < g.W) {
      const T* base = x + y0 * g.W + x0;
      for (int64_t j = 0; j < nr; j++) o[j] = base[off[j]];
    } else {
      for (int64_t j = 0; j < nr; j++) {
        const int64_t ih = y0 + dy[j], iw = x0 + dx[j];
        o[j] = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? x[plane[j] + ih * g.W + iw] : T(0);
      }
    }
    for (int64_t j = nr; j < NR; j++) o[j] = T(0);
    if (++ow == g.WO) {
      ow = 0;
      oh++;
    }
  }
}

template <class T>
void conv2dTyped(const T* x, const T* w, T* y, const ConvGeom& g) {
  const int64_t P = g.HO * g.WO, CKK = g.Cg * g.KH * g.KW, Og = g.O / g.groups;
  const bool one = g.N == 1;  // a single image: parallelise inside its GEMMs instead
  parallelFor(g.N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const T* xn = x + n * g.C * g.H * g.W;
      for (int64_t gr = 0; gr < g.groups; gr++) {
        // y[n, group] (Og x P) = W[group] (Og x CKK) * col (CKK x P)
        const T* wg = w + gr * Og * CKK;
        T* yn = y + (n * g.O + gr * Og) * P;
        if (pointwise(g)) {
          gemm<T>(Og, P, CKK, wg, CKK, 1, xn + gr * g.Cg * P, P, 1, yn, P, false, one);
        } else {
          const PanelB<T> panel = [&](int64_t k0, int64_t kc, int64_t j0, int64_t nr, int64_t NR, T* out) {
            packColPanel(xn, g, gr * g.Cg, k0, kc, j0, nr, NR, out);
          };
          gemmPanelB<T>(Og, P, CKK, wg, CKK, 1, panel, yn, P, false, one);
        }
      }
    }
  });
}

template <class T>
void conv2dBackwardInputTyped(const T* gy, const T* w, T* gx, const ConvGeom& g) {
  const int64_t P = g.HO * g.WO, CKK = g.Cg * g.KH * g.KW, Og = g.O / g.groups;
  const int64_t padH = g.dh * (g.KH - 1) - g.ph, padW = g.dw * (g.KW - 1) - g.pw;
  if (g.sh == 1 && g.sw == 1 && padH >= 0 && padW >= 0 && !pointwise(g)) {
    // With stride 1 the input gradient is itself a convolution: of gy with the kernel flipped in
    // space and transposed in channels, w'[c, o, kh, kw] = w[o, c, KH-1-kh, KW-1-kw], padded by
    // dilation * (K - 1) - padding. It then runs the forward path (one GEMM per image, no col2im).
    std::vector<T> wt(static_cast<size_t>(g.O * CKK));
    for (int64_t gr = 0; gr < g.groups; gr++)
      for (int64_t o = 0; o < Og; o++)
        for (int64_t c = 0; c < g.Cg; c++)
          for (int64_t kh = 0; kh < g.KH; kh++)
            for (int64_t kw = 0; kw < g.KW; kw++)
              wt[(((gr * g.Cg + c) * Og + o) * g.KH + kh) * g.KW + kw] =
                  w[(((gr * Og + o) * g.Cg + c) * g.KH + (g.KH - 1 - kh)) * g.KW + (g.KW - 1 - kw)];
    ConvGeom t{g.N, g.O, g.HO, g.WO, g.C, Og, g.KH, g.KW, g.H, g.W, 1, 1, padH, padW, g.dh, g.dw, g.groups};
    conv2dTyped(gy, wt.data(), gx, t);
    return;
  }
  const bool one = g.N == 1;
  std::fill(gx, gx + g.N * g.C * g.H * g.W, T(0));
  parallelFor(g.N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      T* gxn = gx + n * g.C * g.H * g.W;
      for (int64_t gr = 0; gr < g.groups; gr++) {
        const T* wg = w + gr * Og * CKK;
        const T* gyn = gy + (n * g.O + gr * Og) * P;
        // dcol (CKK x P) = W[group]^T (CKK x Og) * gy[n, group] (Og x P)
        if (pointwise(g)) {
          gemm<T>(CKK, P, Og, wg, 1, CKK, gyn, P, 1, gxn + gr * g.Cg * P, P, false, one);
        } else {
          T* c = colBuf<T>().get(CKK * P);
          gemm<T>(CKK, P, Og, wg, 1, CKK, gyn, P, 1, c, P, false, one);
          col2im(c, g, gr * g.Cg, gxn);
        }
      }
    }
  });
}

template <class T>
void conv2dBackwardWeightTyped(const T* x, const T* gy, T* gw, const ConvGeom& g) {
  const int64_t P = g.HO * g.WO, CKK = g.Cg * g.KH * g.KW, Og = g.O / g.groups;
  const int64_t WN = g.O * CKK;
  // Images are summed in fixed chunks of CH (whatever the thread count), then chunks in order.
  constexpr int64_t CH = 4;
  const int64_t chunks = (g.N + CH - 1) / CH;
  std::vector<T> part(static_cast<size_t>(chunks > 1 ? chunks * WN : 0));
  const bool one = chunks == 1;
  parallelFor(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ch++) {
      T* acc = chunks > 1 ? part.data() + ch * WN : gw;
      for (int64_t n = ch * CH; n < std::min(g.N, (ch + 1) * CH); n++) {
        const T* xn = x + n * g.C * g.H * g.W;
        for (int64_t gr = 0; gr < g.groups; gr++) {
          // gw[group] (Og x CKK) += gy[n, group] (Og x P) * col^T (P x CKK)
          const T* gyn = gy + (n * g.O + gr * Og) * P;
          T* out = acc + gr * Og * CKK;
          const bool more = n != ch * CH;
          if (pointwise(g)) {
            gemm<T>(Og, CKK, P, gyn, P, 1, xn + gr * g.Cg * P, 1, P, out, CKK, more, one);
          } else {
            const PanelB<T> panel = [&](int64_t k0, int64_t kc, int64_t j0, int64_t nr, int64_t NR, T* o) {
              packColTPanel(xn, g, gr * g.Cg, k0, kc, j0, nr, NR, o);
            };
            gemmPanelB<T>(Og, CKK, P, gyn, P, 1, panel, out, CKK, more, one);
          }
        }
      }
    }
  });
  if (chunks > 1) {
    parallelFor(WN, 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) {
        T s = part[i];
        for (int64_t ch = 1; ch < chunks; ch++) s += part[ch * WN + i];
        gw[i] = s;
      }
    });
  }
  if (g.N == 0) std::fill(gw, gw + WN, T(0));
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

void conv2d(DT dt, const void* x, const void* w, void* y, const ConvGeom& g) {
  MS_FLOAT_DISPATCH(dt, T, conv2dTyped<T>(static_cast<const T*>(x), static_cast<const T*>(w), static_cast<T*>(y), g));
}
void conv2dBackwardInput(DT dt, const void* gy, const void* w, void* gx, const ConvGeom& g) {
  MS_FLOAT_DISPATCH(dt, T,
                    conv2dBackwardInputTyped<T>(static_cast<const T*>(gy), static_cast<const T*>(w),
                                                static_cast<T*>(gx), g));
}
void conv2dBackwardWeight(DT dt, const void* x, const void* gy, void* gw, const ConvGeom& g) {
  MS_FLOAT_DISPATCH(dt, T,
                    conv2dBackwardWeightTyped<T>(static_cast<const T*>(x), static_cast<const T*>(gy),
                                                 static_cast<T*>(gw), g));
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

void philoxUniform(DT dt, void* out, int64_t n, uint32_t key0, uint32_t key1, double counter) {
  // Word w of the draw is lane w % 4 of block counter + w / 4 (src/backend/philox.ts).
  const uint64_t base = static_cast<uint64_t>(counter);
  const bool f64 = dt == DT::f64;
  const int64_t words = f64 ? 2 * n : n;
  const int64_t blocks = (words + 3) / 4;
  parallelFor(blocks, 4096, [&](int64_t b, int64_t e) {
    uint32_t w[4];
    for (int64_t blk = b; blk < e; blk++) {
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
