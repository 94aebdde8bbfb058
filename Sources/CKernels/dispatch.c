// The one kernel dispatch point: the tier is chosen once, at first use, from the CPU's features
// (cpuid, plus xgetbv to check the OS saves the wider registers), capped by PW_ISA; the public entry
// points call through that tier's table. Adding a tier = one isa_<name>.c file defining its table,
// its PW_ISA_* number (CKernels.h, and a case in Engine's KernelTier), and here its table's
// declaration, its test in `detect` and its line in `table_for`.
#include "kernel_table.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#ifdef PW_X86
#include <cpuid.h>
#endif

// The tiers' tables (isa_*.c).
extern const pw_kernel_table pw_kernels_portable;
#ifdef PW_X86
extern const pw_kernel_table pw_kernels_avx2;
extern const pw_kernel_table pw_kernels_avx512;
#endif

#ifdef PW_X86
static unsigned long long read_xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

static int detect(void) {
#ifdef PW_X86
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return PW_ISA_PORTABLE;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx || !fma) return PW_ISA_PORTABLE;
    const unsigned long long xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return PW_ISA_PORTABLE;                 // XMM and YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return PW_ISA_PORTABLE;
    const int avx2 = (b >> 5) & 1;
    if (!avx2) return PW_ISA_PORTABLE;
    const int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    if (f && dq && bw && vl && (xcr0 & 0xE0) == 0xE0) return PW_ISA_AVX512;   // opmask, ZMM0-15 high, ZMM16-31
    return PW_ISA_AVX2;
#else
    return PW_ISA_PORTABLE;
#endif
}

static const pw_kernel_table *table_for(int level) {
#ifdef PW_X86
    if (level >= PW_ISA_AVX512) return &pw_kernels_avx512;
    if (level >= PW_ISA_AVX2) return &pw_kernels_avx2;
#endif
    (void)level;
    return &pw_kernels_portable;
}

static _Atomic int supported_level = -1;
static _Atomic int active_level = -1;
static const pw_kernel_table *_Atomic active_table = NULL;

int pw_isa_supported(void) {
    int s = atomic_load_explicit(&supported_level, memory_order_relaxed);
    if (s < 0) { s = detect(); atomic_store(&supported_level, s); }
    return s;
}

static const pw_kernel_table *choose(void) {
    int level = pw_isa_supported();
    // PW_ISA=0|1|2 caps the tier (to compare the portable and AVX2 paths on a newer CPU).
    const char *cap = getenv("PW_ISA");
    if (cap && cap[0] >= '0' && cap[0] <= '2' && cap[1] == 0 && cap[0] - '0' < level) level = cap[0] - '0';
    const pw_kernel_table *t = table_for(level);
    atomic_store(&active_level, level);
    atomic_store(&active_table, t);     // every racing first caller computes the same choice
    return t;
}

static inline const pw_kernel_table *kernels(void) {
    const pw_kernel_table *t = atomic_load_explicit(&active_table, memory_order_acquire);
    return t ? t : choose();
}

int pw_isa_level(void) {
    kernels();
    return atomic_load(&active_level);
}

static _Atomic int bf16_cpu = -1;

static int detect_bf16(void) {
#ifdef PW_X86
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || a < 1) return 0;   // leaf 7's subleaf count
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 5) & 1;                                                // AVX512_BF16
#else
    return 0;
#endif
}

int pw_bf16_cpu(void) {
    int s = atomic_load_explicit(&bf16_cpu, memory_order_relaxed);
    if (s < 0) { s = detect_bf16(); atomic_store(&bf16_cpu, s); }
    return s;
}

int pw_bf16_supported(void) {
    // The AVX-512 tier's detection already checked the OS saves the ZMM and opmask state.
    return pw_bf16_cpu() && pw_isa_level() >= PW_ISA_AVX512;
}

int pw_isa_force(int level) {
    const int s = pw_isa_supported();
    if (level > s) level = s;
    if (level < 0) level = 0;
    atomic_store(&active_level, level);
    atomic_store(&active_table, table_for(level));
    return level;
}

// ---- Entry points.

void pw_wgemm_panel(int C, const float *A, const float *V, float *M, size_t ldm) {
    kernels()->panel(C, A, V, M, ldm);
}

void pw_winograd_input(const float *x, int N, int C, int H, int W, int pad, int dil, int m,
                       const int *oys, int nty, const int *oxs, int ntx, int i0, int i1, float *V, size_t ldv, float *scratch) {
    kernels()->winograd_input(x, N, C, H, W, pad, dil, m, oys, nty, oxs, ntx, i0, i1, V, ldv, scratch);
}

