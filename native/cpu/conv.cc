// Convolution: conv2d and its two backward primitives.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <functional>
#include <vector>

#include "conv-small.h"
#include "gemm.h"
#include "kernels.h"
#include "transpose.h"
#include "pool.h"

namespace ms {

namespace {

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
  // Images whose work together costs less than waking the pool run on the calling thread.
  parallelFor(g.N, 1, 2 * g.O * P * CKK, [&](int64_t n0, int64_t n1) {
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
  parallelFor(g.N, 1, 2 * g.O * P * CKK, [&](int64_t n0, int64_t n1) {
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
  parallelFor(chunks, 1, 2 * CH * g.O * P * CKK, [&](int64_t c0, int64_t c1) {
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
    parallelFor(WN, 1 << 14, chunks, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) {
        T s = part[i];
        for (int64_t ch = 1; ch < chunks; ch++) s += part[ch * WN + i];
        gw[i] = s;
      }
    });
  }
  if (g.N == 0) std::fill(gw, gw + WN, T(0));
}

// ---------------------------------------------------------------- direct convolution (float32)
//
// The convolutions of small CNNs (ResNet-20's 16-64 channels on 32x32 to 8x8 images, DQN's 4 -> 16
// channels on 10x10) are too small for im2col + GEMM: unfolding the image costs as much as the
// multiply. The direct kernels below read the image in place. Each image is copied once into a
// zero-padded buffer, split into stride x stride phase planes (plane (a, b) holds the padded pixels
// at rows = a and columns = b mod stride). Then every tap (kh, kw) of the kernel reads, for the output
// positions p = oh * Wq + ow, the contiguous run plane[(kh * dh) % sh, (kw * dw) % sw] starting at
// offset (kh * dh / sh) * Wq + kw * dw / sw: output rows are computed Wq wide, and the Wq - WO
// columns past each row's end are computed and thrown away. So a convolution becomes a GEMM
//   out[m, p] = sum_k A[m, k] * src[koff[k] + p]
// whose B operand needs no packing: each of its rows is a shifted view of the padded image.
// The input gradient is the same product on the padded output gradient, one phase of the input at a
// time (input pixel ih takes the taps with kh * dh = ih + ph (mod sh)); the weight gradient
// contracts over p instead. Every output element is summed in an order fixed by the geometry, so
// results do not depend on the thread count.

// Positions per micro-tile step (VEC lanes x up to 3 vectors) and output rows per tile.
constexpr int64_t VEC = 16, TILE_OB = 8, TILE_V = 3;

// A padded, phase-split copy of channels [0, C) of one image: channel c, phase (a, b), row r,
// column q lives at c * chan + (a * sw + b) * Hq * Wq + r * Wq + q.
struct PhaseLayout {
  int64_t sh, sw, Hq, Wq, padTop, padLeft, chan;
};

// even[j] = src[2 j], odd[j] = src[2 j + 1] for the n pixels of src (stride-2 column phases).
__attribute__((target("avx512f"))) void deinterleave2Avx512(const float* src, int64_t n, float* even, float* odd) {
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = _mm512_loadu_ps(src + i), b = _mm512_loadu_ps(src + i + 16);
    _mm512_storeu_ps(even + i / 2, _mm512_permutex2var_ps(a, ie, b));
    _mm512_storeu_ps(odd + i / 2, _mm512_permutex2var_ps(a, io, b));
  }
  if (i + 16 <= n) {  // 16 pixels (rows of 16 to 31): evens to the low half, odds to the high half
    const __m512i i16 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    const __m512 p = _mm512_mask_permutexvar_ps(_mm512_setzero_ps(), 0xffff, i16, _mm512_loadu_ps(src + i));
    _mm512_mask_compressstoreu_ps(even + i / 2, 0x00ff, p);
    _mm512_mask_compressstoreu_ps(odd + i / 2, 0xff00, p);
    i += 16;
  }
  for (; i < n; i++) (i % 2 == 0 ? even : odd)[i / 2] = src[i];
}

// Without AVX-512 (stride-2 layers only, a small share of their time): one pixel at a time.
void deinterleave2(const float* src, int64_t n, float* even, float* odd) {
  if (isaAvx512()) {
    deinterleave2Avx512(src, n, even, odd);
    return;
  }
  for (int64_t i = 0; i + 1 < n; i += 2) {
    even[i / 2] = src[i];
    odd[i / 2] = src[i + 1];
  }
  if (n % 2) even[n / 2] = src[n - 1];
}

void buildPhases(const float* x, int64_t C, int64_t H, int64_t W, const PhaseLayout& L, float* dst) {
  const int64_t plane = L.Hq * L.Wq;
  for (int64_t c = 0; c < C; c++) {
    float* d = dst + c * L.chan;
    std::memset(d, 0, sizeof(float) * L.chan);
    const float* xc = x + c * H * W;
    for (int64_t ih = 0; ih < H; ih++) {
      const int64_t u = ih + L.padTop;
      if (L.sw == 1) {
        float* row = d + (u % L.sh) * plane + (u / L.sh) * L.Wq + L.padLeft;
        std::memcpy(row, xc + ih * W, sizeof(float) * W);
      } else {
        // Column phase b takes the pixels iw = b - padLeft (mod sw), in order.
        float* rows = d + (u % L.sh) * L.sw * plane + (u / L.sh) * L.Wq;
        const float* src = xc + ih * W;
        if (L.sw == 2) {  // pixel iw goes to phase (iw + padLeft) % 2, column (iw + padLeft) / 2
          const int64_t b0 = L.padLeft % 2, j0 = L.padLeft / 2;
          deinterleave2(src, W, rows + b0 * plane + j0, rows + (1 - b0) * plane + j0 + b0);
          continue;
        }
        for (int64_t b = 0; b < L.sw; b++) {
          const int64_t iw0 = ((b - L.padLeft) % L.sw + L.sw) % L.sw;
          float* dstRow = rows + b * plane + (iw0 + L.padLeft) / L.sw;
          for (int64_t iw = iw0, j = 0; iw < W; iw += L.sw, j++) dstRow[j] = src[iw];
        }
      }
    }
  }
}

// out[i * ld + p] = sum_k a[k * TILE_OB + i] * src[koff[k] + p] for i < TILE_OB, p < V * VEC.
template <int V>
__attribute__((target("avx512f"))) void directTile(int64_t K, const float* src, const int64_t* koff,
                                                    const float* a, float* out, int64_t ld) {
  __m512 acc[TILE_OB][V];
  for (int i = 0; i < TILE_OB; i++)
    for (int v = 0; v < V; v++) acc[i][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; k++) {
    const float* s = src + koff[k];
    __m512 b[V];
    for (int v = 0; v < V; v++) b[v] = _mm512_loadu_ps(s + v * VEC);
#pragma GCC unroll 8
    for (int i = 0; i < TILE_OB; i++) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      for (int v = 0; v < V; v++) acc[i][v] = _mm512_fmadd_ps(ai, b[v], acc[i][v]);
    }
    a += TILE_OB;
  }
  for (int i = 0; i < TILE_OB; i++)
    for (int v = 0; v < V; v++) _mm512_storeu_ps(out + i * ld + v * VEC, acc[i][v]);
}

// The same product for "same" convolutions (stride 1, WO == W): positions are p = oh * W + ow, so
// the image needs no padding columns, and the tile stores straight into the output rows. Taps whose
// column leaves the image either read a copy of the image shifted by that column with zeros where
// it left (MASKED false: sameConv's shifted sources), or are masked off per lane (masks[v * KW + kw]
// for vector v). The masked loads are what cost: on this machine (Xeon, AVX-512; one tile on hot
// caches, 32 and 64 channels) the tile ran at 120-160 GFLOP/s with them and 180-200 with plain
// loads, and keeping the masks in mask registers or loading them straight from memory (instead of
// a move per vector and tap) did not help.
template <int V, bool MASKED>
__attribute__((target("avx512f"))) void sameTile(int64_t K, const float* src, const int64_t* koff,
                                                  const uint8_t* kwOf, const uint16_t* masks, int64_t KW,
                                                  const float* a, float* out, int64_t ld, int64_t valid) {
  __m512 acc[TILE_OB][V];
  for (int i = 0; i < TILE_OB; i++)
    for (int v = 0; v < V; v++) acc[i][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; k++) {
    const float* s = src + koff[k];
    __m512 b[V];
    if (MASKED) {
      // A plain load then a zeroing move (GCC keeps the accumulators in memory around masked
      // loads); the source has guard zeros on both sides, so the unmasked load stays in the buffer.
      const uint16_t* m = masks + kwOf[k];
      for (int v = 0; v < V; v++) b[v] = _mm512_maskz_mov_ps(m[v * KW], _mm512_loadu_ps(s + v * VEC));
    } else {
      for (int v = 0; v < V; v++) b[v] = _mm512_loadu_ps(s + v * VEC);
    }
#pragma GCC unroll 8
    for (int i = 0; i < TILE_OB; i++) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      for (int v = 0; v < V; v++) acc[i][v] = _mm512_fmadd_ps(ai, b[v], acc[i][v]);
    }
    a += TILE_OB;
  }
  // All TILE_OB rows are stored (the caller passes scratch rows past M); lanes past `valid` are not.
  __mmask16 keep[V];
  for (int v = 0; v < V; v++) {
    const int64_t left = valid - v * VEC;
    keep[v] = left >= VEC ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << std::max<int64_t>(left, 0)) - 1);
  }
  for (int i = 0; i < TILE_OB; i++)
    for (int v = 0; v < V; v++) _mm512_mask_storeu_ps(out + i * ld + v * VEC, keep[v], acc[i][v]);
}

// ---- The same tiles in AVX2's 8 lanes (CPUs without AVX-512) ----
//
// A tile keeps the AVX-512 tile's layout (TILE_OB rows, positions in 16-lane groups), computed as
// 4 rows x up to 3 vectors of 8 at a time: 12 sums, 3 source vectors and a weight in AVX2's 16
// registers. For the masked "same" tile, fmasks holds each 16-lane mask as 16 floats (all ones or
// zero), [v][kw][lane], so a mask is one `and` with memory instead of a mask register.

