// N-API entry points of the cpu backend. Each function receives JavaScript typed arrays and, packed in
// one Float64Array, the integers describing shapes (napi-glue.h says why); kernels read and write the arrays' memory in place, so no tensor
// data is copied between JavaScript and C++. Argument checking is the TypeScript side's job
// (src/backend/cpu/), which alone calls these functions.
#include <napi.h>

#include <string>
#include <thread>

#include "gemm.h"
#include "indexing.h"
#include "kernels.h"
#include "memory.h"
#include "napi-glue.h"
#include "norm.h"
#include "optim.h"
#include "pool.h"
#include "rnn.h"
#include "vmath.h"

namespace {

using ms::DT;

using ms::Arr;
using ms::arr;
using ms::doubles;
using ms::f64;
using ms::flag;
using ms::i64;
using ms::ints;

// Operand k of an elementwise call whose geometry g is [rank, shape, strides of operand 0, 1, ...].
ms::Operand operand(const Napi::Value& data, const double* g, int k) {
  Arr a = arr(data);
  const int64_t rank = static_cast<int64_t>(g[0]);
  return {a.data, a.dt, ints(g + 1 + (k + 1) * rank, rank)};
}

std::vector<int64_t> shapeOf(const double* g) { return ints(g + 1, static_cast<int64_t>(g[0])); }

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("isa", std::string(ms::gemmIsa()));
  o.Set("threads", ms::pool().size());
  o.Set("cores", static_cast<double>(std::thread::hardware_concurrency()));
  return o;
}

// unary(op, x, out, p0, p1, p2)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Arr x = arr(info[1]), o = arr(info[2]);
  const double p[3] = {f64(info[3]), f64(info[4]), f64(info[5])};
  ms::unary(static_cast<int>(i64(info[0])), x.dt, x.data, o.dt, o.data, x.length, p);
  return info.Env().Undefined();
}

// binary(op, a, b, out, geometry): geometry is a Float64Array [rank, shape, aStrides, bStrides]
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Arr o = arr(info[3]);
  const double* g = doubles(info[4]);
  ms::binary(static_cast<int>(i64(info[0])), operand(info[1], g, 0), operand(info[2], g, 1), o.dt, o.data, shapeOf(g));
  return info.Env().Undefined();
}

// where(c, a, b, out, geometry): geometry is a Float64Array [rank, shape, cStrides, aStrides, bStrides]
Napi::Value Where(const Napi::CallbackInfo& info) {
  const double* g = doubles(info[4]);
  ms::where(operand(info[0], g, 0), operand(info[1], g, 1), operand(info[2], g, 2), arr(info[3]).data, shapeOf(g));
  return info.Env().Undefined();
}

// reluBackward(y, gy, out): three float arrays of one dtype and length
Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  Arr y = arr(info[0]);
  ms::reluBackward(y.dt, y.data, arr(info[1]).data, arr(info[2]).data, y.length);
  return info.Env().Undefined();
}

// smoothL1Backward(x, gy, out, beta): three float arrays of one dtype and length
Napi::Value SmoothL1Backward(const Napi::CallbackInfo& info) {
  Arr x = arr(info[0]);
  ms::smoothL1Backward(x.dt, x.data, arr(info[1]).data, arr(info[2]).data, x.length, f64(info[3]));
  return info.Env().Undefined();
}

// strided(x, out, geometry, base, scatter): geometry is a Float64Array [rank, shape, strides]
Napi::Value Strided(const Napi::CallbackInfo& info) {
  Arr x = arr(info[0]), o = arr(info[1]);
  const double* g = doubles(info[2]);
  const int64_t rank = static_cast<int64_t>(g[0]);
  ms::stridedCopy(x.dt, x.data, o.data, shapeOf(g), ints(g + 1 + rank, rank), i64(info[3]), flag(info[4]));
  return info.Env().Undefined();
}

// reduce(op, x, geometry, out): geometry is a Float64Array [rank, shape, 1 on reduced axes else 0]
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Arr x = arr(info[1]), o = arr(info[3]);
  const double* g = doubles(info[2]);
  const int64_t rank = static_cast<int64_t>(g[0]);
  std::vector<bool> red(static_cast<size_t>(rank), false);
  for (int64_t d = 0; d < rank; d++) red[d] = g[1 + rank + d] != 0;
  ms::reduce(static_cast<int>(i64(info[0])), x.dt, x.data, shapeOf(g), red, o.dt, o.data);
  return info.Env().Undefined();
}

// argReduce(isMax, x, outer, len, inner, out)
Napi::Value ArgReduce(const Napi::CallbackInfo& info) {
  Arr x = arr(info[1]), o = arr(info[5]);
  ms::argReduce(flag(info[0]), x.dt, x.data, i64(info[2]), i64(info[3]), i64(info[4]), static_cast<int32_t*>(o.data));
  return info.Env().Undefined();
}

// cumsum(x, out, outer, len, inner)
Napi::Value Cumsum(const Napi::CallbackInfo& info) {
  Arr x = arr(info[0]), o = arr(info[1]);
  ms::cumsum(x.dt, x.data, o.dt, o.data, i64(info[2]), i64(info[3]), i64(info[4]));
  return info.Env().Undefined();
}

// bmm(a, b, out, geometry[, bias]): geometry is a Float64Array [batch, M, N, K, transA, transB] (six arguments
// or fewer keep node-addon-api from allocating the argument list)
Napi::Value Bmm(const Napi::CallbackInfo& info) {
  Arr a = arr(info[0]), b = arr(info[1]), o = arr(info[2]);
  const double* g = doubles(info[3]);
  const int64_t batch = static_cast<int64_t>(g[0]), M = static_cast<int64_t>(g[1]), N = static_cast<int64_t>(g[2]);
  ms::bmm(a.dt, a.data, b.data, o.data, batch, M, N, static_cast<int64_t>(g[3]), g[4] != 0, g[5] != 0);
  if (info.Length() > 4 && info[4].IsTypedArray()) ms::addBias(o.dt, o.data, arr(info[4]).data, batch * M, N, 1);
  return info.Env().Undefined();
}

