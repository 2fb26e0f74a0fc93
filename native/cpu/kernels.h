// The kernels behind the N-API functions in addon.cc. Every pointer is the data of a JavaScript
// typed array (no copies); every output buffer was allocated by the caller at its final size.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace ms {

// Storage dtypes, in the order of src/backend/cpu/addon.ts.
enum class DT : int { f32 = 0, f64 = 1, i32 = 2, u8 = 3 };

#define MS_DISPATCH(dt, T, ...)            \
  switch (dt) {                            \
    case ::ms::DT::f32: {                  \
      using T = float;                     \
      __VA_ARGS__;                         \
      break;                               \
    }                                      \
    case ::ms::DT::f64: {                  \
      using T = double;                    \
      __VA_ARGS__;                         \
      break;                               \
    }                                      \
    case ::ms::DT::i32: {                  \
      using T = int32_t;                   \
      __VA_ARGS__;                         \
      break;                               \
    }                                      \
    case ::ms::DT::u8: {                   \
      using T = uint8_t;                   \
      __VA_ARGS__;                         \
      break;                               \
    }                                      \
  }

// Stores a double the way a JavaScript typed array does (ECMAScript ToInt32 / ToUint8 for the
// integer arrays), so integer results match the reference backend exactly.
template <class U>
inline U storeAs(double v) {
  return static_cast<U>(v);
}
template <>
inline int32_t storeAs<int32_t>(double v) {
  if (!std::isfinite(v)) return 0;
  double t = std::trunc(v);
  double m = std::fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}
template <>
inline uint8_t storeAs<uint8_t>(double v) {
  if (!std::isfinite(v)) return 0;
  double t = std::trunc(v);
  double m = std::fmod(t, 256.0);
  if (m < 0) m += 256.0;
  return static_cast<uint8_t>(m);
}

// Broadcast operand: data pointer plus an element stride per output dimension (0 where broadcast).
struct Operand {
  const void* data;
  DT dtype;
  std::vector<int64_t> strides;
};

// elementwise.cc
void unary(int op, DT dt, const void* x, DT outDt, void* out, int64_t n, const double* params);
void binary(int op, const Operand& a, const Operand& b, DT outDt, void* out, const std::vector<int64_t>& shape);
void where(const Operand& c, const Operand& a, const Operand& b, void* out, const std::vector<int64_t>& shape);
// out = y > 0 ? gy : 0 over n float elements (ReLU's gradient; NaN in y gives 0).
void reluBackward(DT dt, const void* y, const void* gy, void* out, int64_t n);
// out = gy * clamp(x / beta, -1, 1): the gradient of smoothL1 (op 24 of unary).
void smoothL1Backward(DT dt, const void* x, const void* gy, void* out, int64_t n, double beta);
void stridedCopy(DT dt, const void* x, void* out, const std::vector<int64_t>& shape,
                 const std::vector<int64_t>& strides, int64_t base, bool scatter);

// reduce.cc
void reduce(int op, DT dt, const void* x, const std::vector<int64_t>& shape, const std::vector<bool>& reduced,
            DT outDt, void* out);
void argReduce(bool max, DT dt, const void* x, int64_t outer, int64_t len, int64_t inner, int32_t* out);
void cumsum(DT dt, const void* x, DT outDt, void* out, int64_t outer, int64_t len, int64_t inner);
void bmm(DT dt, const void* a, const void* b, void* out, int64_t batch, int64_t M, int64_t N, int64_t K,
         bool transA, bool transB);
// out[r, c, i] += bias[c] for r < rows, c < C, i < inner: the bias of a linear layer (inner 1) or
// a convolution (inner HO * WO), added in the call that computed out, while it is in cache.
void addBias(DT dt, void* out, const void* bias, int64_t rows, int64_t C, int64_t inner);

// nn.cc
struct ConvGeom {
  int64_t N, C, H, W;     // input
  int64_t O, Cg, KH, KW;  // weight [O, C / groups, KH, KW]
  int64_t HO, WO;         // output
  int64_t sh, sw, ph, pw, dh, dw, groups;
};
void softmax(DT dt, const void* x, void* out, int64_t outer, int64_t len, int64_t inner, bool log);
// torch.renorm: sub-tensor i of x viewed as [outer, len, inner] scaled by maxnorm / (norm + 1e-7)
// where its p-norm exceeds maxnorm. out may be x (in place).
void renorm(DT dt, const void* x, void* out, int64_t outer, int64_t len, int64_t inner, double p, double maxnorm);
// Inverted dropout fused with its uniform draw: keep[i] = u[i] >= p (u the philoxUniform draw at
// this counter), y[i] = keep[i] ? x[i] / (1 - p) : 0, p and 1 - p rounded to dt.
void dropout(DT dt, const void* x, void* y, uint8_t* keep, int64_t n, uint32_t key0, uint32_t key1, double counter,
             double p);
// Its gradient: out[i] = keep[i] ? g[i] / (1 - p) : 0, 1 - p rounded to dt.
void dropoutBackward(DT dt, const void* g, const uint8_t* keep, void* out, int64_t n, double p);
// y = conv2d(x, w), plus bias [O] per output channel when bias is not null.
void conv2d(DT dt, const void* x, const void* w, const void* bias, void* y, const ConvGeom& g);
void conv2dBackwardInput(DT dt, const void* gy, const void* w, void* gx, const ConvGeom& g);
void conv2dBackwardWeight(DT dt, const void* x, const void* gy, void* gw, const ConvGeom& g);
struct PoolGeom {
  int64_t NC, H, W, HO, WO, kh, kw, sh, sw, ph, pw, dh, dw;
  bool countIncludePad;
  double divisorOverride;  // 0 when absent
};
void maxPool2dIndices(DT dt, const void* x, int32_t* out, const PoolGeom& g);
void avgPool2d(DT dt, const void* x, void* y, const PoolGeom& g);
void avgPool2dBackward(DT dt, const void* gy, void* gx, const PoolGeom& g);
void philoxUniform(DT dt, void* out, int64_t n, uint32_t key0, uint32_t key1, double counter);

}  // namespace ms
