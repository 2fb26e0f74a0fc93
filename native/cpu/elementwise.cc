// Elementwise kernels: unary maps, broadcasting binary maps, where, and strided copies (the
// movement primitives permute, expand, slice, flip and sliceScatter are all one strided copy).
// Float32 arithmetic is done in float32, which for + - * / gives exactly the double-then-round
// result of the reference; everything else is computed in double, as the reference does.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <immintrin.h>
#include <type_traits>

#include "kernels.h"
#include "pool.h"
#include "vmath.h"

namespace ms {

namespace {

constexpr int64_t GRAIN = 1 << 15;

#define MS_ELEMENTWISE_INLINE inline __attribute__((always_inline))  // elements per task: large enough to hide the hand-off

double sigmoidD(double x) {
  if (x >= 0) return 1 / (1 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1 + e);
}

template <class T, class U, class F>
void mapUnary(const void* xv, void* ov, int64_t n, F f) {
  const T* __restrict x = static_cast<const T*>(xv);
  U* __restrict o = static_cast<U*>(ov);
  parallelFor(n, GRAIN, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) o[i] = f(x[i]);
  });
}

// Float ops on any storage type, computed in double and stored with typed-array semantics.
template <class T, class U, class F>
void mapUnaryD(const void* x, void* o, int64_t n, F f) {
  mapUnary<T, U>(x, o, n, [f](T v) { return storeAs<U>(f(static_cast<double>(v))); });
}

template <class T>
void unaryTyped(int op, const void* x, DT outDt, void* o, int64_t n, const double* p) {
  if constexpr (std::is_same<T, float>::value) {
    // exp, tanh, sigmoid, geluTanh, silu: the vectorised forms of vmath.cc (same values as below to
    // within one float32 rounding step, 10-40x faster than a libm call per element)
    if (vectorUnaryF32(op, static_cast<const float*>(x), static_cast<float*>(o), n)) return;
  }
  const double SQRT_2_OVER_PI = std::sqrt(2.0 / M_PI);
  switch (op) {
    case 0: return mapUnaryD<T, T>(x, o, n, [](double v) { return -v; });
    case 1: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::fabs(v); });
    case 2: return mapUnaryD<T, T>(x, o, n, [](double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0; });  // NaN -> 0, as PyTorch
    case 3: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::exp(v); });
    case 4: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::log(v); });
    case 5: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::log1p(v); });
    case 6: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::sqrt(v); });
    case 7: return mapUnaryD<T, T>(x, o, n, [](double v) { return 1 / std::sqrt(v); });
    case 8: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::sin(v); });
    case 9: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::cos(v); });
    case 10: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::tanh(v); });
    case 11: return mapUnaryD<T, T>(x, o, n, [](double v) { return sigmoidD(v); });
    case 12: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::erf(v); });
    case 13: return mapUnaryD<T, T>(x, o, n, [](double v) { return v > 0 ? v : v == v ? 0.0 : v; });
    case 14: return mapUnaryD<T, T>(x, o, n, [](double v) { return 0.5 * v * (1 + std::erf(v / M_SQRT2)); });
    case 15:
      return mapUnaryD<T, T>(x, o, n, [SQRT_2_OVER_PI](double v) {
        return 0.5 * v * (1 + std::tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
      });
    case 16: return mapUnaryD<T, T>(x, o, n, [](double v) { return v * sigmoidD(v); });
    case 17: {
      const double slope = p[0];
      return mapUnaryD<T, T>(x, o, n, [slope](double v) { return v > 0 ? v : slope * v; });
    }
    case 18: {
      const double alpha = p[0];
      return mapUnaryD<T, T>(x, o, n, [alpha](double v) { return v > 0 ? v : alpha * std::expm1(v); });
    }
    case 19: {
      const double beta = p[0], threshold = p[1];
      return mapUnaryD<T, T>(x, o, n, [beta, threshold](double v) {
        return v * beta > threshold ? v : std::log1p(std::exp(beta * v)) / beta;
      });
    }
    case 20: {
      const double lo = p[0], hi = p[1];
      const bool hasLo = (static_cast<int>(p[2]) & 1) != 0, hasHi = (static_cast<int>(p[2]) & 2) != 0;
      return mapUnaryD<T, T>(x, o, n, [=](double v) {
        if (v != v) return v;
        double y = v;
        if (hasLo && y < lo) y = lo;
        if (hasHi && y > hi) y = hi;
        return y;
      });
    }
    case 21: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::floor(v); });
    case 25: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::ceil(v); });
    case 26: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::trunc(v); });
    case 27: return mapUnaryD<T, T>(x, o, n, [](double v) { return std::nearbyint(v); });  // ties to even (default mode)
    case 24: {
      // smoothL1 (beta > 0), in double as the reference
      const double beta = p[0];
      return mapUnaryD<T, T>(x, o, n, [beta](double v) {
        const double z = std::fabs(v);
        return z < beta ? 0.5 * z * z / beta : z - 0.5 * beta;
      });
    }
    case 22: return mapUnary<T, uint8_t>(x, o, n, [](T v) { return static_cast<uint8_t>(v == 0 ? 1 : 0); });
    case 23:
      // cast: from any dtype to any dtype (bool: != 0, int32: truncation as ToInt32).
      switch (outDt) {
        case DT::f32: return mapUnary<T, float>(x, o, n, [](T v) { return static_cast<float>(v); });
        case DT::f64: return mapUnary<T, double>(x, o, n, [](T v) { return static_cast<double>(v); });
        case DT::i32: return mapUnaryD<T, int32_t>(x, o, n, [](double v) { return v; });
        case DT::u8: return mapUnary<T, uint8_t>(x, o, n, [](T v) { return static_cast<uint8_t>(v != 0 ? 1 : 0); });
      }
  }
}

