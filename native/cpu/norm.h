// Normalisation kernels (batch norm, layer norm, forward and backward) and the softmax backward
// kernels; the primitives are defined in src/ops/primitives.ts and src/backend/reference/norm.ts.
// Every per-channel or per-row sum runs on one thread in a fixed order (eight lanes, then double),
// so results are the same for any MILESTONES_NUM_THREADS.
#pragma once
#include <napi.h>

#include <cstdint>

#include "kernels.h"

namespace ms {

// Adds batchNorm, batchNormBackward, layerNorm, layerNormBackward and softmaxBackward to the
// addon's exports (called from addon.cc's Init); argument order is in src/backend/cpu/addon.ts.
void registerNorm(Napi::Env env, Napi::Object exports);

// x [N, C, S] -> y, and per channel the batch mean and 1 / sqrt(biased variance + eps).
void batchNorm(DT dt, const void* x, const void* w, const void* b, void* y, void* mean, void* invstd, int64_t N,
               int64_t C, int64_t S, double eps);
// (gy, x, mean, invstd, w) -> gx, gw = sum(gy * xhat), gb = sum(gy) per channel.
void batchNormBackward(DT dt, const void* gy, const void* x, const void* mean, const void* invstd, const void* w,
                       void* gx, void* gw, void* gb, int64_t N, int64_t C, int64_t S);
// x [rows, D] -> y, and per row the mean and 1 / sqrt(biased variance + eps); w and b are [D].
void layerNorm(DT dt, const void* x, const void* w, const void* b, void* y, void* mean, void* rstd, int64_t rows,
               int64_t D, double eps);
// (gy, x, mean, rstd, w) -> gx, gw = sum over rows of gy * xhat, gb = sum over rows of gy.
void layerNormBackward(DT dt, const void* gy, const void* x, const void* mean, const void* rstd, const void* w,
                       void* gx, void* gw, void* gb, int64_t rows, int64_t D);
// softmax: gx = y * (gy - sum(gy * y)); log: gx = gy - exp(y) * sum(gy); along len of [outer, len, inner].
void softmaxBackward(DT dt, const void* y, const void* gy, void* out, int64_t outer, int64_t len, int64_t inner,
                     bool log);

}  // namespace ms
