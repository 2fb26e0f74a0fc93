// GEMM after Goto and van de Geijn, "Anatomy of High-Performance Matrix Multiplication" (TOMS 2008),
// in the BLIS arrangement (Van Zee and van de Geijn, TOMS 2015): B is packed into KC x NR panels
// that stay in L1, A into MR x KC panels of a block that stays in L2, and a register-blocked
// micro-kernel computes one MR x NR tile of C with a rank-1 update per k.
#include "gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#include "pool.h"
#include "transpose.h"

namespace ms {

namespace {

// Block sizes for a 48 KB L1 and 2 MB L2 per core (measured best of a few on this machine).
constexpr int64_t KC = 256;   // depth of one packed block
constexpr int64_t MC = 144;   // rows of A per task: MC x KC floats (144 KB) stay in L2
constexpr int64_t NC = 3072;  // columns of B packed at once (3 MB, shared by all threads via L3)
constexpr int64_t NB = 384;   // columns per task inside a packed block
constexpr int64_t kMinTasks = 4;  // fewest tasks per packed block (while columns allow)

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
    if constexpr (std::is_same<T, float>::value) {
      if (csa == 1 && isaAvx512()) {  // rows along k: transposed 16 k at a time, padding rows zeroed
        for (int64_t k = 0; k < kc; k += 16)
          transposeBlock16(A + (i0 + ip) * rsa + k0 + k, rsa, static_cast<int>(mr),
                           static_cast<int>(std::min<int64_t>(16, kc - k)), o + k * MR, MR, static_cast<int>(MR));
        continue;
      }
      if (csa == 1 && isaAvx2()) {  // the same 8 k at a time (MR is 6)
        for (int64_t k = 0; k < kc; k += 8)
          transposeBlock8(A + (i0 + ip) * rsa + k0 + k, rsa, static_cast<int>(mr),
                          static_cast<int>(std::min<int64_t>(8, kc - k)), o + k * MR, MR, static_cast<int>(MR));
        continue;
      }
    }
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
    if constexpr (std::is_same<T, float>::value) {
      if (rsb == 1 && csb != 1 && isaAvx512() && NR % 16 == 0) {
        // Columns along k (x w^T, as nn.Linear multiplies): 16 x 16 blocks transposed in
        // registers, the missing columns of a last panel as zeros. A scalar loop here cost about
        // as much as the products when M is 100 (Dropout's MLP: 0.8M elements packed for 80M
        // multiply-adds).
        for (int64_t j = 0; j < NR; j += 16) {
          const int rows = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(16, nr - j)));
          const T* src = rows > 0 ? B + k0 + (j0 + jp + j) * csb : B;
          for (int64_t k = 0; k < kc; k += 16)
            transposeBlock16(src + k, csb, rows, static_cast<int>(std::min<int64_t>(16, kc - k)), o + k * NR + j,
                             NR, 16);
        }
        continue;
      }
      if (rsb == 1 && csb != 1 && isaAvx2() && NR % 8 == 0) {  // the same in 8 x 8 blocks
        for (int64_t j = 0; j < NR; j += 8) {
          const int rows = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(8, nr - j)));
          const T* src = rows > 0 ? B + k0 + (j0 + jp + j) * csb : B;
          for (int64_t k = 0; k < kc; k += 8)
            transposeBlock8(src + k, csb, rows, static_cast<int>(std::min<int64_t>(8, kc - k)), o + k * NR + j, NR, 8);
        }
        continue;
      }
    }
    if (csb == 1) {
      // Whole panels as copies of a size known here (16 or 32 floats: inlined moves); the loop
      // below became a call to memmove per row of 64 bytes.
      if (nr == NR && (NR == 16 || NR == 32)) {
        const T* src = B + k0 * rsb + j0 + jp;
        if (NR == 16)
          for (int64_t k = 0; k < kc; k++) std::memcpy(o + k * 16, src + k * rsb, 16 * sizeof(T));
        else
          for (int64_t k = 0; k < kc; k++) std::memcpy(o + k * 32, src + k * rsb, 32 * sizeof(T));
        continue;
      }
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

bool isaAvx512() {
  static const bool yes = std::strcmp(gemmIsa(), "avx512") == 0;
  return yes;
}

bool isaAvx2() {
  static const bool yes = std::strcmp(gemmIsa(), "avx2") == 0;
  return yes;
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
    // Columns per task: NB, or fewer when that leaves under kMinTasks tasks, so that two or
    // more threads share a mid-sized product evenly. Tasks only divide the output; every
    // element's arithmetic is the same for any split.
    int64_t nb = NB;
    if (mBlocks * ((nc + nb - 1) / nb) < kMinTasks) {
      const int64_t want = (kMinTasks + mBlocks - 1) / mBlocks;
      nb = std::max(2 * p.nr, ((nc + want - 1) / want + p.nr - 1) / p.nr * p.nr);
    }
    const int64_t nBlocks = (nc + nb - 1) / nb;
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
        const int64_t i0 = ib * MC, j0 = jb * nb;
        macroKernel(p, kc, pa + i0 * kc, pb + j0 * kc, std::min(MC, M - i0), std::min(nb, nc - j0),
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

// ---- Direct products: small shapes, read in place on the calling thread ----
//
// Packing pays for itself only when each packed element is reused many times. Below a few million
// multiply-adds (one state through nn.Linear, a DQN or LSTM batch, attention heads) it costs more
// than the product, so these shapes read the operands where they are, in one of these forms:
//
//   rows: out(r, c) = sum_k X(r, k) Y(k, c), with Y contiguous along c: a tile of rows broadcasts
//         X and multiplies whole vectors of Y (C = A B reads B's rows; C = A^T B too). "cols" is
//         the same form on C^T (vectors along C's rows), for A stored transposed.
//   dot:  out(i, j) = sum_k X(i, k) Y(j, k), both contiguous along k: x @ w^T with w [out, in], as
//         nn.Linear computes it; each output is the dot product of two contiguous rows. Its
//         vectors run along k, so each output ends with a sum across lanes; when K is short next
//         to M (attention's q k^T) that sum costs more than the products, and "rowsBt" instead
//         copies B^T out once (K x N, small next to the M x N x K work) and takes the rows form.
//
// Every output element is summed in an order fixed by K alone (rows: one chain over k; dot: 16
// lanes over k mod 16, then the lanes in a fixed tree), so how the tiles are dealt to threads
// never changes a bit. Which form (and packed or direct) a product takes depends only on its shape
// and layout.

enum class Form { packed, rows, cols, dot, rowsBt };

// A product is direct up to this many multiply-adds, or when it is a matrix-vector product.
// Measured (one thread, CPU time): with AVX-512 the direct float32 kernels beat or match the
// packed ones up to about 4M; otherwise (AVX2 tiles, or the plain loops for double) only on tiny
// products, except AVX2's dot form (chooseForm).
constexpr int64_t kDirectWork = int64_t(1) << 22;
constexpr int64_t kDirectWorkPortable = int64_t(1) << 15;
// Direct products above this many multiply-adds are split over the pool (by output tiles).
constexpr int64_t kDirectParallelWork = int64_t(1) << 17;

template <class T>
bool fast512() {
  static const bool yes = std::is_same<T, float>::value && isaAvx512();
  return yes;
}

// float32 on a CPU with AVX2 and FMA but not AVX-512: the 8-lane tiles below.
template <class T>
bool fast256() {
  static const bool yes = std::is_same<T, float>::value && isaAvx2();
  return yes;
}

template <class T>
Form chooseForm(int64_t M, int64_t N, int64_t K, int64_t rsa, int64_t csa, int64_t rsb, int64_t csb) {
  const int64_t work = M * N * K;
  const bool small = work <= (fast512<T>() ? kDirectWork : kDirectWorkPortable) || M == 1 || N == 1;
  const bool dot = csa == 1 && rsb == 1;
  // With AVX2 only, the dot form also takes mid-sized x w^T (the DQN's batch-32 forward through
  // F.linear: 45-65 GFLOP/s against the packed kernel's 31-34 on one thread, AMD EPYC); the 8-lane
  // rows tile measured no faster than packing there (0.8-1.05x), so other mid-sized shapes stay
  // packed.
  const bool midDot = fast256<T>() && dot && csb != 1 && K >= 4 * M && work <= kDirectWork;
  if (!small && !midDot) return Form::packed;
  if (csb == 1 && (N >= 16 || !dot)) return Form::rows;
  if (dot) return K >= 4 * M ? Form::dot : Form::rowsBt;
  if (rsa == 1) return Form::cols;
  return Form::packed;
}

// The arguments of one direct product in the rows form (see above). Output element (r, c) lives
// at o[r * rso + c * cso].
template <class T>
struct RowsJob {
  int64_t R, C, K;
  const T* x;
  int64_t rsx, csx;
  const T* y;
  int64_t rsy;
  T* o;
  int64_t rso, cso;
  bool acc;
};

// Same for the dot form: out(i, j) = sum_k x[i * rsx + k] y[j * rsy + k], at o[i * rso + j].
template <class T>
struct DotJob {
  int64_t R, C, K;
  const T* x;
  int64_t rsx;
  const T* y;
  int64_t rsy;
  T* o;
  int64_t rso;
  bool acc;
};

inline void put(float* o, float s, bool acc) { *o = acc ? *o + s : s; }
inline void put(double* o, double s, bool acc) { *o = acc ? *o + s : s; }

// -- AVX-512 float tiles --

// Rows [r0, r0 + MR) x columns [c0, c0 + 16 * NV), the last vector masked to `last` lanes.
// y points at Y(0, c0), its rows rsy apart.
template <int MR, int NV>
__attribute__((target("avx512f"))) void rowsTile512(const RowsJob<float>& j, const float* y, int64_t rsy, int64_t r0,
                                                     int64_t c0, int last) {
  __m512 t[MR][NV];
  #pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) t[i][v] = _mm512_setzero_ps();
  const __mmask16 m = static_cast<__mmask16>((1u << last) - 1);
  const float* xr[MR];
  #pragma GCC unroll 8
  for (int i = 0; i < MR; i++) xr[i] = j.x + (r0 + i) * j.rsx;
  const int64_t K = j.K, csx = j.csx;
  for (int64_t k = 0; k < K; k++) {
    __m512 b[NV];
    #pragma GCC unroll 8
    for (int v = 0; v < NV - 1; v++) b[v] = _mm512_loadu_ps(y + 16 * v);
    b[NV - 1] = _mm512_maskz_loadu_ps(m, y + 16 * (NV - 1));
    #pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const __m512 a = _mm512_set1_ps(xr[i][k * csx]);
      #pragma GCC unroll 8
      for (int v = 0; v < NV; v++) t[i][v] = _mm512_fmadd_ps(a, b[v], t[i][v]);
    }
    y += rsy;
  }
  #pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
    float* o = j.o + (r0 + i) * j.rso;
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) {
      const __mmask16 mv = v == NV - 1 ? m : static_cast<__mmask16>(0xffff);
      const int64_t c = c0 + 16 * v;
      if (j.cso == 1) {
        __m512 r = t[i][v];
        if (j.acc) r = _mm512_add_ps(_mm512_maskz_loadu_ps(mv, o + c), r);
        _mm512_mask_storeu_ps(o + c, mv, r);
      } else {
        alignas(64) float s[16];
        _mm512_store_ps(s, t[i][v]);
        const int n = v == NV - 1 ? last : 16;
        for (int l = 0; l < n; l++) put(o + (c + l) * j.cso, s[l], j.acc);
      }
    }
  }
}

