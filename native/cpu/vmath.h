// Vectorised float32 transcendental maps: exp, tanh, sigmoid, GELU (tanh form), its derivative and SiLU, computed
// in double in vector registers instead of one libm call per element (tanh was 25 ns an element).
// Results differ from the reference's libm-in-double by at most one float32 rounding step, and are
// the same bits for any thread count and any of the three builds (AVX-512, AVX2, portable).
#pragma once
#include <napi.h>

#include <cstdint>

namespace ms {

// o[i] = op(x[i]) for the elementwise.cc unary op codes exp (3), tanh (10), sigmoid (11),
// geluTanh (15) and silu (16), in parallel. Returns false, doing nothing, for any other op.
bool vectorUnaryF32(int op, const float* x, float* o, int64_t n);

// Adds geluTanhBackward(x, gy, out) to the addon's exports (called from addon.cc's Init); the
// primitive is defined in src/ops/primitives.ts and src/backend/reference/math.ts.
void registerVmath(Napi::Env env, Napi::Object exports);

}  // namespace ms
