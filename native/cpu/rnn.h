// Fused recurrent layers (lstmSequence, gruSequence and their backward primitives): a whole
// sequence per call, the recurrent product of each step through gemm. The reference kernels in
// src/backend/reference/rnn.ts define what each computes.
#pragma once
#include <napi.h>

namespace ms {

// Adds lstmSequence, lstmSequenceBackward, gruSequence and gruSequenceBackward to the exports.
void registerRnn(Napi::Env env, Napi::Object exports);

}  // namespace ms
