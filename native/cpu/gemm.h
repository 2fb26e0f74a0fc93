// Matrix multiply C = A * B (or C += A * B) on strided operands, so transposed inputs need no copy.
// Element (i, k) of A is A[i * rsa + k * csa]; element (k, j) of B is B[k * rsb + j * csb];
// C is row-major with leading dimension ldc.
#pragma once
#include <cstdint>
#include <functional>

namespace ms {

// The instruction set the float32 micro-kernel uses: "avx512", "avx2" or "portable".
// Chosen once by CPUID; MILESTONES_CPU_ISA=portable|avx2|avx512 narrows the choice (for testing).
const char* gemmIsa();

// Whether gemmIsa() is "avx512": the check every kernel with an AVX-512 path makes (cached).
bool isaAvx512();

// Whether gemmIsa() is "avx2": AVX2 and FMA without AVX-512 (the kernels' 8-lane paths).
bool isaAvx2();

// When `parallel` is false the call runs on the calling thread only (for use inside pool tasks).
// Small products (up to about 4M multiply-adds with AVX-512 float32, x w^T up to 4M with AVX2,
// or matrix-vector ones) read A and B in place with no packing; larger ones are packed (gemm.cc
// says which path a shape takes). The path, and the summation order of every element, depend only
// on M, N, K and the strides, so the result is the same for any number of threads.
template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const T* A, int64_t rsa, int64_t csa, const T* B, int64_t rsb,
          int64_t csb, T* C, int64_t ldc, bool accumulate, bool parallel);

// Writes depth [k0, k0 + kc) x columns [j0, j0 + nr) of a virtual B as one panel: out[k * NR + j],
// zero for j >= nr. Lets a caller pack B straight from its own layout (convolution packs image
// patches directly, so the unfolded matrix is never written out).
template <class T>
using PanelB = std::function<void(int64_t k0, int64_t kc, int64_t j0, int64_t nr, int64_t NR, T* out)>;

template <class T>
void gemmPanelB(int64_t M, int64_t N, int64_t K, const T* A, int64_t rsa, int64_t csa, const PanelB<T>& panelB,
                T* C, int64_t ldc, bool accumulate, bool parallel);

}  // namespace ms
