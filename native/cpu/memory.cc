// Allocator settings for tensor storage. Every cpu tensor is a JavaScript ArrayBuffer whose memory
// comes from the C library's malloc, and the garbage collector frees a whole batch of them at once.
// With glibc's defaults, blocks above 128 KiB (the threshold adapts up to 32 MiB) are fresh mmap
// regions, and freed memory at the top of the heap is returned to the kernel: every new large
// tensor then costs a page fault per 4 KiB while the kernel zeroes the page, often more than the
// arithmetic that fills it. Raising both thresholds keeps freed blocks in the heap for reuse, which
// is what an allocator does for PyTorch (its tensors are freed one at a time, so glibc's fast
// paths recycle them). The cost: up to `trimThreshold` bytes of freed memory stay mapped.
#include "memory.h"

#include <cstdint>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ms {

namespace {

// tuneAllocator(mmapThreshold, trimThreshold) -> whether the C library took the settings
Napi::Value TuneAllocator(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  const int mmapThreshold = info[0].As<Napi::Number>().Int32Value();
  const int trimThreshold = info[1].As<Napi::Number>().Int32Value();
  const bool ok = mallopt(M_MMAP_THRESHOLD, mmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, trimThreshold) == 1;
  return Napi::Boolean::New(info.Env(), ok);
#else
  return Napi::Boolean::New(info.Env(), false);  // other C libraries keep their own policy
#endif
}

// addressMod64(arrayBuffer) -> the address of its first byte modulo 64. malloc aligns to 16 bytes
// only; src/backend/cpu/memory.ts uses this to start large tensors on a 64-byte boundary, where a
// 64-byte vector load never spans two cache lines.
Napi::Value AddressMod64(const Napi::CallbackInfo& info) {
  const auto address = reinterpret_cast<uintptr_t>(info[0].As<Napi::ArrayBuffer>().Data());
  return Napi::Number::New(info.Env(), static_cast<double>(address & 63));
}

}  // namespace

void registerMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("tuneAllocator", Napi::Function::New(env, TuneAllocator));
  exports.Set("addressMod64", Napi::Function::New(env, AddressMod64));
}

}  // namespace ms