// out[i * ld + p] = sum_k a[k * TILE_OB + i] src[koff[k] + p] for i < 4, p < 8 NY; lanes from
// `valid` on are not stored. fm[y] (MASKED): the float masks of vector y for kw = 0.
template <int NY, bool MASKED>
__attribute__((target("avx2,fma"))) void tile4x8(int64_t K, const float* src, const int64_t* koff,
                                                 const uint8_t* kwOf, const float* const* fm, const float* a,
                                                 float* out, int64_t ld, int64_t valid) {
  // Every loop over the sums is unrolled and none ends early, so they stay in registers (GCC keeps
  // an array it cannot fully unroll in memory, a store per multiply-add).
  __m256 acc[4][NY];
  #pragma GCC unroll 4
  for (int i = 0; i < 4; i++)
    #pragma GCC unroll 3
    for (int y = 0; y < NY; y++) acc[i][y] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; k++) {
    const float* sk = src + koff[k];
    __m256 b[NY];
    #pragma GCC unroll 3
    for (int y = 0; y < NY; y++) {
      b[y] = _mm256_loadu_ps(sk + 8 * y);
      if (MASKED) b[y] = _mm256_and_ps(b[y], _mm256_loadu_ps(fm[y] + 16 * kwOf[k]));
    }
    #pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      #pragma GCC unroll 3
      for (int y = 0; y < NY; y++) acc[i][y] = _mm256_fmadd_ps(ai, b[y], acc[i][y]);
    }
    a += TILE_OB;
  }
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  #pragma GCC unroll 3
  for (int y = 0; y < NY; y++) {
    const int64_t left = valid - 8 * y;
    if (left >= 8) {
      #pragma GCC unroll 4
      for (int i = 0; i < 4; i++) _mm256_storeu_ps(out + i * ld + 8 * y, acc[i][y]);
    } else if (left > 0) {
      const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(left)), lane);
      #pragma GCC unroll 4
      for (int i = 0; i < 4; i++) _mm256_maskstore_ps(out + i * ld + 8 * y, m, acc[i][y]);
    }
  }
}

// A whole tile (TILE_OB rows x V groups of 16 positions) from tile4x8s: two halves of 4 rows, each
// over 2 V vectors in runs of 3 (4 go as 2 + 2). fmasks (MASKED): the masks of the tile's first group.
template <bool MASKED>
void tileAvx2(int V, int64_t K, const float* src, const int64_t* koff, const uint8_t* kwOf, const float* fmasks,
              int64_t KW, const float* a, float* out, int64_t ld, int64_t valid) {
  for (int half = 0; half < 2; half++) {
    for (int y0 = 0, ny = 0; y0 < 2 * V; y0 += ny) {
      const int rest = 2 * V - y0;
      ny = rest == 4 ? 2 : std::min(3, rest);
      const float* fm[3] = {nullptr, nullptr, nullptr};
      if (MASKED)
        for (int y = 0; y < ny; y++) fm[y] = fmasks + ((y0 + y) / 2) * KW * VEC + ((y0 + y) % 2) * 8;
      const float* s = src + 8 * y0;
      const float* ah = a + 4 * half;
      float* o = out + 4 * half * ld + 8 * y0;
      const int64_t left = valid - 8 * y0;
      if (ny == 3)
        tile4x8<3, MASKED>(K, s, koff, kwOf, fm, ah, o, ld, left);
      else if (ny == 2)
        tile4x8<2, MASKED>(K, s, koff, kwOf, fm, ah, o, ld, left);
      else
        tile4x8<1, MASKED>(K, s, koff, kwOf, fm, ah, o, ld, left);
    }
  }
}

// directTile and sameTile for the CPU at hand.
void directTileAny(int V, int64_t K, const float* src, const int64_t* koff, const float* a, float* out, int64_t ld) {
  if (!isaAvx512()) {
    tileAvx2<false>(V, K, src, koff, nullptr, nullptr, 0, a, out, ld, INT64_MAX);
    return;
  }
  if (V == 3)
    directTile<3>(K, src, koff, a, out, ld);
  else if (V == 2)
    directTile<2>(K, src, koff, a, out, ld);
  else
    directTile<1>(K, src, koff, a, out, ld);
}

void sameTileAny(int V, bool masked, int64_t K, const float* src, const int64_t* koff, const uint8_t* kwOf,
                 const uint16_t* masks, const float* fmasks, int64_t KW, const float* a, float* out, int64_t ld,
                 int64_t valid) {
  if (!isaAvx512()) {
    if (masked)
      tileAvx2<true>(V, K, src, koff, kwOf, fmasks, KW, a, out, ld, valid);
    else
      tileAvx2<false>(V, K, src, koff, nullptr, nullptr, 0, a, out, ld, valid);
    return;
  }
  if (!masked) {
    if (V == 3)
      sameTile<3, false>(K, src, koff, nullptr, nullptr, 0, a, out, ld, valid);
    else if (V == 2)
      sameTile<2, false>(K, src, koff, nullptr, nullptr, 0, a, out, ld, valid);
    else
      sameTile<1, false>(K, src, koff, nullptr, nullptr, 0, a, out, ld, valid);
  } else if (V == 3) {
    sameTile<3, true>(K, src, koff, kwOf, masks, KW, a, out, ld, valid);
  } else if (V == 2) {
    sameTile<2, true>(K, src, koff, kwOf, masks, KW, a, out, ld, valid);
  } else {
    sameTile<1, true>(K, src, koff, kwOf, masks, KW, a, out, ld, valid);
  }
}

// One direct product: out[m, p] = sum_k A[m, k] * src[koff[k] + p] for m < M and p < Np, where
// positions are rows of width Wr of which the first ncols are kept, and out[m, row, col] lands at
// dst[m * dstChan + row * dstRow + col * dstCol].
struct DirectProduct {
  const float* src;
  const int64_t* koff;
  int64_t K;
  const float* a;  // ceil(M / TILE_OB) blocks of K x TILE_OB, zero rows past M
  int64_t M, Np, Wr, ncols;
  float* dst;
  int64_t dstChan, dstRow, dstCol;
  // Set for "same" convolutions (sameTile): dst rows are Np contiguous positions.
  const uint8_t* kwOf = nullptr;
  const uint16_t* masks = nullptr;
  const float* fmasks = nullptr;  // the same masks as floats, for the AVX2 tiles ([v][kw][16])
  int64_t KW = 0;
  bool shifted = false;  // a "same" convolution over shifted sources: no masks
};

// Vectors in the next tile when `left` remain: 3, except that 4 go as 2 + 2 (a 1-vector tile
// spends more on weight broadcasts than on multiply-adds).
int64_t tileVectors(int64_t left) { return left == 4 ? 2 : std::min<int64_t>(TILE_V, left); }

// Rows [mb * TILE_OB, +TILE_OB) and positions [p0, p1) of a product.
void directRange(const DirectProduct& d, int64_t mb, int64_t p0, int64_t p1) {
  static thread_local Buf<float> stageBuf;
  if (d.masks) {
    const float* a = d.a + mb * d.K * TILE_OB;
    const int64_t rows = d.M - mb * TILE_OB;
    // A last block of fewer than TILE_OB rows goes through the stage.
    const int64_t ld = rows >= TILE_OB ? d.dstChan : (p1 - p0 + VEC - 1) / VEC * VEC;
    float* out = rows >= TILE_OB ? d.dst + mb * TILE_OB * d.dstChan + p0 : stageBuf.get(TILE_OB * ld);
    for (int64_t p = p0, vecs = 0; p < p1; p += vecs * VEC) {
      vecs = tileVectors((p1 - p + VEC - 1) / VEC);
      const uint16_t* m = d.masks + (p / VEC) * d.KW;
      const float* fm = d.fmasks ? d.fmasks + (p / VEC) * d.KW * VEC : nullptr;
      sameTileAny(static_cast<int>(vecs), !d.shifted, d.K, d.src + p, d.koff, d.kwOf, m, fm, d.KW, a,
                  out + (p - p0), ld, p1 - p);
    }
    if (rows < TILE_OB)
      for (int64_t i = 0; i < rows; i++)
        std::memcpy(d.dst + (mb * TILE_OB + i) * d.dstChan + p0, out + i * ld, sizeof(float) * (p1 - p0));
    return;
  }
  const int64_t ld = (p1 - p0 + VEC - 1) / VEC * VEC;
  float* stage = stageBuf.get(TILE_OB * ld);
  const float* a = d.a + mb * d.K * TILE_OB;
  for (int64_t p = p0, vecs = 0; p < p1; p += vecs * VEC) {
    vecs = tileVectors((p1 - p + VEC - 1) / VEC);
    directTileAny(static_cast<int>(vecs), d.K, d.src + p, d.koff, a, stage + (p - p0), ld);
  }
  const int64_t rows = std::min<int64_t>(TILE_OB, d.M - mb * TILE_OB);
  for (int64_t r = p0 / d.Wr; r * d.Wr < p1; r++) {
    const int64_t c0 = std::max<int64_t>(0, p0 - r * d.Wr), c1 = std::min(d.ncols, p1 - r * d.Wr);
    for (int64_t i = 0; i < rows; i++) {
      const float* s = stage + i * ld + r * d.Wr - p0;
      float* o = d.dst + (mb * TILE_OB + i) * d.dstChan + r * d.dstRow;
      if (d.dstCol == 1)
        for (int64_t c = c0; c < c1; c++) o[c] = s[c];
      else
        for (int64_t c = c0; c < c1; c++) o[c * d.dstCol] = s[c];
    }
  }
}

// Packs A[m, k] = at(m, k) into blocks of TILE_OB rows (k-major inside a block), zero past M.
template <class F>
void packRows(int64_t M, int64_t K, const F& at, float* out) {
  for (int64_t mb = 0; mb < (M + TILE_OB - 1) / TILE_OB; mb++)
    for (int64_t k = 0; k < K; k++)
      for (int64_t i = 0; i < TILE_OB; i++) {
        const int64_t m = mb * TILE_OB + i;
        out[(mb * K + k) * TILE_OB + i] = m < M ? at(m, k) : 0.0f;
      }
}

