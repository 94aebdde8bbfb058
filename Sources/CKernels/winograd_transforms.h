// The Winograd F(2×2,3×3) / F(4×4,3×3) transforms and the fused kernel's output stage, shared by the
// float32 tiers (tier_body.h) and the bfloat16 products (bf16_avx512.c): included after the including
// file has switched the compiler to its instruction set. Not a public header.
#ifndef PW_WINOGRAD_TRANSFORMS_H
#define PW_WINOGRAD_TRANSFORMS_H
#include "kernel_table.h"

#define MR PW_GEMM_MR
#define NR PW_GEMM_NR
#define RESTRICT __restrict__
#define INLINE static inline __attribute__((always_inline))
// The loops below read one scratch array and write another; say so where the compiler cannot prove it
// (pointers derived inside an inlined function lose their restrict).
#if defined(__clang__)
#define PW_INDEPENDENT _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define PW_INDEPENDENT _Pragma("GCC ivdep")
#else
#define PW_INDEPENDENT
#endif

// ---- Winograd F(2×2,3×3) (points 0, ±1, ∞) and F(4×4,3×3) (0, ±1/2, ±2, ∞) transforms, with
// dilation handled by tiling each d×d phase sub-image (outputs y ≡ a mod d read only rows ≡ a mod d).
// All transforms run over arrays of tiles so they vectorise.


// The 1-D transforms over T tiles: input row r at in + r·is, output row i at out + i·os. (Strides,
// not pointer arrays: arrays built with vector stores then read back as scalars stall store forwarding.)
// B^T for F(4,3) at the points 0, ±1/2, ±2, ∞ (rows scaled to integers; G carries the scale): these
// points lose about a third less precision than 0, ±1, ±2 (the transformed products are smaller next
// to the outputs they cancel into). out_i = Σ_r B^T[i][r] · in_r.
INLINE void bt4(const float *in, size_t is, float *out, size_t os, int T) {
    const float *RESTRICT d0 = in, *RESTRICT d1 = in + is, *RESTRICT d2 = in + 2 * is;
    const float *RESTRICT d3 = in + 3 * is, *RESTRICT d4 = in + 4 * is, *RESTRICT d5 = in + 5 * is;
    float *RESTRICT o0 = out, *RESTRICT o1 = out + os, *RESTRICT o2 = out + 2 * os;
    float *RESTRICT o3 = out + 3 * os, *RESTRICT o4 = out + 4 * os, *RESTRICT o5 = out + 5 * os;
    for (int p = 0; p < T; p++) {
        const float a = d1[p], b = d2[p], c = d3[p], e = d4[p];
        const float even1 = 8.0f * b - 2.0f * e, odd1 = 4.0f * a - c;
        const float even2 = 4.0f * e - b, odd2 = 8.0f * c - 2.0f * a;
        o0[p] = 4.0f * (d0[p] + e) - 17.0f * b;
        o1[p] = even1 + odd1;
        o2[p] = even1 - odd1;
        o3[p] = even2 + odd2;
        o4[p] = even2 - odd2;
        o5[p] = 4.0f * (a + d5[p]) - 17.0f * c;
    }
}

INLINE void bt2(const float *in, size_t is, float *out, size_t os, int T) {
    const float *RESTRICT d0 = in, *RESTRICT d1 = in + is, *RESTRICT d2 = in + 2 * is, *RESTRICT d3 = in + 3 * is;
    float *RESTRICT o0 = out, *RESTRICT o1 = out + os, *RESTRICT o2 = out + 2 * os, *RESTRICT o3 = out + 3 * os;
    for (int p = 0; p < T; p++) {
        o0[p] = d0[p] - d2[p];
        o1[p] = d1[p] + d2[p];
        o2[p] = d2[p] - d1[p];
        o3[p] = d1[p] - d3[p];
    }
}

