// The approximate bfloat16 products (AVX512-BF16: Zen 4, Cooper Lake, Sapphire Rapids and later):
// A and B are rounded to bfloat16 (round to nearest even) in pairs along the depth, and each
// vdpbf16ps adds a pair's two products into float32 sums. Only the products change: packing of the
// float32 inputs, the Winograd output transform and the bias / residual / ReLU epilogue stay float32.
// Every function here is compiled for AVX512-BF16 and is only called once pw_bf16_supported() says so.
// Each output element is one kernel's full-depth sum in a fixed order: results do not depend on how
// work items are split over threads.
#include "kernel_table.h"
#include <string.h>

uint32_t pw_bf16_pair(float lo, float hi) {
    // Round to nearest even; NaN stays NaN (quiet).
    uint32_t u[2];
    memcpy(&u[0], &lo, 4); memcpy(&u[1], &hi, 4);
    uint32_t h[2];
    for (int i = 0; i < 2; i++) {
        if ((u[i] & 0x7fffffffu) > 0x7f800000u) h[i] = (u[i] >> 16) | 0x40u;
        else h[i] = (u[i] + 0x7fffu + ((u[i] >> 16) & 1u)) >> 16;
    }
    return h[0] | (h[1] << 16);
}

size_t pw_bf16_packed_size(size_t panels, int K) {
    return panels * (size_t)((K + 1) / 2) * PW_GEMM_MR;
}

void pw_bf16_pack_panels(const float *Ap, size_t panels, int K, uint32_t *dst) {
    const int K2 = (K + 1) / 2;
    for (size_t p = 0; p < panels; p++) {
        const float *src = Ap + p * (size_t)K * PW_GEMM_MR;
        uint32_t *out = dst + p * (size_t)K2 * PW_GEMM_MR;
        for (int k2 = 0; k2 < K2; k2++) {
            for (int r = 0; r < PW_GEMM_MR; r++) {
                const float lo = src[(size_t)(2 * k2) * PW_GEMM_MR + r];
                const float hi = 2 * k2 + 1 < K ? src[(size_t)(2 * k2 + 1) * PW_GEMM_MR + r] : 0.0f;
                out[(size_t)k2 * PW_GEMM_MR + r] = pw_bf16_pair(lo, hi);
            }
        }
    }
}

#ifdef PW_X86
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512bf16,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512dq,avx512bw,avx512bf16,avx2,fma")
#endif

#include "winograd_transforms.h"

_Static_assert(PW_GEMM_MR == 12 && PW_GEMM_NR == 32, "the bf16 kernel is written for 12×32 blocks");

// R rows × V·16 columns of M (stride ldm) = A [K2][MR] · B [K2][NR], both pairs of bf16 along the
// depth. 24 zmm accumulators at most, 2 B vectors, one broadcast pair per row.
static inline __attribute__((always_inline))
void bf16_block_rv(int K2, const uint32_t *A, const uint32_t *B, float *M, size_t ldm, const int R, const int V) {
    __m512 acc[2][PW_GEMM_MR];
    for (int r = 0; r < R; r++) { acc[0][r] = _mm512_setzero_ps(); acc[1][r] = _mm512_setzero_ps(); }
    for (int c = 0; c < K2; c++) {
        const uint32_t *b = B + (size_t)c * NR;
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);
        const __m512bh b1 = V > 1 ? (__m512bh)_mm512_loadu_si512(b + 16) : b0;
        const uint32_t *a = A + (size_t)c * MR;
        for (int r = 0; r < R; r++) {
            const __m512bh s = (__m512bh)_mm512_set1_epi32((int)a[r]);
            acc[0][r] = _mm512_dpbf16_ps(acc[0][r], s, b0);
            if (V > 1) acc[1][r] = _mm512_dpbf16_ps(acc[1][r], s, b1);
        }
    }
    for (int r = 0; r < R; r++) {
        _mm512_storeu_ps(M + (size_t)r * ldm, acc[0][r]);
        if (V > 1) _mm512_storeu_ps(M + (size_t)r * ldm + 16, acc[1][r]);
    }
}

static void bf16_panel(int K2, const uint32_t *A, const uint32_t *B, float *M, size_t ldm) {
    bf16_block_rv(K2, A, B, M, ldm, 12, 2);
}

// Edge blocks: the rows asked for, and 16 columns when that covers `cols`.
static void bf16_block(int K2, const uint32_t *A, const uint32_t *B, float *M, size_t ldm, int rows, int cols) {
#define ROWS(R) case R: if (cols <= 16) bf16_block_rv(K2, A, B, M, ldm, R, 1); else bf16_block_rv(K2, A, B, M, ldm, R, 2); return;
    switch (rows) {
        ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7) ROWS(8) ROWS(9) ROWS(10) ROWS(11)
        default: if (cols <= 16) bf16_block_rv(K2, A, B, M, ldm, 12, 1); else bf16_panel(K2, A, B, M, ldm); return;
    }