// True where the direct kernels run: float32 with AVX-512 or AVX2, kernels up to 5x5, strides up
// to 2, and at most 1600 products per output (64 channels x 5 x 5). Past that (AlexNet's 192-384
// channel 3x3 layers) the packed GEMM's reuse of its blocks wins, as measured on the Xeon (AVX-512).
bool directConv(const ConvGeom& g) {
  return (isaAvx512() || isaAvx2()) && g.KH <= 5 && g.KW <= 5 && g.sh <= 2 && g.sw <= 2 && g.N > 0 && g.HO > 0 &&
         g.WO > 0 && g.Cg * g.KH * g.KW <= 1600 && !pointwise(g);
}

// Floating-point operations of the forward pass (below 4e6 a convolution runs on the calling thread).
double convFlops(const ConvGeom& g) {
  return 2.0 * g.N * g.O * g.HO * g.WO * g.Cg * g.KH * g.KW;
}

// The forward layout: the input padded by (ph, pw) and split into sh x sw phases.
PhaseLayout forwardLayout(const ConvGeom& g) {
  PhaseLayout L;
  L.sh = g.sh;
  L.sw = g.sw;
  L.Hq = (g.H + 2 * g.ph + g.sh - 1) / g.sh;
  L.Wq = (g.W + 2 * g.pw + g.sw - 1) / g.sw;
  L.padTop = g.ph;
  L.padLeft = g.pw;
  L.chan = g.sh * g.sw * L.Hq * L.Wq;
  return L;
}

// Tap offsets of the forward layout for one group: k = (c * KH + kh) * KW + kw.
std::vector<int64_t> forwardOffsets(const ConvGeom& g, const PhaseLayout& L) {
  std::vector<int64_t> koff(static_cast<size_t>(g.Cg * g.KH * g.KW));
  const int64_t plane = L.Hq * L.Wq;
  for (int64_t c = 0; c < g.Cg; c++)
    for (int64_t kh = 0; kh < g.KH; kh++)
      for (int64_t kw = 0; kw < g.KW; kw++) {
        const int64_t a = kh * g.dh, b = kw * g.dw;
        koff[(c * g.KH + kh) * g.KW + kw] =
            c * L.chan + ((a % g.sh) * g.sw + b % g.sw) * plane + (a / g.sh) * L.Wq + b / g.sw;
      }
  return koff;
}

int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Floats one image's source buffer needs: C channels plus room for the reads past the last one.
int64_t sourceFloats(int64_t C, int64_t chan, const std::vector<int64_t>& koff, int64_t Np) {
  int64_t maxOff = 0;
  for (int64_t o : koff) maxOff = std::max(maxOff, o);
  return std::max(C * chan, maxOff + roundUp(Np, TILE_V * VEC)) + VEC;
}

// Runs a list of direct products per image: image(n, src) builds image n's source into src and
// returns its products. Images go to the pool when there are enough of them; otherwise each
// image's products are split into (row block, position range) tasks.
template <class Build>
void runDirect(const ConvGeom& g, int64_t srcFloats, const Build& image) {
  const bool tiny = convFlops(g) < 4e6;
  const int64_t threads = pool().size();
  if (tiny || g.N >= 2 * threads) {
    auto one = [&](int64_t n) {
      static thread_local Buf<float> srcBuf;
      float* src = srcBuf.get(srcFloats);
      for (const DirectProduct& d : image(n, src))
        for (int64_t mb = 0; mb < (d.M + TILE_OB - 1) / TILE_OB; mb++) directRange(d, mb, 0, d.Np);
    };
    if (tiny || threads == 1)
      for (int64_t n = 0; n < g.N; n++) one(n);
    else
      pool().run(g.N, one);
    return;
  }
  std::vector<float> src(static_cast<size_t>(srcFloats));
  constexpr int64_t SEG = 8 * TILE_V * VEC;
  for (int64_t n = 0; n < g.N; n++) {
    const std::vector<DirectProduct> prods = image(n, src.data());
    for (const DirectProduct& d : prods) {
      const int64_t mbs = (d.M + TILE_OB - 1) / TILE_OB, segs = (d.Np + SEG - 1) / SEG;
      pool().run(mbs * segs, [&](int64_t t) {
        const int64_t mb = t / segs, s = t % segs;
        directRange(d, mb, s * SEG, std::min(d.Np, (s + 1) * SEG));
      });
    }
  }
}

// The KW planes of one channel xc [H, W] in sameConv's shifted source: plane kw (chan floats from
// d + kw * chan) is ph zero rows, the image shifted left by kw * dw - pw with zeros where it left
// the row, then zero rows to the end. rowMasks[v * KW + kw] keeps the lanes of vector v of the
// image that stay in it. Vector stores only (with memcpy, std::fill and a loop per cleared column,
// building took about 9% of a 64-channel 8 x 8 input gradient, this about 5%); a store may run up
// to 15 floats past its region into the next one, which is written after it (the caller leaves room
// past the last).
__attribute__((target("avx512f"))) void shiftedPlanesAvx512(const float* xc, int64_t H, int64_t W, int64_t ph,
                                                             int64_t KW, int64_t dw, int64_t pw, int64_t chan,
                                                             const uint16_t* rowMasks, float* d) {
  const int64_t HW = H * W, top = ph * W;
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t kw = 0; kw < KW; kw++, d += chan) {
    const float* from = xc + kw * dw - pw;
    for (int64_t j = 0; j < top; j += VEC) _mm512_storeu_ps(d + j, zero);
    // Masked-off lanes are not read, so the loads may start before xc or end past it.
    for (int64_t j = 0, v = 0; j < HW; j += VEC, v++)
      _mm512_storeu_ps(d + top + j, _mm512_maskz_loadu_ps(rowMasks[v * KW + kw], from + j));
    for (int64_t j = top + roundUp(HW, VEC); j < chan; j += VEC) _mm512_storeu_ps(d + j, zero);
  }
}

// The same in AVX2: each 16-lane mask as two 8-lane halves (masked-off lanes are not read).
__attribute__((target("avx2"))) void shiftedPlanesAvx2(const float* xc, int64_t H, int64_t W, int64_t ph, int64_t KW,
                                                       int64_t dw, int64_t pw, int64_t chan, const uint16_t* rowMasks,
                                                       float* d) {
  const int64_t HW = H * W, top = ph * W;
  const __m256 zero = _mm256_setzero_ps();
  const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  for (int64_t kw = 0; kw < KW; kw++, d += chan) {
    const float* from = xc + kw * dw - pw;
    for (int64_t j = 0; j < top; j += 8) _mm256_storeu_ps(d + j, zero);
    for (int64_t j = 0, v = 0; j < HW; j += VEC, v++) {
      const int m = rowMasks[v * KW + kw];
      for (int h = 0; h < 2; h++) {
        const __m256i keep = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((m >> (8 * h)) & 0xff), bit), bit);
        _mm256_storeu_ps(d + top + j + 8 * h, _mm256_maskload_ps(from + j + 8 * h, keep));
      }
    }
    for (int64_t j = top + roundUp(HW, VEC); j < chan; j += 8) _mm256_storeu_ps(d + j, zero);
  }
}

void shiftedPlanes(const float* xc, int64_t H, int64_t W, int64_t ph, int64_t KW, int64_t dw, int64_t pw,
                   int64_t chan, const uint16_t* rowMasks, float* d) {
  if (isaAvx512())
    shiftedPlanesAvx512(xc, H, W, ph, KW, dw, pw, chan, rowMasks, d);
  else
    shiftedPlanesAvx2(xc, H, W, ph, KW, dw, pw, chan, rowMasks, d);
}

// out[i * ldo + j] = in[j * ldi + i] for i, j < 16: a 16 x 16 block transposed in registers
// (AVX-512), or as four 8 x 8 blocks (AVX2).
__attribute__((target("avx512f"))) void transpose16Avx512(const float* in, int64_t ldi, float* out, int64_t ldo) {
  __m512 r[16];
  for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(in + i * ldi);
  transpose16Regs(r);
  for (int i = 0; i < 16; i++) _mm512_storeu_ps(out + i * ldo, r[i]);
}

void transpose16(const float* in, int64_t ldi, float* out, int64_t ldo) {
  if (isaAvx512()) {
    transpose16Avx512(in, ldi, out, ldo);
    return;
  }
  for (int i = 0; i < 16; i += 8)
    for (int j = 0; j < 16; j += 8) transposeBlock8(in + j * ldi + i, ldi, 8, 8, out + i * ldo + j, ldo, 8);
}

// ---------------------------------------------------------------- Winograd F(2 x 2, 3 x 3)
//
// On 8 x 8 images the direct tiles above already run at this machine's multiply-add peak (sameTile
// and a tile vectorised over output channels alike, about 190 GFLOP/s on one core), so the way to
// oneDNN's speed is fewer multiplies. Winograd's minimal filtering (Lavin and Gray, "Fast Algorithms
// for Convolutional Neural Networks", CVPR 2016) computes each 2 x 2 block of outputs from the 4 x 4
// block of inputs around it with 16 multiplies per (input, output) channel pair instead of 36:
//   Y = A^T [(G g G^T) .* (B^T d B)] A.
// Per image: the image copied channels-last inside a zero border; its blocks transformed (vectors
// over input channels); for each of the 16 transformed positions xi a product over input channels
// (winogradProduct: vectors over output channels); the inverse transform into [position, channel];
// last the transpose into NCHW. The transforms only add, subtract and halve (the kernel's in double):
// against a float64 sum, 64 channels of inputs and weights in [-1, 1] came out within 1.2e-5 (the
// direct kernel: 2.2e-5), the products being 64 terms long instead of 576. Every sum runs in an order
// fixed by the geometry, one image per task. One thread, batch 128: 1.7-1.9x sameTile's speed on 64
// channels (8 x 8), 1.25-1.4x on 32 (16 x 16). The buffers start on cache lines (alignedFloats):
// unaligned, each vector store touched two lines and the whole ran 10-20% slower.

