// Argument reading shared by the N-API entry points (addon.cc, indexing.cc, norm.cc, rnn.cc, optim.cc).
// Tiny tensors make the glue, not the kernel, the cost of a call: each N-API call is tens of
// nanoseconds, so a typed array is read with one napi_get_typedarray_info call and shapes, strides
// and geometry arrive packed in one Float64Array rather than as JavaScript arrays read element by
// element (src/backend/cpu/index.ts packs them).
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "kernels.h"

namespace ms {

/** A typed array's memory, dtype and element count. */
struct Arr {
  void* data;
  DT dt;
  int64_t length;
};

/** Reads a typed array in one N-API call (its data pointer already includes the byte offset). */
inline Arr arr(const Napi::Value& v) {
  napi_typedarray_type type = napi_uint8_array;
  size_t length = 0;
  void* data = nullptr;
  napi_get_typedarray_info(v.Env(), v, &type, &length, &data, nullptr, nullptr);
  DT dt = DT::u8;
  switch (type) {
    case napi_float32_array: dt = DT::f32; break;
    case napi_float64_array: dt = DT::f64; break;
    case napi_int32_array: dt = DT::i32; break;
    default: dt = DT::u8; break;
  }
  return {data, dt, static_cast<int64_t>(length)};
}

/** The values of a Float64Array of packed integers (shapes, strides, geometry). */
inline const double* doubles(const Napi::Value& v) { return static_cast<const double*>(arr(v).data); }

/** n packed integers starting at p. */
inline std::vector<int64_t> ints(const double* p, int64_t n) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) out[i] = static_cast<int64_t>(p[i]);
  return out;
}

/** A list of integers given as a Float64Array or Int32Array (one N-API call) or a JavaScript array. */
inline std::vector<int64_t> ints(const Napi::Value& v) {
  napi_typedarray_type type = napi_uint8_array;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(v.Env(), v, &type, &length, &data, nullptr, nullptr) == napi_ok) {
    if (type == napi_float64_array) return ints(static_cast<const double*>(data), static_cast<int64_t>(length));
    const int32_t* p = static_cast<const int32_t*>(data);
    return std::vector<int64_t>(p, p + length);
  }
  Napi::Array a = v.As<Napi::Array>();
  const uint32_t n = a.Length();
  std::vector<int64_t> out(n);
  for (uint32_t i = 0; i < n; i++) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

inline int64_t i64(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
inline double f64(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }
inline bool flag(const Napi::Value& v) { return v.As<Napi::Boolean>().Value(); }

}  // namespace ms
