// GEMM after Goto and van de Geijn, "Anatomy of High-Performance Matrix Multiplication" (TOMS 2008),
// in the BLIS arrangement (Van Zee and van de Geijn, TOMS 2015): B is packed into KC x NR panels
// that stay in L1, A into MR x KC panels of a block that stays in L2, and a register-blocked
// micro-kernel computes one MR x NR tile of C with a rank-1 update per k.
#include "gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pool.h"

namespace ms {

namespace {

// Block sizes for a 48 KB L1 and 2 MB L2 per core (measured best of a few on this machine).
constexpr int64_t KC = 256;   // depth of one packed block
constexpr int64_t MC = 144;   // rows of A per task: MC x KC floats (144 KB) stay in L2
constexpr int64_t NC = 3072;  // columns of B packed at once (3 MB, shared by all threads via L3)
constexpr int64_t NB = 384;   // columns per task inside a packed block

// A buffer aligned for vector loads that keeps its memory between calls (one per thread).
template <class T>
struct Scratch {
  T* p = nullptr;
  size_t n = 0;
  T* get(size_t want) {
    if (want > n) {
      std::free(p);
      p = static_cast<T*>(std::aligned_alloc(64, ((want * sizeof(T) + 63) / 64) * 64));
      n = want;
    }
    return p;
  }
  ~Scratch() { std::free(p); }
};

template <class T>
using MicroKernel = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool acc);

// ---- portable micro-kernel: plain loops the compiler may vectorise for any target ----
template <class T, int MR, int NR>
void kernelPortable(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool acc) {
  T t[MR][NR] = {};
  for (int64_t k = 0; k < kc; k++) {
    for (int i = 0; i < MR; i++) {
      const T av = a[i];
      for (int j = 0; j < NR; j++) t[i][j] += av * b[j];
    }
    a += MR;
    b += NR;
  }
  for (int i = 0; i < MR; i++) {
    T* ci = c + i * ldc;
    if (acc)
      for (int j = 0; j < NR; j++) ci[j] += t[i][j];
    else
      for (int j = 0; j < NR; j++) ci[j] = t[i][j];
  }
}

// ---- AVX2 + FMA: 6 x 16 tile, 12 ymm accumulators ----
__attribute__((target("avx2,fma"))) void kernelAvx2(int64_t kc, const float* a, const float* b, float* c,
                                                     int64_t ldc, bool acc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int64_t k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    __m256 ar;
    ar = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(ar, b0, c00); c01 = _mm256_fmadd_ps(ar, b1, c01);
    ar = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(ar, b0, c10); c11 = _mm256_fmadd_ps(ar, b1, c11);
    ar = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(ar, b0, c20); c21 = _mm256_fmadd_ps(ar, b1, c21);
    ar = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(ar, b0, c30); c31 = _mm256_fmadd_ps(ar, b1, c31);
    ar = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(ar, b0, c40); c41 = _mm256_fmadd_ps(ar, b1, c41);
    ar = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(ar, b0, c50); c51 = _mm256_fmadd_ps(ar, b1, c51);
    a += 6;
    b += 16;
  }
  const __m256 rows[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int i = 0; i < 6; i++) {
    float* ci = c + i * ldc;
    __m256 r0 = rows[i][0], r1 = rows[i][1];
    if (acc) {
      r0 = _mm256_add_ps(_mm256_loadu_ps(ci), r0);
      r1 = _mm256_add_ps(_mm256_loadu_ps(ci + 8), r1);
    }
    _mm256_storeu_ps(ci, r0);
    _mm256_storeu_ps(ci + 8, r1);
  }
}

// ---- AVX-512F: MR x 32 tiles (MR = 12 or 8), 2 * MR zmm accumulators ----
template <int MR>
__attribute__((target("avx512f"))) void kernelAvx512(int64_t kc, const float* a, const float* b, float* c,
                                                      int64_t ldc, bool acc) {
  __m512 t[MR][2];
  for (int i = 0; i < MR; i++) t[i][0] = t[i][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
      const __m512 ar = _mm512_set1_ps(a[i]);
      t[i][0] = _mm512_fmadd_ps(ar, b0, t[i][0]);
      t[i][1] = _mm512_fmadd_ps(ar, b1, t[i][1]);
    }
    a += MR;
    b += 32;
  }
  for (int i = 0; i < MR; i++) {
    float* ci = c + i * ldc;
    __m512 r0 = t[i][0], r1 = t[i][1];
    if (acc) {
      r0 = _mm512_add_ps(_mm512_loadu_ps(ci), r0);
      r1 = _mm512_add_ps(_mm512_loadu_ps(ci + 16), r1);
    }
    _mm512_storeu_ps(ci, r0);
    _mm512_storeu_ps(ci + 16, r1);
  }
}

