#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
#include <stdint.h>
// Vectorised float32 inner loops for Engine (see Sources/Engine). All tensors are dense row-major.

/// im2col for channels [c0, c1) of one image x[C][H][W] into cols[(c*kh*kw + ky*kw + kx)][Ho*Wo]
/// (rows indexed from channel 0, so several calls can fill disjoint channel ranges in parallel).
void pw_im2col(const float *x, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw,
               int dh, int dw, int Ho, int Wo, int c0, int c1, float *cols);

/// One chunk of a parallel loop: fn(ctx, chunk).
typedef void (*pw_chunk_fn)(void *ctx, int chunk);

/// Runs fn(ctx, i) for every i in [0, chunks) on the calling thread and up to threads − 1 of the
/// engine's workers, returning when all are done. A loop started while another is in flight (from
/// inside a chunk, or from another thread) runs on its caller alone.
void pw_pool_run(int threads, int chunks, pw_chunk_fn fn, void *ctx);

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
/// origin + a·dil, a < m). Writes V[t²][ldv/NR][C][NR] (columns in PW_GEMM_NR-wide blocks; image n's
/// tiles at columns n·T…; ldv ≥ N·T a multiple of PW_GEMM_NR) with T = nty·ntx. `scratch` holds
/// pw_winograd_input_scratch(...) floats per call.
void pw_winograd_input(const float *x, int N, int C, int H, int W, int pad, int dil, int m,
                       const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, size_t ldv, float *scratch);
size_t pw_winograd_input_scratch(int H, int W, int pad, int dil, int m, const int *oys, int nty, const int *oxs, int ntx);

/// The register block of every matrix-product kernel: a PW_GEMM_MR × PW_GEMM_NR block of the result is
/// one kernel call over A packed as [K][MR] and B as a contiguous [K][NR] panel. Packed layouts built
/// outside C (Winograd weights, column blocks) use these constants rather than their own numbers.
#define PW_GEMM_MR 12
#define PW_GEMM_NR 32

/// One MR×NR block: M (MR rows, stride ldm) = A (packed [C][MR]) · V (a contiguous [C][NR] panel).
void pw_wgemm_panel(int C, const float *A, const float *V, float *M, size_t ldm);

/// Fused Winograd product + output transform for work items [b0, b1), item = block·(Kp/MR) + group, over
/// NR-column blocks of V (layout as written by pw_winograd_input) and MR-channel output groups: the t²
/// products land in a small cache-resident buffer and are transformed straight into y[N][K][Ho][Wo]
/// (+bias, +residual, ReLU). A is packed [t²][Kp/MR][C][MR]. `scratch` holds pw_winograd_fused_scratch(m) floats.
void pw_winograd_fused(const float *A, const float *V, size_t ldv, int N, int C, int K, int Kp, int Ho, int Wo,
                       int dil, int m, const int *oys, int nty, const int *oxs, int ntx, const float *bias,
                       const float *residual, int relu, int b0, int b1, float *y, float *scratch);
size_t pw_winograd_fused_scratch(int m);

/// Floats of A (M×K) packed by pw_gemm_pack_a: ceil(M/MR) panels of [K][MR].
size_t pw_gemm_packed_size(int M, int K);
/// Packs row-major A (M×K, row stride lda) into [ceil(M/MR)][K][MR] panels, rows past M zero.
void pw_gemm_pack_a(const float *A, int M, int K, size_t lda, float *Ap);

/// C = Ap · B (+bias[row]) (+residual) (ReLU) with Ap from pw_gemm_pack_a, B row-major K×N (row stride
/// ldb), C and residual M×N (row stride ldc). Work items [i0, i1): item = jb·rowGroups + rg covers
/// columns [jb·NR, jb·NR + NR) and panels [P·rg/rowGroups, P·(rg+1)/rowGroups) of the P = ceil(M/MR).
/// Every output element is one kernel's full-K sum in a fixed order, so results do not depend on how
/// the items are split over threads. `scratch` holds pw_gemm_scratch(K) floats per call.
void pw_gemm(const float *Ap, const float *B, size_t ldb, int M, int N, int K, const float *bias,
             const float *residual, int relu, float *C, size_t ldc, int rowGroups, int i0, int i1, float *scratch);
