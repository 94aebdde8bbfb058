// Winograd F(2×2,3×3) and F(4×4,3×3) transforms (Lavin & Gray 2015, points 0, ±1, ±2, ∞), with
// dilation handled by tiling each d×d phase sub-image (outputs y ≡ a mod d read only rows ≡ a mod d).
// All transforms run over arrays of tiles so they vectorise; the ISA is chosen at run time.
#include "CKernels.h"
#include <string.h>

#define RESTRICT __restrict__
#define INLINE static inline __attribute__((always_inline))

// out_i = Σ_r B^T[i][r] · in_r over T tiles.
INLINE void bt4(const float *const in[6], float *const out[6], int T) {
    const float *RESTRICT d0 = in[0], *RESTRICT d1 = in[1], *RESTRICT d2 = in[2];
    const float *RESTRICT d3 = in[3], *RESTRICT d4 = in[4], *RESTRICT d5 = in[5];
    float *RESTRICT o0 = out[0], *RESTRICT o1 = out[1], *RESTRICT o2 = out[2];
    float *RESTRICT o3 = out[3], *RESTRICT o4 = out[4], *RESTRICT o5 = out[5];
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

INLINE void bt2(const float *const in[4], float *const out[4], int T) {
    const float *RESTRICT d0 = in[0], *RESTRICT d1 = in[1], *RESTRICT d2 = in[2], *RESTRICT d3 = in[3];
    float *RESTRICT o0 = out[0], *RESTRICT o1 = out[1], *RESTRICT o2 = out[2], *RESTRICT o3 = out[3];
    for (int p = 0; p < T; p++) {
        o0[p] = d0[p] - d2[p];
        o1[p] = d1[p] + d2[p];
        o2[p] = d2[p] - d1[p];
        o3[p] = d1[p] - d3[p];
    }
}

INLINE void at4(const float *const in[6], float *const out[4], int T) {
    const float *RESTRICT m0 = in[0], *RESTRICT m1 = in[1], *RESTRICT m2 = in[2];
    const float *RESTRICT m3 = in[3], *RESTRICT m4 = in[4], *RESTRICT m5 = in[5];
    float *RESTRICT o0 = out[0], *RESTRICT o1 = out[1], *RESTRICT o2 = out[2], *RESTRICT o3 = out[3];
    for (int p = 0; p < T; p++) {
        const float s12 = m1[p] + m2[p], d12 = m1[p] - m2[p];
        const float s34 = m3[p] + m4[p], d34 = m3[p] - m4[p];
        o0[p] = m0[p] + s12 + s34;
        o1[p] = d12 + 2.0f * d34;
        o2[p] = s12 + 4.0f * s34;
        o3[p] = d12 + 8.0f * d34 + m5[p];
    }
}

INLINE void at2(const float *const in[4], float *const out[2], int T) {
    const float *RESTRICT m0 = in[0], *RESTRICT m1 = in[1], *RESTRICT m2 = in[2], *RESTRICT m3 = in[3];
    float *RESTRICT o0 = out[0], *RESTRICT o1 = out[1];
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
                       const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, float *scratch) {
    const int t = m + 2, T = nty * ntx;
    const size_t NT = (size_t)N * T, CNT = (size_t)C * NT;
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
        // Gather the t×t patches, tile-minor: G[(r*t + s)][tile].
        for (int iy = 0; iy < nty; iy++) {
            for (int ix = 0; ix < ntx; ix++) {
                const int tile = iy * ntx + ix;
                const float *base = pimg + (size_t)oys[iy] * PW + oxs[ix];
                for (int r = 0; r < t; r++) {
                    const float *row = base + (size_t)r * dil * PW;
                    for (int s = 0; s < t; s++) G[(r * t + s) * T + tile] = row[s * dil];
                }
            }
        }
        // Vertical pass: Tm[(i*t + s)] = Σ_r B^T[i][r] G[(r*t + s)].
        for (int s = 0; s < t; s++) {
            const float *in[6]; float *out[6];
            for (int r = 0; r < t; r++) { in[r] = G + (size_t)(r * t + s) * T; out[r] = Tm + (size_t)(r * t + s) * T; }
            if (m == 4) bt4(in, out, T); else bt2(in, out, T);
        }
        // Horizontal pass straight into V[(i*t + j)][c][n*T + tile].
        for (int i = 0; i < t; i++) {
            const float *in[6]; float *out[6];
            for (int s = 0; s < t; s++) {
                in[s] = Tm + (size_t)(i * t + s) * T;
                out[s] = V + (size_t)(i * t + s) * CNT + (size_t)c * NT + (size_t)n * T;
            }
            if (m == 4) bt4(in, out, T); else bt2(in, out, T);
        }
    }
}

