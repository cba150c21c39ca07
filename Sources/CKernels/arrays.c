// Whole-array kernels (optimizer updates, arithmetic, ReLU, row and column sums, finiteness),
// vectorized per instruction set: the loops are written plainly and compiled for each target.
#include "CKernels.h"

#pragma clang fp contract(fast)

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
#define VARIANT avx512
#include "arrays_variant.h"
#undef VARIANT
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define VARIANT avx2
#include "arrays_variant.h"
#undef VARIANT
#pragma clang attribute pop
#endif

#define VARIANT generic
#include "arrays_variant.h"

void latent_adam_update(float *p, const float *g, float *m, float *v, int64_t n, float lr, float beta1, float beta2,
                        float epsilon, float weight_decay, float clip, float correction1, float correction2) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: adam_avx512(p, g, m, v, n, lr, beta1, beta2, epsilon, weight_decay, clip, correction1, correction2); return;
    case 1: adam_avx2(p, g, m, v, n, lr, beta1, beta2, epsilon, weight_decay, clip, correction1, correction2); return;
    }
#endif
    adam_generic(p, g, m, v, n, lr, beta1, beta2, epsilon, weight_decay, clip, correction1, correction2);
}

void latent_vbinary(int op, const float *a, const float *b, float *y, int64_t n) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: binary_avx512(op, a, b, y, n); return;
    case 1: binary_avx2(op, a, b, y, n); return;
    }
#endif
    binary_generic(op, a, b, y, n);
}

void latent_vrelu(const float *x, float *y, int64_t n) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: relu_forward_avx512(x, y, n); return;
    case 1: relu_forward_avx2(x, y, n); return;
    }
#endif
    relu_forward_generic(x, y, n);
}

void latent_vrelu_backward(const float *x, const float *g, float *y, int64_t n) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: relu_backward_avx512(x, g, y, n); return;
    case 1: relu_backward_avx2(x, g, y, n); return;
    }
#endif
    relu_backward_generic(x, g, y, n);
}

void latent_row_sums(const float *x, int64_t rows, int64_t columns, float *out) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: row_sums_avx512(x, rows, columns, out); return;
    case 1: row_sums_avx2(x, rows, columns, out); return;
    }
#endif
    row_sums_generic(x, rows, columns, out);
}

void latent_column_sums(const float *x, int64_t rows, int64_t columns, double *accumulator) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: column_sums_avx512(x, rows, columns, accumulator); return;
    case 1: column_sums_avx2(x, rows, columns, accumulator); return;
    }
#endif
    column_sums_generic(x, rows, columns, accumulator);
}

int latent_all_finite(const float *x, int64_t n) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: return all_finite_avx512(x, n);
    case 1: return all_finite_avx2(x, n);
    }
#endif
    return all_finite_generic(x, n);
}

int64_t latent_first_outside(const float *x, int64_t n, float lower, float upper, int integral) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: return first_outside_avx512(x, n, lower, upper, integral);
    case 1: return first_outside_avx2(x, n, lower, upper, integral);
    }
#endif
    return first_outside_generic(x, n, lower, upper, integral);
}

/* The last two axes are walked in plain loops, with the last axis's stride (0 for a
   broadcast, 1 for a run, or other) chosen once outside them; an index tracks the rest. */
void latent_strided_copy(const float *x, int64_t rank, const ptrdiff_t *shape, const ptrdiff_t *strides, float *out) {
    if (rank == 0) {
        out[0] = x[0];
        return;
    }
    const ptrdiff_t n = shape[rank - 1], step = strides[rank - 1];
    const ptrdiff_t rows = rank >= 2 ? shape[rank - 2] : 1, rowStride = rank >= 2 ? strides[rank - 2] : 0;
    const int64_t outerRank = rank >= 2 ? rank - 2 : 0;
    ptrdiff_t outer = 1;
    for (int64_t k = 0; k < outerRank; k++) outer *= shape[k];
    if (n == 0 || rows == 0 || outer == 0) return;
    ptrdiff_t index[outerRank > 0 ? outerRank : 1];
    for (int64_t k = 0; k < outerRank; k++) index[k] = 0;
    ptrdiff_t offset = 0;
    for (ptrdiff_t o = 0; o < outer; o++) {
        const float *base = x + offset;
        if (n < 8) {
            /* Short rows: the vector loops' set-up would cost more than the copy. */
            for (ptrdiff_t i = 0; i < rows; i++) {
                const float *row = base + i * rowStride;
#pragma clang loop vectorize(disable) unroll(disable)
                for (ptrdiff_t j = 0; j < n; j++) out[j] = row[j * step];
                out += n;
            }
        } else if (step == 0) {
            for (ptrdiff_t i = 0; i < rows; i++) {
                const float value = base[i * rowStride];
                for (ptrdiff_t j = 0; j < n; j++) out[j] = value;
                out += n;
            }
        } else if (step == 1) {
            for (ptrdiff_t i = 0; i < rows; i++) {
                const float *row = base + i * rowStride;
                for (ptrdiff_t j = 0; j < n; j++) out[j] = row[j];
                out += n;
            }
        } else {
            for (ptrdiff_t i = 0; i < rows; i++) {
                const float *row = base + i * rowStride;
                for (ptrdiff_t j = 0; j < n; j++) out[j] = row[j * step];
                out += n;
            }
        }
        for (int64_t k = outerRank - 1; k >= 0; k--) {
            index[k]++;
            offset += strides[k];
            if (index[k] < shape[k]) break;
            offset -= strides[k] * shape[k];
            index[k] = 0;
        }
    }
}
