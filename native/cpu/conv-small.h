// The forward pass of convolutions with at most 64 input taps (C * KH * KW), float32 with AVX-512:
// conv-small.cc.
#pragma once
#include "kernels.h"

namespace ms {

// Whether smallConvForward takes this shape (float32 on a CPU with AVX-512 or AVX2).
bool smallConv(const ConvGeom& g);
// y = conv2d(x, w) + bias (bias may be null).
void smallConvForward(const float* x, const float* w, const float* bias, float* y, const ConvGeom& g);

}  // namespace ms