// 3 x 3 "same" convolutions (stride, dilation and padding 1) of even-sized images of at most 256
// positions, with input channels in 16s and output channels in 32s. (Larger images and 16 output
// channels, ResNet-20's first stage, stay with sameTile: not measured.)
bool winogradFits(int64_t H, int64_t W, int64_t HO, int64_t KH, int64_t KW, int64_t ph, int64_t pw, int64_t dh,
                  int64_t dw, int64_t Cg, int64_t Og) {
  return (isaAvx512() || isaAvx2()) && KH == 3 && KW == 3 && ph == 1 && pw == 1 && dh == 1 && dw == 1 && HO == H &&
         H % 2 == 0 && W % 2 == 0 && H * W <= 256 && Cg % 16 == 0 && Og % 32 == 0;
}

// One transformed position's product for R blocks and 16 V output channels, vectorised over output
// channels (the layout oneDNN uses): out[j * ldo + i] = sum_c v[j * ldv + c] * u[c * 16 V + i] for
// j < R, i < 16 V, c < C, each a chain of multiply-adds in c order. Per input channel: V weight
// vectors loaded and R values broadcast for V R multiply-adds (24 accumulators: V = 4 with R = 6,
// V = 2 with R = 12).
template <int V, int R>
__attribute__((target("avx512f"))) void winogradProduct(int64_t C, const float* v, int64_t ldv, const float* u,
                                                         float* out, int64_t ldo) {
  __m512 acc[R][V];
  for (int j = 0; j < R; j++)
    for (int i = 0; i < V; i++) acc[j][i] = _mm512_setzero_ps();
  for (int64_t c = 0; c < C; c++, u += V * VEC) {
    __m512 w[V];
    for (int i = 0; i < V; i++) w[i] = _mm512_loadu_ps(u + i * VEC);
#pragma GCC unroll 12
    for (int j = 0; j < R; j++) {
      const __m512 b = _mm512_set1_ps(v[j * ldv + c]);
      for (int i = 0; i < V; i++) acc[j][i] = _mm512_fmadd_ps(b, w[i], acc[j][i]);
    }
  }
  for (int j = 0; j < R; j++)
    for (int i = 0; i < V; i++) _mm512_storeu_ps(out + j * ldo + i * VEC, acc[j][i]);
}

// winogradProduct for r <= R blocks.
template <int V, int R>
void winogradProducts(int64_t r, int64_t C, const float* v, int64_t ldv, const float* u, float* out, int64_t ldo) {
  if constexpr (R > 1) {
    if (r < R) {
      winogradProducts<V, R - 1>(r, C, v, ldv, u, out, ldo);
      return;
    }
  }
  winogradProduct<V, R>(C, v, ldv, u, out, ldo);
}

// The input transform of an H x W image: x [H + 2, W + 2, C] (padded, channels-last) to
// v[xi * ld + t * C + c] = (B^T d B)[xi] for the 4 x 4 block d at (2 ty, 2 tx), block
// t = ty * W / 2 + tx, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
__attribute__((target("avx512f"))) void winogradInput512(const float* x, int64_t H, int64_t W, int64_t C,
                                                          int64_t ld, float* v) {
  const int64_t Wp = W + 2;
  for (int64_t t = 0; t < H * W / 4; t++) {
    const int64_t ty = t / (W / 2), tx = t % (W / 2);
    const float* d = x + (2 * ty * Wp + 2 * tx) * C;
    for (int64_t c = 0; c < C; c += VEC) {
      __m512 r[4][4];
      for (int i = 0; i < 4; i++) {  // along row i of the block
        const float* row = d + i * Wp * C + c;
        const __m512 a0 = _mm512_loadu_ps(row), a1 = _mm512_loadu_ps(row + C), a2 = _mm512_loadu_ps(row + 2 * C),
                     a3 = _mm512_loadu_ps(row + 3 * C);
        r[i][0] = _mm512_sub_ps(a0, a2);
        r[i][1] = _mm512_add_ps(a1, a2);
        r[i][2] = _mm512_sub_ps(a2, a1);
        r[i][3] = _mm512_sub_ps(a1, a3);
      }
      for (int j = 0; j < 4; j++) {  // then down column j: xi = i * 4 + j
        float* o = v + j * ld + t * C + c;
        _mm512_storeu_ps(o, _mm512_sub_ps(r[0][j], r[2][j]));
        _mm512_storeu_ps(o + 4 * ld, _mm512_add_ps(r[1][j], r[2][j]));
        _mm512_storeu_ps(o + 8 * ld, _mm512_sub_ps(r[2][j], r[1][j]));
        _mm512_storeu_ps(o + 12 * ld, _mm512_sub_ps(r[1][j], r[3][j]));
      }
    }
  }
}

// The output transform: m[xi * ld + t * O + o] to y[position * O + o] (positions oh * W + ow),
// A^T m A with A^T = [1 1 1 0; 0 1 -1 -1].
__attribute__((target("avx512f"))) void winogradOutput512(const float* m, int64_t H, int64_t W, int64_t O,
                                                           int64_t ld, float* y) {
  for (int64_t t = 0; t < H * W / 4; t++) {
    const int64_t ty = t / (W / 2), tx = t % (W / 2);
    for (int64_t o = 0; o < O; o += VEC) {
      __m512 u[2][4];
      for (int j = 0; j < 4; j++) {  // down column j
        const float* s = m + j * ld + t * O + o;
        const __m512 a0 = _mm512_loadu_ps(s), a1 = _mm512_loadu_ps(s + 4 * ld), a2 = _mm512_loadu_ps(s + 8 * ld),
                     a3 = _mm512_loadu_ps(s + 12 * ld);
        u[0][j] = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
        u[1][j] = _mm512_sub_ps(_mm512_sub_ps(a1, a2), a3);
      }
      for (int i = 0; i < 2; i++) {  // then along each row
        float* row = y + ((2 * ty + i) * W + 2 * tx) * O + o;
        _mm512_storeu_ps(row, _mm512_add_ps(_mm512_add_ps(u[i][0], u[i][1]), u[i][2]));
        _mm512_storeu_ps(row + O, _mm512_sub_ps(_mm512_sub_ps(u[i][1], u[i][2]), u[i][3]));
      }
    }
  }
}

// The image xn [C, H, W] channels-last inside the zero border of x [H + 2, W + 2, C]: 16 x 16 blocks
// (channels x positions) transposed, then each position's 16 channels stored in place.
__attribute__((target("avx512f"))) void winogradChannelsLast512(const float* xn, int64_t C, int64_t H, int64_t W,
                                                                 float* x) {
  const int64_t P = H * W, Wp = W + 2;
  alignas(64) float blk[VEC * VEC];
  for (int64_t c = 0; c < C; c += VEC) {
    int64_t p = 0, oh = 0, ow = 0;  // position p = oh * W + ow
    for (; p + VEC <= P; p += VEC) {
      transpose16(xn + c * P + p, P, blk, VEC);
      for (int64_t q = 0; q < VEC; q++) {
        _mm512_storeu_ps(x + ((oh + 1) * Wp + ow + 1) * C + c, _mm512_load_ps(blk + q * VEC));
        if (++ow == W) {
          ow = 0;
          oh++;
        }
      }
    }
    for (; p < P; p++)
      for (int64_t i = 0; i < VEC; i++) x[((p / W + 1) * Wp + p % W + 1) * C + c + i] = xn[(c + i) * P + p];
  }
}

// ---- The same in AVX2 (8 lanes): the transforms 8 channels at a time (the same additions, so the
// same bits), the products on 16 output channels (two vectors) x 6 blocks, each half of
// winogradConv's 32-channel slices of u in turn.

template <int R>
__attribute__((target("avx2,fma"))) void winogradProduct256(int64_t C, const float* v, int64_t ldv, const float* u,
                                                            int64_t ldu, float* out, int64_t ldo) {
  __m256 acc[R][2];
  #pragma GCC unroll 8
  for (int j = 0; j < R; j++) acc[j][0] = acc[j][1] = _mm256_setzero_ps();
  for (int64_t c = 0; c < C; c++, u += ldu) {
    const __m256 w0 = _mm256_loadu_ps(u), w1 = _mm256_loadu_ps(u + 8);
    #pragma GCC unroll 8
    for (int j = 0; j < R; j++) {
      const __m256 b = _mm256_broadcast_ss(v + j * ldv + c);
      acc[j][0] = _mm256_fmadd_ps(b, w0, acc[j][0]);
      acc[j][1] = _mm256_fmadd_ps(b, w1, acc[j][1]);
    }
  }
  #pragma GCC unroll 8
  for (int j = 0; j < R; j++) {
    _mm256_storeu_ps(out + j * ldo, acc[j][0]);
    _mm256_storeu_ps(out + j * ldo + 8, acc[j][1]);
  }
}

template <int R>
void winogradProducts256(int64_t r, int64_t C, const float* v, int64_t ldv, const float* u, int64_t ldu, float* out,
                         int64_t ldo) {
  if constexpr (R > 1) {
    if (r < R) {
      winogradProducts256<R - 1>(r, C, v, ldv, u, ldu, out, ldo);
      return;
    }
  }
  winogradProduct256<R>(C, v, ldv, u, ldu, out, ldo);
}

