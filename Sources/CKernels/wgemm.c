// Small sgemm blocks for Winograd: M (12×32) = A[ξ] (packed [C][12]) · V[ξ] (a contiguous [C][32] block).
// Hand-written register-blocked kernels (AVX-512 12×32, AVX2+FMA 6×16, portable C) so the engine can
// split the t² products over its own threads and fuse them with the output transform, instead of
// OpenBLAS's per-call threading, which loses most of its speed-up on these small matrices.
#include "CKernels.h"
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
static void kernel12x32(int C, const float *A, const float *B, size_t ldb, float *M, size_t ldm) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    __m512 a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
    __m512 a16 = a0, a17 = a0, a18 = a0, a19 = a0, a20 = a0, a21 = a0, a22 = a0, a23 = a0;
    for (int c = 0; c < C; c++) {
        const float *b = B + (size_t)c * ldb;
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        const float *a = A + (size_t)c * 12;
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

// Rows [r0, r0+6) of a 12-row packed panel, 16 columns.
__attribute__((target("avx2,fma")))
static void kernel6x16(int C, const float *A, int r0, const float *B, size_t ldb, float *M, size_t ldm) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    __m256 a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    for (int c = 0; c < C; c++) {
        const float *b = B + (size_t)c * ldb;
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        const float *a = A + (size_t)c * 12 + r0;
        __m256 s;
        s = _mm256_broadcast_ss(a + 0); a0 = _mm256_fmadd_ps(s, b0, a0);  a1 = _mm256_fmadd_ps(s, b1, a1);
        s = _mm256_broadcast_ss(a + 1); a2 = _mm256_fmadd_ps(s, b0, a2);  a3 = _mm256_fmadd_ps(s, b1, a3);
        s = _mm256_broadcast_ss(a + 2); a4 = _mm256_fmadd_ps(s, b0, a4);  a5 = _mm256_fmadd_ps(s, b1, a5);
        s = _mm256_broadcast_ss(a + 3); a6 = _mm256_fmadd_ps(s, b0, a6);  a7 = _mm256_fmadd_ps(s, b1, a7);
        s = _mm256_broadcast_ss(a + 4); a8 = _mm256_fmadd_ps(s, b0, a8);  a9 = _mm256_fmadd_ps(s, b1, a9);
        s = _mm256_broadcast_ss(a + 5); a10 = _mm256_fmadd_ps(s, b0, a10); a11 = _mm256_fmadd_ps(s, b1, a11);
    }
#define ST(r, x, y) _mm256_storeu_ps(M + (size_t)(r) * ldm, x); _mm256_storeu_ps(M + (size_t)(r) * ldm + 8, y);
    ST(0, a0, a1) ST(1, a2, a3) ST(2, a4, a5) ST(3, a6, a7) ST(4, a8, a9) ST(5, a10, a11)
#undef ST
}
#endif

// Portable 12×32 block (used when neither kernel is available).
static void kernel_generic(int C, const float *A, const float *B, size_t ldb, float *M, size_t ldm) {
    float acc[12][32];
    memset(acc, 0, sizeof(acc));
    for (int c = 0; c < C; c++) {
        const float *b = B + (size_t)c * ldb;
        const float *a = A + (size_t)c * 12;
        for (int r = 0; r < 12; r++) {
            const float s = a[r];
            for (int j = 0; j < 32; j++) acc[r][j] += s * b[j];
        }
    }
    for (int r = 0; r < 12; r++) memcpy(M + (size_t)r * ldm, acc[r], sizeof(acc[r]));
}

void pw_wgemm_panel(int C, const float *A, const float *V, float *M, size_t ldm) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    const int isa = pw_isa_level();
    if (isa == 2) { kernel12x32(C, A, V, 32, M, ldm); return; }
    if (isa == 1) {
        kernel6x16(C, A, 0, V, 32, M, ldm);
        kernel6x16(C, A, 0, V + 16, 32, M + 16, ldm);
        kernel6x16(C, A, 6, V, 32, M + 6 * ldm, ldm);
        kernel6x16(C, A, 6, V + 16, 32, M + 6 * ldm + 16, ldm);
        return;
    }
#endif
    kernel_generic(C, A, V, 32, M, ldm);
}
