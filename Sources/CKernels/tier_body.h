// The kernels every tier compiles from the same source. Included by each isa_*.c file after it has
// defined its register-block kernel `tier_panel` (MR×NR = A [K][MR] · B [K][NR]), `tier_block` (the
// same for an edge block: at least `rows` × `cols` of it, at most MR×NR written) and switched the
// compiler to its instruction set, so the loops here are vectorised for that tier. Not a public header.
#include "winograd_transforms.h"
#include <math.h>
#include <string.h>

#ifndef PW_TIER_PANEL_ADD
// M += A · B, the product summed from zero first (one chunk of a chunked sum). A tier whose register
// kernel can add into M in place defines its own and PW_TIER_PANEL_ADD.
static void tier_panel_add(int K, const float *A, const float *B, float *M, size_t ldm) {
    float part[MR * NR];
    tier_panel(K, A, B, part, NR);
    for (int r = 0; r < MR; r++) {
        float *RESTRICT row = M + (size_t)r * ldm;
        const float *RESTRICT q = part + (size_t)r * NR;
        for (int j = 0; j < NR; j++) row[j] += q[j];
    }
}
#endif

static void tier_winograd_input(const float *x, int N, int C, int H, int W, int pad, int dil, int m,
                       const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, size_t ldv, float *scratch) {
    const int t = m + 2, T = nty * ntx;
    const size_t NT = ldv, CNT = (size_t)C * NT;
    int PH, PW;
    pw_padded_extent(pad, dil, m, oys, nty, oxs, ntx, H, W, &PH, &PW);
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
        // so stores are contiguous.
        for (int iy = 0; iy < nty; iy++) {
            for (int r = 0; r < t; r++) {
                const float *row = pimg + (size_t)(oys[iy] + r * dil) * PW;
                if (dil == 1 && m == 4) {
                    // All six columns of a tile in one pass: a 4-way interleave (and two of its members
                    // one tile on) the compiler turns into vector shuffles.
                    float *RESTRICT g = G + (size_t)(r * t) * T + (size_t)iy * ntx;
                    PW_INDEPENDENT
                    for (int ix = 0; ix < ntx; ix++) {
                        const float *RESTRICT q = row + 4 * ix;
                        g[ix] = q[0]; g[T + ix] = q[1]; g[2 * T + ix] = q[2];
                        g[3 * T + ix] = q[3]; g[4 * T + ix] = q[4]; g[5 * T + ix] = q[5];
                    }
                    continue;
                }
                if (dil == 1 && m == 2) {
                    // The same for F(2×2): four columns, a 2-way interleave and its copy one tile on.
                    float *RESTRICT g = G + (size_t)(r * t) * T + (size_t)iy * ntx;
                    PW_INDEPENDENT
                    for (int ix = 0; ix < ntx; ix++) {
                        const float *RESTRICT q = row + 2 * ix;
                        g[ix] = q[0]; g[T + ix] = q[1]; g[2 * T + ix] = q[2]; g[3 * T + ix] = q[3];
                    }
                    continue;
                }
                for (int s = 0; s < t; s++) {
                    const float *RESTRICT src = row + s * dil;
                    float *RESTRICT dst = G + (size_t)(r * t + s) * T + (size_t)iy * ntx;
                    for (int ix = 0; ix < ntx; ix++) dst[ix] = src[oxs[ix]];
                }
            }
        }
        // Vertical pass: Tm[(i*t + s)] = Σ_r B^T[i][r] G[(r*t + s)].
        for (int s = 0; s < t; s++) {
            if (m == 4) bt4(G + (size_t)s * T, (size_t)t * T, Tm + (size_t)s * T, (size_t)t * T, T);
            else bt2(G + (size_t)s * T, (size_t)t * T, Tm + (size_t)s * T, (size_t)t * T, T);
        }
        // Horizontal pass straight into V's NR-column blocks, V[ξ][col/NR][c][col%NR] with col = n*T + tile,
        // so the product kernel streams each block contiguously: one piece per block the image's tiles touch.
        for (int i = 0; i < t; i++) {
            const float *src = Tm + (size_t)(i * t) * T;
            float *Vi = V + (size_t)(i * t) * CNT + (size_t)c * NR;
            size_t col = (size_t)n * T;
            for (int done = 0; done < T;) {
                const size_t off = col % NR;
                int len = NR - (int)off;
                if (len > T - done) len = T - done;
                float *dst = Vi + (col / NR) * C * NR + off;
                if (m == 4) bt4(src + done, T, dst, CNT, len);
                else bt2(src + done, T, dst, CNT, len);
                done += len; col += len;
            }
        }
    }
}

