// Fused optimizer updates and the gradient-clipping kernels (optim.cc). What each computes is
// defined by src/backend/reference/optim.ts; src/backend/cpu/optim.ts packs the arguments.
#pragma once
#include <napi.h>

#include <cstdint>

#include "kernels.h"

namespace ms {

// Adds optim, sumOfSquares and scale to the addon's exports (called from addon.cc's Init); argument
// order is in src/backend/cpu/addon.ts.
void registerOptim(Napi::Env env, Napi::Object exports);

// One update of one parameter, in place. `buf` holds the parameter, the gradient and the state
// buffers (nullptr: unused), `s` the settings, all in the order of src/backend/cpu/optim.ts:
//   0 sgd      buf: param, grad, momentumBuffer
//              s:   lr, momentum, dampening, weightDecay, nesterov, maximize, firstStep
//   1 adam     buf: param, grad, expAvg, expAvgSq, maxExpAvgSq
//              s:   lr, beta1, beta2, eps, weightDecay, decoupled, maximize, stepSize, biasCorrection2Sqrt
//   2 rmsprop  buf: param, grad, squareAvg, gradAvg, momentumBuffer
//              s:   lr, alpha, eps, weightDecay, momentum, epsInside, maximize
//   3 adagrad  buf: param, grad, sum
//              s:   clr, eps, weightDecay, maximize
//   4 adadelta buf: param, grad, squareAvg, accDelta
//              s:   lr, rho, eps, weightDecay, maximize
//   5 adamax   buf: param, grad, expAvg, expInf
//              s:   clr, beta1, beta2, eps, weightDecay, maximize
// Flags are 0 or 1. Every buffer has `n` elements of dtype `dt` (f32 or f64) and no two alias.
struct OptimArgs {
  int kind;
  DT dt;
  int64_t n;
  void* buf[5];
  double s[9];
};
void optimizerStep(const OptimArgs& a);

// total + the sum of squares of x[0..n), in the blocked order of reference/optim.ts.
double sumOfSquares(DT dt, const void* x, int64_t n, double total);

// x[i] *= factor[0] (factor has x's dtype).
void scaleInPlace(DT dt, void* x, int64_t n, const void* factor);

}  // namespace ms