// Merges adjacent dimensions that every operand walks contiguously, so the inner loop is long.
void coalesce(std::vector<int64_t>& shape, std::vector<std::vector<int64_t>*> strides) {
  std::vector<int64_t> s;
  std::vector<std::vector<int64_t>> st(strides.size());
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] == 1) continue;  // a size-1 dimension never moves any operand
    bool merge = !s.empty();
    for (size_t k = 0; merge && k < strides.size(); k++)
      merge = st[k].back() == (*strides[k])[d] * shape[d];
    if (merge) {
      s.back() *= shape[d];
      for (size_t k = 0; k < strides.size(); k++) st[k].back() = (*strides[k])[d];
    } else {
      s.push_back(shape[d]);
      for (size_t k = 0; k < strides.size(); k++) st[k].push_back((*strides[k])[d]);
    }
  }
  if (s.empty()) {
    s.push_back(1);
    for (auto& v : st) v.push_back(0);
  }
  shape = s;
  for (size_t k = 0; k < strides.size(); k++) *strides[k] = st[k];
}

// Walks a coalesced iteration row by row: calls f(outIndex, offsets..., length) per run of the
// innermost dimension. Work is cut into tasks of about GRAIN elements: long rows (a contiguous
// tensor coalesces into a single row) are split into pieces, short rows are grouped. Inside a
// task the row offsets advance like an odometer, so there is no division per row. A call with at
// most GRAIN elements runs inline on the calling thread. Every element is computed on its own, so
// the split never changes a result.
template <int NOPS, class F>
void forRows(const std::vector<int64_t>& shape, const std::vector<int64_t>* strides[NOPS], F f) {
  const int rank = static_cast<int>(shape.size());
  const int64_t L = shape[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= shape[d];
  if (rows == 0 || L == 0) return;
  const int64_t piece = std::min(L, GRAIN);
  const int64_t pieces = (L + piece - 1) / piece;  // per row
  const int64_t grain = pieces > 1 ? 1 : std::max<int64_t>(1, GRAIN / L);
  int64_t last[NOPS];
  for (int k = 0; k < NOPS; k++) last[k] = (*strides[k])[rank - 1];
  parallelFor(rows * pieces, grain, [&](int64_t b, int64_t e) {
    int64_t r = b / pieces, c = b % pieces;
    int64_t fixed[16] = {};  // the row's coordinates (rank is small after coalescing)
    std::vector<int64_t> spill(rank > 17 ? rank - 1 : 0, 0);
    int64_t* idx = rank > 17 ? spill.data() : fixed;
    int64_t off[NOPS] = {};
    for (int64_t d = rank - 2, rem = r; d >= 0; d--) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
      for (int k = 0; k < NOPS; k++) off[k] += idx[d] * (*strides[k])[d];
    }
    for (int64_t u = b; u < e; u++) {
      const int64_t c0 = c * piece;
      int64_t at[NOPS];
      for (int k = 0; k < NOPS; k++) at[k] = off[k] + c0 * last[k];
      f(r * L + c0, static_cast<const int64_t*>(at), std::min(piece, L - c0));
      if (++c < pieces) continue;
      c = 0;
      r++;
      for (int d = rank - 2; d >= 0; d--) {  // next row
        for (int k = 0; k < NOPS; k++) off[k] += (*strides[k])[d];
        if (++idx[d] < shape[d]) break;
        for (int k = 0; k < NOPS; k++) off[k] -= (*strides[k])[d] * shape[d];
        idx[d] = 0;
      }
    }
  });
}