static void tier_winograd_fused(const float *A, const float *V, size_t ldv, int N, int C, int K, int Kp, int Ho, int Wo,
                       int dil, int m, const int *oys, int nty, const int *oxs, int ntx, const float *bias,
                       const float *residual, int relu, int b0, int b1, float *y, float *scratch) {
    const int t = m + 2, tt = t * t, T = nty * ntx, NT = N * T;
    const size_t CV = (size_t)C * ldv;         // V floats per ξ
    const size_t AK = (size_t)Kp * C;          // packed A floats per ξ
    float *Mloc = scratch;                     // [ξ][MR][NR]
    float *S = Mloc + (size_t)tt * MR * NR;    // [m][t][NR]
    float *Y = S + (size_t)m * t * NR;         // [m][m][NR]
    const size_t plane = (size_t)Ho * Wo;
    const int groups = Kp / MR;
    for (int item = b0; item < b1; item++) {
        const int blk = item / groups, kb = item % groups;
        const float *Vb = V + (size_t)blk * C * NR;
        const int g0 = blk * NR;
        const int count = NT - g0 < NR ? NT - g0 : NR;
        {
            // Sums over PW_WINOGRAD_CHUNK channels at a time, then their sum (precision: kernel_table.h).
            // A last block of at most NR/2 tiles takes the half-width kernel where the tier has one (the
            // columns it leaves are never read).
#ifdef PW_TIER_PANEL_NARROW
            const int narrow = count <= NR / 2;
#else
            const int narrow = 0;
#endif
            for (int xi = 0; xi < tt; xi++) {
                const float *Ax = A + xi * AK + (size_t)kb * C * MR, *Bx = Vb + xi * CV;
                float *RESTRICT Mx = Mloc + (size_t)xi * MR * NR;
                const int first = C < PW_WINOGRAD_CHUNK ? C : PW_WINOGRAD_CHUNK;
                if (narrow) {
#ifdef PW_TIER_PANEL_NARROW
                    tier_panel_narrow(first, Ax, Bx, Mx, NR);
                    for (int c0 = first; c0 < C; c0 += PW_WINOGRAD_CHUNK) {
                        const int len = C - c0 < PW_WINOGRAD_CHUNK ? C - c0 : PW_WINOGRAD_CHUNK;
                        tier_panel_narrow_add(len, Ax + (size_t)c0 * MR, Bx + (size_t)c0 * NR, Mx, NR);
                    }
#endif
                    continue;
                }
                tier_panel(first, Ax, Bx, Mx, NR);
                for (int c0 = first; c0 < C; c0 += PW_WINOGRAD_CHUNK) {
                    const int len = C - c0 < PW_WINOGRAD_CHUNK ? C - c0 : PW_WINOGRAD_CHUNK;
                    tier_panel_add(len, Ax + (size_t)c0 * MR, Bx + (size_t)c0 * NR, Mx, NR);
                }
            }
            winograd_output_block(Mloc, S, Y, m, kb, K, g0, count, T, ntx, oys, oxs, dil, Ho, Wo, plane, bias,
                                  residual, relu, y);
        }
    }
}


// ---- Packed matrix product with a fused epilogue (see pw_gemm_images in CKernels.h).

