// Indexing kernels (indexing.cc): gather, scatter, scatterAdd, indexSelect, indexAdd, argsort and
// adaptive average pooling with its backward. Every kernel gives the reference backend's result
// bit for bit, for any number of threads: accumulating kernels split work only across the
// dimensions that are not indexed, so each output element is summed by one task in index order.
#pragma once
#include <napi.h>

namespace ms {

// Adds the indexing functions to the addon's exports (called from addon.cc's Init).
void registerIndexing(Napi::Env env, Napi::Object exports);

}  // namespace ms
