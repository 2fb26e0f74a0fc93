// Reductions, scans and batched matrix multiply. Reductions accumulate in double, as the
// reference does; each output element is summed in one fixed order by one thread.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "gemm.h"
#include "kernels.h"
#include "pool.h"

namespace ms {

namespace {

constexpr int64_t GRAIN = 1 << 15;
constexpr int64_t CHUNK = 1 << 16;  // a long reduction is split into fixed chunks, combined in order

struct Sum {
  static double init() { return 0; }
  static double step(double a, double v) { return a + v; }
  static double join(double a, double b) { return a + b; }
};
struct Prod {
  static double init() { return 1; }
  static double step(double a, double v) { return a * v; }
  static double join(double a, double b) { return a * b; }
};
struct Max {
  static double init() { return -std::numeric_limits<double>::infinity(); }
  static double step(double a, double v) { return a != a || v != v ? NAN : v > a ? v : a; }
  static double join(double a, double b) { return step(a, b); }
};
struct Min {
  static double init() { return std::numeric_limits<double>::infinity(); }
  static double step(double a, double v) { return a != a || v != v ? NAN : v < a ? v : a; }
  static double join(double a, double b) { return step(a, b); }
};

// Sums a contiguous run with four interleaved accumulators (a fixed order, for speed).
template <class Op, class T>
double runOf(const T* x, int64_t n) {
  double a0 = Op::init(), a1 = Op::init(), a2 = Op::init(), a3 = Op::init();
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 = Op::step(a0, x[i]);
    a1 = Op::step(a1, x[i + 1]);
    a2 = Op::step(a2, x[i + 2]);
    a3 = Op::step(a3, x[i + 3]);
  }
  for (; i < n; i++) a0 = Op::step(a0, x[i]);
  return Op::join(Op::join(a0, a1), Op::join(a2, a3));
}

struct Dims {
  std::vector<int64_t> size, stride;
};

int64_t offsetOf(const Dims& d, int64_t index) {
  int64_t off = 0;
  for (int64_t k = static_cast<int64_t>(d.size.size()) - 1; k >= 0; k--) {
    off += (index % d.size[k]) * d.stride[k];
    index /= d.size[k];
  }
  return off;
}

// Sums of n <= 4 outputs at once, output j reading runs of length L at base[j] + offsetOf(runs, r):
// acc[j] = sum over r of runOf<Sum>(run r). Lane k of output j's vector is runOf's accumulator a_k,
// fed the same values in the same order, and the lanes and runs are joined as runOf and its caller
// join them, so each output gets the same bits; but four outputs keep eight chains of additions in
// flight where one output kept four (a conv's bias gradient, [32, 16, 8, 8] over all but the
// channels: about 4x faster).
template <int N, class T>
void sumRunsOf(const T* const* base, const Dims& runs, int64_t count, int64_t L, double* acc) {
  // N fixed, so the loops over outputs unroll and the sums stay in registers: lanes (a0, a1) and
  // (a2, a3) of each output in two-double vectors, which every x86-64 and ARM64 target holds natively
  typedef double V2 __attribute__((vector_size(16)));
  for (int j = 0; j < N; j++) acc[j] = 0;
  for (int64_t r = 0; r < count; r++) {
    const int64_t off = offsetOf(runs, r);
    V2 lo[N], hi[N];
    for (int j = 0; j < N; j++) lo[j] = hi[j] = V2{0, 0};
    int64_t i = 0;
    for (; i + 4 <= L; i += 4)
      for (int j = 0; j < N; j++) {
        const T* x = base[j] + off + i;
        lo[j] += V2{static_cast<double>(x[0]), static_cast<double>(x[1])};
        hi[j] += V2{static_cast<double>(x[2]), static_cast<double>(x[3])};
      }
    for (int j = 0; j < N; j++) {
      double a0 = lo[j][0];
      for (int64_t t = i; t < L; t++) a0 += static_cast<double>(base[j][off + t]);
      acc[j] = acc[j] + ((a0 + lo[j][1]) + (hi[j][0] + hi[j][1]));
    }
  }
}

template <class Op, class T, class U>
void reduceTyped(const T* x, const std::vector<int64_t>& shape, const std::vector<bool>& red, U* out) {
  // Split the (coalesced) dimensions into kept and reduced ones, with the input's strides.
  std::vector<int64_t> size, stride;
  std::vector<bool> kind;
  int64_t s = 1;
  std::vector<int64_t> st(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d];
  }
  const int64_t total = s;
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] == 1) continue;
    if (!size.empty() && kind.back() == red[d]) {
      size.back() *= shape[d];
      stride.back() = st[d];
    } else {
      size.push_back(shape[d]);
      stride.push_back(st[d]);
      kind.push_back(red[d]);
    }
  }
  Dims kept, rd;
  for (size_t d = 0; d < size.size(); d++) {
    Dims& t = kind[d] ? rd : kept;
    t.size.push_back(size[d]);
    t.stride.push_back(stride[d]);
  }
  int64_t nOut = 1, nRed = 1;
  for (int64_t v : kept.size) nOut *= v;
  for (int64_t v : rd.size) nRed *= v;
  if (total == 0) {
    for (int64_t i = 0; i < nOut; i++) out[i] = storeAs<U>(Op::init());
    return;
  }
  if (rd.size.empty()) {
    for (int64_t i = 0; i < nOut; i++) out[i] = storeAs<U>(Op::step(Op::init(), x[i]));
    return;
  }
  if (kind.back()) {
    // The innermost dimension is reduced: each output sums runs of length L.
    const int64_t L = rd.size.back();
    Dims outerRed = rd;
    outerRed.size.pop_back();
    outerRed.stride.pop_back();
    const int64_t runs = nRed / L;
    if (nOut == 1 && runs == 1 && L > CHUNK) {
      // One long run: fixed chunks in parallel, then combined in chunk order.
      const int64_t chunks = (L + CHUNK - 1) / CHUNK;
      std::vector<double> part(chunks);
      parallelFor(chunks, 1, [&](int64_t b, int64_t e) {
        for (int64_t c = b; c < e; c++) part[c] = runOf<Op>(x + c * CHUNK, std::min(CHUNK, L - c * CHUNK));
      });
      double acc = Op::init();
      for (double p : part) acc = Op::join(acc, p);
      out[0] = storeAs<U>(acc);
      return;
    }
    if constexpr (std::is_same<Op, Sum>::value) {
      const int64_t blocks = (nOut + 3) / 4;
      parallelFor(blocks, std::max<int64_t>(1, GRAIN / (4 * nRed)), [&](int64_t b, int64_t e) {
        for (int64_t blk = b; blk < e; blk++) {
          const int64_t o0 = blk * 4;
          const int n = static_cast<int>(std::min<int64_t>(4, nOut - o0));
          const T* base[4];
          double acc[4];
          for (int j = 0; j < n; j++) base[j] = x + (kept.size.empty() ? 0 : offsetOf(kept, o0 + j));
          switch (n) {
            case 1: sumRunsOf<1>(base, outerRed, runs, L, acc); break;
            case 2: sumRunsOf<2>(base, outerRed, runs, L, acc); break;
            case 3: sumRunsOf<3>(base, outerRed, runs, L, acc); break;
            default: sumRunsOf<4>(base, outerRed, runs, L, acc); break;
          }
          for (int j = 0; j < n; j++) out[o0 + j] = storeAs<U>(acc[j]);
        }
      });
      return;
    }
    parallelFor(nOut, std::max<int64_t>(1, GRAIN / nRed), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; o++) {
        const T* base = x + (kept.size.empty() ? 0 : offsetOf(kept, o));
        double acc = Op::init();
        for (int64_t r = 0; r < runs; r++) acc = Op::join(acc, runOf<Op>(base + offsetOf(outerRed, r), L));
        out[o] = storeAs<U>(acc);
      }
    });
    return;
  }
  // The innermost dimension is kept: accumulate rows of length I in reduction order.
  const int64_t I = kept.size.back();
  Dims outerKept = kept;
  outerKept.size.pop_back();
  outerKept.stride.pop_back();
  const int64_t rows = nOut / I;
  const int64_t colGrain = std::max<int64_t>(64, GRAIN / nRed);
  const int64_t colChunks = (I + colGrain - 1) / colGrain;
  parallelFor(rows * colChunks, 1, [&](int64_t b, int64_t e) {
    std::vector<double> acc;
    for (int64_t t = b; t < e; t++) {
      const int64_t row = t / colChunks, c0 = (t % colChunks) * colGrain, c1 = std::min(I, c0 + colGrain);
      acc.assign(c1 - c0, Op::init());
      const T* base = x + (outerKept.size.empty() ? 0 : offsetOf(outerKept, row)) + c0;
      for (int64_t r = 0; r < nRed; r++) {
        const T* src = base + offsetOf(rd, r);
        for (int64_t j = 0; j < c1 - c0; j++) acc[j] = Op::step(acc[j], src[j]);
      }
      for (int64_t j = 0; j < c1 - c0; j++) out[row * I + c0 + j] = storeAs<U>(acc[j]);
    }
  });
}