// The sum of 16 lanes in a fixed tree (halves, quarters, pairs, neighbours). The masked forms of
// the shuffles with a full mask: GCC 12's unmasked ones warn about an undefined source.
__attribute__((target("avx512f"))) inline float sum16(__m512 v) {
  v = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, 0xffff, v, v, 0x4e));
  v = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, 0xffff, v, v, 0xb1));
  v = _mm512_add_ps(v, _mm512_mask_permute_ps(v, 0xffff, v, 0x4e));
  v = _mm512_add_ps(v, _mm512_mask_permute_ps(v, 0xffff, v, 0xb1));
  return _mm512_cvtss_f32(v);
}

// Rows [r0, r0 + MR) x columns [c0, c0 + NR) of the dot form; the k tail is a masked load.
template <int MR, int NR>
__attribute__((target("avx512f"))) void dotTile512(const DotJob<float>& j, int64_t r0, int64_t c0) {
  __m512 t[MR][NR];
  #pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
    #pragma GCC unroll 8
    for (int c = 0; c < NR; c++) t[i][c] = _mm512_setzero_ps();
  const float* xr[MR];
  const float* yr[NR];
  #pragma GCC unroll 8
  for (int i = 0; i < MR; i++) xr[i] = j.x + (r0 + i) * j.rsx;
  #pragma GCC unroll 8
  for (int c = 0; c < NR; c++) yr[c] = j.y + (c0 + c) * j.rsy;
  const int64_t K = j.K;
  for (int64_t k = 0; k < K; k += 16) {
    // Whole vectors, then the tail as a masked load (zeros add nothing).
    const __mmask16 m = K - k >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (K - k)) - 1);
    __m512 b[NR];
    #pragma GCC unroll 8
    for (int c = 0; c < NR; c++) b[c] = _mm512_maskz_loadu_ps(m, yr[c] + k);
    #pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const __m512 a = _mm512_maskz_loadu_ps(m, xr[i] + k);
      #pragma GCC unroll 8
      for (int c = 0; c < NR; c++) t[i][c] = _mm512_fmadd_ps(a, b[c], t[i][c]);
    }
  }
  #pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
    #pragma GCC unroll 8
    for (int c = 0; c < NR; c++) put(j.o + (r0 + i) * j.rso + c0 + c, sum16(t[i][c]), j.acc);
}