template <class T, class U, class F>
void mapBinary(const Operand& a, const Operand& b, void* ov, std::vector<int64_t> shape, F f) {
  std::vector<int64_t> sa = a.strides, sb = b.strides;
  coalesce(shape, {&sa, &sb});
  const T* A = static_cast<const T*>(a.data);
  const T* B = static_cast<const T*>(b.data);
  U* O = static_cast<U*>(ov);
  const std::vector<int64_t>* st[2] = {&sa, &sb};
  const int64_t ia = sa.back(), ib = sb.back();
  forRows<2>(shape, st, [&](int64_t o0, const int64_t* off, int64_t L) {
    const T* __restrict x = A + off[0];
    const T* __restrict y = B + off[1];
    U* __restrict o = O + o0;
    if (ia == 1 && ib == 1)
      for (int64_t i = 0; i < L; i++) o[i] = f(x[i], y[i]);
    else if (ia == 1 && ib == 0) {
      const T yv = y[0];
      for (int64_t i = 0; i < L; i++) o[i] = f(x[i], yv);
    } else if (ia == 0 && ib == 1) {
      const T xv = x[0];
      for (int64_t i = 0; i < L; i++) o[i] = f(xv, y[i]);
    } else
      for (int64_t i = 0; i < L; i++) o[i] = f(x[i * ia], y[i * ib]);
  });
}

double jsPow(double x, double y) {
  // JavaScript's Math.pow differs from C's pow on these: pow(1, NaN) and pow(+-1, +-Infinity) are NaN.
  if (y != y) return NAN;
  if (std::isinf(y) && std::fabs(x) == 1) return NAN;
  return std::pow(x, y);
}