__attribute__((target("avx2"))) void winogradInput256(const float* x, int64_t H, int64_t W, int64_t C, int64_t ld,
                                                      float* v) {
  const int64_t Wp = W + 2;
  for (int64_t t = 0; t < H * W / 4; t++) {
    const int64_t ty = t / (W / 2), tx = t % (W / 2);
    const float* d = x + (2 * ty * Wp + 2 * tx) * C;
    for (int64_t c = 0; c < C; c += 8) {
      __m256 r[4][4];
      #pragma GCC unroll 4
      for (int i = 0; i < 4; i++) {
        const float* row = d + i * Wp * C + c;
        const __m256 a0 = _mm256_loadu_ps(row), a1 = _mm256_loadu_ps(row + C), a2 = _mm256_loadu_ps(row + 2 * C),
                     a3 = _mm256_loadu_ps(row + 3 * C);
        r[i][0] = _mm256_sub_ps(a0, a2);
        r[i][1] = _mm256_add_ps(a1, a2);
        r[i][2] = _mm256_sub_ps(a2, a1);
        r[i][3] = _mm256_sub_ps(a1, a3);
      }
      #pragma GCC unroll 4
      for (int j = 0; j < 4; j++) {
        float* o = v + j * ld + t * C + c;
        _mm256_storeu_ps(o, _mm256_sub_ps(r[0][j], r[2][j]));
        _mm256_storeu_ps(o + 4 * ld, _mm256_add_ps(r[1][j], r[2][j]));
        _mm256_storeu_ps(o + 8 * ld, _mm256_sub_ps(r[2][j], r[1][j]));
        _mm256_storeu_ps(o + 12 * ld, _mm256_sub_ps(r[1][j], r[3][j]));
      }
    }
  }
}

__attribute__((target("avx2"))) void winogradOutput256(const float* m, int64_t H, int64_t W, int64_t O, int64_t ld,
                                                       float* y) {
  for (int64_t t = 0; t < H * W / 4; t++) {
    const int64_t ty = t / (W / 2), tx = t % (W / 2);
    for (int64_t o = 0; o < O; o += 8) {
      __m256 u[2][4];
      #pragma GCC unroll 4
      for (int j = 0; j < 4; j++) {
        const float* s = m + j * ld + t * O + o;
        const __m256 a0 = _mm256_loadu_ps(s), a1 = _mm256_loadu_ps(s + 4 * ld), a2 = _mm256_loadu_ps(s + 8 * ld),
                     a3 = _mm256_loadu_ps(s + 12 * ld);
        u[0][j] = _mm256_add_ps(_mm256_add_ps(a0, a1), a2);
        u[1][j] = _mm256_sub_ps(_mm256_sub_ps(a1, a2), a3);
      }
      #pragma GCC unroll 2
      for (int i = 0; i < 2; i++) {
        float* row = y + ((2 * ty + i) * W + 2 * tx) * O + o;
        _mm256_storeu_ps(row, _mm256_add_ps(_mm256_add_ps(u[i][0], u[i][1]), u[i][2]));
        _mm256_storeu_ps(row + O, _mm256_sub_ps(_mm256_sub_ps(u[i][1], u[i][2]), u[i][3]));
      }
    }
  }
}

void winogradInput(const float* x, int64_t H, int64_t W, int64_t C, int64_t ld, float* v) {
  if (isaAvx512())
    winogradInput512(x, H, W, C, ld, v);
  else
    winogradInput256(x, H, W, C, ld, v);
}

void winogradOutput(const float* m, int64_t H, int64_t W, int64_t O, int64_t ld, float* y) {
  if (isaAvx512())
    winogradOutput512(m, H, W, O, ld, y);
  else
    winogradOutput256(m, H, W, O, ld, y);
}

// winogradChannelsLast512 without AVX-512: the 16 x 16 transposes as four 8 x 8 ones, each
// position's 16 channels copied.
void winogradChannelsLast(const float* xn, int64_t C, int64_t H, int64_t W, float* x) {
  if (isaAvx512()) {
    winogradChannelsLast512(xn, C, H, W, x);
    return;
  }
  const int64_t P = H * W, Wp = W + 2;
  alignas(64) float blk[VEC * VEC];
  for (int64_t c = 0; c < C; c += VEC) {
    int64_t p = 0, oh = 0, ow = 0;
    for (; p + VEC <= P; p += VEC) {
      transpose16(xn + c * P + p, P, blk, VEC);
      for (int64_t q = 0; q < VEC; q++) {
        std::memcpy(x + ((oh + 1) * Wp + ow + 1) * C + c, blk + q * VEC, sizeof(float) * VEC);
        if (++ow == W) {
          ow = 0;
          oh++;
        }
      }
    }
    for (; p < P; p++)
      for (int64_t i = 0; i < VEC; i++) x[((p / W + 1) * Wp + p % W + 1) * C + c + i] = xn[(c + i) * P + p];
  }
}

// n floats from b starting on a 64-byte boundary, so that whole-vector loads and stores each touch
// one cache line.
float* alignedFloats(Buf<float>& b, int64_t n) {
  const uintptr_t p = reinterpret_cast<uintptr_t>(b.get(n + VEC));
  return reinterpret_cast<float*>((p + 63) / 64 * 64);
}

// sameConv's product (for the shapes winogradFits takes) through Winograd F(2 x 2, 3 x 3).
template <class Weight>
void winogradConv(const ConvGeom& g, const float* in, int64_t Cin, int64_t H, int64_t W, int64_t groups, int64_t Cg,
                  int64_t Og, const Weight& weight, float* out) {
  // winogradProduct's tile; with AVX2, slices of 32 output channels (winogradProduct256 takes 16).
  const bool avx512 = isaAvx512();
  const int64_t V = avx512 && Og % 64 == 0 ? 4 : 2, R = V == 4 ? 6 : 12, OB = V * VEC;
  const int64_t obs = Og / OB, Hp = H + 2, Wp = W + 2, P = H * W, tiles = P / 4;
  // u[(gr * 16 + xi) * xiStep + (ob * Cg + c) * OB + i] = (G g G^T)[xi] for g the 3 x 3 kernel from
  // input channel c to output channel ob * OB + i, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
  // (Kept between calls, as the per-image buffers are.)
  static thread_local Buf<float> uBuf;
  const int64_t xiStep = obs * Cg * OB + VEC;  // one vector more, as for vld below
  float* u = alignedFloats(uBuf, groups * 16 * xiStep);
  for (int64_t gr = 0; gr < groups; gr++)
    for (int64_t c = 0; c < Cg; c++)
      for (int64_t o = 0; o < Og; o++) {
        double k[3][3], t[4][3];
        for (int i = 0; i < 3; i++)
          for (int j = 0; j < 3; j++) k[i][j] = weight(gr, o, c, i, j);
        for (int j = 0; j < 3; j++) {
          t[0][j] = k[0][j];
          t[1][j] = 0.5 * (k[0][j] + k[1][j] + k[2][j]);
          t[2][j] = 0.5 * (k[0][j] - k[1][j] + k[2][j]);
          t[3][j] = k[2][j];
        }
        float* to = u + gr * 16 * xiStep + ((o / OB) * Cg + c) * OB + o % OB;
        for (int i = 0; i < 4; i++) {
          const double row[4] = {t[i][0], 0.5 * (t[i][0] + t[i][1] + t[i][2]), 0.5 * (t[i][0] - t[i][1] + t[i][2]),
                                 t[i][2]};
          for (int j = 0; j < 4; j++) to[(i * 4 + j) * xiStep] = static_cast<float>(row[j]);
        }
      }
  // Transformed positions xi lie vld and mld floats apart, one vector more than their slices: a
  // multiple of 4 KB (16 blocks x 64 channels) would put a transform's 16 streams in one L1 set.
  const int64_t vld = tiles * Cin + VEC, mld = tiles * Og + VEC;
  static std::atomic<uint64_t> calls{0};
  const uint64_t call = ++calls;
  auto image = [&](int64_t n) {
    static thread_local Buf<float> xBuf, vBuf, mBuf, yBuf;
    static thread_local uint64_t zeroedFor = 0;
    float* x = alignedFloats(xBuf, Hp * Wp * Cin);
    float* v = alignedFloats(vBuf, 16 * vld);
    float* m = alignedFloats(mBuf, 16 * mld);
    float* y = alignedFloats(yBuf, groups * P * Og);
    // The border is zeroed on a thread's first image of the call; later images overwrite the inside.
    if (zeroedFor != call) {
      std::memset(x, 0, sizeof(float) * Hp * Wp * Cin);
      zeroedFor = call;
    }
    winogradChannelsLast(in + n * Cin * P, Cin, H, W, x);
    // Each transformed position's products read that position's slice of v (tiles x Cin) and of
    // u (Cg x Og), on 64 channels 4 + 16 KB that stay in L1 across its products. (Transforming and
    // multiplying 6 blocks at a time instead streamed all of u from L2 per 6 blocks: 10-20% slower.)
    winogradInput(x, H, W, Cin, vld, v);
    for (int64_t gr = 0; gr < groups; gr++) {
      for (int64_t xi = 0; xi < 16; xi++)
        for (int64_t ob = 0; ob < obs; ob++)
          for (int64_t t0 = 0; t0 < tiles; t0 += R) {
            const int64_t r = std::min(R, tiles - t0);
            const float* vt = v + xi * vld + t0 * Cin + gr * Cg;
            const float* ut = u + (gr * 16 + xi) * xiStep + ob * Cg * OB;
            float* mt = m + xi * mld + t0 * Og + ob * OB;
            if (!avx512)
              for (int64_t h = 0; h < OB; h += VEC)
                for (int64_t b = 0; b < r; b += 6)
                  winogradProducts256<6>(std::min<int64_t>(6, r - b), Cg, vt + b * Cin, Cin, ut + h, OB,
                                         mt + b * Og + h, Og);
            else if (V == 4)
              winogradProducts<4, 6>(r, Cg, vt, Cin, ut, mt, Og);
            else
              winogradProducts<2, 12>(r, Cg, vt, Cin, ut, mt, Og);
          }
      winogradOutput(m, H, W, Og, mld, y + gr * P * Og);
    }
    // y [group][position][Og] transposed into the NCHW output.
    for (int64_t gr = 0; gr < groups; gr++) {
      const float* yg = y + gr * P * Og;
      float* yn = out + (n * groups + gr) * Og * P;
      for (int64_t o = 0; o < Og; o += VEC) {
        int64_t p = 0;
        for (; p + VEC <= P; p += VEC) transpose16(yg + p * Og + o, Og, yn + o * P + p, P);
        for (; p < P; p++)
          for (int64_t i = o; i < o + VEC; i++) yn[i * P + p] = yg[p * Og + i];
      }
    }
  };
  const int64_t threads = pool().size();
  if (convFlops(g) < 4e6 || threads == 1)
    for (int64_t n = 0; n < g.N; n++) image(n);
  else
    pool().run(g.N, image);
}

