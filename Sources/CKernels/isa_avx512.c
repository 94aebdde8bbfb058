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

// 12×32 block: 24 zmm accumulators, 2 B vectors and one broadcast per row of A. The sum starts from
// zero; with `add` it is then added to M (M + sum) rather than stored.
static inline __attribute__((always_inline))
void panel12x32(int K, const float *A, const float *B, float *M, size_t ldm, const int add) {
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
#define ST(r, x, y) { float *row = M + (size_t)(r) * ldm; \
        if (add) { x = _mm512_add_ps(_mm512_loadu_ps(row), x); y = _mm512_add_ps(_mm512_loadu_ps(row + 16), y); } \
        _mm512_storeu_ps(row, x); _mm512_storeu_ps(row + 16, y); }
    ST(0, a0, a1) ST(1, a2, a3) ST(2, a4, a5) ST(3, a6, a7) ST(4, a8, a9) ST(5, a10, a11)
    ST(6, a12, a13) ST(7, a14, a15) ST(8, a16, a17) ST(9, a18, a19) ST(10, a20, a21) ST(11, a22, a23)
#undef ST
}

static void tier_panel(int K, const float *A, const float *B, float *M, size_t ldm) { panel12x32(K, A, B, M, ldm, 0); }

// M += A · B, the product summed from zero first (one chunk of a chunked sum, added in place).
static void tier_panel_add(int K, const float *A, const float *B, float *M, size_t ldm) { panel12x32(K, A, B, M, ldm, 1); }
#define PW_TIER_PANEL_ADD 1

// R rows × V·16 columns (R ≤ 12, V = 1 or 2): the accumulator arrays become registers once R and V
// are constants.
static inline __attribute__((always_inline))
void block_rv(int K, const float *A, const float *B, float *M, size_t ldm, const int R, const int V, const int add) {
    __m512 acc[2][PW_GEMM_MR];
    for (int r = 0; r < R; r++) { acc[0][r] = _mm512_setzero_ps(); acc[1][r] = _mm512_setzero_ps(); }
    for (int c = 0; c < K; c++) {
        const float *b = B + (size_t)c * PW_GEMM_NR;
        const __m512 b0 = _mm512_loadu_ps(b), b1 = V > 1 ? _mm512_loadu_ps(b + 16) : b0;
        const float *a = A + (size_t)c * PW_GEMM_MR;
        for (int r = 0; r < R; r++) {
            const __m512 s = _mm512_set1_ps(a[r]);
            acc[0][r] = _mm512_fmadd_ps(s, b0, acc[0][r]);
            if (V > 1) acc[1][r] = _mm512_fmadd_ps(s, b1, acc[1][r]);
        }
    }
    for (int r = 0; r < R; r++) {
        float *row = M + (size_t)r * ldm;
        if (add) {
            acc[0][r] = _mm512_add_ps(_mm512_loadu_ps(row), acc[0][r]);
            if (V > 1) acc[1][r] = _mm512_add_ps(_mm512_loadu_ps(row + 16), acc[1][r]);
        }
        _mm512_storeu_ps(row, acc[0][r]);
        if (V > 1) _mm512_storeu_ps(row + 16, acc[1][r]);
    }
}

// The left half (MR×NR/2) of a block, for a last block of at most NR/2 columns: its columns get the
// same sums as in a whole block.
static void tier_panel_narrow(int K, const float *A, const float *B, float *M, size_t ldm) { block_rv(K, A, B, M, ldm, 12, 1, 0); }
static void tier_panel_narrow_add(int K, const float *A, const float *B, float *M, size_t ldm) { block_rv(K, A, B, M, ldm, 12, 1, 1); }
#define PW_TIER_PANEL_NARROW 1

// Edge blocks: the rows asked for, and 16 columns when that covers `cols`.
static void tier_block(int K, const float *A, const float *B, float *M, size_t ldm, int rows, int cols) {
#define ROWS(R) case R: if (cols <= 16) block_rv(K, A, B, M, ldm, R, 1, 0); else block_rv(K, A, B, M, ldm, R, 2, 0); return;
    switch (rows) {
        ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7) ROWS(8) ROWS(9) ROWS(10) ROWS(11)
        default: if (cols <= 16) block_rv(K, A, B, M, ldm, 12, 1, 0); else tier_panel(K, A, B, M, ldm); return;
    }