#undef ROWS
}

// 16 pairs (lo[j], hi[j]) rounded to nearest even: lo in the low half of each 32-bit lane.
static inline __attribute__((always_inline)) __m512i pairs16(__m512 lo, __m512 hi) {
    const __m512i l = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(lo));
    const __m512i h = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(hi));
    return _mm512_or_si512(l, _mm512_slli_epi32(h, 16));
}

// NR pairs from two float rows of NR (the second may be NULL: zeros).
static inline __attribute__((always_inline)) void pair_row(const float *lo, const float *hi, uint32_t *dst) {
    const __m512 z = _mm512_setzero_ps();
    _mm512_storeu_si512(dst, pairs16(_mm512_loadu_ps(lo), hi ? _mm512_loadu_ps(hi) : z));
    _mm512_storeu_si512(dst + 16, pairs16(_mm512_loadu_ps(lo + 16), hi ? _mm512_loadu_ps(hi + 16) : z));
}

size_t pw_bf16_gemm_scratch(int K) {
    return (size_t)((K + 1) / 2) * PW_GEMM_NR + (size_t)PW_GEMM_MR * PW_GEMM_NR + 2 * (size_t)PW_GEMM_NR + 16;
}

void pw_bf16_gemm_images(const uint32_t *Ap, const float *B, size_t ldb, size_t bImage, int M, int images, int plane,
                         int K, const float *bias, const float *residual, int relu, float *C, size_t ldc,
                         size_t cImage, int rowGroups, int i0, int i1, float *scratch) {
    const int N = images * plane, K2 = (K + 1) / 2;
    const int panels = (M + MR - 1) / MR;
    uint32_t *Bp = (uint32_t *)scratch;             // the column block, packed [K2][NR] pairs
    float *tile = scratch + (size_t)K2 * NR;        // one MR×NR result block
    float *rows2 = tile + MR * NR;                  // two gathered float rows of the block
    int packed = -1;
    int segments = 0, at[NR], len[NR];
    size_t bOff[NR], cOff[NR];
    for (int item = i0; item < i1; item++) {
        const int jb = item / rowGroups, rg = item % rowGroups;
        const int j0 = jb * NR, nc = N - j0 < NR ? N - j0 : NR;
        if (jb != packed) {
            segments = 0;
            for (int j = j0; j < j0 + nc;) {
                const int image = j / plane, off = j % plane;
                const int run = plane - off < j0 + nc - j ? plane - off : j0 + nc - j;
                at[segments] = j - j0; len[segments] = run;
                bOff[segments] = (size_t)image * bImage + off; cOff[segments] = (size_t)image * cImage + off;
                segments++; j += run;
            }
            for (int k2 = 0; k2 < K2; k2++) {
                const int k = 2 * k2, second = k + 1 < K;
                if (segments == 1 && nc == NR) {
                    const float *src = B + bOff[0] + (size_t)k * ldb;
                    __builtin_prefetch(src + NR, 0, 3);
                    __builtin_prefetch(src + NR + 16, 0, 3);
                    if (second) { __builtin_prefetch(src + ldb + NR, 0, 3); __builtin_prefetch(src + ldb + NR + 16, 0, 3); }
                    pair_row(src, second ? src + ldb : NULL, Bp + (size_t)k2 * NR);
                    continue;
                }
                for (int h = 0; h < 2; h++) {
                    float *dst = rows2 + h * NR;
                    if (h == 1 && !second) { memset(dst, 0, sizeof(float) * NR); continue; }
                    for (int sg = 0; sg < segments; sg++) {
                        const float *src = B + bOff[sg] + (size_t)(k + h) * ldb;
                        for (int j = 0; j < len[sg]; j++) dst[at[sg] + j] = src[j];
                    }
                    for (int j = nc; j < NR; j++) dst[j] = 0;
                }
                pair_row(rows2, rows2 + NR, Bp + (size_t)k2 * NR);
            }
            packed = jb;
        }
        const int p0 = (int)((long)panels * rg / rowGroups), p1 = (int)((long)panels * (rg + 1) / rowGroups);
        for (int p = p0; p < p1; p++) {
            const int rows = M - p * MR < MR ? M - p * MR : MR;
            for (int r = 0; r < rows; r++) {
                for (int sg = 0; sg < segments; sg++) {
                    const size_t o = cOff[sg] + (size_t)(p * MR + r) * ldc;
                    __builtin_prefetch(C + o, 1, 3); __builtin_prefetch(C + o + len[sg] - 1, 1, 3);
                    if (residual) { __builtin_prefetch(residual + o, 0, 3); __builtin_prefetch(residual + o + len[sg] - 1, 0, 3); }
                }
            }
            const uint32_t *Apan = Ap + (size_t)p * K2 * MR;
            if (rows == MR && nc > NR / 2) bf16_panel(K2, Apan, Bp, tile, NR);
            else bf16_block(K2, Apan, Bp, tile, NR, rows, nc);
            for (int r = 0; r < rows; r++) {
                const int row = p * MR + r;
                const float b = bias ? bias[row] : 0.0f;
                for (int sg = 0; sg < segments; sg++) {
                    const size_t o = cOff[sg] + (size_t)row * ldc;
                    const int n = len[sg];
                    const float *RESTRICT t = tile + (size_t)r * NR + at[sg];
                    float *RESTRICT c = C + o;
                    if (residual) {
                        const float *RESTRICT res = residual + o;
                        if (relu) for (int j = 0; j < n; j++) { float v = t[j] + b + res[j]; c[j] = v > 0 ? v : 0; }
                        else for (int j = 0; j < n; j++) c[j] = t[j] + b + res[j];
                    } else {
                        if (relu) for (int j = 0; j < n; j++) { float v = t[j] + b; c[j] = v > 0 ? v : 0; }
                        else for (int j = 0; j < n; j++) c[j] = t[j] + b;
                    }
                }
            }
        }
    }
}

