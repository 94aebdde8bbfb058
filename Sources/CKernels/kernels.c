#include "CKernels.h"
#include <math.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// Output columns [lo, hi) whose input column ox*s - p + k*d lies inside [0, W).
static inline void valid_range(int Wo, int W, int s, int off, int *lo, int *hi) {
    // off = k*d - p; need 0 <= ox*s + off < W.
    int a = off >= 0 ? 0 : (-off + s - 1) / s;
    int b = (W - off + s - 1) / s; // first ox with ox*s + off >= W
    if (W - off <= 0) b = 0;
    if (b > Wo) b = Wo;
    if (a > b) a = b;
    *lo = a; *hi = b;
}

void pw_im2col(const float *x, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
               int dh, int dw, int Ho, int Wo, int c0, int c1, float *cols) {
    const size_t plane = (size_t)Ho * Wo;
    for (int c = c0; c < c1; c++) {
        const float *xc = x + (size_t)c * H * W;
        for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
                float *row = cols + ((size_t)(c * kh + ky) * kw + kx) * plane;
                int xoff = kx * dw - pw;
                int lo, hi;
                valid_range(Wo, W, sw, xoff, &lo, &hi);
                for (int oy = 0; oy < Ho; oy++) {
                    float *dst = row + (size_t)oy * Wo;
                    int iy = oy * sh - ph + ky * dh;
                    if (iy < 0 || iy >= H) { memset(dst, 0, sizeof(float) * Wo); continue; }
                    const float *src = xc + (size_t)iy * W + xoff;
                    for (int ox = 0; ox < lo; ox++) dst[ox] = 0;
                    if (sw == 1) {
                        if (hi > lo) memcpy(dst + lo, src + lo, sizeof(float) * (hi - lo));
                    } else {
                        for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox * sw];
                    }
                    for (int ox = hi; ox < Wo; ox++) dst[ox] = 0;
                }
            }
        }
    }
}

void pw_epilogue(float *y, const float *bias, const float *residual, int plane, int c0, int c1, int relu) {
    for (int c = c0; c < c1; c++) {
        float *yc = y + (size_t)c * plane;
        const float b = bias ? bias[c] : 0.0f;
        if (residual) {
            const float *rc = residual + (size_t)c * plane;
            if (relu) for (int i = 0; i < plane; i++) { float v = yc[i] + b + rc[i]; yc[i] = v > 0 ? v : 0; }
            else for (int i = 0; i < plane; i++) yc[i] = yc[i] + b + rc[i];
        } else {
            if (relu) for (int i = 0; i < plane; i++) { float v = yc[i] + b; yc[i] = v > 0 ? v : 0; }
            else if (bias) for (int i = 0; i < plane; i++) yc[i] = yc[i] + b;
        }
    }
}

void pw_upsample_nearest(const float *x, int planes, int H, int W, int factor, float *y) {
    const int Wo = W * factor;
    for (int p = 0; p < planes; p++) {
        const float *xp = x + (size_t)p * H * W;
        float *yp = y + (size_t)p * H * factor * Wo;
        for (int iy = 0; iy < H; iy++) {
            float *row = yp + (size_t)iy * factor * Wo;
            const float *src = xp + (size_t)iy * W;
            for (int ix = 0; ix < W; ix++) {
                const float v = src[ix];
                for (int f = 0; f < factor; f++) row[ix * factor + f] = v;
            }
            for (int f = 1; f < factor; f++) memcpy(row + (size_t)f * Wo, row, sizeof(float) * Wo);
        }
    }
}

// OpenCV's warpAffine constants: coordinates in 1/32 pixel (INTER_BITS 5) computed via AB_BITS 10,
// bilinear weights scaled to 2^15 (INTER_REMAP_COEF_BITS). With 1/32 fractions the 15-bit weights
// (32-fy)(32-fx)*32 etc. are exact integers summing to 32768, so this is bit-exact with cv2.
#define PW_AB_BITS 10
#define PW_AB_SCALE (1 << PW_AB_BITS)
#define PW_INTER_BITS 5
#define PW_TAB 32

static inline int round_to_int(double v) { return (int)lrint(v); } // cvRound: nearest, ties to even

void pw_warp_affine_rgb(const uint8_t *rgb, int width, int height, int rowStride, const double *M,
                        int outW, int outH, const float *lut, float *out, int y0, int y1) {
    const int roundDelta = PW_AB_SCALE / PW_TAB / 2;
    const size_t plane = (size_t)outW * outH;
    for (int y = y0; y < y1; y++) {
        const int X0 = round_to_int((M[1] * y + M[2]) * PW_AB_SCALE) + roundDelta;
        const int Y0 = round_to_int((M[4] * y + M[5]) * PW_AB_SCALE) + roundDelta;
        for (int x = 0; x < outW; x++) {
            const int X = (X0 + round_to_int(M[0] * x * PW_AB_SCALE)) >> (PW_AB_BITS - PW_INTER_BITS);
            const int Y = (Y0 + round_to_int(M[3] * x * PW_AB_SCALE)) >> (PW_AB_BITS - PW_INTER_BITS);
            const int sx = X >> PW_INTER_BITS, sy = Y >> PW_INTER_BITS;
            const int fx = X & (PW_TAB - 1), fy = Y & (PW_TAB - 1);
            const int w00 = (PW_TAB - fy) * (PW_TAB - fx) * 32, w01 = (PW_TAB - fy) * fx * 32;
            const int w10 = fy * (PW_TAB - fx) * 32, w11 = fy * fx * 32;
            const int in0 = sy >= 0 && sy < height, in1 = sy + 1 >= 0 && sy + 1 < height;
            const int ix0 = sx >= 0 && sx < width, ix1 = sx + 1 >= 0 && sx + 1 < width;
            for (int c = 0; c < 3; c++) {
                int v00 = 0, v01 = 0, v10 = 0, v11 = 0;
                if (in0) {
                    const uint8_t *r = rgb + (size_t)sy * rowStride;
                    if (ix0) v00 = r[sx * 3 + c];
                    if (ix1) v01 = r[(sx + 1) * 3 + c];
                }
                if (in1) {
                    const uint8_t *r = rgb + (size_t)(sy + 1) * rowStride;
                    if (ix0) v10 = r[sx * 3 + c];
                    if (ix1) v11 = r[(sx + 1) * 3 + c];
                }
                int v = (v00 * w00 + v01 * w01 + v10 * w10 + v11 * w11 + (1 << 14)) >> 15;
                if (v > 255) v = 255;
                out[c * plane + (size_t)y * outW + x] = lut[c * 256 + v];
            }
        }
    }
}

void pw_keep_freed_memory(void) {
#if defined(__GLIBC__)
    // Allocations up to 32 MiB (glibc's ceiling for this setting on 64-bit) come from the heap, and up
    // to 256 MiB of freed heap stays mapped for reuse. One arena: a thread's own arena unmaps its
    // 64 MiB heaps whenever one empties, so tensors allocated on pipeline threads would fault afresh.
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}
