// Indexing kernels: gather and scatter along an axis, row selection and accumulation (indexSelect,
// indexAdd: nn.Embedding's forward and backward), a stable argsort, and adaptive average pooling.
//
// Index tensors are int32. Each kernel first looks for the first index outside [0, size) in the
// reference's order and, if there is one, returns its position without writing anything; the
// TypeScript side then raises the same IndexError the reference raises.
//
// Determinism: scatter, scatterAdd and indexAdd may send several source elements to one output
// element. Their tasks are split only along the dimensions that are not indexed, so all the
// updates of one output element run in one task, in the order the reference applies them.
#include "indexing.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "napi-glue.h"
#include "pool.h"

namespace ms {

namespace {

constexpr int64_t GRAIN = 1 << 15;  // elements per task, as in elementwise.cc

// Position of the first index outside [0, size), or -1 when all are valid.
int64_t firstBad(const int32_t* idx, int64_t n, int64_t size) {
  bool bad = false;
  for (int64_t i = 0; i < n; i++) bad |= idx[i] < 0 || idx[i] >= size;
  if (!bad) return -1;
  for (int64_t i = 0; i < n; i++)
    if (idx[i] < 0 || idx[i] >= size) return i;
  return -1;
}

// a + b as a typed array stores it: float arithmetic for floats, wrap-around for int32 and uint8
// (the reference adds in double, which is exact here, then stores with ToInt32 / ToUint8).
template <class T>
inline T addStore(T a, T b) {
  if constexpr (std::is_same<T, int32_t>::value)
    return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
  else
    return static_cast<T>(a + b);
}

// out = x, in parallel (the starting point of scatter, scatterAdd and indexAdd).
void copyAll(const void* x, void* out, int64_t bytes) {
  if (bytes == 0 || x == out) return;
  const int64_t chunk = int64_t(1) << 18;
  parallelFor(bytes, chunk, [&](int64_t b, int64_t e) {
    std::memcpy(static_cast<uint8_t*>(out) + b, static_cast<const uint8_t*>(x) + b, e - b);
  });
}

int64_t elementSize(DT dt) {
  switch (dt) {
    case DT::f32: return 4;
    case DT::f64: return 8;
    case DT::i32: return 4;
    case DT::u8: return 1;
  }
  return 1;
}

// The index tensor of gather/scatter seen as [P, L, S] around `axis`, with the offsets its
// positions have in another row-major tensor of shape `shape` (same rank, each dimension at least
// as large): pre[p] for the dimensions before the axis, suf[s] for those after it.
struct AxisWalk {
  int64_t P = 1, L = 1, S = 1;
  std::vector<int64_t> pre, suf;
  int64_t axisStride = 0;
};

AxisWalk walk(const std::vector<int64_t>& index, const std::vector<int64_t>& shape, int64_t axis) {
  const int64_t rank = static_cast<int64_t>(index.size());
  std::vector<int64_t> st(rank);
  int64_t s = 1;
  for (int64_t d = rank - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d];
  }
  AxisWalk w;
  for (int64_t d = 0; d < axis; d++) w.P *= index[d];
  w.L = index[axis];
  for (int64_t d = axis + 1; d < rank; d++) w.S *= index[d];
  w.axisStride = st[axis];
  // Offsets of a sub-range of dimensions, odometer order (the last dimension fastest).
  auto table = [&](int64_t d0, int64_t d1, int64_t count) {
    std::vector<int64_t> t(count);
    std::vector<int64_t> c(rank, 0);
    int64_t off = 0;
    for (int64_t i = 0; i < count; i++) {
      t[i] = off;
      for (int64_t d = d1 - 1; d >= d0; d--) {
        c[d]++;
        off += st[d];
        if (c[d] < index[d]) break;
        off -= st[d] * index[d];
        c[d] = 0;
      }
    }
    return t;
  };
  w.pre = table(0, axis, w.P);
  w.suf = table(axis + 1, rank, w.S);
  return w;
}

// out[i] = x[i with its axis coordinate replaced by index[i]]; out has the index's shape.
template <class T>
void gatherTyped(const T* X, const int32_t* idx, T* O, const AxisWalk& w) {
  const int64_t S = w.S, L = w.L, ax = w.axisStride;
  parallelFor(w.P * L, std::max<int64_t>(1, GRAIN / std::max<int64_t>(S, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const T* xb = X + w.pre[r / L];
      const int32_t* id = idx + r * S;
      T* o = O + r * S;
      for (int64_t s = 0; s < S; s++) o[s] = xb[id[s] * ax + w.suf[s]];
    }
  });
}

// out[x position of index element i] (=|+=) src[src position of i], in index order per output.
template <class T>
void scatterTyped(bool add, T* O, const int32_t* idx, const T* Src, const AxisWalk& wx, const AxisWalk& ws) {
  const int64_t P = wx.P, L = wx.L, S = wx.S, ax = wx.axisStride, sax = ws.axisStride;
  // Tasks are (p, run of suffix positions); each walks the whole axis in order.
  const int64_t run = std::max<int64_t>(1, std::min<int64_t>(S, GRAIN / std::max<int64_t>(L, 1)));
  const int64_t runs = (S + run - 1) / run;
  parallelFor(P * runs, std::max<int64_t>(1, GRAIN / std::max<int64_t>(L * run, 1)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; t++) {
      const int64_t p = t / runs, s0 = (t % runs) * run, s1 = std::min(S, s0 + run);
      T* ob = O + wx.pre[p];
      const T* sb = Src + ws.pre[p];
      for (int64_t k = 0; k < L; k++) {
        const int32_t* id = idx + (p * L + k) * S;
        const T* sk = sb + k * sax;
        if (add)
          for (int64_t s = s0; s < s1; s++) {
            T& dst = ob[id[s] * ax + wx.suf[s]];
            dst = addStore<T>(dst, sk[ws.suf[s]]);
          }
        else
          for (int64_t s = s0; s < s1; s++) ob[id[s] * ax + wx.suf[s]] = sk[ws.suf[s]];
      }
    }
  });
}