template <class T>
void binaryTyped(int op, const Operand& a, const Operand& b, void* o, const std::vector<int64_t>& shape) {
  // Native arithmetic for float32/float64; integer and bool results go through double and are
  // stored with typed-array wrap-around, as the reference does.
  constexpr bool F = std::is_floating_point<T>::value;
  using D = double;
  auto arith = [&](auto f) {
    if constexpr (F)
      mapBinary<T, T>(a, b, o, shape, [f](T x, T y) { return static_cast<T>(f(x, y)); });
    else
      mapBinary<T, T>(a, b, o, shape, [f](T x, T y) { return storeAs<T>(f(D(x), D(y))); });
  };
  auto cmp = [&](auto f) { mapBinary<T, uint8_t>(a, b, o, shape, [f](T x, T y) { return uint8_t(f(x, y) ? 1 : 0); }); };
  switch (op) {
    case 0: return arith([](auto x, auto y) { return x + y; });
    case 1: return arith([](auto x, auto y) { return x - y; });
    case 2: return arith([](auto x, auto y) { return x * y; });
    case 3: return arith([](auto x, auto y) { return D(x) / D(y); });
    case 4: return arith([](auto x, auto y) { return jsPow(D(x), D(y)); });
    case 5: return arith([](auto x, auto y) { return x != x || y != y ? NAN : x > y ? x : y; });
    case 6: return arith([](auto x, auto y) { return x != x || y != y ? NAN : x < y ? x : y; });
    case 7: return cmp([](T x, T y) { return x == y; });
    case 8: return cmp([](T x, T y) { return x != y; });
    case 9: return cmp([](T x, T y) { return x < y; });
    case 10: return cmp([](T x, T y) { return x <= y; });
    case 11: return cmp([](T x, T y) { return x > y; });
    case 12: return cmp([](T x, T y) { return x >= y; });
    case 13: return cmp([](T x, T y) { return x != 0 && y != 0; });
    case 14: return cmp([](T x, T y) { return x != 0 || y != 0; });
    case 15: return cmp([](T x, T y) { return (x != 0) != (y != 0); });
    // fmod is exact in any precision; remainder moves a nonzero result to the divisor's sign.
    case 16: return arith([](auto x, auto y) {
      const auto m = std::fmod(x, y);
      return m != 0 && (y < 0) != (m < 0) ? m + y : m;
    });
    case 17: return arith([](auto x, auto y) { return std::fmod(x, y); });
  }
}


// ---------------------------------------------------------------- where

// One row of where with a contiguous condition, each value operand contiguous (stride 1) or one
// repeated value (stride 0). The select is written as a bit mask so the loop vectorizes.
template <class U, int IA, int IB>
MS_ELEMENTWISE_INLINE void whereRow(const uint8_t* __restrict c, const U* __restrict a, const U* __restrict b,
                                   U* __restrict o, int64_t L) {
  const U a0 = a[0], b0 = b[0];
  for (int64_t i = 0; i < L; i++) {
    const U m = static_cast<U>(0) - static_cast<U>(c[i] != 0);
    const U x = IA ? a[i] : a0, y = IB ? b[i] : b0;
    o[i] = static_cast<U>((x & m) | (y & ~m));
  }
}

template <class U>
MS_ELEMENTWISE_INLINE void whereRowAny(const uint8_t* c, const U* a, int64_t ia, const U* b, int64_t ib, U* o,
                                      int64_t L) {
  if (L == 0) return;
  if (ia == 1 && ib == 1) return whereRow<U, 1, 1>(c, a, b, o, L);
  if (ia == 1) return whereRow<U, 1, 0>(c, a, b, o, L);
  if (ib == 1) return whereRow<U, 0, 1>(c, a, b, o, L);
  return whereRow<U, 0, 0>(c, a, b, o, L);
}

__attribute__((target("avx2"))) void whereRowAvx2(const uint8_t* c, const uint32_t* a, int64_t ia, const uint32_t* b,
                                                  int64_t ib, uint32_t* o, int64_t L) {
  whereRowAny<uint32_t>(c, a, ia, b, ib, o, L);
}
__attribute__((target("avx2"))) void whereRowAvx2(const uint8_t* c, const uint64_t* a, int64_t ia, const uint64_t* b,
                                                  int64_t ib, uint64_t* o, int64_t L) {
  whereRowAny<uint64_t>(c, a, ia, b, ib, o, L);
}
__attribute__((target("avx2"))) void whereRowAvx2(const uint8_t* c, const uint8_t* a, int64_t ia, const uint8_t* b,
                                                  int64_t ib, uint8_t* o, int64_t L) {
  whereRowAny<uint8_t>(c, a, ia, b, ib, o, L);
}

bool hasAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

template <class U>
void whereRowBest(const uint8_t* c, const U* a, int64_t ia, const U* b, int64_t ib, U* o, int64_t L) {
  if (hasAvx2())
    whereRowAvx2(c, a, ia, b, ib, o, L);
  else
    whereRowAny<U>(c, a, ia, b, ib, o, L);
}