template <class Op, class T>
void reduceOut(const T* x, const std::vector<int64_t>& shape, const std::vector<bool>& red, DT outDt, void* out) {
  MS_DISPATCH(outDt, U, reduceTyped<Op, T, U>(x, shape, red, static_cast<U*>(out)));
}

}  // namespace

void reduce(int op, DT dt, const void* x, const std::vector<int64_t>& shape, const std::vector<bool>& reduced,
            DT outDt, void* out) {
  MS_DISPATCH(dt, T, {
    const T* X = static_cast<const T*>(x);
    switch (op) {
      case 0: reduceOut<Sum>(X, shape, reduced, outDt, out); break;
      case 1: reduceOut<Prod>(X, shape, reduced, outDt, out); break;
      case 2: reduceOut<Max>(X, shape, reduced, outDt, out); break;
      case 3: reduceOut<Min>(X, shape, reduced, outDt, out); break;
    }
  });
}

void argReduce(bool max, DT dt, const void* x, int64_t outer, int64_t len, int64_t inner, int32_t* out) {
  MS_DISPATCH(dt, T, {
    const T* X = static_cast<const T*>(x);
    parallelFor(outer * inner, std::max<int64_t>(1, GRAIN / std::max<int64_t>(len, 1)), [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; t++) {
        const int64_t o = t / inner, j = t % inner;
        const T* p = X + o * len * inner + j;
        double best = p[0];
        int32_t bi = 0;
        for (int64_t k = 1; k < len; k++) {
          const double v = p[k * inner];
          // The first extreme wins; NaN beats any number and the first NaN stays.
          const bool better = best == best && (v != v || (max ? v > best : v < best));
          if (better) {
            best = v;
            bi = static_cast<int32_t>(k);
          }
        }
        out[t] = bi;
      }
    });
  });
}