// -- AVX2 float tiles: the same forms in 8 lanes, for CPUs without AVX-512 --

// An 8-lane mask with lanes [0, n) set (for maskload and maskstore, which neither read nor write
// the other lanes).
__attribute__((target("avx2"))) inline __m256i mask8(int64_t n) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::min<int64_t>(n, 8))), lane);
}

// Rows [r0, r0 + MR) x columns [c0, c0 + 8 * NV), the last vector masked to `last` lanes; as
// rowsTile512. Taken only by products up to 2^15 multiply-adds (chooseForm), where it beats the
// portable loop compiled for AVX2 (one thread: 16 x 100 x 20 at 9-15 against 5-6 GFLOP/s). 16 registers: MR * NV sums, NV of Y and one of X (6 x 2 at most).
template <int MR, int NV>
__attribute__((target("avx2,fma"))) void rowsTile256(const RowsJob<float>& j, const float* y, int64_t rsy, int64_t r0,
                                                     int64_t c0, int last) {
  __m256 t[MR][NV];
  #pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) t[i][v] = _mm256_setzero_ps();
  const __m256i m = mask8(last);
  const float* xr[MR];
  #pragma GCC unroll 8
  for (int i = 0; i < MR; i++) xr[i] = j.x + (r0 + i) * j.rsx;
  const int64_t K = j.K, csx = j.csx;
  for (int64_t k = 0; k < K; k++) {
    __m256 b[NV];
    #pragma GCC unroll 8
    for (int v = 0; v < NV - 1; v++) b[v] = _mm256_loadu_ps(y + 8 * v);
    b[NV - 1] = last == 8 ? _mm256_loadu_ps(y + 8 * (NV - 1)) : _mm256_maskload_ps(y + 8 * (NV - 1), m);
    #pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const __m256 a = _mm256_broadcast_ss(xr[i] + k * csx);
      #pragma GCC unroll 8
      for (int v = 0; v < NV; v++) t[i][v] = _mm256_fmadd_ps(a, b[v], t[i][v]);
    }
    y += rsy;
  }
  #pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
    float* o = j.o + (r0 + i) * j.rso;
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) {
      const int64_t c = c0 + 8 * v;
      if (j.cso == 1) {
        __m256 r = t[i][v];
        if (v < NV - 1 || last == 8) {  // whole vectors stored plainly: a masked store is slow on AMD's cores
          if (j.acc) r = _mm256_add_ps(_mm256_loadu_ps(o + c), r);
          _mm256_storeu_ps(o + c, r);
        } else {
          if (j.acc) r = _mm256_add_ps(_mm256_maskload_ps(o + c, m), r);
          _mm256_maskstore_ps(o + c, m, r);
        }
      } else {
        alignas(32) float s[8];
        _mm256_store_ps(s, t[i][v]);
        const int n = v == NV - 1 ? last : 8;
        for (int l = 0; l < n; l++) put(o + (c + l) * j.cso, s[l], j.acc);
      }
    }
  }
}