// out[o, j, :] = x[o, index[j], :]
template <class T>
void indexSelectTyped(const T* X, const int32_t* idx, int64_t k, T* O, int64_t outer, int64_t len, int64_t inner) {
  parallelFor(outer * k, std::max<int64_t>(1, GRAIN / std::max<int64_t>(inner, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const int64_t o = r / k, j = r % k;
      std::memcpy(O + r * inner, X + (o * len + idx[j]) * inner, inner * sizeof(T));
    }
  });
}

// out[o, index[j], :] += src[o, j, :] for j = 0, 1, ...: each task owns a column range of one o.
template <class T>
void indexAddTyped(T* O, const int32_t* idx, int64_t k, const T* Src, int64_t outer, int64_t len, int64_t inner) {
  const int64_t run = std::max<int64_t>(std::min<int64_t>(inner, 64), std::min<int64_t>(inner, GRAIN / std::max<int64_t>(k, 1)));
  if (run == 0) return;
  const int64_t runs = (inner + run - 1) / run;
  parallelFor(outer * runs, std::max<int64_t>(1, GRAIN / std::max<int64_t>(k * run, 1)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; t++) {
      const int64_t o = t / runs, c0 = (t % runs) * run, c1 = std::min(inner, c0 + run);
      for (int64_t j = 0; j < k; j++) {
        T* __restrict dst = O + (o * len + idx[j]) * inner;
        const T* __restrict src = Src + (o * k + j) * inner;
        for (int64_t c = c0; c < c1; c++) dst[c] = addStore<T>(dst[c], src[c]);
      }
    }
  });
}

// Stable argsort of every line along the axis; NaN sorts as the largest value (first when descending).
template <class T>
void argsortTyped(const T* X, int32_t* O, int64_t outer, int64_t len, int64_t inner, bool descending) {
  parallelFor(outer * inner, std::max<int64_t>(1, GRAIN / std::max<int64_t>(len, 1)), [&](int64_t b, int64_t e) {
    std::vector<double> vals(len);
    std::vector<int32_t> order(len);
    for (int64_t t = b; t < e; t++) {
      const int64_t o = t / inner, j = t % inner;
      const T* x = X + o * len * inner + j;
      for (int64_t q = 0; q < len; q++) {
        vals[q] = static_cast<double>(x[q * inner]);
        order[q] = static_cast<int32_t>(q);
      }
      const double* v = vals.data();
      if (descending)
        std::stable_sort(order.begin(), order.end(), [v](int32_t p, int32_t q) {
          const double a = v[p], c = v[q];
          return (a != a && c == c) || a > c;
        });
      else
        std::stable_sort(order.begin(), order.end(), [v](int32_t p, int32_t q) {
          const double a = v[p], c = v[q];
          return (a == a && c != c) || a < c;
        });
      int32_t* out = O + o * len * inner + j;
      for (int64_t q = 0; q < len; q++) out[q * inner] = order[q];
    }
  });
}