// A "same" convolution (stride 1, output as wide as the input) of `in` [N, Cin, H, W] into
// out [N, groups * Og, HO, W] through sameTile; weight(gr, m, c, kh, kw) gives group gr's weight
// from its input channel c to its output channel m. When KW copies of the image fit in about half
// of L2 (1 MB), the source holds, for each channel c and kernel column kw, the padded image shifted
// left by kw * dw - pw with zeros where it left the row (plane c * KW + kw), so tap (c, kh, kw) is
// one unmasked run of that plane; otherwise one padded plane per channel, read through masks.
// Small 3 x 3 images with output channels in 32s go to winogradConv instead (winogradFits).
template <class Weight>
void sameConv(const ConvGeom& g, const float* in, int64_t Cin, int64_t H, int64_t W, int64_t HO, int64_t groups,
              int64_t Cg, int64_t Og, int64_t KH, int64_t KW, int64_t ph, int64_t pw, int64_t dh, int64_t dw,
              const Weight& weight, float* out) {
  if (winogradFits(H, W, HO, KH, KW, ph, pw, dh, dw, Cg, Og)) {
    winogradConv(g, in, Cin, H, W, groups, Cg, Og, weight, out);
    return;
  }
  const int64_t Hp = H + 2 * ph, chan = Hp * W, P = HO * W, K = Cg * KH * KW;
  const bool shifted = Cin * KW * chan * int64_t(sizeof(float)) <= (int64_t(1) << 20);
  const int64_t copies = shifted ? KW : 1;  // planes per channel
  const int64_t guard = roundUp(pw, VEC) + VEC;
  const int64_t tail = (KH - 1) * dh * W + (KW - 1) * dw + TILE_V * VEC + VEC;
  const int64_t srcFloats = guard + Cin * copies * chan + tail;
  std::vector<int64_t> koff(static_cast<size_t>(K));
  std::vector<uint8_t> kwOf(static_cast<size_t>(K));
  for (int64_t c = 0; c < Cg; c++)
    for (int64_t kh = 0; kh < KH; kh++)
      for (int64_t kw = 0; kw < KW; kw++) {
        const int64_t k = (c * KH + kh) * KW + kw;
        koff[k] = shifted ? (c * KW + kw) * chan + kh * dh * W : c * chan + kh * dh * W + kw * dw - pw;
        kwOf[k] = static_cast<uint8_t>(kw);
      }
  const int64_t nv = roundUp(P, TILE_V * VEC) / VEC;
  std::vector<uint16_t> masks(static_cast<size_t>(nv * KW));
  for (int64_t v = 0; v < nv; v++)
    for (int64_t kw = 0; kw < KW; kw++) {
      uint16_t m = 0;
      for (int64_t l = 0; l < VEC; l++) {
        const int64_t p = v * VEC + l, iw = p % W + kw * dw - pw;
        if (p < P && iw >= 0 && iw < W) m |= static_cast<uint16_t>(1u << l);
      }
      masks[v * KW + kw] = m;
    }
  // The same masks as floats (all bits set, or zero) for the AVX2 tiles.
  std::vector<float> fmasks;
  if (!isaAvx512() && !shifted) {
    fmasks.resize(static_cast<size_t>(nv * KW * VEC));
    const uint32_t ones = 0xffffffffu;
    for (int64_t i = 0; i < nv * KW; i++)
      for (int64_t l = 0; l < VEC; l++)
        if (masks[i] >> l & 1) std::memcpy(&fmasks[i * VEC + l], &ones, sizeof ones);
  }
  // For shiftedPlanes: the lanes of each image vector whose shifted column stays in the image.
  const int64_t HW = H * W, nvx = (HW + VEC - 1) / VEC;
  std::vector<uint16_t> rowMasks(static_cast<size_t>(nvx * KW));
  for (int64_t v = 0; v < nvx; v++)
    for (int64_t kw = 0; kw < KW; kw++) {
      uint16_t m = 0;
      for (int64_t l = 0; l < VEC; l++) {
        const int64_t q = v * VEC + l, iw = q % W + kw * dw - pw;
        if (q < HW && iw >= 0 && iw < W) m |= static_cast<uint16_t>(1u << l);
      }
      rowMasks[v * KW + kw] = m;
    }
  const int64_t mbs = (Og + TILE_OB - 1) / TILE_OB;
  // A[m, k] = weight(gr, m, c, kh, kw) for k = (c * KH + kh) * KW + kw, packed as packRows does
  // (without packRows' divisions per element, 5-7% of the forward pass on 64 channels).
  std::vector<float> a(static_cast<size_t>(groups * mbs * K * TILE_OB));
  for (int64_t gr = 0; gr < groups; gr++)
    for (int64_t mb = 0; mb < mbs; mb++) {
      float* o = a.data() + (gr * mbs + mb) * K * TILE_OB;
      for (int64_t c = 0; c < Cg; c++)
        for (int64_t kh = 0; kh < KH; kh++)
          for (int64_t kw = 0; kw < KW; kw++, o += TILE_OB)
            for (int64_t i = 0; i < TILE_OB; i++) {
              const int64_t m = mb * TILE_OB + i;
              o[i] = m < Og ? weight(gr, m, c, kh, kw) : 0.0f;
            }
    }
  runDirect(g, srcFloats, [&](int64_t n, float* buf) {
    std::fill(buf, buf + guard, 0.0f);
    float* src = buf + guard;
    const float* xn = in + n * Cin * H * W;
    for (int64_t c = 0; c < Cin; c++) {
      if (!shifted) {
        float* d = src + c * chan;
        std::fill(d, d + ph * W, 0.0f);
        std::memcpy(d + ph * W, xn + c * H * W, sizeof(float) * H * W);
        std::fill(d + (ph + H) * W, d + chan, 0.0f);
        continue;
      }
      shiftedPlanes(xn + c * HW, H, W, ph, KW, dw, pw, chan, rowMasks.data(), src + c * KW * chan);
    }
    std::fill(src + Cin * copies * chan, src + Cin * copies * chan + tail, 0.0f);
    std::vector<DirectProduct> prods;
    for (int64_t gr = 0; gr < groups; gr++) {
      DirectProduct d{src + gr * Cg * copies * chan, koff.data(), K, a.data() + gr * mbs * K * TILE_OB, Og, P, W, W,
                      out + (n * groups + gr) * Og * P, P, 0, 1};
      d.kwOf = kwOf.data();
      d.masks = masks.data();
      d.fmasks = fmasks.empty() ? nullptr : fmasks.data();
      d.KW = KW;
      d.shifted = shifted;
      prods.push_back(d);
    }
    return prods;
  });
}

void conv2dDirect(const float* x, const float* w, float* y, const ConvGeom& g) {
  if (g.sh == 1 && g.sw == 1 && g.WO == g.W) {
    const int64_t Og = g.O / g.groups, KK = g.KH * g.KW;
    sameConv(g, x, g.C, g.H, g.W, g.HO, g.groups, g.Cg, Og, g.KH, g.KW, g.ph, g.pw, g.dh, g.dw,
             [&](int64_t gr, int64_t m, int64_t c, int64_t kh, int64_t kw) {
               return w[((gr * Og + m) * g.Cg + c) * KK + kh * g.KW + kw];
             }, y);
    return;
  }
  const PhaseLayout L = forwardLayout(g);
  const std::vector<int64_t> koff = forwardOffsets(g, L);
  const int64_t Og = g.O / g.groups, K = g.Cg * g.KH * g.KW, mbs = (Og + TILE_OB - 1) / TILE_OB;
  const int64_t Np = g.HO * L.Wq;
  std::vector<float> a(static_cast<size_t>(g.groups * mbs * K * TILE_OB));
  for (int64_t gr = 0; gr < g.groups; gr++)
    packRows(Og, K, [&](int64_t m, int64_t k) { return w[(gr * Og + m) * K + k]; }, a.data() + gr * mbs * K * TILE_OB);
  const int64_t srcFloats = sourceFloats(g.C, L.chan, koff, Np) + (g.groups - 1) * g.Cg * L.chan;
  runDirect(g, srcFloats, [&](int64_t n, float* src) {
    buildPhases(x + n * g.C * g.H * g.W, g.C, g.H, g.W, L, src);
    std::fill(src + g.C * L.chan, src + srcFloats, 0.0f);
    std::vector<DirectProduct> prods;
    for (int64_t gr = 0; gr < g.groups; gr++)
      prods.push_back({src + gr * g.Cg * L.chan, koff.data(), K, a.data() + gr * mbs * K * TILE_OB, Og, Np, L.Wq,
                       g.WO, y + (n * g.O + gr * Og) * g.HO * g.WO, g.HO * g.WO, g.WO, 1});
    return prods;
  });
}

// The input gradient, phase by phase. Input pixel (ih, iw) with ih + ph = sh * i + rh takes the
// taps kh with kh * dh = rh (mod sh), each reading output-gradient row i - kh * dh / sh.
struct BackwardPhase {
  int64_t i0, ni, j0, nj;       // first phase row/column and counts (in phase coordinates)
  std::vector<int64_t> kh, kw;  // taps of this phase
};