// The sum of 8 lanes in the portable dot loop's tree: ((0 + 4) + (2 + 6)) + ((1 + 5) + (3 + 7)).
__attribute__((target("avx2"))) inline float sum8(__m256 v) {
  const __m128 u = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 w = _mm_add_ps(u, _mm_movehl_ps(u, u));
  return _mm_cvtss_f32(_mm_add_ss(w, _mm_shuffle_ps(w, w, 1)));
}

// Rows [r0, r0 + MR) x columns [c0, c0 + NR) of the dot form, 8 lanes over k mod 8; as dotTile512.
template <int MR, int NR>
__attribute__((target("avx2,fma"))) void dotTile256(const DotJob<float>& j, int64_t r0, int64_t c0) {
  __m256 t[MR][NR];
  #pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
    #pragma GCC unroll 8
    for (int c = 0; c < NR; c++) t[i][c] = _mm256_setzero_ps();
  const float* xr[MR];
  const float* yr[NR];
  #pragma GCC unroll 8
  for (int i = 0; i < MR; i++) xr[i] = j.x + (r0 + i) * j.rsx;
  #pragma GCC unroll 8
  for (int c = 0; c < NR; c++) yr[c] = j.y + (c0 + c) * j.rsy;
  const int64_t K = j.K;
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 b[NR];
    #pragma GCC unroll 8
    for (int c = 0; c < NR; c++) b[c] = _mm256_loadu_ps(yr[c] + k);
    #pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const __m256 a = _mm256_loadu_ps(xr[i] + k);
      #pragma GCC unroll 8
      for (int c = 0; c < NR; c++) t[i][c] = _mm256_fmadd_ps(a, b[c], t[i][c]);
    }
  }
  if (k < K) {  // the tail as masked loads (zeros add nothing)
    const __m256i m = mask8(K - k);
    __m256 b[NR];
    #pragma GCC unroll 8
    for (int c = 0; c < NR; c++) b[c] = _mm256_maskload_ps(yr[c] + k, m);
    #pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const __m256 a = _mm256_maskload_ps(xr[i] + k, m);
      #pragma GCC unroll 8
      for (int c = 0; c < NR; c++) t[i][c] = _mm256_fmadd_ps(a, b[c], t[i][c]);
    }
  }
  #pragma GCC unroll 8
  for (int i = 0; i < MR; i++)
    #pragma GCC unroll 8
    for (int c = 0; c < NR; c++) put(j.o + (r0 + i) * j.rso + c0 + c, sum8(t[i][c]), j.acc);
}