// ---------------------------------------------------------------- transpose

constexpr int64_t TILE = 32;

// Copies the tile [r0, r1) x [c0, c1) of out[r][c] = x[r + c * inc] (out rows of length C).
template <class U>
MS_ELEMENTWISE_INLINE void transposeTile(const U* __restrict x, U* __restrict o, int64_t C, int64_t inc, int64_t r0,
                                        int64_t r1, int64_t c0, int64_t c1) {
  if (r1 - r0 == TILE && c1 - c0 == TILE) {  // full tile: fixed trip counts the compiler unrolls
    for (int64_t r = r0; r < r0 + TILE; r++)
      for (int64_t c = c0; c < c0 + TILE; c++) o[r * C + c] = x[r + c * inc];
    return;
  }
  for (int64_t r = r0; r < r1; r++)
    for (int64_t c = c0; c < c1; c++) o[r * C + c] = x[r + c * inc];
}

template <class U>
MS_ELEMENTWISE_INLINE void transposeRange(const U* x, U* o, const std::vector<int64_t>& shape,
                                         const std::vector<int64_t>& st, int64_t base, int64_t t0, int64_t t1) {
  const int rank = static_cast<int>(shape.size());
  const int64_t R = shape[rank - 2], C = shape[rank - 1], inc = st[rank - 1];
  const int64_t rowBlocks = (R + TILE - 1) / TILE;
  for (int64_t t = t0; t < t1; t++) {
    int64_t batch = t / rowBlocks;
    const int64_t r0 = (t % rowBlocks) * TILE, r1 = std::min(R, r0 + TILE);
    int64_t off = base;
    const int64_t outOff = batch * R * C;
    for (int d = rank - 3; d >= 0; d--) {
      off += (batch % shape[d]) * st[d];
      batch /= shape[d];
    }
    for (int64_t c0 = 0; c0 < C; c0 += TILE) transposeTile<U>(x + off, o + outOff, C, inc, r0, r1, c0, std::min(C, c0 + TILE));
  }
}

template <class U>
void transposeRangeBase(const U* x, U* o, const std::vector<int64_t>& shape, const std::vector<int64_t>& st,
                        int64_t base, int64_t t0, int64_t t1) {
  transposeRange<U>(x, o, shape, st, base, t0, t1);
}

// An 8x8 block of 32-bit values: out row j (8 values at o + j * C) = element j of x rows k = 0..7
// (8 values at x + k * inc). Unpack and shuffle move bits only, so every value is copied exactly.
__attribute__((target("avx2"))) inline void transpose8x8(const uint32_t* x, int64_t inc, uint32_t* o, int64_t C) {
  const float* xf = reinterpret_cast<const float*>(x);
  float* of = reinterpret_cast<float*>(o);
  __m256 r[8], t[8];
  for (int k = 0; k < 8; k++) r[k] = _mm256_loadu_ps(xf + k * inc);
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 8; k += 4) {
    r[k] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int k = 0; k < 4; k++) {
    _mm256_storeu_ps(of + k * C, _mm256_permute2f128_ps(r[k], r[k + 4], 0x20));
    _mm256_storeu_ps(of + (k + 4) * C, _mm256_permute2f128_ps(r[k], r[k + 4], 0x31));
  }
}