template <class T>
struct Plan {
  MicroKernel<T> kernel;
  int64_t mr, nr;
};

const char* chooseIsa() {
  const char* want = std::getenv("MILESTONES_CPU_ISA");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (want && std::strcmp(want, "portable") == 0) return "portable";
  if (want && std::strcmp(want, "avx2") == 0) return avx2 ? "avx2" : "portable";
  if (avx512) return "avx512";
  return avx2 ? "avx2" : "portable";
}

// The micro-kernel for an M-row product. With AVX-512 the 12-row tile reuses each B load most, but
// an 8-row tile wastes no rows when M is a multiple of 8 (16, 32 or 64 conv channels): the shape
// with fewer padded rows wins, counting the 8-row tile's ~8% lower peak. Depends on M alone, so
// results never depend on the thread count.
template <class T>
Plan<T> plan(int64_t M);

template <>
Plan<float> plan<float>(int64_t M) {
  static const char* isa = gemmIsa();
  if (std::strcmp(isa, "avx512") == 0) {
    const double rows12 = static_cast<double>((M + 11) / 12 * 12);
    const double rows8 = static_cast<double>((M + 7) / 8 * 8) * 1.08;
    if (rows8 < rows12) return {kernelAvx512<8>, 8, 32};
    return {kernelAvx512<12>, 12, 32};
  }
  if (std::strcmp(isa, "avx2") == 0) return {kernelAvx2, 6, 16};
  return {kernelPortable<float, 4, 8>, 4, 8};
}

template <>
Plan<double> plan<double>(int64_t) {
  return {kernelPortable<double, 4, 8>, 4, 8};
}

// Packs rows [i0, i0 + mc) x depth [k0, k0 + kc) of A into MR-row panels, zero-padding the last.
template <class T>
void packA(const T* A, int64_t rsa, int64_t csa, int64_t i0, int64_t mc, int64_t k0, int64_t kc, int64_t MR,
           T* out) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int64_t mr = std::min(MR, mc - ip);
    T* o = out + ip * kc;
    if (csa == 1) {
      for (int64_t r = 0; r < mr; r++) {
        const T* src = A + (i0 + ip + r) * rsa + k0;
        for (int64_t k = 0; k < kc; k++) o[k * MR + r] = src[k];
      }
    } else {
      for (int64_t k = 0; k < kc; k++) {
        const T* src = A + (i0 + ip) * rsa + (k0 + k) * csa;
        for (int64_t r = 0; r < mr; r++) o[k * MR + r] = src[r * rsa];
      }
    }
    for (int64_t r = mr; r < MR; r++)
      for (int64_t k = 0; k < kc; k++) o[k * MR + r] = T(0);
  }
}

// Packs depth [k0, k0 + kc) x columns [j0, j0 + nc) of B into NR-column panels.
template <class T>
void packB(const T* B, int64_t rsb, int64_t csb, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t NR,
           T* out) {
  for (int64_t jp = 0; jp < nc; jp += NR) {
    const int64_t nr = std::min(NR, nc - jp);
    T* o = out + jp * kc;
    if (csb == 1) {
      for (int64_t k = 0; k < kc; k++) {
        const T* src = B + (k0 + k) * rsb + j0 + jp;
        T* dst = o + k * NR;
        int64_t j = 0;
        for (; j < nr; j++) dst[j] = src[j];
        for (; j < NR; j++) dst[j] = T(0);
      }
    } else {
      for (int64_t j = 0; j < nr; j++) {
        const T* src = B + (k0) * rsb + (j0 + jp + j) * csb;
        for (int64_t k = 0; k < kc; k++) o[k * NR + j] = src[k * rsb];
      }
      for (int64_t j = nr; j < NR; j++)
        for (int64_t k = 0; k < kc; k++) o[k * NR + j] = T(0);
    }
  }
}

// One MC x NB block of C from packed A rows [ip0, ip0 + mc) and packed B columns [jp0, jp0 + nb).
template <class T>
void macroKernel(const Plan<T>& p, int64_t kc, const T* pa, const T* pb, int64_t mc, int64_t nb, T* C,
                 int64_t ldc, bool acc) {
  alignas(64) T edge[12 * 32];
  for (int64_t jp = 0; jp < nb; jp += p.nr) {
    const int64_t nr = std::min(p.nr, nb - jp);
    const T* b = pb + jp * kc;
    for (int64_t ip = 0; ip < mc; ip += p.mr) {
      const int64_t mr = std::min(p.mr, mc - ip);
      const T* a = pa + ip * kc;
      T* c = C + ip * ldc + jp;
      if (mr == p.mr && nr == p.nr) {
        p.kernel(kc, a, b, c, ldc, acc);
      } else {
        p.kernel(kc, a, b, edge, p.nr, false);
        for (int64_t i = 0; i < mr; i++)
          for (int64_t j = 0; j < nr; j++) c[i * ldc + j] = (acc ? c[i * ldc + j] : T(0)) + edge[i * p.nr + j];
      }
    }
  }
}