void pw_bf16_winograd_pack_v(const float *V, int C, size_t ldv, int i0, int i1, uint32_t *Vh) {
    const size_t blocks = ldv / NR, C2 = (size_t)(C + 1) / 2;
    for (int item = i0; item < i1; item++) {
        const size_t xi = (size_t)item / blocks, blk = (size_t)item % blocks;
        const float *src = V + xi * (size_t)C * ldv + blk * (size_t)C * NR;
        uint32_t *dst = Vh + xi * C2 * ldv + blk * C2 * NR;
        for (size_t c2 = 0; c2 < C2; c2++) {
            const size_t c = 2 * c2;
            pair_row(src + c * NR, c + 1 < (size_t)C ? src + (c + 1) * NR : NULL, dst + c2 * NR);
        }
    }
}

size_t pw_bf16_winograd_fused_scratch(int m) {
    const int t = m + 2;
    return (size_t)t * t * PW_GEMM_MR * PW_GEMM_NR + (size_t)m * t * PW_GEMM_NR + (size_t)m * m * PW_GEMM_NR + 64;
}

void pw_bf16_winograd_fused(const uint32_t *A, const uint32_t *Vh, size_t ldv, int N, int C, int K, int Kp, int Ho,
                            int Wo, int dil, int m, const int *oys, int nty, const int *oxs, int ntx,
                            const float *bias, const float *residual, int relu, int b0, int b1, float *y,
                            float *scratch) {
    const int t = m + 2, tt = t * t, T = nty * ntx, NT = N * T, C2 = (C + 1) / 2;
    const size_t CV = (size_t)C2 * ldv;        // Vh pairs per ξ
    const size_t AK = (size_t)Kp * C2;         // packed A pairs per ξ
    float *Mloc = scratch;                     // [ξ][MR][NR]
    float *S = Mloc + (size_t)tt * MR * NR;    // [m][t][NR]
    float *Y = S + (size_t)m * t * NR;         // [m][m][NR]
    const size_t plane = (size_t)Ho * Wo;
    const int groups = Kp / MR;
    for (int item = b0; item < b1; item++) {
        const int blk = item / groups, kb = item % groups;
        const uint32_t *Vb = Vh + (size_t)blk * C2 * NR;
        const int g0 = blk * NR;
        const int count = NT - g0 < NR ? NT - g0 : NR;
        for (int xi = 0; xi < tt; xi++) {
            bf16_panel(C2, A + xi * AK + (size_t)kb * C2 * MR, Vb + xi * CV, Mloc + (size_t)xi * MR * NR, NR);
        }
        winograd_output_block(Mloc, S, Y, m, kb, K, g0, count, T, ntx, oys, oxs, dil, Ho, Wo, plane, bias,
                              residual, relu, y);
    }
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else
// Off x86 pw_bf16_supported() is 0 and callers never reach these.
#include <stdlib.h>
size_t pw_bf16_gemm_scratch(int K) { (void)K; return 0; }
void pw_bf16_gemm_images(const uint32_t *Ap, const float *B, size_t ldb, size_t bImage, int M, int images, int plane,
                         int K, const float *bias, const float *residual, int relu, float *C, size_t ldc,
                         size_t cImage, int rowGroups, int i0, int i1, float *scratch) { abort(); }
void pw_bf16_winograd_pack_v(const float *V, int C, size_t ldv, int i0, int i1, uint32_t *Vh) { abort(); }
size_t pw_bf16_winograd_fused_scratch(int m) { (void)m; return 0; }
void pw_bf16_winograd_fused(const uint32_t *A, const uint32_t *Vh, size_t ldv, int N, int C, int K, int Kp, int Ho,
                            int Wo, int dil, int m, const int *oys, int nty, const int *oxs, int ntx,
                            const float *bias, const float *residual, int relu, int b0, int b1, float *y,
                            float *scratch) { abort(); }
#endif