// -- portable tiles (double, and float without AVX2): plain loops the compiler vectorises --
// Each is compiled twice: for the baseline instruction set and, used when the CPU has them, for
// AVX2 and FMA (the choice is fixed per process, like the micro-kernel's).

// One row r, columns [c0, c0 + n), n <= W: one chain over k per element, as in the AVX-512 tile.
// A full strip (n == W) has a fixed width, so its W sums can live in registers.
template <class T, int W>
__attribute__((always_inline)) inline void rowsTileLoop(const RowsJob<T>& j, int64_t r, int64_t c0, int64_t n) {
  T t[W] = {};
  const T* x = j.x + r * j.rsx;
  const T* y = j.y + c0;
  const int64_t K = j.K, csx = j.csx, rsy = j.rsy;
  if (n == W) {
    for (int64_t k = 0; k < K; k++, y += rsy) {
      const T a = x[k * csx];
      for (int c = 0; c < W; c++) t[c] += a * y[c];
    }
  } else {
    for (int64_t k = 0; k < K; k++, y += rsy) {
      const T a = x[k * csx];
      for (int64_t c = 0; c < n; c++) t[c] += a * y[c];
    }
  }
  for (int64_t c = 0; c < n; c++) put(j.o + r * j.rso + (c0 + c) * j.cso, t[c], j.acc);
}

// One output of the dot form: 8 lanes over k mod 8, then the lanes in a fixed tree.
template <class T>
__attribute__((always_inline)) inline void dotOneLoop(const DotJob<T>& j, int64_t i, int64_t c) {
  const T* x = j.x + i * j.rsx;
  const T* y = j.y + c * j.rsy;
  T t[8] = {};
  int64_t k = 0;
  for (; k + 8 <= j.K; k += 8)
    for (int l = 0; l < 8; l++) t[l] += x[k + l] * y[k + l];
  for (int l = 0; k + l < j.K; l++) t[l] += x[k + l] * y[k + l];
  put(j.o + i * j.rso + c, ((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7])), j.acc);
}

