// AVX2+FMA tier (Haswell and later, Zen): every function in this file is compiled for AVX2+FMA.
#include "kernel_table.h"
#ifdef PW_X86
#include <immintrin.h>
#include <math.h>
#include <string.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

_Static_assert(PW_GEMM_MR == 12 && PW_GEMM_NR == 32, "the AVX2 kernel is written for 12×32 blocks");

// Rows [r0, r0+6) × 16 columns of a 12×32 block: 12 accumulators + 2 B vectors + 1 broadcast of the
// 16 ymm registers.
static inline __attribute__((always_inline))
void kernel6x16(int K, const float *A, int r0, const float *B, float *M, size_t ldm, const int add) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    __m256 a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    for (int c = 0; c < K; c++) {
        const float *b = B + (size_t)c * PW_GEMM_NR;
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        const float *a = A + (size_t)c * PW_GEMM_MR + r0;
        __m256 s;
        s = _mm256_broadcast_ss(a + 0); a0 = _mm256_fmadd_ps(s, b0, a0);  a1 = _mm256_fmadd_ps(s, b1, a1);
        s = _mm256_broadcast_ss(a + 1); a2 = _mm256_fmadd_ps(s, b0, a2);  a3 = _mm256_fmadd_ps(s, b1, a3);
        s = _mm256_broadcast_ss(a + 2); a4 = _mm256_fmadd_ps(s, b0, a4);  a5 = _mm256_fmadd_ps(s, b1, a5);
        s = _mm256_broadcast_ss(a + 3); a6 = _mm256_fmadd_ps(s, b0, a6);  a7 = _mm256_fmadd_ps(s, b1, a7);
        s = _mm256_broadcast_ss(a + 4); a8 = _mm256_fmadd_ps(s, b0, a8);  a9 = _mm256_fmadd_ps(s, b1, a9);
        s = _mm256_broadcast_ss(a + 5); a10 = _mm256_fmadd_ps(s, b0, a10); a11 = _mm256_fmadd_ps(s, b1, a11);
    }
#define ST(r, x, y) { float *row = M + (size_t)(r) * ldm; \
        if (add) { x = _mm256_add_ps(_mm256_loadu_ps(row), x); y = _mm256_add_ps(_mm256_loadu_ps(row + 8), y); } \
        _mm256_storeu_ps(row, x); _mm256_storeu_ps(row + 8, y); }
    ST(0, a0, a1) ST(1, a2, a3) ST(2, a4, a5) ST(3, a6, a7) ST(4, a8, a9) ST(5, a10, a11)
#undef ST
}

static void tier_panel(int K, const float *A, const float *B, float *M, size_t ldm) {
    kernel6x16(K, A, 0, B, M, ldm, 0);
    kernel6x16(K, A, 0, B + 16, M + 16, ldm, 0);
    kernel6x16(K, A, 6, B, M + 6 * ldm, ldm, 0);
    kernel6x16(K, A, 6, B + 16, M + 6 * ldm + 16, ldm, 0);
}

// M += A · B, the product summed from zero first (one chunk of a chunked sum, added in place).
static void tier_panel_add(int K, const float *A, const float *B, float *M, size_t ldm) {
    kernel6x16(K, A, 0, B, M, ldm, 1);
    kernel6x16(K, A, 0, B + 16, M + 16, ldm, 1);
    kernel6x16(K, A, 6, B, M + 6 * ldm, ldm, 1);
    kernel6x16(K, A, 6, B + 16, M + 6 * ldm + 16, ldm, 1);
}
#define PW_TIER_PANEL_ADD 1

// The left half (MR×NR/2) of a block, for a last block of at most NR/2 columns: its columns get the
// same sums as in a whole block.
static void tier_panel_narrow(int K, const float *A, const float *B, float *M, size_t ldm) {
    kernel6x16(K, A, 0, B, M, ldm, 0);
    kernel6x16(K, A, 6, B, M + 6 * ldm, ldm, 0);
}
static void tier_panel_narrow_add(int K, const float *A, const float *B, float *M, size_t ldm) {
    kernel6x16(K, A, 0, B, M, ldm, 1);
    kernel6x16(K, A, 6, B, M + 6 * ldm, ldm, 1);
}
#define PW_TIER_PANEL_NARROW 1

// Edge blocks: only the 6×16 quarters that hold any of the rows × cols.
static void tier_block(int K, const float *A, const float *B, float *M, size_t ldm, int rows, int cols) {
    kernel6x16(K, A, 0, B, M, ldm, 0);
    if (cols > 16) kernel6x16(K, A, 0, B + 16, M + 16, ldm, 0);
    if (rows > 6) {
        kernel6x16(K, A, 6, B, M + 6 * ldm, ldm, 0);
        if (cols > 16) kernel6x16(K, A, 6, B + 16, M + 6 * ldm + 16, ldm, 0);
    }
}

#include "tier_body.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

const pw_kernel_table pw_kernels_avx2 = PW_TIER_TABLE;
#endif
