#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
#include <stdint.h>
// Vectorised float32 inner loops for Engine (see Sources/Engine). All tensors are dense row-major.

/// im2col for channels [c0, c1) of one image x[C][H][W] into cols[(c*kh*kw + ky*kw + kx)][Ho*Wo]
/// (rows indexed from channel 0, so several calls can fill disjoint channel ranges in parallel).
void pw_im2col(const float *x, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
               int dh, int dw, int Ho, int Wo, int c0, int c1, float *cols);

/// y[c][p] = relu?(y[c][p] + bias[c] + residual[c][p]) for c in [c0, c1); bias/residual may be NULL.
void pw_epilogue(float *y, const float *bias, const float *residual, int plane, int c0, int c1, int relu);

/// Deformable-conv (mmcv DCNv1 / torchvision deform_conv2d) columns for channels [c0, c1):
/// cols[(c*kh*kw + k)][Ho*Wo] = bilinear sample of x[c] at the offset tap position.
/// offset is [2*dg*kh*kw][Ho][Wo]; channel c uses deform group c / (C/dg).
void pw_deform_im2col(const float *x, const float *offset, int C, int H, int W, int kh, int kw,
                      int stride, int pad, int dil, int Ho, int Wo, int dg, int c0, int c1, float *cols);

/// Nearest upsampling of `planes` planes of H×W by `factor`.
void pw_upsample_nearest(const float *x, int planes, int H, int W, int factor, float *y);

/// cv2.warpAffine(INTER_LINEAR, BORDER_CONSTANT 0) of packed RGB8 with the inverse matrix `inv`
/// (destination → source) in OpenCV's fixed-point arithmetic (1/32-pixel coordinates, 15-bit weights),
/// then out[c][y][x] = lut[c*256 + v] (the caller's normalisation table) for destination rows [y0, y1).
void pw_warp_affine_rgb(const uint8_t *rgb, int width, int height, int rowStride, const double *inv,
                        int outW, int outH, const float *lut, float *out, int y0, int y1);

/// Winograd F(m×m, 3×3) input transform (m = 2 or 4, tile t = m + 2) for the (image, channel) work
/// items [i0, i1) (item = n*C + c) of x[N][C][H][W], padded by `pad`, dilation `dil`. Tiles are the
/// product of row origins oys[nty] × column origins oxs[ntx] (output coordinates; a tile covers outputs
/// origin + a·dil, a < m). Writes V[t²][ldv/32][C][32] (columns in 32-wide blocks; image n's tiles at
/// columns n·T…; ldv ≥ N·T a multiple of 32) with T = nty·ntx. `scratch` holds
/// pw_winograd_input_scratch(...) floats per call.
void pw_winograd_input(const float *x, int N, int C, int H, int W, int pad, int dil, int m,
                       const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, size_t ldv, float *scratch);
size_t pw_winograd_input_scratch(int H, int W, int pad, int dil, int m, const int *oys, int nty, const int *oxs, int ntx);

/// One 12×32 block: M (12 rows, stride ldm) = A (packed [C][12]) · V (a contiguous [C][32] block).
void pw_wgemm_panel(int C, const float *A, const float *V, float *M, size_t ldm);

/// Fused Winograd product + output transform for work items [b0, b1), item = block·(Kp/12) + group, over
/// 32-column blocks of V (layout as written by pw_winograd_input) and 12-channel output groups: the t² products land in a small
/// cache-resident buffer and are transformed straight into y[N][K][Ho][Wo] (+bias, +residual, ReLU).
/// A is packed [t²][Kp/12][C][12]. `scratch` holds pw_winograd_fused_scratch(m) floats.
void pw_winograd_fused(const float *A, const float *V, size_t ldv, int N, int C, int K, int Kp, int Ho, int Wo,
                       int dil, int m, const int *oys, int nty, const int *oxs, int ntx, const float *bias,
                       const float *residual, int relu, int b0, int b1, float *y, float *scratch);
size_t pw_winograd_fused_scratch(int m);

/// The vector ISA the kernels dispatch to on this CPU: 2 = AVX-512, 1 = AVX2+FMA, 0 = portable C.
int pw_isa_level(void);

#include "DetectorKernels.h"   // the detector networks' kernels (own file)

#endif