// Window [start, end) of output position o along an axis of `size` split into `outSize` windows.
inline int64_t winStart(int64_t o, int64_t size, int64_t outSize) { return (o * size) / outSize; }
inline int64_t winEnd(int64_t o, int64_t size, int64_t outSize) { return ((o + 1) * size + outSize - 1) / outSize; }

// y[nc, oh, ow] = sum over the window of x / count, summed in double in the reference's order.
template <class T>
void adaptiveAvgPoolTyped(const T* X, T* Y, int64_t NC, int64_t H, int64_t W, int64_t HO, int64_t WO) {
  parallelFor(NC * HO, std::max<int64_t>(1, GRAIN / std::max<int64_t>(W * (H / std::max<int64_t>(HO, 1) + 1), 1)),
              [&](int64_t b, int64_t e) {
                for (int64_t r = b; r < e; r++) {
                  const int64_t nc = r / HO, oh = r % HO;
                  const int64_t h0 = winStart(oh, H, HO), h1 = winEnd(oh, H, HO);
                  const T* x = X + nc * H * W;
                  for (int64_t ow = 0; ow < WO; ow++) {
                    const int64_t w0 = winStart(ow, W, WO), w1 = winEnd(ow, W, WO);
                    const double count = static_cast<double>((h1 - h0) * (w1 - w0));
                    double acc = 0;
                    for (int64_t ih = h0; ih < h1; ih++)
                      for (int64_t iw = w0; iw < w1; iw++) acc += static_cast<double>(x[ih * W + iw]) / count;
                    Y[r * WO + ow] = storeAs<T>(acc);
                  }
                }
              });
}

// gx[nc, ih, iw] = sum over the windows that contain (ih, iw) of gy / count, in the reference's
// order (output positions ascending), so overlapping windows sum exactly as there.
template <class T>
void adaptiveAvgPoolBackwardTyped(const T* GY, T* GX, int64_t NC, int64_t H, int64_t W, int64_t HO, int64_t WO) {
  // Per axis: each window's length, and the output positions whose windows contain each input
  // position (a contiguous range [lo, hi)), computed once instead of per element.
  struct Axis {
    std::vector<int64_t> len, lo, hi;
  };
  auto axis = [](int64_t size, int64_t outSize) {
    Axis a{std::vector<int64_t>(outSize), std::vector<int64_t>(size, outSize), std::vector<int64_t>(size, 0)};
    for (int64_t o = 0; o < outSize; o++) {
      const int64_t s0 = winStart(o, size, outSize), s1 = winEnd(o, size, outSize);
      a.len[o] = s1 - s0;
      for (int64_t i = s0; i < s1; i++) {
        a.lo[i] = std::min(a.lo[i], o);
        a.hi[i] = std::max(a.hi[i], o + 1);
      }
    }
    return a;
  };
  const Axis ah = axis(H, HO), aw = axis(W, WO);
  parallelFor(NC * H, std::max<int64_t>(1, GRAIN / std::max<int64_t>(W, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const int64_t nc = r / H, ih = r % H;
      const T* gy = GY + nc * HO * WO;
      for (int64_t iw = 0; iw < W; iw++) {
        double acc = 0;
        for (int64_t oh = ah.lo[ih]; oh < ah.hi[ih]; oh++)
          for (int64_t ow = aw.lo[iw]; ow < aw.hi[iw]; ow++)
            acc += static_cast<double>(gy[oh * WO + ow]) / static_cast<double>(ah.len[oh] * aw.len[ow]);
        GX[r * W + iw] = storeAs<T>(acc);
      }
    }
  });
}

// --- N-API glue ---------------------------------------------------------------------------------

const int32_t* indices(const Arr& a) { return static_cast<const int32_t*>(a.data); }
Napi::Value num(const Napi::CallbackInfo& info, int64_t v) { return Napi::Number::New(info.Env(), static_cast<double>(v)); }

// gather(x, xShape, index, indexShape, axis, out) -> first bad index position or -1
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Arr x = arr(info[0]), id = arr(info[2]), o = arr(info[5]);
  const std::vector<int64_t> xs = ints(info[1]), is = ints(info[3]);
  const int64_t axis = i64(info[4]);
  const int64_t bad = firstBad(indices(id), id.length, xs[axis]);
  if (bad >= 0 || id.length == 0) return num(info, bad);
  const AxisWalk w = walk(is, xs, axis);
  MS_DISPATCH(x.dt, T, gatherTyped<T>(static_cast<const T*>(x.data), indices(id), static_cast<T*>(o.data), w));
  return num(info, -1);
}

