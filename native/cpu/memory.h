// Process allocator settings for tensor storage (memory.cc).
#pragma once
#include <napi.h>

namespace ms {

// Adds `tuneAllocator` to the addon's exports (called from addon.cc's Init).
void registerMemory(Napi::Env env, Napi::Object exports);

}  // namespace ms
