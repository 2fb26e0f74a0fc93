// Convolutions with few input taps, C * KH * KW <= 64: an image's first layer, and MinAtar's DQN
// (4 channels of 10 x 10 into 16). The general direct kernels (conv.cc) are built for many channels;
// on MinAtar's [32, 4, 10, 10] -> 16 channels their forward pass spent most of each image on
// per-image setup and ran on one thread (60 us). Here each image is unfolded once into
// col[k][p] (k a (channel, kh, kw) tap, p an output position, rows padded to whole vectors) and
//   y[o][p] = bias[o] + sum_k w[o][k] col[k][p]
// with 4 channels x 64 positions in registers: 24 us on 2 threads. Each image is one task, so the
// result does not depend on the number of threads. (The weight gradient written the same way, as
// lane sums over positions, was slower than conv.cc's direct kernel on this shape: 57 against
// 36 us; it stays there.)
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "conv-small.h"
#include "gemm.h"
#include "pool.h"

namespace ms {

namespace {

constexpr int64_t VEC = 16;

int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// col[k * Pp + p] for one image: the input under tap k at output position p (zero outside the image
// and for p >= P). Output rows are at most 8 wide and the stride across is 1 (smallConv), so the
// columns of a row inside the input are one run [lo, hi), read by one masked load (zeros outside
// the run, and no read outside it) and written by one store; about 300 rows make MinAtar's image.
__attribute__((target("avx2"))) void unfold(const float* x, const ConvGeom& g, int64_t Pp, float* col) {
  // Locals: the stores below may alias anything, so fields of g would be reloaded on every row.
  const int64_t C = g.C, H = g.H, W = g.W, KH = g.KH, KW = g.KW, HO = g.HO, WO = g.WO;
  const int64_t sh = g.sh, ph = g.ph, pw = g.pw, dh = g.dh, dw = g.dw, P = HO * WO;  // stride 1 across
  for (int64_t c = 0; c < C; c++)
    for (int64_t kh = 0; kh < KH; kh++)
      for (int64_t kw = 0; kw < KW; kw++) {
        float* row = col + ((c * KH + kh) * KW + kw) * Pp;
        const float* plane = x + c * H * W;
        const int64_t off = kw * dw - pw;  // iw = ow * sw + off
        const int64_t lo = std::min(WO, std::max<int64_t>(0, -off)), hi = std::max(lo, std::min(WO, W - off));
        // Lanes [lo, hi) set, computed in registers (a mask stored to memory lane by lane and read
        // back whole stalls on store forwarding).
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i load = _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(lo)), lane),
                                                 _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(hi)), lane));
        // Output rows [ohLo, ohHi) read inside the input (ih = oh * sh + kh * dh - ph).
        const int64_t dy = kh * dh - ph;
        const int64_t ohLo = std::min(HO, dy >= 0 ? 0 : (-dy + sh - 1) / sh);
        const int64_t ohHi = std::max(ohLo, std::min(HO, H - dy <= 0 ? 0 : (H - dy + sh - 1) / sh));
        for (int64_t p = 0; p < ohLo * WO; p++) row[p] = 0.0f;
        const float* src = plane + (ohLo * sh + dy) * W + off;
        if (WO == 8) {  // MinAtar's 8 x 8 outputs: one load and one store per row
          for (int64_t oh = ohLo; oh < ohHi; oh++, src += sh * W) _mm256_storeu_ps(row + oh * 8, _mm256_maskload_ps(src, load));
        } else {
          for (int64_t oh = ohLo; oh < ohHi; oh++, src += sh * W) {
            alignas(32) float t[8];
            _mm256_store_ps(t, _mm256_maskload_ps(src, load));
            for (int64_t ow = 0; ow < WO; ow++) row[oh * WO + ow] = t[ow];
          }
        }
        for (int64_t p = ohHi * WO; p < P; p++) row[p] = 0.0f;
        for (int64_t p = P; p < Pp; p++) row[p] = 0.0f;
      }
}

__attribute__((target("avx512f"))) inline __mmask16 tailMask(int64_t left) {
  return left >= VEC ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
}

// y[o0 + i][p0 + v * 16 + lane] for i < OB, v < NV: OB channels by NV vectors of positions.
template <int OB, int NV>
__attribute__((target("avx512f"))) void forwardTile(const float* col, int64_t Pp, int64_t K, const float* w,
                                                    const float* bias, int64_t o0, int64_t p0, int64_t P,
                                                    float* y) {
  __m512 acc[OB][NV];
  for (int i = 0; i < OB; i++) {
    const __m512 b = _mm512_set1_ps(bias ? bias[o0 + i] : 0.0f);
    for (int v = 0; v < NV; v++) acc[i][v] = b;
  }
  for (int64_t k = 0; k < K; k++) {
    const float* c = col + k * Pp + p0;
    __m512 cv[NV];
    for (int v = 0; v < NV; v++) cv[v] = _mm512_loadu_ps(c + v * VEC);
    for (int i = 0; i < OB; i++) {
      const __m512 wv = _mm512_set1_ps(w[(o0 + i) * K + k]);
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(wv, cv[v], acc[i][v]);
    }
  }
  for (int i = 0; i < OB; i++)
    for (int v = 0; v < NV; v++)
      _mm512_mask_storeu_ps(y + (o0 + i) * P + p0 + v * VEC, tailMask(P - p0 - v * VEC), acc[i][v]);
}

