// Single-precision matrix multiply: packed panels and a register-blocked tile written with
// clang vector extensions, compiled once per instruction set and chosen at run time, so a
// default `swift build -c release` runs AVX-512 code on processors that have it.
#include "CKernels.h"
#include <stdlib.h>

#pragma clang fp contract(fast)

/// The calling thread's scratch buffers, one per use; each keeps the largest size asked of it.
enum scratch_slot { PACKED_A, PACKED_B, SPARSE_STARTS, SPARSE_NEXT, SPARSE_COLUMNS, SPARSE_VALUES, SPARSE_START, SPARSE_BASELINE, SCRATCH_SLOTS };

/// The calling thread's buffer `slot`, 64-byte aligned, of at least `bytes` bytes.
static void *scratch(enum scratch_slot slot, int64_t bytes) {
    static _Thread_local void *buffers[SCRATCH_SLOTS];
    static _Thread_local int64_t sizes[SCRATCH_SLOTS];
    if (sizes[slot] < bytes) {
        free(buffers[slot]);
        buffers[slot] = aligned_alloc(64, (size_t)((bytes + 63) / 64 * 64));
        sizes[slot] = bytes;
    }
    return buffers[slot];
}

/// Products too small to amortize packing: a direct triple loop.
static void gemm_direct(int64_t m, int64_t n, int64_t k, float alpha,
                        const float *a, int64_t ars, int64_t acs,
                        const float *b, int64_t brs, int64_t bcs,
                        float beta, const float *bias, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float total = 0;
            for (int64_t p = 0; p < k; p++) total += a[i * ars + p * acs] * b[p * brs + j * bcs];
            c[i * ldc + j] = bias ? alpha * total + bias[j] : beta == 0.0f ? alpha * total : alpha * total + beta * c[i * ldc + j];
        }
}

#if defined(__x86_64__)
// A 16 x 16 tile rather than 8 x 32: a product 40 or 400 columns wide, or split between two
// threads by columns, leaves less of its last tile empty. Each sum runs in the same order.
// B is read in place whenever A's rows fit one row block (a batch of up to 256): on this
// instruction set's processors the tile's one 64-byte load a step costs no more from a B row
// than from a packed panel, so packing only added a pass over B (measured on Zen 4: 128 x 784
// by 784 x 400 went from 174 to 186-196 GFLOP/s on two threads).
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
#define VARIANT avx512
#define VECTOR_BYTES 64
#define MR 16
#define DIRECT_ROWS MC
#define NR_VECTORS 1
#define KC 512
#define MC 256
#define NC 2048
#include "gemm_variant.h"
#include "sparse_gemm_variant.h"
#undef VARIANT
#undef VECTOR_BYTES
#undef MR
#undef DIRECT_ROWS
#undef NR_VECTORS
#undef KC
#undef MC
#undef NC
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define VARIANT avx2
#define VECTOR_BYTES 32
#define MR 6
#define DIRECT_ROWS (4 * MR)
#define NR_VECTORS 2
#define KC 256
#define MC 72
#define NC 2048
#include "gemm_variant.h"
#include "sparse_gemm_variant.h"
#undef VARIANT
#undef VECTOR_BYTES
#undef MR
#undef DIRECT_ROWS
#undef NR_VECTORS
#undef KC
#undef MC
#undef NC
#pragma clang attribute pop
#endif

#define VARIANT generic
#define VECTOR_BYTES 16
#define MR 4
#define DIRECT_ROWS (4 * MR)
#define NR_VECTORS 2
#define KC 256
#define MC 64
#define NC 2048
#include "gemm_variant.h"
#include "sparse_gemm_variant.h"

typedef void (*gemm_function)(int64_t, int64_t, int64_t, float, const float *, int64_t, int64_t,
                              const float *, int64_t, int64_t, float, const float *, float *, int64_t);
typedef void (*sparse_rows_function)(int64_t, int64_t, const float *, int64_t, int, const float *, int32_t *, int32_t *,
                                     int32_t *, float *);
typedef void (*gemm_sparse_function)(int64_t, int64_t, int64_t, int, const float *, const int32_t *, const int32_t *,
                                     const float *, const float *, int64_t, float, const float *, float *, int64_t, float *);