template <class T>
Scratch<T>& scratchA() {
  static thread_local Scratch<T> s;
  return s;
}
template <class T>
Scratch<T>& scratchB() {
  static thread_local Scratch<T> s;
  return s;
}

}  // namespace

const char* gemmIsa() {
  static const char* isa = chooseIsa();
  return isa;
}

namespace {

template <class T, class PackPanel>
void gemmImpl(int64_t M, int64_t N, int64_t K, const T* A, int64_t rsa, int64_t csa, const PackPanel& panelB,
              T* C, int64_t ldc, bool accumulate, bool parallel) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; i++) std::fill(C + i * ldc, C + i * ldc + N, T(0));
    return;
  }
  const Plan<T> p = plan<T>(M);
  const int64_t mPad = (M + p.mr - 1) / p.mr * p.mr;
  const int64_t mBlocks = (M + MC - 1) / MC;
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    const int64_t ncPad = (nc + p.nr - 1) / p.nr * p.nr;
    const int64_t nBlocks = (nc + NB - 1) / NB;
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const bool acc = accumulate || pc > 0;
      // The packed operands are shared by the tasks of this step; the caller's scratch holds them.
      T* pa = scratchA<T>().get(mPad * kc);
      T* pb = scratchB<T>().get(ncPad * kc);
      const int64_t aPanels = mPad / p.mr, bPanels = ncPad / p.nr;
      auto pack = [&](int64_t t) {
        if (t < aPanels) {
          const int64_t i = t * p.mr;
          packA(A, rsa, csa, i, std::min(p.mr, M - i), pc, kc, p.mr, pa + i * kc);
        } else {
          const int64_t j = (t - aPanels) * p.nr;
          panelB(pc, kc, jc + j, std::min(p.nr, nc - j), p.nr, pb + j * kc);
        }
      };
      auto compute = [&](int64_t t) {
        const int64_t ib = t / nBlocks, jb = t % nBlocks;
        const int64_t i0 = ib * MC, j0 = jb * NB;
        macroKernel(p, kc, pa + i0 * kc, pb + j0 * kc, std::min(MC, M - i0), std::min(NB, nc - j0),
                    C + i0 * ldc + jc + j0, ldc, acc);
      };
      const int64_t work = M * nc * kc;
      if (parallel && work >= (int64_t(1) << 15)) {
        pool().run(aPanels + bPanels, pack);
        pool().run(mBlocks * nBlocks, compute);
      } else {
        for (int64_t t = 0; t < aPanels + bPanels; t++) pack(t);
        for (int64_t t = 0; t < mBlocks * nBlocks; t++) compute(t);
      }
    }
  }
}

}  // namespace

template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const T* A, int64_t rsa, int64_t csa, const T* B, int64_t rsb,
          int64_t csb, T* C, int64_t ldc, bool accumulate, bool parallel) {
  auto panel = [&](int64_t k0, int64_t kc, int64_t j0, int64_t nr, int64_t NR, T* out) {
    packB(B, rsb, csb, k0, kc, j0, nr, NR, out);
  };
  gemmImpl(M, N, K, A, rsa, csa, panel, C, ldc, accumulate, parallel);
}

template <class T>
void gemmPanelB(int64_t M, int64_t N, int64_t K, const T* A, int64_t rsa, int64_t csa, const PanelB<T>& panelB,
                T* C, int64_t ldc, bool accumulate, bool parallel) {
  gemmImpl(M, N, K, A, rsa, csa, panelB, C, ldc, accumulate, parallel);
}

template void gemmPanelB<float>(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, const PanelB<float>&,
                                float*, int64_t, bool, bool);
template void gemmPanelB<double>(int64_t, int64_t, int64_t, const double*, int64_t, int64_t, const PanelB<double>&,
                                 double*, int64_t, bool, bool);
template void gemm<float>(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t,
                          int64_t, float*, int64_t, bool, bool);
template void gemm<double>(int64_t, int64_t, int64_t, const double*, int64_t, int64_t, const double*, int64_t,
                           int64_t, double*, int64_t, bool, bool);

}  // namespace ms