#ifndef PW_TIER_GATHER_ROW
// d[i] = src[i·sw] for i in [a, b), 0 for the rest of [0, n) (src is only read in [a·sw, (b−1)·sw]).
static inline void tier_gather_row(float *RESTRICT d, const float *src, int a, int b, int n, int sw) {
    for (int i = 0; i < a; i++) d[i] = 0;
    if (sw == 1) { for (int i = a; i < b; i++) d[i] = src[i]; }
    else if (sw == 2) { for (int i = a; i < b; i++) d[i] = src[2 * i]; }
    else { for (int i = a; i < b; i++) d[i] = src[(size_t)i * sw]; }
    for (int i = b; i < n; i++) d[i] = 0;
}
#define PW_TIER_GATHER_ROW tier_gather_row
#endif

// Columns [j0, j0 + nc) of a convolution's im2col matrix (pw_conv_input) as a [K][NR] panel, gathered
// from the input: the same values pw_im2col writes, without the pass through memory over all of them.
static void tier_conv_panel(const pw_conv_input *cv, int j0, int nc, float *Bp) {
    const int H = cv->H, W = cv->W, Wo = cv->Wo, plane = cv->Ho * Wo, sw = cv->sw;
    const size_t chw = (size_t)H * W;
    // The block's columns as runs along one output row each: run r is panel columns [at[r], at[r] + len[r]),
    // output row oy[r] from column ox[r] of the image at img[r].
    int runs = 0, at[NR], len[NR], oy[NR], ox[NR];
    const float *img[NR];
    for (int j = j0; j < j0 + nc;) {
        const int image = j / plane, p = j % plane, o = p % Wo;
        const int n = Wo - o < j0 + nc - j ? Wo - o : j0 + nc - j;
        at[runs] = j - j0; len[runs] = n; oy[runs] = p / Wo; ox[runs] = o;
        img[runs] = cv->x + (size_t)image * cv->C * chw;
        runs++; j += n;
    }
    // Output columns [lo, hi) of each kx whose input column lies inside the image.
    int lo[PW_CONV_MAX_KW], hi[PW_CONV_MAX_KW];
    for (int kx = 0; kx < cv->kw; kx++) {
        const int off = kx * cv->dw - cv->pw;
        int a = off >= 0 ? 0 : (-off + sw - 1) / sw;
        int b = W - off <= 0 ? 0 : (W - off + sw - 1) / sw;
        if (b > Wo) b = Wo;
        if (a > b) a = b;
        lo[kx] = a; hi[kx] = b;
    }
    float *RESTRICT dst = Bp;
    for (int c = 0; c < cv->C; c++) {
        for (int ky = 0; ky < cv->kh; ky++) {
            for (int kx = 0; kx < cv->kw; kx++, dst += NR) {
                const int off = kx * cv->dw - cv->pw;
                for (int r = 0; r < runs; r++) {
                    float *RESTRICT d = dst + at[r];
                    const int n = len[r], iy = oy[r] * cv->sh - cv->ph + ky * cv->dh;
                    if (iy < 0 || iy >= H) { for (int i = 0; i < n; i++) d[i] = 0; continue; }
                    int a = lo[kx] - ox[r], b = hi[kx] - ox[r];
                    if (a < 0) a = 0;
                    if (b > n) b = n;
                    if (b < a) b = a;
                    const float *src = img[r] + c * chw + (size_t)iy * W + (ptrdiff_t)(ox[r] * sw + off);
                    PW_TIER_GATHER_ROW(d, src, a, b, n, sw);
                }
                for (int j = nc; j < NR; j++) dst[j] = 0;
            }
        }
    }
}

// One MR×NR block of a product: tile (rows × nc of it) = A panel [K][MR] · Bp [K][NR], summed over
// PW_GEMM_CHUNK of K at a time, then their sum (precision: kernel_table.h). Edge blocks (M or N not
// a multiple of the block) skip the all-zero rows and columns. `part` holds one chunk's block.
static inline void tier_block_product(const float *Apan, const float *Bp, int K, int rows, int nc, float *tile, float *part) {
    const int full = rows == MR && nc > NR / 2;
    const int first = K < PW_GEMM_CHUNK ? K : PW_GEMM_CHUNK;
    if (full) tier_panel(first, Apan, Bp, tile, NR); else tier_block(first, Apan, Bp, tile, NR, rows, nc);
    for (int k0 = first; k0 < K; k0 += PW_GEMM_CHUNK) {
        const int len = K - k0 < PW_GEMM_CHUNK ? K - k0 : PW_GEMM_CHUNK;
        if (full) { tier_panel_add(len, Apan + (size_t)k0 * MR, Bp + (size_t)k0 * NR, tile, NR); continue; }
        tier_block(len, Apan + (size_t)k0 * MR, Bp + (size_t)k0 * NR, part, NR, rows, nc);
        for (int r = 0; r < rows; r++) {
            float *RESTRICT t = tile + (size_t)r * NR;
            const float *RESTRICT q = part + (size_t)r * NR;
            for (int j = 0; j < nc; j++) t[j] += q[j];
        }
    }
}