// softmax(x, out, outer, len, inner, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Arr x = arr(info[0]), o = arr(info[1]);
  ms::softmax(x.dt, x.data, o.data, i64(info[2]), i64(info[3]), i64(info[4]), flag(info[5]));
  return info.Env().Undefined();
}

// dropout(x, y, keep, key0, key1, counter, p)
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  Arr x = arr(info[0]), y = arr(info[1]), k = arr(info[2]);
  ms::dropout(x.dt, x.data, y.data, static_cast<uint8_t*>(k.data), x.length, static_cast<uint32_t>(i64(info[3])),
              static_cast<uint32_t>(i64(info[4])), f64(info[5]), f64(info[6]));
  return info.Env().Undefined();
}

// dropoutBackward(g, keep, out, p)
Napi::Value DropoutBackward(const Napi::CallbackInfo& info) {
  Arr g = arr(info[0]), k = arr(info[1]), o = arr(info[2]);
  ms::dropoutBackward(g.dt, g.data, static_cast<const uint8_t*>(k.data), o.data, g.length, f64(info[3]));
  return info.Env().Undefined();
}

// renorm(x, out, outer, len, inner, p, maxnorm)
Napi::Value Renorm(const Napi::CallbackInfo& info) {
  Arr x = arr(info[0]), o = arr(info[1]);
  ms::renorm(x.dt, x.data, o.data, i64(info[2]), i64(info[3]), i64(info[4]), f64(info[5]), f64(info[6]));
  return info.Env().Undefined();
}

// conv(kind, in0, in1, out, geometry[, bias]): geometry is a Float64Array
// [N, C, H, W, O, Cg, KH, KW, HO, WO, sh, sw, ph, pw, dh, dw, groups]
// kind 0: y = conv2d(x, w) (+ bias [O] per output channel); 1: gx = backwardInput(gy, w);
// 2: gw = backwardWeight(x, gy).
Napi::Value Conv(const Napi::CallbackInfo& info) {
  Arr a = arr(info[1]), b = arr(info[2]), o = arr(info[3]);
  const std::vector<int64_t> v = ints(doubles(info[4]), 17);
  ms::ConvGeom g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16]};
  switch (i64(info[0])) {
    case 0: {
      const void* bias = info.Length() > 5 && info[5].IsTypedArray() ? arr(info[5]).data : nullptr;
      ms::conv2d(a.dt, a.data, b.data, bias, o.data, g);
      break;
    }
    case 1: ms::conv2dBackwardInput(a.dt, a.data, b.data, o.data, g); break;
    default: ms::conv2dBackwardWeight(a.dt, a.data, b.data, o.data, g); break;
  }
  return info.Env().Undefined();
}

// pool(kind, in, out, geometry, divisorOverride): geometry is a Float64Array
// [NC, H, W, HO, WO, kh, kw, sh, sw, ph, pw, dh, dw, countIncludePad]
// kind 0: maxPool2dIndices; 1: avgPool2d; 2: avgPool2dBackward.
Napi::Value Pool(const Napi::CallbackInfo& info) {
  Arr x = arr(info[1]), o = arr(info[2]);
  const std::vector<int64_t> v = ints(doubles(info[3]), 14);
  ms::PoolGeom g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13] != 0, f64(info[4])};
  switch (i64(info[0])) {
    case 0: ms::maxPool2dIndices(x.dt, x.data, static_cast<int32_t*>(o.data), g); break;
    case 1: ms::avgPool2d(x.dt, x.data, o.data, g); break;
    default: ms::avgPool2dBackward(x.dt, x.data, o.data, g); break;
  }
  return info.Env().Undefined();
}

// uniform(out, key0, key1, counter)
Napi::Value Uniform(const Napi::CallbackInfo& info) {
  Arr o = arr(info[0]);
  ms::philoxUniform(o.dt, o.data, o.length, static_cast<uint32_t>(i64(info[1])), static_cast<uint32_t>(i64(info[2])),
                    f64(info[3]));
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info));
  // The argument layout above; src/backend/cpu/addon.ts refuses an addon built with another.
  exports.Set("glueVersion", Napi::Number::New(env, 4));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("where", Napi::Function::New(env, Where));
  exports.Set("reluBackward", Napi::Function::New(env, ReluBackward));
  exports.Set("smoothL1Backward", Napi::Function::New(env, SmoothL1Backward));
  exports.Set("strided", Napi::Function::New(env, Strided));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("argReduce", Napi::Function::New(env, ArgReduce));
  exports.Set("cumsum", Napi::Function::New(env, Cumsum));
  exports.Set("bmm", Napi::Function::New(env, Bmm));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("renorm", Napi::Function::New(env, Renorm));
  exports.Set("dropout", Napi::Function::New(env, Dropout));
  exports.Set("dropoutBackward", Napi::Function::New(env, DropoutBackward));
  exports.Set("conv", Napi::Function::New(env, Conv));
  exports.Set("pool", Napi::Function::New(env, Pool));
  exports.Set("uniform", Napi::Function::New(env, Uniform));
  ms::registerIndexing(env, exports);
  ms::registerMemory(env, exports);
  ms::registerRnn(env, exports);
  ms::registerNorm(env, exports);
  ms::registerOptim(env, exports);
  ms::registerVmath(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(milestones_cpu, Init)