void cumsum(DT dt, const void* x, DT outDt, void* out, int64_t outer, int64_t len, int64_t inner) {
  MS_DISPATCH(dt, T, {
    MS_DISPATCH(outDt, U, {
      const T* X = static_cast<const T*>(x);
      U* O = static_cast<U*>(out);
      parallelFor(outer, std::max<int64_t>(1, GRAIN / std::max<int64_t>(len * inner, 1)), [&](int64_t b, int64_t e) {
        std::vector<double> acc(inner);
        for (int64_t o = b; o < e; o++) {
          std::fill(acc.begin(), acc.end(), 0.0);
          for (int64_t k = 0; k < len; k++) {
            const int64_t p = (o * len + k) * inner;
            for (int64_t j = 0; j < inner; j++) {
              acc[j] += X[p + j];
              O[p + j] = storeAs<U>(acc[j]);
            }
          }
        }
      });
    });
  });
}

void bmm(DT dt, const void* a, const void* b, void* out, int64_t batch, int64_t M, int64_t N, int64_t K,
         bool transA, bool transB) {
  auto run = [&](auto* A, auto* B, auto* C) {
    // Strides of A[i, k] and B[k, j] inside one batch, with the transposes folded in.
    const int64_t rsa = transA ? 1 : K, csa = transA ? M : 1;
    const int64_t rsb = transB ? 1 : N, csb = transB ? K : 1;
    const int64_t flops = M * N * K;
    if (batch > 1 && flops < (int64_t(1) << 22)) {
      // Many small products (attention heads): one per task, each on one thread; all inline
      // when the whole batch is too small to share. A product's arithmetic does not depend on
      // the thread it runs on, so neither does the result.
      parallelFor(batch, 1, flops, [&](int64_t b0, int64_t b1) {
        for (int64_t i = b0; i < b1; i++)
          gemm(M, N, K, A + i * M * K, rsa, csa, B + i * K * N, rsb, csb, C + i * M * N, N, false, false);
      });
    } else {
      for (int64_t i = 0; i < batch; i++)
        gemm(M, N, K, A + i * M * K, rsa, csa, B + i * K * N, rsb, csb, C + i * M * N, N, false, true);
    }
  };
  if (dt == DT::f32)
    run(static_cast<const float*>(a), static_cast<const float*>(b), static_cast<float*>(out));
  else
    run(static_cast<const double*>(a), static_cast<const double*>(b), static_cast<double*>(out));
}

void addBias(DT dt, void* out, const void* bias, int64_t rows, int64_t C, int64_t inner) {
  auto run = [&](auto* __restrict O, auto* __restrict b) {
    if (inner == 1) {  // rows of C values: one vector loop per row
      for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < C; c++) O[r * C + c] += b[c];
      return;
    }
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < C; c++) {
        auto* o = O + (r * C + c) * inner;
        const auto v = b[c];
        for (int64_t i = 0; i < inner; i++) o[i] += v;
      }
  };
  if (dt == DT::f32)
    run(static_cast<float*>(out), static_cast<const float*>(bias));
  else
    run(static_cast<double*>(out), static_cast<const double*>(bias));
}

}  // namespace ms
