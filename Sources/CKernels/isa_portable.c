// Portable tier: plain C, vectorised only as far as the compiler's baseline allows. The reference the
// other tiers are tested against, and the kernels on CPUs without AVX2+FMA.
#include "kernel_table.h"
#include <math.h>
#include <string.h>

// One MR×NR block, accumulated in a local array the compiler keeps in vector registers where it can.
static void tier_panel(int K, const float *A, const float *B, float *M, size_t ldm) {
    float acc[PW_GEMM_MR][PW_GEMM_NR];
    memset(acc, 0, sizeof(acc));
    for (int c = 0; c < K; c++) {
        const float *b = B + (size_t)c * PW_GEMM_NR;
        const float *a = A + (size_t)c * PW_GEMM_MR;
        for (int r = 0; r < PW_GEMM_MR; r++) {
            const float s = a[r];
            for (int j = 0; j < PW_GEMM_NR; j++) acc[r][j] += s * b[j];
        }
    }
    for (int r = 0; r < PW_GEMM_MR; r++) memcpy(M + (size_t)r * ldm, acc[r], sizeof(acc[r]));
}

// Edge blocks: the whole block (the portable tier is the reference, not the fast path).
static void tier_block(int K, const float *A, const float *B, float *M, size_t ldm, int rows, int cols) {
    (void)rows; (void)cols;
    tier_panel(K, A, B, M, ldm);
}

#include "tier_body.h"

const pw_kernel_table pw_kernels_portable = PW_TIER_TABLE;
