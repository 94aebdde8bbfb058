#include "DetectorKernels.h"
#include <string.h>

// exp(x) for x in [-87.3, 88.7]: x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial (Cephes expf
// coefficients), 2^n built in the exponent bits. Branch-free so loops around it vectorise.
static inline float pw_expf(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
    float fx = x * 1.44269504088896341f;
    float n = __builtin_floorf(fx + 0.5f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float r2 = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r2 + r + 1.0f;
    union { int32_t i; float f; } e;
    e.i = ((int32_t)n + 127) << 23;
    return p * e.f;
}

static inline float pw_act(float v, int act) {
    switch (act) {
    case PW_ACT_RELU: return v > 0 ? v : 0;
    case PW_ACT_SILU: return v / (1.0f + pw_expf(-v));
    case PW_ACT_SIGMOID: return 1.0f / (1.0f + pw_expf(-v));
    case PW_ACT_HARDSIGMOID: { float t = v + 3.0f; t = t < 0 ? 0 : (t > 6.0f ? 6.0f : t); return t / 6.0f; }
    default: return v;
    }
}

void pw_activate(float *y, size_t n, int act) {
    // One loop per activation so each is a straight vectorisable loop.
    switch (act) {
    case PW_ACT_RELU: for (size_t i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0; break;
    case PW_ACT_SILU: for (size_t i = 0; i < n; i++) y[i] = y[i] / (1.0f + pw_expf(-y[i])); break;
    case PW_ACT_SIGMOID: for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + pw_expf(-y[i])); break;
    case PW_ACT_HARDSIGMOID: for (size_t i = 0; i < n; i++) y[i] = pw_act(y[i], PW_ACT_HARDSIGMOID); break;
    default: break;
    }
}

void pw_depthwise_conv(const float *x, int H, int W, const float *w, const float *bias, int k, int s, int p,
                       int Ho, int Wo, int act, int c0, int c1, float *y) {
    float acc[Wo > 0 ? Wo : 1];
    for (int c = c0; c < c1; c++) {
        const float *xc = x + (size_t)c * H * W;
        const float *wc = w + (size_t)c * k * k;
        float b = bias ? bias[c] : 0.0f;
        for (int oy = 0; oy < Ho; oy++) {
            for (int ox = 0; ox < Wo; ox++) acc[ox] = b;
            for (int ky = 0; ky < k; ky++) {
                int iy = oy * s - p + ky;
                if (iy < 0 || iy >= H) continue;
                const float *row = xc + (size_t)iy * W;
                for (int kx = 0; kx < k; kx++) {
                    float wv = wc[ky * k + kx];
                    // Outputs whose tap column ox·s − p + kx lies inside the row.
                    int lo = p - kx > 0 ? (p - kx + s - 1) / s : 0;
                    int hi = (W - 1 + p - kx) >= 0 ? (W - 1 + p - kx) / s + 1 : 0;
                    if (hi > Wo) hi = Wo;
                    if (s == 1) {
                        const float *src = row - p + kx;
                        for (int ox = lo; ox < hi; ox++) acc[ox] += wv * src[ox];
                    } else {
                        for (int ox = lo; ox < hi; ox++) acc[ox] += wv * row[ox * s - p + kx];
                    }
                }
            }
            float *out = y + ((size_t)c * Ho + oy) * Wo;
            if (act == PW_ACT_SILU) {
                for (int ox = 0; ox < Wo; ox++) out[ox] = acc[ox] / (1.0f + pw_expf(-acc[ox]));
            } else {
                for (int ox = 0; ox < Wo; ox++) out[ox] = pw_act(acc[ox], act);
            }
        }
    }
}

void pw_maxpool_same(const float *x, int planes, int H, int W, int k, float *tmp, float *y) {
    int r = k / 2;
    for (int pl = 0; pl < planes; pl++) {
        const float *xp = x + (size_t)pl * H * W;
        float *yp = y + (size_t)pl * H * W;
        // Rows first (into tmp), then columns: max is exact, so the split changes nothing.
        for (int iy = 0; iy < H; iy++) {
            const float *row = xp + (size_t)iy * W;
            float *t = tmp + (size_t)iy * W;
            for (int ix = 0; ix < W; ix++) {
                int a = ix - r < 0 ? 0 : ix - r, b = ix + r >= W ? W - 1 : ix + r;
                float m = row[a];
                for (int j = a + 1; j <= b; j++) m = row[j] > m ? row[j] : m;
                t[ix] = m;
            }
        }
        for (int iy = 0; iy < H; iy++) {
            int a = iy - r < 0 ? 0 : iy - r, b = iy + r >= H ? H - 1 : iy + r;
            float *out = yp + (size_t)iy * W;
            memcpy(out, tmp + (size_t)a * W, sizeof(float) * W);
            for (int j = a + 1; j <= b; j++) {
                const float *t = tmp + (size_t)j * W;
                for (int ix = 0; ix < W; ix++) out[ix] = t[ix] > out[ix] ? t[ix] : out[ix];
            }
        }
    }
}

void pw_space_to_depth(const float *x, int C, int H, int W, float *y) {
    int Ho = H / 2, Wo = W / 2;
    static const int dy[4] = {0, 1, 0, 1}, dx[4] = {0, 0, 1, 1};
    for (int q = 0; q < 4; q++) {
        for (int c = 0; c < C; c++) {
            const float *xc = x + (size_t)c * H * W;
            float *yc = y + ((size_t)q * C + c) * Ho * Wo;
            for (int oy = 0; oy < Ho; oy++) {
                const float *row = xc + (size_t)(2 * oy + dy[q]) * W + dx[q];
                for (int ox = 0; ox < Wo; ox++) yc[oy * Wo + ox] = row[2 * ox];
            }
        }
    }
}