/// The kernels compiled for one instruction set.
typedef struct {
    const char *name;
    gemm_function gemm;
    void (*tile_shape)(int64_t *, int64_t *);
    sparse_rows_function sparse_rows;
    gemm_sparse_function gemm_sparse;
} kernel_variant;

/// The variant this processor runs: AVX-512, AVX2 with FMA, or generic.
static const kernel_variant *chosen_variant(void) {
    static const kernel_variant generic = {"generic", gemm_generic, tile_shape_generic, sparse_rows_generic, gemm_sparse_generic};
#if defined(__x86_64__)
    static const kernel_variant avx512 = {"avx512", gemm_avx512, tile_shape_avx512, sparse_rows_avx512, gemm_sparse_avx512};
    static const kernel_variant avx2 = {"avx2", gemm_avx2, tile_shape_avx2, sparse_rows_avx2, gemm_sparse_avx2};
    switch (latent_instruction_level()) {
    case 2: return &avx512;
    case 1: return &avx2;
    }
#endif
    return &generic;
}

const float *latent_sparse_baseline(int64_t m, int64_t k, const float *a, int64_t rs, int64_t cs) {
    int transposed = cs != 1;
    if (m <= 0 || k <= 0 || m * k > INT32_MAX || (transposed && rs != 1)) return 0;
    int64_t height = transposed ? k : m, width = transposed ? m : k, stride = transposed ? cs : rs;
    // Rows that start from c^T B read all of B for it: that pays when B serves many rows.
    if (height < 8 || (!transposed && m < 64)) return 0;
    // Two rows that share few values end it cheaply (a dense operand's rows share none).
    int64_t shared = 0;
    for (int64_t j = 0; j < width; j++) shared += a[j] == a[stride + j];
    if (2 * shared < width) return 0;
    float *baseline = scratch(SPARSE_BASELINE, width * 4 + 64);
    for (int64_t j = 0; j < width; j++) {
        float first = a[j], second = a[stride + j], third = a[2 * stride + j];
        baseline[j] = second == third ? second : first;
        if (!(baseline[j] - baseline[j] == 0.0f)) return 0;
    }
    // Four rows spread over the rest decide whether at most a quarter of the entries differ.
    int64_t differing = 0;
    for (int sample = 1; sample <= 4; sample++) {
        const float *row = a + (height - 1) * sample / 4 * stride;
        for (int64_t j = 0; j < width; j++) differing += row[j] != baseline[j];
    }
    return differing <= width ? baseline : 0;
}

void latent_sgemm_sparse(int64_t m, int64_t n, int64_t k, const float *a, int64_t rs, int64_t cs, const float *baseline,
                         const float *b, int64_t brs, float beta, const float *bias, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    int transposed = cs != 1;
    const kernel_variant *variant = chosen_variant();
    int32_t *starts = scratch(SPARSE_STARTS, (m + 1) * 4), *next = scratch(SPARSE_NEXT, m * 4);
    int32_t *columns = scratch(SPARSE_COLUMNS, m * k * 4);
    float *values = scratch(SPARSE_VALUES, m * k * 4);
    variant->sparse_rows(m, k, a, transposed ? cs : rs, transposed, baseline, starts, next, columns, values);
    variant->gemm_sparse(m, n, k, transposed, baseline, starts, columns, values, b, brs, beta, bias, c, ldc, scratch(SPARSE_START, n * 4 + 64));
}

void latent_sgemm(int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t ars, int64_t acs,
                  const float *b, int64_t brs, int64_t bcs,
                  float beta, const float *bias, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = bias ? bias[j] : beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    if (m * n * k < 4096) {
        gemm_direct(m, n, k, alpha, a, ars, acs, b, brs, bcs, beta, bias, c, ldc);
        return;
    }
    static gemm_function function;
    if (!function) function = chosen_variant()->gemm;
    function(m, n, k, alpha, a, ars, acs, b, brs, bcs, beta, bias, c, ldc);
}

void latent_sgemm_tile_shape(int64_t *rows, int64_t *columns) { chosen_variant()->tile_shape(rows, columns); }

const char *latent_sgemm_kernel_name(void) { return chosen_variant()->name; }