/// pw_gemm over the columns of several images side by side: N = images · plane columns, column j is
/// column j % plane of image j / plane, whose B starts bImage floats after the previous image's and
/// whose C (and residual) cImage floats after. Each column's sum is computed exactly as pw_gemm
/// computes it, so batching images changes no bit of any result. Items count ceil(N/NR) column blocks.
void pw_gemm_images(const float *Ap, const float *B, size_t ldb, size_t bImage, int M, int images, int plane, int K,
                    const float *bias, const float *residual, int relu, float *C, size_t ldc, size_t cImage,
                    int rowGroups, int i0, int i1, float *scratch);
size_t pw_gemm_scratch(int K);

/// A convolution's input as the B of a product (groups 1): B's row k = (c·kh + ky)·kw + kx, column
/// j = image·Ho·Wo + oy·Wo + ox holds x[image][c][oy·sh − ph + ky·dh][ox·sw − pw + kx·dw] (0 outside), the
/// matrix pw_im2col writes. Images lie C·H·W floats apart. kw at most PW_CONV_MAX_KW.
#define PW_CONV_MAX_KW 16
typedef struct {
    const float *x;
    int C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo;
} pw_conv_input;
/// pw_gemm_images on that matrix without writing it out: each column block's panel is gathered straight
/// from x (bit-identical to pw_gemm_images on pw_im2col's columns). K = C·kh·kw; the same items and scratch.
void pw_conv_gemm_images(const float *Ap, const pw_conv_input *conv, int M, int images, const float *bias,
                         const float *residual, int relu, float *C, size_t ldc, size_t cImage,
                         int rowGroups, int i0, int i1, float *scratch);

/// A deformable convolution (stride 1, groups 1, weights packed by pw_gemm_pack_a) fused with the
/// convolution that makes its offsets: per column block of the output, the offsets (computed from
/// `offsetInput` with `offsetA` + `offsetBias`, or read from `offsets`, image i's at i·offsetsImage)
/// are made, sampled and multiplied while they sit in cache. Bit-identical to the offset convolution
/// through pw_conv_gemm_images, then pw_deform_im2col, then pw_gemm_images.
typedef struct {
    const float *x;                 // heatmaps: images × C × H × W: pixel (0, 0) of image i, channel c
    size_t xImage, xPlane;          // at x + i·xImage + c·xPlane, rows ld floats apart, each channel
    int ld;                         // with a readable zero border one pixel wide
    int images, C, H, W, kh, kw, pad, dil, dg, Ho, Wo;
    const float *A;                 // packed [M][C·kh·kw]
    int M;
    const float *bias;              // [M] or NULL
    const pw_conv_input *offsetInput;  // offsets computed: its Ho×Wo is this output's, its images these
    const float *offsetA;           // packed [2·dg·kh·kw][offsetInput C·kh·kw]
    const float *offsetBias;        // or NULL
    const float *offsets;           // offsets given (when offsetInput is NULL)
    size_t offsetsImage;            // 0: every image uses the same offsets
    float *y;                       // images × M × Ho × Wo, image i at y + i·yImage
    size_t yImage;
} pw_deform_job;
/// Column blocks [i0, i1) (PW_GEMM_NR output positions each, over images·Ho·Wo) of the job.
void pw_deform_fused(const pw_deform_job *job, int i0, int i1, float *scratch);
/// Scratch floats one pw_deform_fused call needs.
size_t pw_deform_fused_scratch(const pw_deform_job *job);