static void tier_gemm(const float *Ap, const float *B, size_t ldb, size_t bImage, int M, int N, int plane, int K,
                      const float *bias, const float *residual, int relu, float *C, size_t ldc, size_t cImage,
                      int rowGroups, int i0, int i1, float *scratch, const pw_conv_input *conv) {
    const int panels = (M + MR - 1) / MR;
    float *Bp = scratch;                    // the column block, packed [K][NR]
    float *tile = Bp + (size_t)K * NR;      // one MR×NR result block
    float *part = tile + MR * NR;           // one K chunk's partial block
    int packed = -1;
    // The block's columns as runs within one image each: run s is block columns [at[s], at[s] + len[s])
    // at B offset bOff[s] and C offset cOff[s] (row 0).
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
            // Contiguous panel: the kernel streams it from L1/L2 for every row panel of A.
            if (conv) tier_conv_panel(conv, j0, nc, Bp);
            else for (int k = 0; k < K; k++) {
                float *RESTRICT dst = Bp + (size_t)k * NR;
                if (segments == 1) {
                    const float *RESTRICT src = B + bOff[0] + (size_t)k * ldb;
                    // The rows are far apart (one image plane each), too many streams for the hardware
                    // prefetcher: fetch the next block's part of this row while this block computes.
                    __builtin_prefetch(src + NR, 0, 3);
                    __builtin_prefetch(src + NR + 16, 0, 3);
                    if (nc == NR) { for (int j = 0; j < NR; j++) dst[j] = src[j]; }
                    else { for (int j = 0; j < nc; j++) dst[j] = src[j]; }
                } else {
                    for (int sg = 0; sg < segments; sg++) {
                        const float *RESTRICT src = B + bOff[sg] + (size_t)k * ldb;
                        for (int j = 0; j < len[sg]; j++) dst[at[sg] + j] = src[j];
                    }
                }
                for (int j = nc; j < NR; j++) dst[j] = 0;
            }
            packed = jb;
        }
        const int p0 = (int)((long)panels * rg / rowGroups), p1 = (int)((long)panels * (rg + 1) / rowGroups);
        for (int p = p0; p < p1; p++) {
            const int rows = M - p * MR < MR ? M - p * MR : MR;
            // The block's output (and residual) rows are a plane apart: start their cache misses now so
            // they overlap the kernel instead of stalling the stores after it.
            for (int r = 0; r < rows; r++) {
                for (int sg = 0; sg < segments; sg++) {
                    const size_t o = cOff[sg] + (size_t)(p * MR + r) * ldc;
                    __builtin_prefetch(C + o, 1, 3); __builtin_prefetch(C + o + len[sg] - 1, 1, 3);
                    if (residual) { __builtin_prefetch(residual + o, 0, 3); __builtin_prefetch(residual + o + len[sg] - 1, 0, 3); }
                }
            }
            tier_block_product(Ap + (size_t)p * K * MR, Bp, K, rows, nc, tile, part);
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

// ---- Deformable convolution columns.
// torchvision's deform_conv2d bilinear sample: 0 outside (-1,H)x(-1,W); out-of-image corners count 0.
static inline float deform_sample(const float *img, int H, int W, int ld, float h, float w) {
    if (h <= -1.0f || h >= (float)H || w <= -1.0f || w >= (float)W) return 0.0f;
    float hf = floorf(h), wf = floorf(w);
    int hl = (int)hf, wl = (int)wf, hh = hl + 1, wh = wl + 1;
    // Under -ffast-math a NaN coordinate may pass the test above; its integer corner (INT_MIN) must
    // not become a read.
    if (hl < -1 || hl > H - 1 || wl < -1 || wl > W - 1) return 0.0f;
    float lh = h - hf, lw = w - wf, uh = 1.0f - lh, uw = 1.0f - lw;
    float v1 = 0, v2 = 0, v3 = 0, v4 = 0;
    if (hl >= 0) {
        if (wl >= 0) v1 = img[hl * ld + wl];
        if (wh <= W - 1) v2 = img[hl * ld + wh];
    }
    if (hh <= H - 1) {
        if (wl >= 0) v3 = img[hh * ld + wl];
        if (wh <= W - 1) v4 = img[hh * ld + wh];
    }
    return uh * uw * v1 + uh * lw * v2 + lh * uw * v3 + lh * lw * v4;
}

#ifndef PW_TIER_DEFORM_SPAN
// One run of output positions i < n along an output row: out[i] samples img (rows ld floats apart)
// at (baseY + offY[i], baseX0 + i·stride + offX[i]). `bordered`: img also has a zero border one pixel
// wide (a shortcut for vector kernels; this one checks every corner anyway). A tier with a vector
// gather defines its own (same weights, same sum order) and PW_TIER_DEFORM_SPAN before including this file.
static inline void tier_deform_span(const float *img, int H, int W, int ld, int bordered, int baseY, int baseX0,
                                    int stride, const float *offY, const float *offX, int n, float *out) {
    (void)bordered;
    for (int i = 0; i < n; i++)
        out[i] = deform_sample(img, H, W, ld, (float)baseY + offY[i], (float)(baseX0 + i * stride) + offX[i]);
}
#define PW_TIER_DEFORM_SPAN tier_deform_span
#endif

static void tier_deform_im2col(const float *x, const float *offset, int C, int H, int W, int kh, int kw,
                      int stride, int pad, int dil, int Ho, int Wo, int dg, int c0, int c1, float *cols) {
    const size_t plane = (size_t)Ho * Wo;
    const int perGroup = C / dg;
    const int taps = kh * kw;
    for (int c = c0; c < c1; c++) {
        const int g = c / perGroup;
        const float *img = x + (size_t)c * H * W;
        for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
                const int k = ky * kw + kx;
                const float *offY = offset + (size_t)(2 * (g * taps + k)) * plane;
                const float *offX = offY + plane;
                float *row = cols + ((size_t)c * taps + k) * plane;
                for (int oy = 0; oy < Ho; oy++) {
                    const size_t p = (size_t)oy * Wo;
                    PW_TIER_DEFORM_SPAN(img, H, W, W, 0, oy * stride - pad + ky * dil, kx * dil - pad, stride,
                                        offY + p, offX + p, Wo, row + p);
                }
            }
        }
    }
}