// A^T for F(4,3) at the same points: 6 rows in, 4 out.
INLINE void at4(const float *in, size_t is, float *out, size_t os, int T) {
    const float *RESTRICT m0 = in, *RESTRICT m1 = in + is, *RESTRICT m2 = in + 2 * is;
    const float *RESTRICT m3 = in + 3 * is, *RESTRICT m4 = in + 4 * is, *RESTRICT m5 = in + 5 * is;
    float *RESTRICT o0 = out, *RESTRICT o1 = out + os, *RESTRICT o2 = out + 2 * os, *RESTRICT o3 = out + 3 * os;
    for (int p = 0; p < T; p++) {
        const float s12 = m1[p] + m2[p], d12 = m1[p] - m2[p];
        const float s34 = m3[p] + m4[p], d34 = m3[p] - m4[p];
        o0[p] = m0[p] + s12 + s34;
        o1[p] = 0.5f * d12 + 2.0f * d34;
        o2[p] = 0.25f * s12 + 4.0f * s34;
        o3[p] = 0.125f * d12 + 8.0f * d34 + m5[p];
    }
}

INLINE void at2(const float *in, size_t is, float *out, size_t os, int T) {
    const float *RESTRICT m0 = in, *RESTRICT m1 = in + is, *RESTRICT m2 = in + 2 * is, *RESTRICT m3 = in + 3 * is;
    float *RESTRICT o0 = out, *RESTRICT o1 = out + os;
    for (int p = 0; p < T; p++) {
        o0[p] = m0[p] + m1[p] + m2[p];
        o1[p] = m1[p] - m2[p] - m3[p];
    }
}

// at4 / at2 over T tiles with the outputs interleaved per tile: out[p·m + i] (m = 4 or 2), so a tile row
// of consecutive tiles lands as consecutive output pixels. The same sums as at4 / at2.
INLINE void at4_tiles(const float *in, size_t is, float *out, int T) {
    const float *RESTRICT m0 = in, *RESTRICT m1 = in + is, *RESTRICT m2 = in + 2 * is;
    const float *RESTRICT m3 = in + 3 * is, *RESTRICT m4 = in + 4 * is, *RESTRICT m5 = in + 5 * is;
    float *RESTRICT o = out;
    PW_INDEPENDENT
    for (int p = 0; p < T; p++) {
        const float s12 = m1[p] + m2[p], d12 = m1[p] - m2[p];
        const float s34 = m3[p] + m4[p], d34 = m3[p] - m4[p];
        o[4 * p + 0] = m0[p] + s12 + s34;
        o[4 * p + 1] = 0.5f * d12 + 2.0f * d34;
        o[4 * p + 2] = 0.25f * s12 + 4.0f * s34;
        o[4 * p + 3] = 0.125f * d12 + 8.0f * d34 + m5[p];
    }
}

INLINE void at2_tiles(const float *in, size_t is, float *out, int T) {
    const float *RESTRICT m0 = in, *RESTRICT m1 = in + is, *RESTRICT m2 = in + 2 * is, *RESTRICT m3 = in + 3 * is;
    float *RESTRICT o = out;
    PW_INDEPENDENT
    for (int p = 0; p < T; p++) {
        o[2 * p + 0] = m0[p] + m1[p] + m2[p];
        o[2 * p + 1] = m1[p] - m2[p] - m3[p];
    }
}

// One output row piece: y = (v + bias) [+ residual], ReLU — the per-pixel sum order of the edge path.
INLINE void winograd_output_row(const float *RESTRICT v, float bk, const float *RESTRICT res, int relu,
                                float *RESTRICT out, int n) {
    if (res) {
        if (relu) for (int j = 0; j < n; j++) { float s = v[j] + bk; s += res[j]; if (s < 0) s = 0; out[j] = s; }
        else for (int j = 0; j < n; j++) { float s = v[j] + bk; s += res[j]; out[j] = s; }
    } else {
        if (relu) for (int j = 0; j < n; j++) { float s = v[j] + bk; if (s < 0) s = 0; out[j] = s; }
        else for (int j = 0; j < n; j++) out[j] = v[j] + bk;
    }
}