// Columns per portable rows strip: 256 bytes, eight AVX2 registers of sums.
template <class T>
constexpr int kStrip = 256 / sizeof(T);

template <class T>
void rowsStripPortable(const RowsJob<T>& j, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  for (int64_t c = c0; c < c1; c += kStrip<T>)
    for (int64_t r = r0; r < r1; r++) rowsTileLoop<T, kStrip<T>>(j, r, c, std::min<int64_t>(kStrip<T>, c1 - c));
}
template <class T>
__attribute__((target("avx2,fma"))) void rowsStripAvx2(const RowsJob<T>& j, int64_t r0, int64_t r1, int64_t c0,
                                                       int64_t c1) {
  for (int64_t c = c0; c < c1; c += kStrip<T>)
    for (int64_t r = r0; r < r1; r++) rowsTileLoop<T, kStrip<T>>(j, r, c, std::min<int64_t>(kStrip<T>, c1 - c));
}
template <class T>
void dotBlockPortable(const DotJob<T>& j, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  for (int64_t r = r0; r < r1; r++)
    for (int64_t c = c0; c < c1; c++) dotOneLoop(j, r, c);
}
template <class T>
__attribute__((target("avx2,fma"))) void dotBlockAvx2(const DotJob<T>& j, int64_t r0, int64_t r1, int64_t c0,
                                                      int64_t c1) {
  for (int64_t r = r0; r < r1; r++)
    for (int64_t c = c0; c < c1; c++) dotOneLoop(j, r, c);
}

// Whether the portable tiles may use AVX2 and FMA.
inline bool avx2Tiles() {
  static const bool yes = std::strcmp(gemmIsa(), "portable") != 0;
  return yes;
}

// -- drivers: tiles grouped into tasks over the output --

constexpr int64_t kRowsMR = 6, kRowsNC = 64;  // AVX-512 rows tile: 6 rows x 4 vectors
constexpr int64_t kTaskRows = 24;             // rows per task (a multiple of the 6-row tiles)

template <int MR>
void rowsStrip512(const RowsJob<float>& j, const float* y, int64_t rsy, int64_t r0, int64_t c0, int64_t nc) {
  // nc <= 64 columns starting at c0.
  const int nv = static_cast<int>((nc + 15) / 16), last = static_cast<int>(nc - 16 * (nv - 1));
  switch (nv) {
    case 1: rowsTile512<MR, 1>(j, y, rsy, r0, c0, last); break;
    case 2: rowsTile512<MR, 2>(j, y, rsy, r0, c0, last); break;
    case 3: rowsTile512<MR, 3>(j, y, rsy, r0, c0, last); break;
    default: rowsTile512<MR, 4>(j, y, rsy, r0, c0, last); break;
  }
}

template <int MR>
void rowsStrip256(const RowsJob<float>& j, const float* y, int64_t rsy, int64_t r0, int64_t c0, int64_t nc) {
  // nc <= 16 columns starting at c0.
  if (nc > 8)
    rowsTile256<MR, 2>(j, y, rsy, r0, c0, static_cast<int>(nc - 8));
  else
    rowsTile256<MR, 1>(j, y, rsy, r0, c0, static_cast<int>(nc));
}