void conv2dBackwardInputDirect(const float* gy, const float* w, float* gx, const ConvGeom& g) {
  const int64_t Og = g.O / g.groups;
  const int64_t padH = g.dh * (g.KH - 1) - g.ph, padW = g.dw * (g.KW - 1) - g.pw;
  if (g.sh == 1 && g.sw == 1 && g.W == g.WO && padH >= 0 && padW >= 0) {
    // With stride 1 the input gradient is the convolution of gy with the kernel flipped in space and
    // transposed in channels, padded by dilation * (K - 1) - padding: again a "same" convolution.
    sameConv(g, gy, g.O, g.HO, g.WO, g.H, g.groups, Og, g.Cg, g.KH, g.KW, padH, padW, g.dh, g.dw,
             [&](int64_t gr, int64_t c, int64_t o, int64_t kh, int64_t kw) {
               return w[(((gr * Og + o) * g.Cg + c) * g.KH + (g.KH - 1 - kh)) * g.KW + (g.KW - 1 - kw)];
             }, gx);
    return;
  }
  std::vector<BackwardPhase> phases;
  int64_t padTop = 0, padLeft = 0, rowsNeed = g.HO, colsNeed = g.WO;
  for (int64_t rh = 0; rh < g.sh; rh++)
    for (int64_t rw = 0; rw < g.sw; rw++) {
      BackwardPhase P;
      P.i0 = (std::max<int64_t>(0, g.ph - rh) + g.sh - 1) / g.sh;
      P.ni = g.ph + g.H - 1 - rh < 0 ? 0 : (g.ph + g.H - 1 - rh) / g.sh + 1 - P.i0;
      P.j0 = (std::max<int64_t>(0, g.pw - rw) + g.sw - 1) / g.sw;
      P.nj = g.pw + g.W - 1 - rw < 0 ? 0 : (g.pw + g.W - 1 - rw) / g.sw + 1 - P.j0;
      for (int64_t kh = 0; kh < g.KH; kh++)
        for (int64_t kw = 0; kw < g.KW; kw++)
          if ((kh * g.dh) % g.sh == rh && (kw * g.dw) % g.sw == rw) {
            P.kh.push_back(kh);
            P.kw.push_back(kw);
            padTop = std::max(padTop, kh * g.dh / g.sh - P.i0);
            padLeft = std::max(padLeft, kw * g.dw / g.sw - P.j0);
          }
      phases.push_back(P);
    }
  for (const BackwardPhase& P : phases) {
    if (P.ni <= 0 || P.nj <= 0 || P.kh.empty()) continue;
    rowsNeed = std::max(rowsNeed, P.i0 + P.ni);
    colsNeed = std::max(colsNeed, P.j0 + P.nj);
  }
  PhaseLayout L{1, 1, padTop + rowsNeed + 1, padLeft + colsNeed, padTop, padLeft, 0};
  L.chan = L.Hq * L.Wq;
  // Per phase: tap offsets, k = o * taps + t, and A[c, k] = w[o, c, kh, kw] for each group.
  std::vector<std::vector<int64_t>> koffs(phases.size());
  std::vector<std::vector<float>> as(phases.size());
  const int64_t mbs = (g.Cg + TILE_OB - 1) / TILE_OB;
  int64_t srcFloats = g.O * L.chan + VEC;
  for (size_t f = 0; f < phases.size(); f++) {
    const BackwardPhase& P = phases[f];
    const int64_t T = static_cast<int64_t>(P.kh.size()), K = Og * T;
    if (P.ni <= 0 || P.nj <= 0 || T == 0) continue;
    koffs[f].resize(static_cast<size_t>(K));
    for (int64_t o = 0; o < Og; o++)
      for (int64_t t = 0; t < T; t++)
        koffs[f][o * T + t] = o * L.chan + (P.i0 - P.kh[t] * g.dh / g.sh + padTop) * L.Wq +
                              (P.j0 - P.kw[t] * g.dw / g.sw + padLeft);
    srcFloats = std::max(srcFloats, sourceFloats(Og, L.chan, koffs[f], P.ni * L.Wq) + (g.groups - 1) * Og * L.chan);
    as[f].resize(static_cast<size_t>(g.groups * mbs * K * TILE_OB));
    for (int64_t gr = 0; gr < g.groups; gr++)
      packRows(g.Cg, K, [&](int64_t c, int64_t k) {
        const int64_t o = gr * Og + k / T, t = k % T;
        return w[((o * g.Cg + c) * g.KH + P.kh[t]) * g.KW + P.kw[t]];
      }, as[f].data() + gr * mbs * K * TILE_OB);
  }
  const int64_t HW = g.H * g.W;
  runDirect(g, srcFloats, [&](int64_t n, float* src) {
    float* gxn = gx + n * g.C * HW;
    buildPhases(gy + n * g.O * g.HO * g.WO, g.O, g.HO, g.WO, L, src);
    std::fill(src + g.O * L.chan, src + srcFloats, 0.0f);
    std::vector<DirectProduct> prods;
    for (size_t f = 0; f < phases.size(); f++) {
      const BackwardPhase& P = phases[f];
      if (P.ni <= 0 || P.nj <= 0) continue;
      const int64_t rh = static_cast<int64_t>(f) / g.sw, rw = static_cast<int64_t>(f) % g.sw;
      // Phase pixel (i0 + r, j0 + q) is input pixel (sh * (i0 + r) + rh - ph, sw * (j0 + q) + rw - pw).
      float* base = gxn + (g.sh * P.i0 + rh - g.ph) * g.W + (g.sw * P.j0 + rw - g.pw);
      if (P.kh.empty()) {  // no tap reaches these pixels
        for (int64_t c = 0; c < g.C; c++)
          for (int64_t r = 0; r < P.ni; r++)
            for (int64_t q = 0; q < P.nj; q++) base[c * HW + r * g.sh * g.W + q * g.sw] = 0.0f;
        continue;
      }
      const int64_t K = Og * static_cast<int64_t>(P.kh.size());
      for (int64_t gr = 0; gr < g.groups; gr++)
        prods.push_back({src + gr * Og * L.chan, koffs[f].data(), K, as[f].data() + gr * mbs * K * TILE_OB, g.Cg,
                         P.ni * L.Wq, L.Wq, P.nj, base + gr * g.Cg * HW, HW, g.sh * g.W, g.sw});
    }
    return prods;
  });
}

// The weight gradient: gw[o, k] = sum_n sum_(oh, ow) gy[n, o, oh, ow] * src_n[koff[k] + oh * Wq + ow],
// over the forward layout. Vectors run over output channels (gy is transposed per image to
// [position, channel]) and each source value is broadcast, so only valid positions are visited and
// no lanes need adding up. A tile owns R taps x 16 V output channels of gw and sums one image's
// positions in order, continuing (with `accumulate`) from the sums an earlier image left in `out`;
// images go in fixed chunks (chunks in order): the order depends on the geometry only.
template <int V, int R>
__attribute__((target("avx512f"))) void weightTile(const float* src, const float* gyT, int64_t ldo, const int64_t* koff,
                                                    int64_t HO, int64_t WO, int64_t Wq, float* out, bool accumulate) {
  __m512 acc[R][V];
  for (int i = 0; i < R; i++)
    for (int v = 0; v < V; v++) acc[i][v] = accumulate ? _mm512_loadu_ps(out + i * V * VEC + v * VEC) : _mm512_setzero_ps();
  const float* base[R];
  for (int i = 0; i < R; i++) base[i] = src + koff[i];
  const float* gq = gyT;
  for (int64_t oh = 0; oh < HO; oh++) {
    for (int64_t ow = 0; ow < WO; ow++) {
      const int64_t p = oh * Wq + ow;
      __m512 gv[V];
      for (int v = 0; v < V; v++) gv[v] = _mm512_loadu_ps(gq + v * VEC);
      gq += ldo;
#pragma GCC unroll 12
      for (int i = 0; i < R; i++) {
        const __m512 b = _mm512_set1_ps(base[i][p]);
        for (int v = 0; v < V; v++) acc[i][v] = _mm512_fmadd_ps(b, gv[v], acc[i][v]);
      }
    }
  }
  for (int i = 0; i < R; i++)
    for (int v = 0; v < V; v++) _mm512_storeu_ps(out + i * V * VEC + v * VEC, acc[i][v]);
}