// The fused deformable convolution (pw_deform_job in CKernels.h). Per column block: the offsets
// block [2·dg·taps][NR] (the offset convolution's product; given offsets are read in place), the sampled columns
// [C·taps][NR] in the product's packed layout, then the product; the same per-element arithmetic as
// the three passes, none of whose intermediates (megabytes per frame) leave the cache.
static void tier_deform_fused(const pw_deform_job *d, int i0, int i1, float *scratch) {
    const int taps = d->kh * d->kw, K = d->C * taps, R = 2 * d->dg * taps, perGroup = d->C / d->dg;
    const int Wo = d->Wo, plane = d->Ho * Wo, N = d->images * plane;
    const pw_conv_input *cv = d->offsetInput;
    const int Koff = cv ? cv->C * cv->kh * cv->kw : 0;
    float *tile = scratch, *part = tile + MR * NR, *offs = part + MR * NR;
    float *cols = offs + (size_t)R * NR, *Bp = cols + (size_t)K * NR;
    for (int item = i0; item < i1; item++) {
        const int j0 = item * NR, nc = N - j0 < NR ? N - j0 : NR;
        // The block's columns as runs along one output row: run r is block columns [at, at + len),
        // image img, output row oy from column ox.
        int runs = 0, at[NR], len[NR], img[NR], oy[NR], ox[NR];
        for (int j = j0; j < j0 + nc;) {
            const int image = j / plane, p = j % plane, o = p % Wo;
            const int n = Wo - o < j0 + nc - j ? Wo - o : j0 + nc - j;
            at[runs] = j - j0; len[runs] = n; img[runs] = image; oy[runs] = p / Wo; ox[runs] = o;
            runs++; j += n;
        }
        if (cv) {
            tier_conv_panel(cv, j0, nc, Bp);
            for (int p = 0; p * MR < R; p++) {
                const int rows = R - p * MR < MR ? R - p * MR : MR;
                tier_block_product(d->offsetA + (size_t)p * Koff * MR, Bp, Koff, rows, nc, tile, part);
                for (int r = 0; r < rows; r++) {
                    const float b = d->offsetBias ? d->offsetBias[p * MR + r] : 0.0f;
                    float *RESTRICT o = offs + (size_t)(p * MR + r) * NR;
                    const float *RESTRICT t = tile + (size_t)r * NR;
                    for (int j = 0; j < nc; j++) o[j] = t[j] + b;
                }
            }
        }
        // Run s's offset rows: in the block (row stride NR) or read in place where they are given.
        const float *offAt[NR];
        size_t offRow = NR;
        for (int s = 0; s < runs; s++) offAt[s] = offs + at[s];
        if (!cv) {
            offRow = (size_t)plane;
            for (int s = 0; s < runs; s++)
                offAt[s] = d->offsets + (size_t)img[s] * d->offsetsImage + (size_t)oy[s] * Wo + ox[s];
            // Its R rows lie a plane apart, too many streams for the hardware prefetcher: fetch the
            // next block's part of each while this block computes.
            if (j0 + NR < N) {
                const int next = j0 + NR, p = next % plane;
                const float *base = d->offsets + (size_t)(next / plane) * d->offsetsImage + p;
                const int last = (plane - p < NR ? plane - p : NR) - 1;
                for (int r = 0; r < R; r++) {
                    __builtin_prefetch(base + (size_t)r * plane, 0, 3);
                    __builtin_prefetch(base + (size_t)r * plane + last, 0, 3);
                }
            }
        }
        for (int c = 0; c < d->C; c++) {
            const int g = c / perGroup;
            for (int k = 0; k < taps; k++) {
                const int ky = k / d->kw, kx = k % d->kw;
                const size_t rowY = (size_t)(2 * (g * taps + k)) * offRow;
                float *dst = cols + ((size_t)c * taps + k) * NR;
                for (int s = 0; s < runs; s++) {
                    const float *x = d->x + (size_t)img[s] * d->xImage + (size_t)c * d->xPlane;
                    PW_TIER_DEFORM_SPAN(x, d->H, d->W, d->ld, 1, oy[s] - d->pad + ky * d->dil,
                                        ox[s] + kx * d->dil - d->pad, 1,
                                        offAt[s] + rowY, offAt[s] + rowY + offRow, len[s], dst + at[s]);
                }
                for (int j = nc; j < NR; j++) dst[j] = 0;
            }
        }
        for (int p = 0; p * MR < d->M; p++) {
            const int rows = d->M - p * MR < MR ? d->M - p * MR : MR;
            tier_block_product(d->A + (size_t)p * K * MR, cols, K, rows, nc, tile, part);
            for (int r = 0; r < rows; r++) {
                const int row = p * MR + r;
                const float b = d->bias ? d->bias[row] : 0.0f;
                for (int s = 0; s < runs; s++) {
                    float *RESTRICT y = d->y + (size_t)img[s] * d->yImage + (size_t)row * plane + (size_t)oy[s] * Wo + ox[s];
                    const float *RESTRICT t = tile + (size_t)r * NR + at[s];
                    for (int j = 0; j < len[s]; j++) y[j] = t[j] + b;
                }
            }
        }
    }
}

/// This tier's table (the isa_*.c file names it pw_kernels_<tier>).
#define PW_TIER_TABLE { tier_panel, tier_gemm, tier_winograd_input, tier_winograd_fused, tier_deform_im2col, tier_deform_fused }
