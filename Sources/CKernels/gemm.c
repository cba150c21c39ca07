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
