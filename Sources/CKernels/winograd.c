// Winograd F(2×2,3×3) and F(4×4,3×3) transforms (Lavin & Gray 2015, points 0, ±1, ±2, ∞), with
// dilation handled by tiling each d×d phase sub-image (outputs y ≡ a mod d read only rows ≡ a mod d).
// All transforms run over arrays of tiles so they vectorise; the ISA is chosen at run time.
#include "CKernels.h"
#include <stdlib.h>
#include <string.h>

#define RESTRICT __restrict__
#define INLINE static inline __attribute__((always_inline))

// The 1-D transforms over T tiles: input row r at in + r·is, output row i at out + i·os. (Strides,
// not pointer arrays: arrays built with vector stores then read back as scalars stall store forwarding.)
// B^T for F(4,3): out_i = Σ_r B^T[i][r] · in_r.
INLINE void bt4(const float *in, size_t is, float *out, size_t os, int T) {
    const float *RESTRICT d0 = in, *RESTRICT d1 = in + is, *RESTRICT d2 = in + 2 * is;
    const float *RESTRICT d3 = in + 3 * is, *RESTRICT d4 = in + 4 * is, *RESTRICT d5 = in + 5 * is;
    float *RESTRICT o0 = out, *RESTRICT o1 = out + os, *RESTRICT o2 = out + 2 * os;
    float *RESTRICT o3 = out + 3 * os, *RESTRICT o4 = out + 4 * os, *RESTRICT o5 = out + 5 * os;
    for (int p = 0; p < T; p++) {
        const float a = d1[p], b = d2[p], c = d3[p], e = d4[p];
        o0[p] = 4.0f * d0[p] - 5.0f * b + e;
        o1[p] = -4.0f * (a + b) + (c + e);
        o2[p] = 4.0f * (a - b) + (e - c);
        o3[p] = 2.0f * (c - a) + (e - b);
        o4[p] = 2.0f * (a - c) + (e - b);
        o5[p] = 4.0f * a - 5.0f * c + d5[p];
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

// A^T for F(4,3): 6 rows in, 4 out.
INLINE void at4(const float *in, size_t is, float *out, size_t os, int T) {
    const float *RESTRICT m0 = in, *RESTRICT m1 = in + is, *RESTRICT m2 = in + 2 * is;
    const float *RESTRICT m3 = in + 3 * is, *RESTRICT m4 = in + 4 * is, *RESTRICT m5 = in + 5 * is;
    float *RESTRICT o0 = out, *RESTRICT o1 = out + os, *RESTRICT o2 = out + 2 * os, *RESTRICT o3 = out + 3 * os;
    for (int p = 0; p < T; p++) {
        const float s12 = m1[p] + m2[p], d12 = m1[p] - m2[p];
        const float s34 = m3[p] + m4[p], d34 = m3[p] - m4[p];
        o0[p] = m0[p] + s12 + s34;
        o1[p] = d12 + 2.0f * d34;
        o2[p] = s12 + 4.0f * s34;
        o3[p] = d12 + 8.0f * d34 + m5[p];
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

static void padded_extent(int pad, int dil, int m, const int *oys, int nty, const int *oxs, int ntx,
                          int H, int W, int *PH, int *PW) {
    int t = m + 2, my = 0, mx = 0;
    for (int i = 0; i < nty; i++) if (oys[i] > my) my = oys[i];
    for (int i = 0; i < ntx; i++) if (oxs[i] > mx) mx = oxs[i];
    *PH = my + (t - 1) * dil + 1;
    *PW = mx + (t - 1) * dil + 1;
    if (*PH < H + pad) *PH = H + pad;
    if (*PW < W + pad) *PW = W + pad;
}

size_t pw_winograd_input_scratch(int H, int W, int pad, int dil, int m, const int *oys, int nty, const int *oxs, int ntx) {
    int PH, PW, t = m + 2;
    padded_extent(pad, dil, m, oys, nty, oxs, ntx, H, W, &PH, &PW);
    return (size_t)PH * PW + 2 * (size_t)t * t * nty * ntx + 64;
}

INLINE void input_body(const float *x, int N, int C, int H, int W, int pad, int dil, int m,
                       const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, size_t ldv, float *scratch) {
    const int t = m + 2, T = nty * ntx;
    const size_t NT = ldv, CNT = (size_t)C * NT;
    int PH, PW;
    padded_extent(pad, dil, m, oys, nty, oxs, ntx, H, W, &PH, &PW);
    float *pimg = scratch;
    float *G = pimg + (size_t)PH * PW;
    float *Tm = G + (size_t)t * t * T;
    memset(pimg, 0, sizeof(float) * (size_t)PH * PW);
    for (int item = i0; item < i1; item++) {
        const int n = item / C, c = item % C;
        const float *xc = x + (size_t)item * H * W;
        // Interior only: the zero border stays from the memset (rows/cols outside are never written).
        for (int iy = 0; iy < H; iy++) memcpy(pimg + (size_t)(iy + pad) * PW + pad, xc + (size_t)iy * W, sizeof(float) * W);
        // Gather the t×t patches, tile-minor: G[(r*t + s)][tile]; the inner loop runs over a tile row
        // so stores are contiguous (the loads are a strided gather the compiler vectorises).
        for (int iy = 0; iy < nty; iy++) {
            for (int r = 0; r < t; r++) {
                const float *row = pimg + (size_t)(oys[iy] + r * dil) * PW;
                for (int s = 0; s < t; s++) {
                    const float *RESTRICT src = row + s * dil;
                    float *RESTRICT dst = G + (size_t)(r * t + s) * T + (size_t)iy * ntx;
                    if (dil == 1 && m == 4) for (int ix = 0; ix < ntx; ix++) dst[ix] = src[4 * ix];
                    else if (dil == 1) for (int ix = 0; ix < ntx; ix++) dst[ix] = src[2 * ix];
                    else for (int ix = 0; ix < ntx; ix++) dst[ix] = src[oxs[ix]];
                }
            }
        }
        // Vertical pass: Tm[(i*t + s)] = Σ_r B^T[i][r] G[(r*t + s)].
        for (int s = 0; s < t; s++) {
            if (m == 4) bt4(G + (size_t)s * T, (size_t)t * T, Tm + (size_t)s * T, (size_t)t * T, T);
            else bt2(G + (size_t)s * T, (size_t)t * T, Tm + (size_t)s * T, (size_t)t * T, T);
        }
        // Horizontal pass (into G, free again), then copy into V's 32-column blocks,
        // V[ξ][col/32][c][col%32] with col = n*T + tile, so the product kernel streams each block contiguously.
        for (int i = 0; i < t; i++) {
            if (m == 4) bt4(Tm + (size_t)(i * t) * T, T, G + (size_t)(i * t) * T, T, T);
            else bt2(Tm + (size_t)(i * t) * T, T, G + (size_t)(i * t) * T, T, T);
        }
        for (int xi = 0; xi < t * t; xi++) {
            const float *src = G + (size_t)xi * T;
            float *Vx = V + (size_t)xi * CNT + (size_t)c * 32;
            size_t col = (size_t)n * T;
            for (int done = 0; done < T;) {
                const size_t off = col % 32;
                int len = 32 - (int)off;
                if (len > T - done) len = T - done;
                float *RESTRICT dst = Vx + (col / 32) * C * 32 + off;
                const float *RESTRICT from = src + done;
                for (int q = 0; q < len; q++) dst[q] = from[q];
                done += len; col += len;
            }
        }
    }
}

size_t pw_winograd_fused_scratch(int m) {
    const int t = m + 2;
    return (size_t)t * t * 12 * 32 + (size_t)m * t * 32 + (size_t)m * m * 32 + 64;
}

INLINE void fused_body(const float *A, const float *V, size_t ldv, int N, int C, int K, int Kp, int Ho, int Wo,
                       int dil, int m, const int *oys, int nty, const int *oxs, int ntx, const float *bias,
                       const float *residual, int relu, int b0, int b1, float *y, float *scratch) {
    const int t = m + 2, tt = t * t, T = nty * ntx, NT = N * T;
    const size_t CV = (size_t)C * ldv;         // V floats per ξ
    const size_t AK = (size_t)Kp * C;          // packed A floats per ξ
    float *Mloc = scratch;                     // [ξ][12][32]
    float *S = Mloc + (size_t)tt * 12 * 32;    // [m][t][32]
    float *Y = S + (size_t)m * t * 32;         // [m][m][32]
    const size_t plane = (size_t)Ho * Wo;
    const int groups = Kp / 12;
    for (int item = b0; item < b1; item++) {
        const int blk = item / groups, kb = item % groups;
        const float *Vb = V + (size_t)blk * C * 32;
        const int g0 = blk * 32;
        const int count = NT - g0 < 32 ? NT - g0 : 32;
        {
            for (int xi = 0; xi < tt; xi++)
                pw_wgemm_panel(C, A + xi * AK + (size_t)kb * C * 12, Vb + xi * CV, Mloc + (size_t)xi * 12 * 32, 32);
            for (int r = 0; r < 12; r++) {
                const int k = kb * 12 + r;
                if (k >= K) break;
                // Vertical then horizontal A^T pass over the block's 32 tiles.
                for (int j = 0; j < t; j++) {
                    const float *in = Mloc + ((size_t)j * 12 + r) * 32;
                    if (m == 4) at4(in, (size_t)t * 12 * 32, S + (size_t)j * 32, (size_t)t * 32, 32);
                    else at2(in, (size_t)t * 12 * 32, S + (size_t)j * 32, (size_t)t * 32, 32);
                }
                for (int a = 0; a < m; a++) {
                    if (m == 4) at4(S + (size_t)(a * t) * 32, 32, Y + (size_t)(a * m) * 32, 32, 32);
                    else at2(S + (size_t)(a * t) * 32, 32, Y + (size_t)(a * m) * 32, 32, 32);
                }
                const float bk = bias ? bias[k] : 0.0f;
                for (int p = 0; p < count; p++) {
                    const int g = g0 + p, n = g / T, tile = g % T, iy = tile / ntx, ix = tile % ntx;
                    const size_t base = ((size_t)n * K + k) * plane;
                    float *yk = y + base;
                    const float *rk = residual ? residual + base : 0;
                    for (int a = 0; a < m; a++) {
                        const int oy = oys[iy] + a * dil;
                        if (oy >= Ho) break;
                        for (int b = 0; b < m; b++) {
                            const int ox = oxs[ix] + b * dil;
                            if (ox >= Wo) break;
                            const size_t o = (size_t)oy * Wo + ox;
                            float v = Y[(size_t)(a * m + b) * 32 + p] + bk;
                            if (rk) v += rk[o];
                            if (relu && v < 0) v = 0;
                            yk[o] = v;
                        }
                    }
                }
            }
        }
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define PW_X86 1
#define TARGET_AVX2 __attribute__((target("avx2,fma")))
#define TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))

TARGET_AVX512 static void input_avx512(const float *x, int N, int C, int H, int W, int pad, int dil, int m,
    const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, size_t ldv, float *scratch) {
    input_body(x, N, C, H, W, pad, dil, m, oys, nty, oxs, ntx, i0, i1, V, ldv, scratch);
}
TARGET_AVX2 static void input_avx2(const float *x, int N, int C, int H, int W, int pad, int dil, int m,
    const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, size_t ldv, float *scratch) {
    input_body(x, N, C, H, W, pad, dil, m, oys, nty, oxs, ntx, i0, i1, V, ldv, scratch);
}
TARGET_AVX512 static void fused_avx512(const float *A, const float *V, size_t ldv, int N, int C, int K, int Kp, int Ho,
    int Wo, int dil, int m, const int *oys, int nty, const int *oxs, int ntx, const float *bias,
    const float *residual, int relu, int b0, int b1, float *y, float *scratch) {
    fused_body(A, V, ldv, N, C, K, Kp, Ho, Wo, dil, m, oys, nty, oxs, ntx, bias, residual, relu, b0, b1, y, scratch);
}
TARGET_AVX2 static void fused_avx2(const float *A, const float *V, size_t ldv, int N, int C, int K, int Kp, int Ho,
    int Wo, int dil, int m, const int *oys, int nty, const int *oxs, int ntx, const float *bias,
    const float *residual, int relu, int b0, int b1, float *y, float *scratch) {
    fused_body(A, V, ldv, N, C, K, Kp, Ho, Wo, dil, m, oys, nty, oxs, ntx, bias, residual, relu, b0, b1, y, scratch);
}

// 2 = AVX-512, 1 = AVX2+FMA, 0 = portable.
int pw_isa_level(void) {
    static int level = -1;
    if (level < 0) {
        __builtin_cpu_init();
        // PW_ISA=0|1|2 caps the level (to test or compare the portable and AVX2 paths).
        const char *cap = getenv("PW_ISA");
        level = (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                 __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")) ? 2
              : (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
        if (cap && cap[0] >= '0' && cap[0] <= '2' && cap[0] - '0' < level) level = cap[0] - '0';
    }
    return level;
}
#else
int pw_isa_level(void) { return 0; }
#endif

void pw_winograd_input(const float *x, int N, int C, int H, int W, int pad, int dil, int m,
                       const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, size_t ldv, float *scratch) {
#ifdef PW_X86
    int isa = pw_isa_level();
    if (isa == 2) { input_avx512(x, N, C, H, W, pad, dil, m, oys, nty, oxs, ntx, i0, i1, V, ldv, scratch); return; }
    if (isa == 1) { input_avx2(x, N, C, H, W, pad, dil, m, oys, nty, oxs, ntx, i0, i1, V, ldv, scratch); return; }
#endif
    input_body(x, N, C, H, W, pad, dil, m, oys, nty, oxs, ntx, i0, i1, V, ldv, scratch);
}

void pw_winograd_fused(const float *A, const float *V, size_t ldv, int N, int C, int K, int Kp, int Ho, int Wo,
                       int dil, int m, const int *oys, int nty, const int *oxs, int ntx, const float *bias,
                       const float *residual, int relu, int b0, int b1, float *y, float *scratch) {
#ifdef PW_X86
    int isa = pw_isa_level();
    if (isa == 2) { fused_avx512(A, V, ldv, N, C, K, Kp, Ho, Wo, dil, m, oys, nty, oxs, ntx, bias, residual, relu, b0, b1, y, scratch); return; }
    if (isa == 1) { fused_avx2(A, V, ldv, N, C, K, Kp, Ho, Wo, dil, m, oys, nty, oxs, ntx, bias, residual, relu, b0, b1, y, scratch); return; }
#endif
    fused_body(A, V, ldv, N, C, K, Kp, Ho, Wo, dil, m, oys, nty, oxs, ntx, bias, residual, relu, b0, b1, y, scratch);
}
