#ifndef DETECTOR_KERNELS_H
#define DETECTOR_KERNELS_H
#include <stddef.h>
#include <stdint.h>
// Inner loops of the person-detector networks (YOLOX, RTMDet): depthwise convolution, activations,
// max pooling, space-to-depth. Portable C written so the compiler vectorises it (no libm calls in the
// loops: exp is a polynomial accurate to ~2 ulp).

/// Activation codes shared with Engine's `Activation`.
enum { PW_ACT_NONE = 0, PW_ACT_RELU = 1, PW_ACT_SILU = 2, PW_ACT_SIGMOID = 3, PW_ACT_HARDSIGMOID = 4 };

/// Depthwise k×k convolution (one filter per channel, stride s, zero padding p) for channels [c0, c1)
/// of one image x[C][H][W] into y[C][Ho][Wo]: y = act(Σ w·x + bias[c]); bias may be NULL.
void pw_depthwise_conv(const float *x, int H, int W, const float *w, const float *bias, int k, int s, int p,
                       int Ho, int Wo, int act, int c0, int c1, float *y);

/// y[i] = act(y[i]) for i in [0, n), in place.
void pw_activate(float *y, size_t n, int act);

/// Max pooling, stride 1, window k (odd), padding k/2 that never wins (as PyTorch's -inf padding),
/// of `planes` planes of H×W; `tmp` holds H·W floats.
void pw_maxpool_same(const float *x, int planes, int H, int W, int k, float *tmp, float *y);

/// YOLOX Focus: x[C][H][W] → y[4C][H/2][W/2], channel blocks in the order (even row, even col),
/// (odd row, even col), (even row, odd col), (odd row, odd col).
void pw_space_to_depth(const float *x, int C, int H, int W, float *y);

#endif