// weightTile in AVX2: R taps x 16 output channels (two vectors of 8): 12 sums for R = 6, two
// gradient vectors and a broadcast source value in the 16 registers.
template <int R>
__attribute__((target("avx2,fma"))) void weightTileAvx2(const float* src, const float* gyT, int64_t ldo,
                                                        const int64_t* koff, int64_t HO, int64_t WO, int64_t Wq,
                                                        float* out, bool accumulate) {
  __m256 acc[R][2];
  #pragma GCC unroll 8
  for (int i = 0; i < R; i++) {
    acc[i][0] = accumulate ? _mm256_loadu_ps(out + i * VEC) : _mm256_setzero_ps();
    acc[i][1] = accumulate ? _mm256_loadu_ps(out + i * VEC + 8) : _mm256_setzero_ps();
  }
  const float* base[R];
  #pragma GCC unroll 8
  for (int i = 0; i < R; i++) base[i] = src + koff[i];
  const float* gq = gyT;
  for (int64_t oh = 0; oh < HO; oh++) {
    for (int64_t ow = 0; ow < WO; ow++) {
      const int64_t p = oh * Wq + ow;
      const __m256 g0 = _mm256_loadu_ps(gq), g1 = _mm256_loadu_ps(gq + 8);
      gq += ldo;
      #pragma GCC unroll 8
      for (int i = 0; i < R; i++) {
        const __m256 b = _mm256_broadcast_ss(base[i] + p);
        acc[i][0] = _mm256_fmadd_ps(b, g0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(b, g1, acc[i][1]);
      }
    }
  }
  #pragma GCC unroll 8
  for (int i = 0; i < R; i++) {
    _mm256_storeu_ps(out + i * VEC, acc[i][0]);
    _mm256_storeu_ps(out + i * VEC + 8, acc[i][1]);
  }
}

void conv2dBackwardWeightDirect(const float* x, const float* gy, float* gw, const ConvGeom& g) {
  const PhaseLayout L = forwardLayout(g);
  std::vector<int64_t> koff = forwardOffsets(g, L);
  const int64_t Og = g.O / g.groups, K = g.Cg * g.KH * g.KW, P = g.HO * g.WO;
  // V vectors of output channels per tile (up to 64 channels), R taps (accumulators R x V <= 24).
  // With AVX2, 16 channels and 6 taps per tile (weightTileAvx2).
  const bool avx512 = isaAvx512();
  const int64_t V = avx512 ? std::min<int64_t>(4, (Og + VEC - 1) / VEC) : 1;
  const int64_t R = !avx512 ? 6 : V <= 2 ? 12 : V == 3 ? 8 : 6;
  const int64_t ow16 = V * VEC, obs = (Og + ow16 - 1) / ow16, OgPad = obs * ow16, ldo = g.groups * OgPad;
  const int64_t kbs = (K + R - 1) / R;
  koff.resize(static_cast<size_t>(kbs * R), 0);
  const int64_t srcFloats = roundUp(sourceFloats(g.C, L.chan, koff, g.HO * L.Wq), VEC) + (g.groups - 1) * g.Cg * L.chan;
  const int64_t gyFloats = P * ldo;
  // Images are summed in chunks of `chunk` (16 chunks where there are enough images: threads take
  // whole chunks, and 16 split evenly over 2 or 4 of them), each chunk's sum is added to the total in
  // chunk order. A chunk runs image by image: each image's phase-split copy and transposed gradient
  // are built once and read by every tile while they are in L1 (the tiles' running sums wait in
  // `sums` between images). Summing a whole chunk per tile instead streamed the chunk's gradients
  // from L2 once per tile, one 64-byte vector per 6 multiply-adds on 64 channels.
  const int64_t chunk = std::max<int64_t>(1, (g.N + 15) / 16);
  const int64_t tiles = g.groups * obs * kbs, tileFloats = R * ow16;
  const bool parallel = convFlops(g) >= 4e6 && pool().size() > 1;
  auto forEach = [&](int64_t n, const std::function<void(int64_t)>& fn) {
    if (parallel && n > 1)
      pool().run(n, fn);
    else
      for (int64_t t = 0; t < n; t++) fn(t);
  };
  // Image n: the phase-split copy into s, the gradient transposed to [position, channel] into q.
  auto build = [&](int64_t n, float* s, float* q) {
    buildPhases(x + n * g.C * g.H * g.W, g.C, g.H, g.W, L, s);
    std::fill(s + g.C * L.chan, s + srcFloats, 0.0f);
    const float* gyn = gy + n * g.O * P;
    for (int64_t gr = 0; gr < g.groups; gr++) {
      const float* from = gyn + gr * Og * P;
      float* to = q + gr * OgPad;
      // Blocks of 16 channels x 16 positions in registers (a scalar transpose reads gy with a
      // stride of P floats, one cache line per element); leftover channels and positions one by one.
      int64_t o = 0;
      for (; o + VEC <= Og; o += VEC) {
        int64_t p = 0;
        for (; p + VEC <= P; p += VEC) transpose16(from + o * P + p, P, to + p * ldo + o, ldo);
        for (; p < P; p++)
          for (int64_t j = o; j < o + VEC; j++) to[p * ldo + j] = from[j * P + p];
      }
      for (int64_t p = 0; p < P; p++) {
        for (int64_t j = o; j < Og; j++) to[p * ldo + j] = from[j * P + p];
        for (int64_t j = Og; j < OgPad; j++) to[p * ldo + j] = 0.0f;
      }
    }
  };
  // Tile t of one image, added to (or, for a chunk's first image, stored into) its running sums.
  auto tile = [&](int64_t t, const float* s, const float* q, float* sums, bool first) {
    const int64_t gr = t / (obs * kbs), ob = (t / kbs) % obs, kb = t % kbs;
    const float* src = s + gr * g.Cg * L.chan;
    const float* gq = q + gr * OgPad + ob * ow16;
    const int64_t* ko = koff.data() + kb * R;
    float* out = sums + t * tileFloats;
    if (!avx512)
      weightTileAvx2<6>(src, gq, ldo, ko, g.HO, g.WO, L.Wq, out, !first);
    else if (V == 1)
      weightTile<1, 12>(src, gq, ldo, ko, g.HO, g.WO, L.Wq, out, !first);
    else if (V == 2)
      weightTile<2, 12>(src, gq, ldo, ko, g.HO, g.WO, L.Wq, out, !first);
    else if (V == 3)
      weightTile<3, 8>(src, gq, ldo, ko, g.HO, g.WO, L.Wq, out, !first);
    else
      weightTile<4, 6>(src, gq, ldo, ko, g.HO, g.WO, L.Wq, out, !first);
  };
  // The sums in tile order (tile t: R taps x ow16 channels) into gw [O, K].
  const int64_t TF = tiles * tileFloats;
  auto scatter = [&](const float* sums) {
    for (int64_t t = 0; t < tiles; t++) {
      const int64_t gr = t / (obs * kbs), ob = (t / kbs) % obs, kb = t % kbs;
      const float* out = sums + t * tileFloats;
      for (int64_t i = 0; i < R && kb * R + i < K; i++)
        for (int64_t j = 0; j < ow16 && ob * ow16 + j < Og; j++) gw[(gr * Og + ob * ow16 + j) * K + kb * R + i] = out[i * ow16 + j];
    }
  };
  static thread_local Buf<float> srcBuf, gyBuf;
  const int64_t chunks = (g.N + chunk - 1) / chunk;
  // Chunk c's sums (in tile order) into sums.
  auto chunkSum = [&](int64_t c, float* sums, bool parallelTiles) {
    float* s = srcBuf.get(srcFloats);
    float* q = gyBuf.get(gyFloats);
    const int64_t n0 = c * chunk, images = std::min(chunk, g.N - n0);
    for (int64_t i = 0; i < images; i++) {
      build(n0 + i, s, q);
      if (parallelTiles)
        forEach(tiles, [&](int64_t t) { tile(t, s, q, sums, i == 0); });
      else
        for (int64_t t = 0; t < tiles; t++) tile(t, s, q, sums, i == 0);
    }
  };
  std::vector<float> total(static_cast<size_t>(TF));
  if (parallel && chunks > 1) {
    // Threads take whole chunks (built and summed in one core's cache), each into its own partial
    // sum; the partial sums are then added in chunk order, the same order as the serial loop below.
    std::vector<float> part(static_cast<size_t>(chunks * TF));
    pool().run(chunks, [&](int64_t c) { chunkSum(c, part.data() + c * TF, false); });
    parallelFor(TF, 1024, chunks, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) {
        float s = part[i];
        for (int64_t c = 1; c < chunks; c++) s += part[c * TF + i];
        total[i] = s;
      }
    });
  } else {
    std::vector<float> sums(static_cast<size_t>(TF));
    for (int64_t c = 0; c < chunks; c++) {
      chunkSum(c, c == 0 ? total.data() : sums.data(), true);
      if (c > 0)
        for (int64_t i = 0; i < TF; i++) total[i] += sums[i];
    }
  }
  scatter(total.data());
}

}  // namespace

#define MS_CONV_DISPATCH(dt, T, ...) \
  if (dt == DT::f32) {               \
    using T = float;                 \
    __VA_ARGS__;                     \
  } else {                           \
    using T = double;                \
    __VA_ARGS__;                     \
  }

// The caller allocates outputs uninitialised: every path below writes every output element. An empty
// reduction (no input channels, no output channels, no images or no output positions) writes zeros
// here, since the GEMMs of the general path might then not touch their output; an empty output
// returns at once. Past this check every dimension the kernels divide by is positive.
namespace {
template <class T>
bool emptySum(int64_t sumLength, void* out, int64_t outLength) {
  if (outLength == 0) return true;
  if (sumLength > 0) return false;
  std::fill(static_cast<T*>(out), static_cast<T*>(out) + outLength, T(0));
  return true;
}
bool emptySum(DT dt, int64_t sumLength, void* out, int64_t outLength) {
  return dt == DT::f32 ? emptySum<float>(sumLength, out, outLength) : emptySum<double>(sumLength, out, outLength);
}
}  // namespace

void conv2d(DT dt, const void* x, const void* w, const void* bias, void* y, const ConvGeom& g) {
  const int64_t n = g.N * g.O * g.HO * g.WO;
  if (emptySum(dt, g.Cg * g.KH * g.KW, y, n)) {
    if (bias && n > 0) addBias(dt, y, bias, g.N, g.O, g.HO * g.WO);
    return;
  }
  if (dt == DT::f32 && smallConv(g)) {
    smallConvForward(static_cast<const float*>(x), static_cast<const float*>(w), static_cast<const float*>(bias),
                     static_cast<float*>(y), g);
    return;
  }
  if (dt == DT::f32 && directConv(g)) {
    conv2dDirect(static_cast<const float*>(x), static_cast<const float*>(w), static_cast<float*>(y), g);
  } else {
    MS_CONV_DISPATCH(dt, T, conv2dTyped<T>(static_cast<const T*>(x), static_cast<const T*>(w), static_cast<T*>(y), g));
  }
  if (bias) addBias(dt, y, bias, g.N, g.O, g.HO * g.WO);
}
void conv2dBackwardInput(DT dt, const void* gy, const void* w, void* gx, const ConvGeom& g) {
  if (emptySum(dt, g.O * g.HO * g.WO * g.KH * g.KW, gx, g.N * g.C * g.H * g.W)) return;
  if (dt == DT::f32 && directConv(g)) {
    conv2dBackwardInputDirect(static_cast<const float*>(gy), static_cast<const float*>(w), static_cast<float*>(gx), g);
    return;
  }
  MS_CONV_DISPATCH(dt, T,
                   conv2dBackwardInputTyped<T>(static_cast<const T*>(gy), static_cast<const T*>(w),
                                               static_cast<T*>(gx), g));
}
void conv2dBackwardWeight(DT dt, const void* x, const void* gy, void* gw, const ConvGeom& g) {
  if (emptySum(dt, g.N * g.HO * g.WO, gw, g.O * g.Cg * g.KH * g.KW)) return;
  if (dt == DT::f32 && directConv(g)) {
    conv2dBackwardWeightDirect(static_cast<const float*>(x), static_cast<const float*>(gy), static_cast<float*>(gw), g);
    return;
  }
  MS_CONV_DISPATCH(dt, T,
                   conv2dBackwardWeightTyped<T>(static_cast<const T*>(x), static_cast<const T*>(gy),
                                                static_cast<T*>(gw), g));
}

}  // namespace ms
