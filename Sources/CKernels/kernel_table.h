// The per-tier kernel table: dispatch.c picks one at first use; each isa_*.c file defines one.
#ifndef PW_KERNEL_TABLE_H
#define PW_KERNEL_TABLE_H
#include "CKernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define PW_X86 1
#endif

typedef struct {
    /// MR×NR register block: M (stride ldm) = A [K][MR] · B [K][NR] (contiguous).
    void (*panel)(int K, const float *A, const float *B, float *M, size_t ldm);
    void (*gemm)(const float *Ap, const float *B, size_t ldb, size_t bImage, int M, int N, int plane, int K,
                 const float *bias, const float *residual, int relu, float *C, size_t ldc, size_t cImage,
                 int rowGroups, int i0, int i1, float *scratch, const pw_conv_input *conv);
    void (*winograd_input)(const float *x, int N, int C, int H, int W, int pad, int dil, int m,
                           const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, size_t ldv,
                           float *scratch);
    void (*winograd_fused)(const float *A, const float *V, size_t ldv, int N, int C, int K, int Kp, int Ho, int Wo,
                           int dil, int m, const int *oys, int nty, const int *oxs, int ntx, const float *bias,
                           const float *residual, int relu, int b0, int b1, float *y, float *scratch);
    void (*deform_im2col)(const float *x, const float *offset, int C, int H, int W, int kh, int kw,
                          int stride, int pad, int dil, int Ho, int Wo, int dg, int c0, int c1, float *cols);
    void (*deform_fused)(const pw_deform_job *job, int i0, int i1, float *scratch);
} pw_kernel_table;

// Float32 sums of many terms run in short pieces from zero whose partial sums are then added: a single
// running sum over thousands of terms (3×3 convs over hundreds of channels) loses several times more
// precision than PyTorch's float32 convolutions. Each piece costs one MR×NR block add.
// Channels per piece of a Winograd product (its transformed terms are large next to the outputs they
// cancel into, so pieces are short) and depth per piece of the GEMM. Measured with Tools/reference/
// precision.py: float32 error against float64 1.2–1.35× PyTorch's on HRNet-W48/W32 and YOLOX-s
// (2.0–2.4× with one running sum and F(4×4) at the points 0, ±1, ±2).
#define PW_WINOGRAD_CHUNK 16
#define PW_GEMM_CHUNK 64

// The zero-padded image extent a Winograd input transform reads (also sizes its scratch).
static inline void pw_padded_extent(int pad, int dil, int m, const int *oys, int nty, const int *oxs, int ntx,
                          int H, int W, int *PH, int *PW) {
    int t = m + 2, my = 0, mx = 0;
    for (int i = 0; i < nty; i++) if (oys[i] > my) my = oys[i];
    for (int i = 0; i < ntx; i++) if (oxs[i] > mx) mx = oxs[i];
    *PH = my + (t - 1) * dil + 1;
    *PW = mx + (t - 1) * dil + 1;
    if (*PH < H + pad) *PH = H + pad;
    if (*PW < W + pad) *PW = W + pad;
}


#endif