#undef ROWS
}

// Lanes [lo, hi) of 16 (clamped), as a mask.
static inline __mmask16 lane_range(int lo, int hi) {
    lo = lo < 0 ? 0 : lo > 16 ? 16 : lo;
    hi = hi < 0 ? 0 : hi > 16 ? 16 : hi;
    return hi > lo ? (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1)) : 0;
}

// A convolution panel row: d[i] = src[i·sw] for i in [a, b), 0 elsewhere in [0, n), 16 lanes at a
// time with masked loads (nothing outside [a·sw, (b−1)·sw] is read); stride 2 takes the even lanes of
// two vectors.
static inline void gather_row_avx512(float *d, const float *src, int a, int b, int n, int sw) {
    if (sw > 2) {
        for (int i = 0; i < a; i++) d[i] = 0;
        for (int i = a; i < b; i++) d[i] = src[(size_t)i * sw];
        for (int i = b; i < n; i++) d[i] = 0;
        return;
    }
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int i0 = 0; i0 < n; i0 += 16) {
        const __mmask16 live = lane_range(0, n - i0);
        const int va = a - i0, vb = b - i0;
        __m512 v;
        if (sw == 1) v = _mm512_maskz_loadu_ps(lane_range(va, vb), src + i0);
        else {
            const float *s = src + 2 * i0;
            const __m512 lo = _mm512_maskz_loadu_ps(lane_range(2 * va, 2 * vb - 1), s);
            const __m512 hi = _mm512_maskz_loadu_ps(lane_range(2 * va - 16, 2 * vb - 17), s + 16);
            v = _mm512_permutex2var_ps(lo, even, hi);
        }
        _mm512_mask_storeu_ps(d + i0, live, v);
    }
}
#define PW_TIER_GATHER_ROW gather_row_avx512

