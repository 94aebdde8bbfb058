// AVX-512 tier (F, VL, DQ, BW: Skylake-SP and later, Zen 4): every function in this file is compiled
// for AVX-512.
#include "kernel_table.h"
#ifdef PW_X86
#include <immintrin.h>
#include <math.h>
#include <string.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")
#endif

_Static_assert(PW_GEMM_MR == 12 && PW_GEMM_NR == 32, "the AVX-512 kernel is written for 12×32 blocks");

// 12×32 block: 24 zmm accumulators, 2 B vectors and one broadcast per row of A.
static void tier_panel(int K, const float *A, const float *B, float *M, size_t ldm) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    __m512 a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
    __m512 a16 = a0, a17 = a0, a18 = a0, a19 = a0, a20 = a0, a21 = a0, a22 = a0, a23 = a0;
    for (int c = 0; c < K; c++) {
        const float *b = B + (size_t)c * PW_GEMM_NR;
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        const float *a = A + (size_t)c * PW_GEMM_MR;
        __m512 s;
        s = _mm512_set1_ps(a[0]);  a0 = _mm512_fmadd_ps(s, b0, a0);  a1 = _mm512_fmadd_ps(s, b1, a1);
        s = _mm512_set1_ps(a[1]);  a2 = _mm512_fmadd_ps(s, b0, a2);  a3 = _mm512_fmadd_ps(s, b1, a3);
        s = _mm512_set1_ps(a[2]);  a4 = _mm512_fmadd_ps(s, b0, a4);  a5 = _mm512_fmadd_ps(s, b1, a5);
        s = _mm512_set1_ps(a[3]);  a6 = _mm512_fmadd_ps(s, b0, a6);  a7 = _mm512_fmadd_ps(s, b1, a7);
        s = _mm512_set1_ps(a[4]);  a8 = _mm512_fmadd_ps(s, b0, a8);  a9 = _mm512_fmadd_ps(s, b1, a9);
        s = _mm512_set1_ps(a[5]);  a10 = _mm512_fmadd_ps(s, b0, a10); a11 = _mm512_fmadd_ps(s, b1, a11);
        s = _mm512_set1_ps(a[6]);  a12 = _mm512_fmadd_ps(s, b0, a12); a13 = _mm512_fmadd_ps(s, b1, a13);
        s = _mm512_set1_ps(a[7]);  a14 = _mm512_fmadd_ps(s, b0, a14); a15 = _mm512_fmadd_ps(s, b1, a15);
        s = _mm512_set1_ps(a[8]);  a16 = _mm512_fmadd_ps(s, b0, a16); a17 = _mm512_fmadd_ps(s, b1, a17);
        s = _mm512_set1_ps(a[9]);  a18 = _mm512_fmadd_ps(s, b0, a18); a19 = _mm512_fmadd_ps(s, b1, a19);
        s = _mm512_set1_ps(a[10]); a20 = _mm512_fmadd_ps(s, b0, a20); a21 = _mm512_fmadd_ps(s, b1, a21);
        s = _mm512_set1_ps(a[11]); a22 = _mm512_fmadd_ps(s, b0, a22); a23 = _mm512_fmadd_ps(s, b1, a23);
    }
#define ST(r, x, y) _mm512_storeu_ps(M + (size_t)(r) * ldm, x); _mm512_storeu_ps(M + (size_t)(r) * ldm + 16, y);
    ST(0, a0, a1) ST(1, a2, a3) ST(2, a4, a5) ST(3, a6, a7) ST(4, a8, a9) ST(5, a10, a11)
    ST(6, a12, a13) ST(7, a14, a15) ST(8, a16, a17) ST(9, a18, a19) ST(10, a20, a21) ST(11, a22, a23)
#undef ST
}

#include "tier_body.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

const pw_kernel_table pw_kernels_avx512 = PW_TIER_TABLE;
#endif
