// A 16 x 16 float32 block transposed in AVX-512 registers, and an 8 x 8 one in AVX2's: shared by
// the convolution kernels (channel-major <-> position-major copies) and the GEMM's packing of
// transposed operands.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace ms {

// r[j] lane i <- r[i] lane j, for i, j < 16.
__attribute__((target("avx512f"))) inline void transpose16Regs(__m512 r[16]) {
  __m512 t[16];
  // The masked forms with every lane kept: GCC 12 warns about the unmasked ones' undefined source.
  const __m512 z = _mm512_setzero_ps();
  const __mmask16 all = 0xffff;
  for (int i = 0; i < 16; i += 2) {  // interleave rows in pairs
    t[i] = _mm512_mask_unpacklo_ps(z, all, r[i], r[i + 1]);
    t[i + 1] = _mm512_mask_unpackhi_ps(z, all, r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // then pairs of pairs (groups of 4 within each 128-bit lane)
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 16; i += 8)  // then 128-bit lanes across groups of 8 rows
    for (int j = 0; j < 4; j++) {
      t[i + j] = _mm512_mask_shuffle_f32x4(z, all, r[i + j], r[i + 4 + j], 0x88);
      t[i + 4 + j] = _mm512_mask_shuffle_f32x4(z, all, r[i + j], r[i + 4 + j], 0xDD);
    }
  for (int j = 0; j < 8; j++) {  // and across the two halves
    r[j] = _mm512_mask_shuffle_f32x4(z, all, t[j], t[8 + j], 0x88);
    r[8 + j] = _mm512_mask_shuffle_f32x4(z, all, t[j], t[8 + j], 0xDD);
  }
}

// out[k * ldo + i] = in[i * ldi + k] for i < rows, k < cols (rows, cols <= 16), and 0 for
// rows <= i < keep: `cols` output rows of `keep` floats each. Only those floats are read or written.
__attribute__((target("avx512f"))) inline void transposeBlock16(const float* in, int64_t ldi, int rows, int cols,
                                                                float* out, int64_t ldo, int keep) {
  __m512 r[16];
  const __mmask16 load = static_cast<__mmask16>((1u << cols) - 1);
  for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_maskz_loadu_ps(load, in + i * ldi) : _mm512_setzero_ps();
  transpose16Regs(r);
  const __mmask16 store = static_cast<__mmask16>((1u << keep) - 1);
  for (int k = 0; k < cols; k++) _mm512_mask_storeu_ps(out + k * ldo, store, r[k]);
}

// The same for 8 x 8 blocks in AVX registers (rows, cols, keep <= 8): for CPUs without AVX-512.
__attribute__((target("avx2"))) inline void transposeBlock8(const float* in, int64_t ldi, int rows, int cols,
                                                            float* out, int64_t ldo, int keep) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i load = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), lane);
  // Every loop unrolled, with the row and column counts as conditions inside, so the registers
  // stay registers (an array indexed by a runtime count lives in memory).
  __m256 r[8];
  #pragma GCC unroll 8
  for (int i = 0; i < 8; i++)
    r[i] = i >= rows ? _mm256_setzero_ps() : cols == 8 ? _mm256_loadu_ps(in + i * ldi) : _mm256_maskload_ps(in + i * ldi, load);
  __m256 t[8];
  #pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {  // interleave rows in pairs
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  #pragma GCC unroll 2
  for (int i = 0; i < 8; i += 4) {  // then pairs of pairs, within each 128-bit lane
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  #pragma GCC unroll 4
  for (int j = 0; j < 4; j++) {  // and the 128-bit halves across the two groups of four rows
    t[j] = _mm256_permute2f128_ps(r[j], r[4 + j], 0x20);
    t[4 + j] = _mm256_permute2f128_ps(r[j], r[4 + j], 0x31);
  }
  // Whole rows stored plainly, shorter ones through a copy (a masked store is slow on AMD's cores).
  #pragma GCC unroll 8
  for (int k = 0; k < 8; k++) {
    if (k >= cols) break;
    if (keep == 8) {
      _mm256_storeu_ps(out + k * ldo, t[k]);
    } else if (keep == 6) {  // the GEMM's 6-row panels: 4 + 2 floats
      _mm_storeu_ps(out + k * ldo, _mm256_castps256_ps128(t[k]));
      _mm_storel_pi(reinterpret_cast<__m64*>(out + k * ldo + 4), _mm256_extractf128_ps(t[k], 1));
    } else {
      alignas(32) float row[8];
      _mm256_store_ps(row, t[k]);
      for (int i = 0; i < keep; i++) out[k * ldo + i] = row[i];
    }
  }
}

}  // namespace ms