__attribute__((target("avx2"))) void transposeRangeAvx2(const uint32_t* x, uint32_t* o, const std::vector<int64_t>& shape,
                                                        const std::vector<int64_t>& st, int64_t base, int64_t t0,
                                                        int64_t t1) {
  const int rank = static_cast<int>(shape.size());
  const int64_t R = shape[rank - 2], C = shape[rank - 1], inc = st[rank - 1];
  const int64_t rowBlocks = (R + TILE - 1) / TILE;
  for (int64_t t = t0; t < t1; t++) {
    int64_t batch = t / rowBlocks;
    const int64_t r0 = (t % rowBlocks) * TILE, r1 = std::min(R, r0 + TILE);
    int64_t off = base;
    const uint32_t* xb;
    uint32_t* ob = o + batch * R * C;
    for (int d = rank - 3; d >= 0; d--) {
      off += (batch % shape[d]) * st[d];
      batch /= shape[d];
    }
    xb = x + off;
    const int64_t r8 = r0 + (r1 - r0) / 8 * 8, C8 = C / 8 * 8;
    for (int64_t c0 = 0; c0 < C8; c0 += 8)
      for (int64_t r = r0; r < r8; r += 8) transpose8x8(xb + r + c0 * inc, inc, ob + r * C + c0, C);
    if (r8 < r1) transposeTile<uint32_t>(xb, ob, C, inc, r8, r1, 0, C);
    if (C8 < C) transposeTile<uint32_t>(xb, ob, C, inc, r0, r8, C8, C);
  }
}

// out (dense, coalesced shape [..., R, C]) = x read at base + batch offset + r + c * inc, in
// tasks of whole row blocks; every element is a copy, so the split never changes a result.
template <class U>
void transposeCopy(const U* x, U* o, const std::vector<int64_t>& shape, const std::vector<int64_t>& st, int64_t base) {
  const int rank = static_cast<int>(shape.size());
  int64_t batches = 1;
  for (int d = 0; d < rank - 2; d++) batches *= shape[d];
  const int64_t R = shape[rank - 2], C = shape[rank - 1];
  const int64_t rowBlocks = (R + TILE - 1) / TILE;
  const int64_t grain = std::max<int64_t>(1, GRAIN / (TILE * C));
  parallelFor(batches * rowBlocks, grain, [&](int64_t t0, int64_t t1) {
    if constexpr (sizeof(U) == 4) {
      if (hasAvx2()) return transposeRangeAvx2(x, o, shape, st, base, t0, t1);
    }
    transposeRangeBase<U>(x, o, shape, st, base, t0, t1);
  });
}

}  // namespace

// Both loads happen unconditionally, so the select compiles to a vector blend rather than a branch
// that random signs would mispredict half the time.
template <class T>
void reluBackwardRange(const T* __restrict y, const T* __restrict gy, T* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const T g = gy[i];
    o[i] = y[i] > 0 ? g : T(0);
  }
}

template <class T>
void reluBackwardTyped(const T* y, const T* gy, T* o, int64_t n) {
  parallelFor(n, GRAIN, [&](int64_t b, int64_t e) { reluBackwardRange(y + b, gy + b, o + b, e - b); });
}

// smoothL1's gradient, in double as the reference: gy * clamp(x / beta, -1, 1) (NaN x gives NaN).
template <class T>
void smoothL1BackwardTyped(const T* x, const T* gy, T* o, int64_t n, double beta) {
  parallelFor(n, GRAIN, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) {
      const double v = x[i], g = gy[i];
      o[i] = static_cast<T>(v < -beta ? -g : v > beta ? g : g * v / beta);
    }
  });
}

void smoothL1Backward(DT dt, const void* x, const void* gy, void* out, int64_t n, double beta) {
  if (dt == DT::f64)
    smoothL1BackwardTyped(static_cast<const double*>(x), static_cast<const double*>(gy), static_cast<double*>(out), n, beta);
  else
    smoothL1BackwardTyped(static_cast<const float*>(x), static_cast<const float*>(gy), static_cast<float*>(out), n, beta);
}

void reluBackward(DT dt, const void* y, const void* gy, void* out, int64_t n) {
  if (dt == DT::f64)
    reluBackwardTyped(static_cast<const double*>(y), static_cast<const double*>(gy), static_cast<double*>(out), n);
  else
    reluBackwardTyped(static_cast<const float*>(y), static_cast<const float*>(gy), static_cast<float*>(out), n);
}

void unary(int op, DT dt, const void* x, DT outDt, void* out, int64_t n, const double* params) {
  MS_DISPATCH(dt, T, unaryTyped<T>(op, x, outDt, out, n, params));
}

