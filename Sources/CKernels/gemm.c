// Single-precision matrix multiply: packed panels and a register-blocked tile written with
// clang vector extensions, compiled once per instruction set and chosen at run time, so a
// default `swift build -c release` runs AVX-512 code on processors that have it.
#include "CKernels.h"
#include <stdlib.h>

#pragma clang fp contract(fast)

/// A per-thread, 64-byte-aligned scratch buffer of at least `count` floats (slot 0 or 1).
static float *packing_buffer(int slot, int64_t count) {
    static _Thread_local float *buffers[2];
    static _Thread_local int64_t sizes[2];
    if (sizes[slot] < count) {
        free(buffers[slot]);
        buffers[slot] = aligned_alloc(64, (size_t)((count * 4 + 63) / 64 * 64));
        sizes[slot] = count;
    }
    return buffers[slot];
}

/// Products too small to amortize packing: a direct triple loop.
static void gemm_direct(int64_t m, int64_t n, int64_t k, float alpha,
                        const float *a, int64_t ars, int64_t acs,
                        const float *b, int64_t brs, int64_t bcs,
                        float beta, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float total = 0;
            for (int64_t p = 0; p < k; p++) total += a[i * ars + p * acs] * b[p * brs + j * bcs];
            c[i * ldc + j] = beta == 0.0f ? alpha * total : alpha * total + beta * c[i * ldc + j];
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
                              const float *, int64_t, int64_t, float, float *, int64_t);

static gemm_function chosen_gemm(const char **name) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2:
        if (name) *name = "avx512";
        return gemm_avx512;
    case 1:
        if (name) *name = "avx2";
        return gemm_avx2;
    }
#endif
    if (name) *name = "generic";
    return gemm_generic;
}

typedef void (*sparse_rows_function)(int64_t, int64_t, const float *, int64_t, int, const float *, int32_t *, int32_t *,
                                     int32_t *, float *);
typedef void (*gemm_sparse_function)(int64_t, int64_t, int64_t, int, const float *, const int32_t *, const int32_t *,
                                     const float *, const float *, int64_t, float, float *, int64_t, float *);

/// The sparse kernels of the variant chosen_gemm picks.
static void chosen_sparse(sparse_rows_function *rows, gemm_sparse_function *gemm) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2:
        *rows = sparse_rows_avx512, *gemm = gemm_sparse_avx512;
        return;
    case 1:
        *rows = sparse_rows_avx2, *gemm = gemm_sparse_avx2;
        return;
    }
#endif
    *rows = sparse_rows_generic, *gemm = gemm_sparse_generic;
}

/// A per-thread scratch buffer of at least `bytes` bytes (slot 0 to 5), 64-byte aligned.
static void *scratch(int slot, int64_t bytes) {
    static _Thread_local void *buffers[6];
    static _Thread_local int64_t sizes[6];
    if (sizes[slot] < bytes) {
        free(buffers[slot]);
        buffers[slot] = aligned_alloc(64, (size_t)((bytes + 63) / 64 * 64));
        sizes[slot] = bytes;
    }
    return buffers[slot];
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
    float *baseline = scratch(5, width * 4 + 64);
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
                         const float *b, int64_t brs, float beta, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    int transposed = cs != 1;
    sparse_rows_function list;
    gemm_sparse_function multiply;
    chosen_sparse(&list, &multiply);
    int32_t *starts = scratch(0, (m + 1) * 4), *next = scratch(1, m * 4), *columns = scratch(2, m * k * 4);
    float *values = scratch(3, m * k * 4);
    list(m, k, a, transposed ? cs : rs, transposed, baseline, starts, next, columns, values);
    multiply(m, n, k, transposed, baseline, starts, columns, values, b, brs, beta, c, ldc, scratch(4, n * 4 + 64));
}

void latent_sgemm(int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t ars, int64_t acs,
                  const float *b, int64_t brs, int64_t bcs,
                  float beta, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    if (m * n * k < 4096) {
        gemm_direct(m, n, k, alpha, a, ars, acs, b, brs, bcs, beta, c, ldc);
        return;
    }
    static gemm_function function;
    if (!function) function = chosen_gemm(0);
    function(m, n, k, alpha, a, ars, acs, b, brs, bcs, beta, c, ldc);
}

void latent_sgemm_tile_shape(int64_t *rows, int64_t *columns) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: tile_shape_avx512(rows, columns); return;
    case 1: tile_shape_avx2(rows, columns); return;
    }
#endif
    tile_shape_generic(rows, columns);
}

const char *latent_sgemm_kernel_name(void) {
    const char *name = "generic";
    chosen_gemm(&name);
    return name;
}