// Output stage of a fused Winograd item: the t² products of one NR-tile block × MR output channels
// (Mloc [ξ][MR][NR], channel group kb) through A^T (vertical then horizontal, via S [m][t][NR] and
// Y [m][NR][m]) into y[N][K][Ho][Wo], + bias, + residual, ReLU. Block columns g0 … g0 + count − 1.
INLINE void winograd_output_block(const float *Mloc, float *S, float *Y, int m, int kb, int K, int g0, int count,
                                  int T, int ntx, const int *oys, const int *oxs, int dil, int Ho, int Wo,
                                  size_t plane, const float *bias, const float *residual, int relu, float *y) {
    const int t = m + 2;
    // The block's tiles as runs: consecutive tiles of one tile row, wholly inside the output and
    // adjacent (dilation 1), write each of their m rows as one contiguous piece; any other tile is a
    // run of its own written pixel by pixel.
    int runs = 0, runP[NR], runLen[NR], runN[NR], runY[NR], runX[NR], runWhole[NR];
    for (int p = 0; p < count;) {
        const int g = g0 + p, n = g / T, tile = g % T, iy = tile / ntx, ix = tile % ntx;
        const int whole = dil == 1 && oys[iy] + m <= Ho && oxs[ix] + m <= Wo;
        int len = 1;
        if (whole) {
            while (p + len < count && ix + len < ntx && oxs[ix + len] == oxs[ix] + len * m && oxs[ix + len] + m <= Wo) len++;
        }
        runP[runs] = p; runLen[runs] = len; runN[runs] = n; runY[runs] = iy; runX[runs] = ix; runWhole[runs] = whole;
        runs++; p += len;
    }
    for (int r = 0; r < MR; r++) {
        const int k = kb * MR + r;
        if (k >= K) break;
        // Vertical then horizontal A^T pass over the block's NR tiles.
        for (int j = 0; j < t; j++) {
            const float *in = Mloc + ((size_t)j * MR + r) * NR;
            if (m == 4) at4(in, (size_t)t * MR * NR, S + (size_t)j * NR, (size_t)t * NR, NR);
            else at2(in, (size_t)t * MR * NR, S + (size_t)j * NR, (size_t)t * NR, NR);
        }
        for (int a = 0; a < m; a++) {
            if (m == 4) at4_tiles(S + (size_t)(a * t) * NR, NR, Y + (size_t)(a * m) * NR, NR);
            else at2_tiles(S + (size_t)(a * t) * NR, NR, Y + (size_t)(a * m) * NR, NR);
        }
        const float bk = bias ? bias[k] : 0.0f;
        for (int s = 0; s < runs; s++) {
            const int p = runP[s], iy = runY[s], ix = runX[s];
            const size_t base = ((size_t)runN[s] * K + k) * plane;
            float *yk = y + base;
            const float *rk = residual ? residual + base : 0;
            if (runWhole[s]) {
                for (int a = 0; a < m; a++) {
                    const size_t o = (size_t)(oys[iy] + a) * Wo + oxs[ix];
                    winograd_output_row(Y + (size_t)(a * m) * NR + (size_t)p * m, bk, rk ? rk + o : 0, relu,
                                        yk + o, runLen[s] * m);
                }
                continue;
            }
            for (int a = 0; a < m; a++) {
                const int oy = oys[iy] + a * dil;
                if (oy >= Ho) break;
                for (int b = 0; b < m; b++) {
                    const int ox = oxs[ix] + b * dil;
                    if (ox >= Wo) break;
                    const size_t o = (size_t)oy * Wo + ox;
                    float v = Y[(size_t)(a * m) * NR + (size_t)p * m + b] + bk;
                    if (rk) v += rk[o];
                    if (relu && v < 0) v = 0;
                    yk[o] = v;
                }
            }
        }
    }
}

#endif