void binary(int op, const Operand& a, const Operand& b, DT outDt, void* out, const std::vector<int64_t>& shape) {
  (void)outDt;
  MS_DISPATCH(a.dtype, T, binaryTyped<T>(op, a, b, out, shape));
}

void where(const Operand& c, const Operand& a, const Operand& b, void* out, const std::vector<int64_t>& shape0) {
  std::vector<int64_t> shape = shape0, sc = c.strides, sa = a.strides, sb = b.strides;
  coalesce(shape, {&sc, &sa, &sb});
  const std::vector<int64_t>* st[3] = {&sc, &sa, &sb};
  const uint8_t* C = static_cast<const uint8_t*>(c.data);
  const int64_t ic = sc.back(), ia = sa.back(), ib = sb.back();
  // Selects by bits, so a float's NaN payload and sign of zero pass through unchanged.
  auto run = [&](auto* tag) {
    using U = std::remove_pointer_t<decltype(tag)>;
    const U* A = static_cast<const U*>(a.data);
    const U* B = static_cast<const U*>(b.data);
    U* O = static_cast<U*>(out);
    forRows<3>(shape, st, [&](int64_t o0, const int64_t* off, int64_t L) {
      if (ic == 1 && (ia == 0 || ia == 1) && (ib == 0 || ib == 1))
        whereRowBest<U>(C + off[0], A + off[1], ia, B + off[2], ib, O + o0, L);
      else
        for (int64_t i = 0; i < L; i++) O[o0 + i] = C[off[0] + i * ic] ? A[off[1] + i * ia] : B[off[2] + i * ib];
    });
  };
  switch (a.dtype) {
    case DT::f32:
    case DT::i32:
      return run(static_cast<uint32_t*>(nullptr));
    case DT::f64:
      return run(static_cast<uint64_t*>(nullptr));
    case DT::u8:
      return run(static_cast<uint8_t*>(nullptr));
  }
}

void stridedCopy(DT dt, const void* x, void* out, const std::vector<int64_t>& shape0,
                 const std::vector<int64_t>& strides0, int64_t base, bool scatter) {
  // Gather: out[i] = x[base + offset(i)]. Scatter: out[base + offset(i)] = x[i].
  std::vector<int64_t> shape = shape0, st = strides0, dense(shape0.size());
  int64_t s = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; d--) {
    dense[d] = s;
    s *= shape[d];
  }
  if (s == 0) return;
  coalesce(shape, {&st, &dense});
  const std::vector<int64_t>* sts[1] = {&st};
  const int64_t inc = st.back();
  const int rank = static_cast<int>(shape.size());
  if (!scatter && rank >= 2 && inc != 1 && st[rank - 2] == 1 && shape[rank - 1] >= 4 && shape[rank - 2] >= 4) {
    // The last two dimensions are a transpose (x is read contiguously down the output's columns):
    // copy tile by tile, so both the reads and the writes of a tile stay in cache.
    switch (dt) {
      case DT::f32:
      case DT::i32:
        return transposeCopy(static_cast<const uint32_t*>(x), static_cast<uint32_t*>(out), shape, st, base);
      case DT::f64:
        return transposeCopy(static_cast<const uint64_t*>(x), static_cast<uint64_t*>(out), shape, st, base);
      case DT::u8:
        return transposeCopy(static_cast<const uint8_t*>(x), static_cast<uint8_t*>(out), shape, st, base);
    }
  }
  MS_DISPATCH(dt, T, {
    const T* X = static_cast<const T*>(x);
    T* O = static_cast<T*>(out);
    forRows<1>(shape, sts, [&](int64_t o0, const int64_t* off, int64_t L) {
      const int64_t b0 = base + off[0];
      if (scatter) {
        for (int64_t i = 0; i < L; i++) O[b0 + i * inc] = X[o0 + i];
      } else if (inc == 1) {
        std::memcpy(O + o0, X + b0, L * sizeof(T));
      } else {
        for (int64_t i = 0; i < L; i++) O[o0 + i] = X[b0 + i * inc];
      }
    });
  });
}

}  // namespace ms