template <class T>
void rowsTask(const RowsJob<T>& j, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  if constexpr (std::is_same<T, float>::value) {
    if (fast256<float>()) {
      for (int64_t c = c0; c < c1; c += 16) {
        const int64_t nc = std::min<int64_t>(16, c1 - c);
        const float* y = j.y + c;
        const int64_t rsy = j.rsy;
        int64_t r = r0;
        for (; r + 6 <= r1; r += 6) rowsStrip256<6>(j, y, rsy, r, c, nc);
        switch (r1 - r) {
          case 1: rowsStrip256<1>(j, y, rsy, r, c, nc); break;
          case 2: rowsStrip256<2>(j, y, rsy, r, c, nc); break;
          case 3: rowsStrip256<3>(j, y, rsy, r, c, nc); break;
          case 4: rowsStrip256<4>(j, y, rsy, r, c, nc); break;
          case 5: rowsStrip256<5>(j, y, rsy, r, c, nc); break;
          default: break;
        }
      }
      return;
    }
    if (fast512<float>()) {
      for (int64_t c = c0; c < c1; c += kRowsNC) {
        const int64_t nc = std::min(kRowsNC, c1 - c);
        const float* y = j.y + c;
        const int64_t rsy = j.rsy;
        int64_t r = r0;
        for (; r + kRowsMR <= r1; r += kRowsMR) rowsStrip512<6>(j, y, rsy, r, c, nc);
        switch (r1 - r) {
          case 1: rowsStrip512<1>(j, y, rsy, r, c, nc); break;
          case 2: rowsStrip512<2>(j, y, rsy, r, c, nc); break;
          case 3: rowsStrip512<3>(j, y, rsy, r, c, nc); break;
          case 4: rowsStrip512<4>(j, y, rsy, r, c, nc); break;
          case 5: rowsStrip512<5>(j, y, rsy, r, c, nc); break;
          default: break;
        }
      }
      return;
    }
  }
  if (avx2Tiles())
    rowsStripAvx2(j, r0, r1, c0, c1);
  else
    rowsStripPortable(j, r0, r1, c0, c1);
}

template <int MR>
void dotRow512(const DotJob<float>& j, int64_t r0, int64_t c0, int64_t c1) {
  // The widest tile whose accumulators and loads fit 32 registers: 6x4 (24 sums, 4 rows of B and
  // one of A; each loaded vector of B serves six rows of A, which keeps B's traffic from L2 below
  // what the FMAs consume), 3x6, 2x8 and 1x8.
  constexpr int NR = MR >= 4 ? 4 : MR == 3 ? 6 : 8;
  int64_t c = c0;
  for (; c + NR <= c1; c += NR) dotTile512<MR, NR>(j, r0, c);
  switch (c1 - c) {
    case 1: dotTile512<MR, 1>(j, r0, c); break;
    case 2: dotTile512<MR, 2>(j, r0, c); break;
    case 3: dotTile512<MR, 3>(j, r0, c); break;
    case 4: dotTile512<MR, 4>(j, r0, c); break;
    case 5: dotTile512<MR, 5>(j, r0, c); break;
    case 6: dotTile512<MR, 6>(j, r0, c); break;
    case 7: dotTile512<MR, 7>(j, r0, c); break;
    default: break;
  }
}

template <int MR>
void dotRow256(const DotJob<float>& j, int64_t r0, int64_t c0, int64_t c1) {
  // 16 registers: 4 x 3 (12 sums, 3 rows of B, one of A), 3 x 3, 2 x 5 and 1 x 7.
  constexpr int NR = MR >= 3 ? 3 : MR == 2 ? 5 : 7;
  int64_t c = c0;
  for (; c + NR <= c1; c += NR) dotTile256<MR, NR>(j, r0, c);
  const int64_t rest = c1 - c;  // under NR: only narrower tiles are instantiated
  if (rest == 1) dotTile256<MR, 1>(j, r0, c);
  if (rest == 2) dotTile256<MR, 2>(j, r0, c);
  if constexpr (NR > 3) {
    if (rest == 3) dotTile256<MR, 3>(j, r0, c);
    if (rest == 4) dotTile256<MR, 4>(j, r0, c);
  }
  if constexpr (NR > 5) {
    if (rest == 5) dotTile256<MR, 5>(j, r0, c);
    if (rest == 6) dotTile256<MR, 6>(j, r0, c);
  }
}

template <class T>
void dotTask(const DotJob<T>& j, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  if constexpr (std::is_same<T, float>::value) {
    if (fast256<float>()) {
      int64_t r = r0;
      for (; r + 4 <= r1; r += 4) dotRow256<4>(j, r, c0, c1);
      switch (r1 - r) {
        case 1: dotRow256<1>(j, r, c0, c1); break;
        case 2: dotRow256<2>(j, r, c0, c1); break;
        case 3: dotRow256<3>(j, r, c0, c1); break;
        default: break;
      }
      return;
    }
    if (fast512<float>()) {
      int64_t r = r0;
      for (; r + 6 <= r1; r += 6) dotRow512<6>(j, r, c0, c1);
      switch (r1 - r) {
        case 1: dotRow512<1>(j, r, c0, c1); break;
        case 2: dotRow512<2>(j, r, c0, c1); break;
        case 3: dotRow512<3>(j, r, c0, c1); break;
        case 4: dotRow512<4>(j, r, c0, c1); break;
        case 5: dotRow512<5>(j, r, c0, c1); break;
        default: break;
      }
      return;
    }
  }
  if (avx2Tiles())
    dotBlockAvx2(j, r0, r1, c0, c1);
  else
    dotBlockPortable(j, r0, r1, c0, c1);
}