size_t pw_winograd_input_scratch(int H, int W, int pad, int dil, int m, const int *oys, int nty, const int *oxs, int ntx) {
    int PH, PW, t = m + 2;
    pw_padded_extent(pad, dil, m, oys, nty, oxs, ntx, H, W, &PH, &PW);
    return (size_t)PH * PW + 2 * (size_t)t * t * nty * ntx + 64;
}

void pw_winograd_fused(const float *A, const float *V, size_t ldv, int N, int C, int K, int Kp, int Ho, int Wo,
                       int dil, int m, const int *oys, int nty, const int *oxs, int ntx, const float *bias,
                       const float *residual, int relu, int b0, int b1, float *y, float *scratch) {
    kernels()->winograd_fused(A, V, ldv, N, C, K, Kp, Ho, Wo, dil, m, oys, nty, oxs, ntx, bias, residual, relu,
                              b0, b1, y, scratch);
}

size_t pw_winograd_fused_scratch(int m) {
    const int t = m + 2;
    return (size_t)t * t * PW_GEMM_MR * PW_GEMM_NR + (size_t)m * t * PW_GEMM_NR + (size_t)m * m * PW_GEMM_NR + 64;
}

size_t pw_gemm_packed_size(int M, int K) {
    return (size_t)((M + PW_GEMM_MR - 1) / PW_GEMM_MR) * PW_GEMM_MR * (size_t)K;
}

void pw_gemm_pack_a(const float *A, int M, int K, size_t lda, float *Ap) {
    const int panels = (M + PW_GEMM_MR - 1) / PW_GEMM_MR;
    for (int p = 0; p < panels; p++) {
        float *dst = Ap + (size_t)p * K * PW_GEMM_MR;
        for (int k = 0; k < K; k++) {
            for (int r = 0; r < PW_GEMM_MR; r++) {
                const int row = p * PW_GEMM_MR + r;
                dst[(size_t)k * PW_GEMM_MR + r] = row < M ? A[(size_t)row * lda + k] : 0.0f;
            }
        }
    }
}

void pw_gemm(const float *Ap, const float *B, size_t ldb, int M, int N, int K, const float *bias,
             const float *residual, int relu, float *C, size_t ldc, int rowGroups, int i0, int i1, float *scratch) {
    kernels()->gemm(Ap, B, ldb, 0, M, N, N > 0 ? N : 1, K, bias, residual, relu, C, ldc, 0, rowGroups, i0, i1, scratch, NULL);
}

void pw_gemm_images(const float *Ap, const float *B, size_t ldb, size_t bImage, int M, int images, int plane, int K,
                    const float *bias, const float *residual, int relu, float *C, size_t ldc, size_t cImage,
                    int rowGroups, int i0, int i1, float *scratch) {
    kernels()->gemm(Ap, B, ldb, bImage, M, images * plane, plane, K, bias, residual, relu, C, ldc, cImage,
                    rowGroups, i0, i1, scratch, NULL);
}

void pw_conv_gemm_images(const float *Ap, const pw_conv_input *conv, int M, int images, const float *bias,
                         const float *residual, int relu, float *C, size_t ldc, size_t cImage,
                         int rowGroups, int i0, int i1, float *scratch) {
    const int plane = conv->Ho * conv->Wo;
    kernels()->gemm(Ap, NULL, 0, 0, M, images * plane, plane, conv->C * conv->kh * conv->kw, bias, residual, relu,
                    C, ldc, cImage, rowGroups, i0, i1, scratch, conv);
}

size_t pw_gemm_scratch(int K) {
    return (size_t)K * PW_GEMM_NR + 2 * (size_t)PW_GEMM_MR * PW_GEMM_NR + 16;
}

void pw_deform_im2col(const float *x, const float *offset, int C, int H, int W, int kh, int kw,
                      int stride, int pad, int dil, int Ho, int Wo, int dg, int c0, int c1, float *cols) {
    kernels()->deform_im2col(x, offset, C, H, W, kh, kw, stride, pad, dil, Ho, Wo, dg, c0, c1, cols);
}

void pw_deform_fused(const pw_deform_job *job, int i0, int i1, float *scratch) {
    kernels()->deform_fused(job, i0, i1, scratch);
}

size_t pw_deform_fused_scratch(const pw_deform_job *job) {
    const size_t taps = (size_t)job->kh * job->kw;
    const size_t offsetDepth = job->offsetInput
        ? (size_t)job->offsetInput->C * job->offsetInput->kh * job->offsetInput->kw : 0;
    return (2 * PW_GEMM_MR + 2 * job->dg * taps + job->C * taps + offsetDepth) * PW_GEMM_NR + 16;
}