/// Kernel tiers, lowest first. Each tier is one C file (isa_portable.c, isa_avx2.c, isa_avx512.c).
#define PW_ISA_PORTABLE 0
#define PW_ISA_AVX2 1
#define PW_ISA_AVX512 2

/// The highest tier this CPU (and OS register saving) supports, from cpuid/xgetbv.
int pw_isa_supported(void);
/// The tier the kernels dispatch to: chosen once at first use, the supported tier capped by the
/// PW_ISA environment variable (0, 1 or 2).
int pw_isa_level(void);
/// Test hook: dispatches to min(level, supported) from now on (ignoring PW_ISA); returns that tier.
/// Not for use while other threads run kernels.
int pw_isa_force(int level);

/// ---- Approximate bfloat16 products (bf16_avx512.c): A and B rounded to bfloat16 (nearest even) in
/// pairs along the depth (uint32_t: the even index in the low half), products summed in float32.
/// Everything else (packing, Winograd transforms, epilogues) as the float32 kernels.

/// 1 when the bfloat16 products can run: the CPU has AVX512-BF16 (cpuid 7.1 EAX bit 5) and the kernels
/// run on the AVX-512 tier (so PW_ISA=0 or 1, or a lower forced tier, makes it 0).
int pw_bf16_supported(void);
/// 1 when the CPU has AVX512-BF16, whatever tier the kernels run on.
int pw_bf16_cpu(void);
/// The pair (lo, hi) rounded to bfloat16, lo in the low 16 bits.
uint32_t pw_bf16_pair(float lo, float hi);
/// Pairs in panels packed from `panels` float panels of [K][MR]: panels · ceil(K/2) · MR.
size_t pw_bf16_packed_size(size_t panels, int K);
/// Float panels [panels][K][MR] (pw_gemm_pack_a's layout, or packed Winograd weights) → bfloat16 pair
/// panels [panels][ceil(K/2)][MR] (an odd K's last pair has a zero high half).
void pw_bf16_pack_panels(const float *Ap, size_t panels, int K, uint32_t *dst);
/// pw_gemm_images with A packed by pw_bf16_pack_panels (from pw_gemm_pack_a's panels) and B rounded
/// to bfloat16 as it is packed. Same work items and result layout; scratch holds pw_bf16_gemm_scratch(K) floats.
void pw_bf16_gemm_images(const uint32_t *Ap, const float *B, size_t ldb, size_t bImage, int M, int images, int plane,
                         int K, const float *bias, const float *residual, int relu, float *C, size_t ldc,
                         size_t cImage, int rowGroups, int i0, int i1, float *scratch);
size_t pw_bf16_gemm_scratch(int K);
/// Winograd input V (pw_winograd_input's layout [t²][ldv/NR][C][NR]) → bfloat16 pairs
/// [t²][ldv/NR][ceil(C/2)][NR], for items [i0, i1) (item = ξ·(ldv/NR) + block).
void pw_bf16_winograd_pack_v(const float *V, int C, size_t ldv, int i0, int i1, uint32_t *Vh);
/// pw_winograd_fused on bfloat16 pairs: A from pw_bf16_pack_panels over the float weights' t²·Kp/MR
/// panels of depth C, Vh from pw_bf16_winograd_pack_v. Scratch: pw_bf16_winograd_fused_scratch(m) floats.
void pw_bf16_winograd_fused(const uint32_t *A, const uint32_t *Vh, size_t ldv, int N, int C, int K, int Kp, int Ho,
                            int Wo, int dil, int m, const int *oys, int nty, const int *oxs, int ntx,
                            const float *bias, const float *residual, int relu, int b0, int b1, float *y,
                            float *scratch);
size_t pw_bf16_winograd_fused_scratch(int m);

/// Keeps freed memory in the process for reuse (glibc's allocator; a no-op elsewhere): see Engine's MemoryReuse.
void pw_keep_freed_memory(void);

#include "DetectorKernels.h"   // the detector networks' kernels (own file)

#endif