// Deals the R x C output to tasks of kTaskRows rows x `cols` columns; in parallel when it is
// worth a hand-off. Tiles, and so every element's arithmetic, do not depend on the dealing.
template <class Task>
void dealTiles(int64_t R, int64_t C, int64_t K, int64_t cols, bool parallel, const Task& task) {
  const int64_t rowTasks = (R + kTaskRows - 1) / kTaskRows, colTasks = (C + cols - 1) / cols;
  auto one = [&](int64_t t) {
    const int64_t r0 = (t / colTasks) * kTaskRows, c0 = (t % colTasks) * cols;
    task(r0, std::min(R, r0 + kTaskRows), c0, std::min(C, c0 + cols));
  };
  const int64_t tasks = rowTasks * colTasks;
  if (parallel && R * C * K >= kDirectParallelWork && tasks > 1) {
    pool().run(tasks, one);
  } else {
    for (int64_t t = 0; t < tasks; t++) one(t);
  }
}

template <class T>
void gemmDirect(Form form, int64_t M, int64_t N, int64_t K, const T* A, int64_t rsa, int64_t csa, const T* B,
                int64_t rsb, int64_t csb, T* C, int64_t ldc, bool accumulate, bool parallel) {
  if (form == Form::dot) {
    const DotJob<T> j{M, N, K, A, rsa, B, csb, C, ldc, accumulate};
    // Columns per task: enough to reuse each row of A from registers, few enough to share out.
    // A matrix-vector product (one row) is split into one column block per thread, so each core
    // reads the same half of the matrix every call and keeps it in its own L2 (MinAtar's 1024 x 128
    // layer, 512 KB: about 6.8 -> 6.1 us on two threads, the action about 4% faster).
    const int64_t threads = pool().size();
    const int64_t cols = M == 1 ? std::max<int64_t>(32, (N + threads - 1) / threads) : 64;
    dealTiles(M, N, K, cols, parallel, [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
      dotTask(j, r0, r1, c0, c1);
    });
    return;
  }
  if (form == Form::rowsBt) {
    // B(k, j) = B[j * csb + k]: copy it out as a K x N row-major matrix, 16 columns at a time so
    // both the reads (16 rows of B) and the writes stay in cache.
    T* bt = scratchB<T>().get(static_cast<size_t>(K * N));
    for (int64_t j0 = 0; j0 < N; j0 += 16) {
      const int64_t nj = std::min<int64_t>(16, N - j0);
      for (int64_t k = 0; k < K; k++)
        for (int64_t jj = 0; jj < nj; jj++) bt[k * N + j0 + jj] = B[(j0 + jj) * csb + k];
    }
    B = bt;
    rsb = N;
    csb = 1;
    form = Form::rows;
  }
  // rows: X = A, Y = B. cols: the same on C^T, X(j, k) = B(k, j), Y(k, i) = A(i, k).
  const RowsJob<T> j = form == Form::rows ? RowsJob<T>{M, N, K, A, rsa, csa, B, rsb, C, ldc, 1, accumulate}
                                          : RowsJob<T>{N, M, K, B, csb, rsb, A, csa, C, 1, ldc, accumulate};
  dealTiles(j.R, j.C, K, 2 * kRowsNC, parallel, [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    rowsTask(j, r0, r1, c0, c1);
  });
}

}  // namespace

template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const T* A, int64_t rsa, int64_t csa, const T* B, int64_t rsb,
          int64_t csb, T* C, int64_t ldc, bool accumulate, bool parallel) {
  if (M > 0 && N > 0 && K > 0) {
    const Form form = chooseForm<T>(M, N, K, rsa, csa, rsb, csb);
    if (form != Form::packed) {
      gemmDirect(form, M, N, K, A, rsa, csa, B, rsb, csb, C, ldc, accumulate, parallel);
      return;
    }
  }
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
