// N-API entry points of the cpu backend. Each function receives JavaScript typed arrays and small
// integer arrays describing shapes; kernels read and write the arrays' memory in place, so no tensor
// data is copied between JavaScript and C++. Argument checking is the TypeScript side's job
// (src/backend/cpu/), which alone calls these functions.
#include <napi.h>

#include <string>
#include <thread>

#include "gemm.h"
#include "indexing.h"
#include "kernels.h"
#include "memory.h"
#include "norm.h"
#include "optim.h"
#include "pool.h"
#include "rnn.h"

namespace {

using ms::DT;

struct Arr {
  void* data;
  DT dt;
  int64_t length;
};

Arr arr(const Napi::Value& v) {
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  DT dt = DT::f32;
  switch (t.TypedArrayType()) {
    case napi_float32_array: dt = DT::f32; break;
    case napi_float64_array: dt = DT::f64; break;
    case napi_int32_array: dt = DT::i32; break;
    default: dt = DT::u8; break;
  }
  uint8_t* base = static_cast<uint8_t*>(t.ArrayBuffer().Data());
  return {base == nullptr ? nullptr : base + t.ByteOffset(), dt, static_cast<int64_t>(t.ElementLength())};
}

std::vector<int64_t> ints(const Napi::Value& v) {
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

int64_t i64(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
double f64(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }
bool flag(const Napi::Value& v) { return v.As<Napi::Boolean>().Value(); }

ms::Operand operand(const Napi::Value& data, const Napi::Value& strides) {
  Arr a = arr(data);
  return {a.data, a.dt, ints(strides)};
}

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

// binary(op, a, aStrides, b, bStrides, out, shape)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Arr o = arr(info[5]);
  ms::binary(static_cast<int>(i64(info[0])), operand(info[1], info[2]), operand(info[3], info[4]), o.dt, o.data,
             ints(info[6]));
  return info.Env().Undefined();
}

// where(c, cStrides, a, aStrides, b, bStrides, out, shape)
Napi::Value Where(const Napi::CallbackInfo& info) {
  ms::where(operand(info[0], info[1]), operand(info[2], info[3]), operand(info[4], info[5]), arr(info[6]).data,
            ints(info[7]));
  return info.Env().Undefined();
}

// strided(x, out, shape, strides, base, scatter)
Napi::Value Strided(const Napi::CallbackInfo& info) {
  Arr x = arr(info[0]), o = arr(info[1]);
  ms::stridedCopy(x.dt, x.data, o.data, ints(info[2]), ints(info[3]), i64(info[4]), flag(info[5]));
  return info.Env().Undefined();
}

// reduce(op, x, shape, axes, out)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Arr x = arr(info[1]), o = arr(info[4]);
  std::vector<int64_t> shape = ints(info[2]);
  std::vector<bool> red(shape.size(), false);
  for (int64_t a : ints(info[3])) red[a] = true;
  ms::reduce(static_cast<int>(i64(info[0])), x.dt, x.data, shape, red, o.dt, o.data);
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

// bmm(a, b, out, batch, M, N, K, transA, transB)
Napi::Value Bmm(const Napi::CallbackInfo& info) {
  Arr a = arr(info[0]), b = arr(info[1]), o = arr(info[2]);
  ms::bmm(a.dt, a.data, b.data, o.data, i64(info[3]), i64(info[4]), i64(info[5]), i64(info[6]), flag(info[7]),
          flag(info[8]));
  return info.Env().Undefined();
}

// softmax(x, out, outer, len, inner, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Arr x = arr(info[0]), o = arr(info[1]);
  ms::softmax(x.dt, x.data, o.data, i64(info[2]), i64(info[3]), i64(info[4]), flag(info[5]));
  return info.Env().Undefined();
}

// conv(kind, in0, in1, out, [N, C, H, W, O, Cg, KH, KW, HO, WO, sh, sw, ph, pw, dh, dw, groups])
// kind 0: y = conv2d(x, w); 1: gx = backwardInput(gy, w); 2: gw = backwardWeight(x, gy).
Napi::Value Conv(const Napi::CallbackInfo& info) {
  Arr a = arr(info[1]), b = arr(info[2]), o = arr(info[3]);
  std::vector<int64_t> v = ints(info[4]);
  ms::ConvGeom g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16]};
  switch (i64(info[0])) {
    case 0: ms::conv2d(a.dt, a.data, b.data, o.data, g); break;
    case 1: ms::conv2dBackwardInput(a.dt, a.data, b.data, o.data, g); break;
    default: ms::conv2dBackwardWeight(a.dt, a.data, b.data, o.data, g); break;
  }
  return info.Env().Undefined();
}

// pool(kind, in, out, [NC, H, W, HO, WO, kh, kw, sh, sw, ph, pw, dh, dw, countIncludePad], divisorOverride)
// kind 0: maxPool2dIndices; 1: avgPool2d; 2: avgPool2dBackward.
Napi::Value Pool(const Napi::CallbackInfo& info) {
  Arr x = arr(info[1]), o = arr(info[2]);
  std::vector<int64_t> v = ints(info[3]);
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
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("where", Napi::Function::New(env, Where));
  exports.Set("strided", Napi::Function::New(env, Strided));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("argReduce", Napi::Function::New(env, ArgReduce));
  exports.Set("cumsum", Napi::Function::New(env, Cumsum));
  exports.Set("bmm", Napi::Function::New(env, Bmm));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("conv", Napi::Function::New(env, Conv));
  exports.Set("pool", Napi::Function::New(env, Pool));
  exports.Set("uniform", Napi::Function::New(env, Uniform));
  ms::registerIndexing(env, exports);
  ms::registerMemory(env, exports);
  ms::registerRnn(env, exports);
  ms::registerNorm(env, exports);
  ms::registerOptim(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(milestones_cpu, Init)