INLINE void output_body(const float *Mx, int N, int K, int Ho, int Wo, int dil, int m,
                        const int *oys, int nty, const int *oxs, int ntx, const float *bias,
                        const float *residual, int relu, int i0, int i1, float *y, float *scratch) {
    const int t = m + 2, T = nty * ntx;
    const size_t NT = (size_t)N * T, KNT = (size_t)K * NT;
    float *S = scratch;                  // [m][t][T]
    float *Y = S + (size_t)m * t * T;    // [m][m][T]
    for (int item = i0; item < i1; item++) {
        const int n = item / K, k = item % K;
        // Vertical pass: S[(a*t + j)] = Σ_i A^T[a][i] M[(i*t + j)].
        for (int j = 0; j < t; j++) {
            const float *in[6]; float *out[4];
            for (int i = 0; i < t; i++) in[i] = Mx + (size_t)(i * t + j) * KNT + (size_t)k * NT + (size_t)n * T;
            for (int a = 0; a < m; a++) out[a] = S + (size_t)(a * t + j) * T;
            if (m == 4) at4(in, out, T); else at2(in, out, T);
        }
        for (int a = 0; a < m; a++) {
            const float *in[6]; float *out[4];
            for (int j = 0; j < t; j++) in[j] = S + (size_t)(a * t + j) * T;
            for (int b = 0; b < m; b++) out[b] = Y + (size_t)(a * m + b) * T;
            if (m == 4) at4(in, out, T); else at2(in, out, T);
        }
        const float bk = bias ? bias[k] : 0.0f;
        float *yk = y + (size_t)item * Ho * Wo;
        const float *rk = residual ? residual + (size_t)item * Ho * Wo : 0;
        for (int iy = 0; iy < nty; iy++) {
            for (int a = 0; a < m; a++) {
                const int oy = oys[iy] + a * dil;
                if (oy >= Ho) break;
                for (int ix = 0; ix < ntx; ix++) {
                    const int tile = iy * ntx + ix;
                    for (int b = 0; b < m; b++) {
                        const int ox = oxs[ix] + b * dil;
                        if (ox >= Wo) break;
                        const size_t o = (size_t)oy * Wo + ox;
                        float v = Y[(size_t)(a * m + b) * T + tile] + bk;
                        if (rk) v += rk[o];
                        if (relu && v < 0) v = 0;
                        yk[o] = v;
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
    const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, float *scratch) {
    input_body(x, N, C, H, W, pad, dil, m, oys, nty, oxs, ntx, i0, i1, V, scratch);
}
TARGET_AVX2 static void input_avx2(const float *x, int N, int C, int H, int W, int pad, int dil, int m,
    const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, float *scratch) {
    input_body(x, N, C, H, W, pad, dil, m, oys, nty, oxs, ntx, i0, i1, V, scratch);
}
TARGET_AVX512 static void output_avx512(const float *Mx, int N, int K, int Ho, int Wo, int dil, int m,
    const int *oys, int nty, const int *oxs, int ntx, const float *bias, const float *residual, int relu,
    int i0, int i1, float *y, float *scratch) {
    output_body(Mx, N, K, Ho, Wo, dil, m, oys, nty, oxs, ntx, bias, residual, relu, i0, i1, y, scratch);
}
TARGET_AVX2 static void output_avx2(const float *Mx, int N, int K, int Ho, int Wo, int dil, int m,
    const int *oys, int nty, const int *oxs, int ntx, const float *bias, const float *residual, int relu,
    int i0, int i1, float *y, float *scratch) {
    output_body(Mx, N, K, Ho, Wo, dil, m, oys, nty, oxs, ntx, bias, residual, relu, i0, i1, y, scratch);
}

// 2 = AVX-512, 1 = AVX2+FMA, 0 = portable.
int pw_isa_level(void) {
    static int level = -1;
    if (level < 0) {
        __builtin_cpu_init();
        level = (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                 __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")) ? 2
              : (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
    }
    return level;
}
#else
int pw_isa_level(void) { return 0; }
#endif

void pw_winograd_input(const float *x, int N, int C, int H, int W, int pad, int dil, int m,
                       const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, float *scratch) {
#ifdef PW_X86
    int isa = pw_isa_level();
    if (isa == 2) { input_avx512(x, N, C, H, W, pad, dil, m, oys, nty, oxs, ntx, i0, i1, V, scratch); return; }
    if (isa == 1) { input_avx2(x, N, C, H, W, pad, dil, m, oys, nty, oxs, ntx, i0, i1, V, scratch); return; }
#endif
    input_body(x, N, C, H, W, pad, dil, m, oys, nty, oxs, ntx, i0, i1, V, scratch);
}

void pw_winograd_output(const float *Mx, int N, int K, int Ho, int Wo, int dil, int m,
                        const int *oys, int nty, const int *oxs, int ntx, const float *bias,
                        const float *residual, int relu, int i0, int i1, float *y, float *scratch) {
#ifdef PW_X86
    int isa = pw_isa_level();
    if (isa == 2) { output_avx512(Mx, N, K, Ho, Wo, dil, m, oys, nty, oxs, ntx, bias, residual, relu, i0, i1, y, scratch); return; }
    if (isa == 1) { output_avx2(Mx, N, K, Ho, Wo, dil, m, oys, nty, oxs, ntx, bias, residual, relu, i0, i1, y, scratch); return; }
#endif
    output_body(Mx, N, K, Ho, Wo, dil, m, oys, nty, oxs, ntx, bias, residual, relu, i0, i1, y, scratch);
}