// The same tile in AVX2's 8 lanes, for CPUs without AVX-512: 16 registers hold OB x NV sums,
// NV vectors of col and one weight (4 x 2 at most here).
template <int OB, int NV>
__attribute__((target("avx2,fma"))) void forwardTile256(const float* col, int64_t Pp, int64_t K, const float* w,
                                                        const float* bias, int64_t o0, int64_t p0, int64_t P,
                                                        float* y) {
  // Loops unrolled so the sums stay in registers (else GCC keeps them in memory).
  __m256 acc[OB][NV];
  #pragma GCC unroll 4
  for (int i = 0; i < OB; i++) {
    const __m256 b = _mm256_set1_ps(bias ? bias[o0 + i] : 0.0f);
    #pragma GCC unroll 2
    for (int v = 0; v < NV; v++) acc[i][v] = b;
  }
  for (int64_t k = 0; k < K; k++) {
    const float* c = col + k * Pp + p0;
    __m256 cv[NV];
    #pragma GCC unroll 2
    for (int v = 0; v < NV; v++) cv[v] = _mm256_loadu_ps(c + v * 8);
    #pragma GCC unroll 4
    for (int i = 0; i < OB; i++) {
      const __m256 wv = _mm256_broadcast_ss(w + (o0 + i) * K + k);
      #pragma GCC unroll 2
      for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(wv, cv[v], acc[i][v]);
    }
  }
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  #pragma GCC unroll 2
  for (int v = 0; v < NV; v++) {
    const int64_t left = std::min<int64_t>(8, P - p0 - v * 8);
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(left)), lane);
    #pragma GCC unroll 4
    for (int i = 0; i < OB; i++) {
      float* o = y + (o0 + i) * P + p0 + v * 8;
      if (left == 8)
        _mm256_storeu_ps(o, acc[i][v]);  // a masked store is slow on AMD's cores
      else
        _mm256_maskstore_ps(o, m, acc[i][v]);
    }
  }
}

template <int OB>
void forwardRows256(const float* col, int64_t Pp, int64_t K, const float* w, const float* bias, int64_t o0,
                    int64_t P, float* y) {
  for (int64_t p0 = 0; p0 < P; p0 += 16) {
    if (P - p0 > 8)
      forwardTile256<OB, 2>(col, Pp, K, w, bias, o0, p0, P, y);
    else
      forwardTile256<OB, 1>(col, Pp, K, w, bias, o0, p0, P, y);
  }
}

template <int OB>
void forwardRows(const float* col, int64_t Pp, int64_t K, const float* w, const float* bias, int64_t o0, int64_t P,
                 float* y) {
  for (int64_t p0 = 0; p0 < P; p0 += 4 * VEC) {
    switch (std::min<int64_t>(4, (P - p0 + VEC - 1) / VEC)) {
      case 1: forwardTile<OB, 1>(col, Pp, K, w, bias, o0, p0, P, y); break;
      case 2: forwardTile<OB, 2>(col, Pp, K, w, bias, o0, p0, P, y); break;
      case 3: forwardTile<OB, 3>(col, Pp, K, w, bias, o0, p0, P, y); break;
      default: forwardTile<OB, 4>(col, Pp, K, w, bias, o0, p0, P, y); break;
    }
  }
}

std::vector<float>& scratch() {
  static thread_local std::vector<float> b;
  return b;
}

// Multiply-adds below which a call stays on the calling thread (a pool hand-off costs a few us).
constexpr double kParallelMacs = 1 << 19;

double macs(const ConvGeom& g) { return double(g.N) * g.O * g.HO * g.WO * g.C * g.KH * g.KW; }

}  // namespace

bool smallConv(const ConvGeom& g) {
  // Narrow outputs only: on wider ones (ResNet's first layer, 32 x 32) conv.cc's kernels, which
  // never unfold the image, are about twice as fast. With AVX2 (no AVX-512) the 8-lane tiles take
  // the same shapes.
  const int64_t K = g.C * g.KH * g.KW;
  return (isaAvx512() || isaAvx2()) && g.groups == 1 && K <= 64 && g.sw == 1 && g.WO <= 8 && g.N > 0 &&
         g.O > 0 && g.HO > 0 && g.WO > 0;
}

void smallConvForward(const float* x, const float* w, const float* bias, float* y, const ConvGeom& g) {
  const int64_t K = g.C * g.KH * g.KW, P = g.HO * g.WO, Pp = roundUp(P, VEC);
  auto image = [&](int64_t n) {
    std::vector<float>& buf = scratch();
    if (static_cast<int64_t>(buf.size()) < K * Pp) buf.resize(static_cast<size_t>(K * Pp));
    unfold(x + n * g.C * g.H * g.W, g, Pp, buf.data());
    float* yn = y + n * g.O * P;
    int64_t o0 = 0;
    if (isaAvx512()) {
      for (; o0 + 4 <= g.O; o0 += 4) forwardRows<4>(buf.data(), Pp, K, w, bias, o0, P, yn);
      for (; o0 < g.O; o0++) forwardRows<1>(buf.data(), Pp, K, w, bias, o0, P, yn);
    } else {
      for (; o0 + 4 <= g.O; o0 += 4) forwardRows256<4>(buf.data(), Pp, K, w, bias, o0, P, yn);
      for (; o0 < g.O; o0++) forwardRows256<1>(buf.data(), Pp, K, w, bias, o0, P, yn);
    }
  };
  if (g.N == 1 || pool().size() == 1 || macs(g) < kParallelMacs)
    for (int64_t n = 0; n < g.N; n++) image(n);
  else
    pool().run(g.N, image);
}

}  // namespace ms