// Deformable samples, 16 output positions at a time: the bilinear sample's four corners are masked
// gathers (a corner outside the image, or a sample outside (−1, H)×(−1, W), reads 0), with the same
// weights and the same sum order as deform_sample. Rows are `ld` floats apart; a `bordered` image has
// a readable zero border one pixel wide, so every sample inside reads its corners as pairs.
static inline void deform_span_avx512(const float *img, int H, int W, int ld, int bordered, int baseY, int baseX0,
                                      int stride, const float *offY, const float *offX, int n, float *out) {
    const __m512 one = _mm512_set1_ps(1.0f), minusOne = _mm512_set1_ps(-1.0f);
    const __m512 hLimit = _mm512_set1_ps((float)H), wLimit = _mm512_set1_ps((float)W);
    const __m512i zeroI = _mm512_setzero_si512(), hMax = _mm512_set1_epi32(H - 1), wMax = _mm512_set1_epi32(W - 1);
    const __m512i widthI = _mm512_set1_epi32(ld), oneI = _mm512_set1_epi32(1);
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i evenLanes = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i oddLanes = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512 by = _mm512_set1_ps((float)baseY);
    for (int i0 = 0; i0 < n; i0 += 16) {
        const int m = n - i0 < 16 ? n - i0 : 16;
        const __mmask16 live = (__mmask16)((1u << m) - 1);
        const __m512i i = _mm512_add_epi32(_mm512_set1_epi32(i0), lanes);
        const __m512 bx = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_mullo_epi32(i, _mm512_set1_epi32(stride)),
                                                              _mm512_set1_epi32(baseX0)));
        const __m512 h = _mm512_add_ps(by, _mm512_maskz_loadu_ps(live, offY + i0));
        const __m512 w = _mm512_add_ps(bx, _mm512_maskz_loadu_ps(live, offX + i0));
        __mmask16 inside = live & _mm512_cmp_ps_mask(h, minusOne, _CMP_GT_OQ)
                         & _mm512_cmp_ps_mask(h, hLimit, _CMP_LT_OQ)
                         & _mm512_cmp_ps_mask(w, minusOne, _CMP_GT_OQ)
                         & _mm512_cmp_ps_mask(w, wLimit, _CMP_LT_OQ);
        if (inside == 0) {
            // Large dilations put whole runs of taps outside the map: no gathers.
            _mm512_mask_storeu_ps(out + i0, live, _mm512_setzero_ps());
            continue;
        }
        const __m512 hf = _mm512_roundscale_ps(h, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
        const __m512 wf = _mm512_roundscale_ps(w, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
        const __m512i hl = _mm512_cvttps_epi32(hf), wl = _mm512_cvttps_epi32(wf);
        const __m512i hh = _mm512_add_epi32(hl, oneI), wh = _mm512_add_epi32(wl, oneI);
        const __m512 lh = _mm512_sub_ps(h, hf), lw = _mm512_sub_ps(w, wf);
        const __m512 uh = _mm512_sub_ps(one, lh), uw = _mm512_sub_ps(one, lw);
        const __mmask16 top = inside & _mm512_cmp_epi32_mask(hl, zeroI, _MM_CMPINT_NLT);
        const __mmask16 bottom = inside & _mm512_cmp_epi32_mask(hh, hMax, _MM_CMPINT_LE);
        const __mmask16 left = _mm512_cmp_epi32_mask(wl, zeroI, _MM_CMPINT_NLT);
        const __mmask16 right = _mm512_cmp_epi32_mask(wh, wMax, _MM_CMPINT_LE);
        const __m512i idx = _mm512_add_epi32(_mm512_mullo_epi32(hl, widthI), wl);
        const __m512i idxBelow = _mm512_add_epi32(idx, widthI);
        const __m512 zero = _mm512_setzero_ps();
        __m512 v1, v2, v3, v4;
        if (bordered || (top & bottom & left & right) == live) {
            // Every sample read has all four corners in the image (or its zero border): each row's
            // two corners are adjacent floats, so gather them as 8-byte pairs (half the gathered
            // elements) and split the pairs into left and right values.
            const __mmask16 read = bordered ? inside : live;
            const __mmask8 liveLo = (__mmask8)read, liveHi = (__mmask8)(read >> 8);
            const __m512i t0 = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), liveLo, _mm512_castsi512_si256(idx), img, 4);
            const __m512i t1 = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), liveHi, _mm512_extracti64x4_epi64(idx, 1), img, 4);
            const __m512i b0 = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), liveLo, _mm512_castsi512_si256(idxBelow), img, 4);
            const __m512i b1 = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), liveHi, _mm512_extracti64x4_epi64(idxBelow, 1), img, 4);
            v1 = _mm512_permutex2var_ps(_mm512_castsi512_ps(t0), evenLanes, _mm512_castsi512_ps(t1));
            v2 = _mm512_permutex2var_ps(_mm512_castsi512_ps(t0), oddLanes, _mm512_castsi512_ps(t1));
            v3 = _mm512_permutex2var_ps(_mm512_castsi512_ps(b0), evenLanes, _mm512_castsi512_ps(b1));
            v4 = _mm512_permutex2var_ps(_mm512_castsi512_ps(b0), oddLanes, _mm512_castsi512_ps(b1));
        } else {
            v1 = _mm512_mask_i32gather_ps(zero, top & left, idx, img, 4);
            v2 = _mm512_mask_i32gather_ps(zero, top & right, _mm512_add_epi32(idx, oneI), img, 4);
            v3 = _mm512_mask_i32gather_ps(zero, bottom & left, idxBelow, img, 4);
            v4 = _mm512_mask_i32gather_ps(zero, bottom & right, _mm512_add_epi32(idxBelow, oneI), img, 4);
        }
        // Explicit fused multiply-adds: -ffast-math would otherwise let the compiler pick which
        // products to fuse, and its choice moved with unrelated edits.
        __m512 r = _mm512_mul_ps(_mm512_mul_ps(uh, uw), v1);
        r = _mm512_fmadd_ps(_mm512_mul_ps(uh, lw), v2, r);
        r = _mm512_fmadd_ps(_mm512_mul_ps(lh, uw), v3, r);
        r = _mm512_fmadd_ps(_mm512_mul_ps(lh, lw), v4, r);
        _mm512_mask_storeu_ps(out + i0, live, _mm512_maskz_mov_ps(inside, r));
    }
}
#define PW_TIER_DEFORM_SPAN deform_span_avx512

#include "tier_body.h"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

const pw_kernel_table pw_kernels_avx512 = PW_TIER_TABLE;
#endif