// scatter(add, x, xShape, index, indexShape, src, srcShape, axis, out) -> first bad position or -1
Napi::Value Scatter(const Napi::CallbackInfo& info) {
  const bool add = info[0].As<Napi::Boolean>().Value();
  Arr x = arr(info[1]), id = arr(info[3]), src = arr(info[5]), o = arr(info[8]);
  const std::vector<int64_t> xs = ints(info[2]), is = ints(info[4]), ss = ints(info[6]);
  const int64_t axis = i64(info[7]);
  const int64_t bad = firstBad(indices(id), id.length, xs[axis]);
  if (bad >= 0) return num(info, bad);
  copyAll(x.data, o.data, x.length * elementSize(x.dt));
  if (id.length == 0) return num(info, -1);
  const AxisWalk wx = walk(is, xs, axis), ws = walk(is, ss, axis);
  MS_DISPATCH(x.dt, T,
              scatterTyped<T>(add, static_cast<T*>(o.data), indices(id), static_cast<const T*>(src.data), wx, ws));
  return num(info, -1);
}

// indexSelect(x, index, outer, len, inner, out) -> first bad position or -1
Napi::Value IndexSelect(const Napi::CallbackInfo& info) {
  Arr x = arr(info[0]), id = arr(info[1]), o = arr(info[5]);
  const int64_t outer = i64(info[2]), len = i64(info[3]), inner = i64(info[4]);
  const int64_t bad = firstBad(indices(id), id.length, len);
  if (bad >= 0) return num(info, bad);
  MS_DISPATCH(x.dt, T,
              indexSelectTyped<T>(static_cast<const T*>(x.data), indices(id), id.length, static_cast<T*>(o.data),
                                  outer, len, inner));
  return num(info, -1);
}

// indexAdd(x, index, src, outer, len, inner, out) -> first bad position or -1
Napi::Value IndexAdd(const Napi::CallbackInfo& info) {
  Arr x = arr(info[0]), id = arr(info[1]), src = arr(info[2]), o = arr(info[6]);
  const int64_t outer = i64(info[3]), len = i64(info[4]), inner = i64(info[5]);
  const int64_t bad = firstBad(indices(id), id.length, len);
  if (bad >= 0) return num(info, bad);
  copyAll(x.data, o.data, x.length * elementSize(x.dt));
  MS_DISPATCH(x.dt, T,
              indexAddTyped<T>(static_cast<T*>(o.data), indices(id), id.length, static_cast<const T*>(src.data), outer,
                               len, inner));
  return num(info, -1);
}

// argsort(x, outer, len, inner, descending, out)
Napi::Value Argsort(const Napi::CallbackInfo& info) {
  Arr x = arr(info[0]), o = arr(info[5]);
  MS_DISPATCH(x.dt, T,
              argsortTyped<T>(static_cast<const T*>(x.data), static_cast<int32_t*>(o.data), i64(info[1]), i64(info[2]),
                              i64(info[3]), info[4].As<Napi::Boolean>().Value()));
  return info.Env().Undefined();
}

// adaptiveAvgPool(backward, in, out, [NC, H, W, HO, WO]): forward reads x and writes y; backward
// reads gy and writes gx. H, W are the input's and HO, WO the output's in both directions.
Napi::Value AdaptiveAvgPool(const Napi::CallbackInfo& info) {
  const bool backward = info[0].As<Napi::Boolean>().Value();
  Arr a = arr(info[1]), o = arr(info[2]);
  const std::vector<int64_t> g = ints(info[3]);
  if (o.length == 0) return info.Env().Undefined();
  if (backward) {
    MS_DISPATCH(a.dt, T,
                adaptiveAvgPoolBackwardTyped<T>(static_cast<const T*>(a.data), static_cast<T*>(o.data), g[0], g[1],
                                                g[2], g[3], g[4]));
  } else {
    MS_DISPATCH(a.dt, T,
                adaptiveAvgPoolTyped<T>(static_cast<const T*>(a.data), static_cast<T*>(o.data), g[0], g[1], g[2],
                                        g[3], g[4]));
  }
  return info.Env().Undefined();
}

}  // namespace

void registerIndexing(Napi::Env env, Napi::Object exports) {
  exports.Set("gather", Napi::Function::New(env, Gather));
  exports.Set("scatter", Napi::Function::New(env, Scatter));
  exports.Set("indexSelect", Napi::Function::New(env, IndexSelect));
  exports.Set("indexAdd", Napi::Function::New(env, IndexAdd));
  exports.Set("argsort", Napi::Function::New(env, Argsort));
  exports.Set("adaptiveAvgPool", Napi::Function::New(env, AdaptiveAvgPool));
}

}  // namespace ms
