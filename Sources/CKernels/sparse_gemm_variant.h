// The matrix product for a left operand A that is a baseline plus few other values: a constant
// per column of A (or, for an A read transposed, per row) where most entries sit, as standardized
// binarized images do (a pixel that is off takes one value in every image). With A = baseline + S,
// C = start + S B: the start is 1 (c^T B) for a baseline c per column and c (1^T B) for a
// baseline per row, and only S's nonzero terms are multiplied. One variant per instruction set,
// included by gemm.c after gemm_variant.h with the same macros.

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define LANES (VECTOR_BYTES / 4)
#define VEC CAT(vec, VARIANT)
#define CHUNK_VECTORS 8
_Static_assert(CHUNK_VECTORS == 8, "gemm_sparse dispatches on 0 to 8 vectors");

typedef _Bool CAT(lanemask, VARIANT) __attribute__((ext_vector_type(LANES)));

/// Bit j set when the j-th of the LANES floats at `x` differs from the one at `baseline` (a NaN
/// always differs).
static inline __attribute__((always_inline)) uint32_t CAT(differing_bits, VARIANT)(const float *x, const float *baseline) {
    VEC v = *(const VEC *)x, c = *(const VEC *)baseline;
    CAT(lanemask, VARIANT) mask = __builtin_convertvector(v != c, CAT(lanemask, VARIANT));
#if LANES == 16
    uint16_t bits;
#else
    uint8_t bits;
#endif
    __builtin_memcpy(&bits, &mask, sizeof bits);
    return (uint32_t)bits & ((1u << LANES) - 1);
}

/// Appends the entries of the `width` floats at `x` that differ from `baseline`, as
/// (index + lane, x - baseline), to the lists `next` points into: list `lane` when `per_lane`,
/// else the one list `next[0]`.
static inline __attribute__((always_inline)) void CAT(append_differing, VARIANT)(
    const float *x, const float *baseline, int64_t width, int32_t index, int per_lane, int32_t *next,
    int32_t *columns, float *values) {
    int64_t j = 0;
    for (; j + LANES <= width; j += LANES) {
        uint32_t bits = CAT(differing_bits, VARIANT)(x + j, baseline + j);
        while (bits) {
            int lane = __builtin_ctz(bits);
            bits &= bits - 1;
            int32_t slot = next[per_lane ? j + lane : 0]++;
            columns[slot] = per_lane ? index : (int32_t)(j + lane);
            values[slot] = x[j + lane] - baseline[j + lane];
        }
    }
    for (; j < width; j++)
        if (x[j] != baseline[j]) {
            int32_t slot = next[per_lane ? j : 0]++;
            columns[slot] = per_lane ? index : (int32_t)j;
            values[slot] = x[j] - baseline[j];
        }
}

/// Lists S = A - baseline row by row (columns increasing) into starts (m + 1), columns and
/// values (room for m k): A is m x k with rows `rs` apart and columns 1 apart (`transposed` 0,
/// baseline per column, k floats), or the transpose of a row-major k x m matrix with rows `rs`
/// apart (`transposed` 1, baseline per row of A, m floats). `next` (m) is working space.
static void CAT(sparse_rows, VARIANT)(int64_t m, int64_t k, const float *a, int64_t rs, int transposed,
                                      const float *baseline, int32_t *starts, int32_t *next, int32_t *columns, float *values) {
    if (!transposed) {
        int32_t count = 0;
        for (int64_t i = 0; i < m; i++) {
            starts[i] = count;
            CAT(append_differing, VARIANT)(a + i * rs, baseline, k, 0, 0, &count, columns, values);
        }
        starts[m] = count;
        return;
    }
    for (int64_t i = 0; i <= m; i++) starts[i] = 0;
    for (int64_t p = 0; p < k; p++) {
        const float *row = a + p * rs;
        for (int64_t i = 0; i < m; i++) starts[i + 1] += row[i] != baseline[i];
    }
    for (int64_t i = 0; i < m; i++) starts[i + 1] += starts[i];
    for (int64_t i = 0; i < m; i++) next[i] = starts[i];
    for (int64_t p = 0; p < k; p++)
        CAT(append_differing, VARIANT)(a + p * rs, baseline, m, (int32_t)p, 1, next, columns, values);
}

/// One row of C over a chunk of `vectors` whole vectors and `tail` more columns (below LANES):
/// the accumulators are independent, so the entries' products are not one chain.
static inline __attribute__((always_inline)) void CAT(sparse_row_chunk, VARIANT)(
    int vectors, int64_t tail, const float *start, float scale, const int32_t *columns, const float *values,
    int32_t first, int32_t end, const float *b, int64_t brs, float beta, const float *bias, float *c_row) {
    VEC acc[CHUNK_VECTORS];
    float tail_acc[LANES];
    // Plus 0: a row scaled by a zero baseline starts from +0, as the dense sum of zero terms does.
    for (int v = 0; v < vectors; v++) acc[v] = *(const VEC *)(start + v * LANES) * scale + (VEC){0};
    for (int64_t j = 0; j < tail; j++) tail_acc[j] = start[vectors * LANES + j] * scale + 0.0f;
    for (int32_t e = first; e < end; e++) {
        const float *b_row = b + columns[e] * brs;
        float value = values[e];
        for (int v = 0; v < vectors; v++) acc[v] += *(const VEC *)(b_row + v * LANES) * value;
        for (int64_t j = 0; j < tail; j++) tail_acc[j] += b_row[vectors * LANES + j] * value;
    }
    for (int v = 0; v < vectors; v++) {
        VEC *target = (VEC *)(c_row + v * LANES);
        if (bias) *target = acc[v] + *(const VEC *)(bias + v * LANES);
        else *target = beta == 0.0f ? acc[v] : acc[v] + *target * beta;
    }
    for (int64_t j = 0; j < tail; j++) {
        float *target = c_row + vectors * LANES + j;
        if (bias) *target = tail_acc[j] + bias[vectors * LANES + j];
        else *target = beta == 0.0f ? tail_acc[j] : tail_acc[j] + *target * beta;
    }
}

/// C[m x n] = A B + beta C (+ bias in every row instead, when `bias` is not NULL) with
/// A = baseline + S listed by sparse_rows and B's rows `brs` apart:
/// row i starts from c^T B for a baseline c per column, from c_i 1^T B for one per row (computed
/// here into `start`, n floats, even for a zero baseline, so that a NaN or infinity in B reaches
/// every row as 0 times it does in the dense product), and adds S_i B over the entries of S that
/// are not zero, CHUNK_VECTORS vectors of columns at a time.
static void CAT(gemm_sparse, VARIANT)(int64_t m, int64_t n, int64_t k, int transposed, const float *baseline,
                                      const int32_t *starts, const int32_t *columns, const float *values,
                                      const float *b, int64_t brs, float beta, const float *bias, float *c, int64_t ldc, float *start) {
    for (int64_t j = 0; j < n; j++) start[j] = 0;
    for (int64_t p = 0; p < k; p++) {
        float weight = transposed ? 1.0f : baseline[p];
        for (int64_t j = 0; j < n; j++) start[j] += b[p * brs + j] * weight;
    }
    int64_t width = CHUNK_VECTORS * LANES;
    for (int64_t j0 = 0; j0 < n; j0 += width) {
        int64_t vectors = n - j0 >= width ? CHUNK_VECTORS : (n - j0) / LANES;
        int64_t tail = n - j0 >= width ? 0 : (n - j0) % LANES;
        for (int64_t i = 0; i < m; i++) {
            float scale = transposed ? baseline[i] : 1.0f;
            float *c_row = c + i * ldc + j0;
#define ROW_CHUNK(count) CAT(sparse_row_chunk, VARIANT)(count, tail, start + j0, scale, columns, values, starts[i], starts[i + 1], b + j0, brs, beta, bias ? bias + j0 : 0, c_row)
            switch (vectors) {
            case 8: ROW_CHUNK(8); break;
            case 7: ROW_CHUNK(7); break;
            case 6: ROW_CHUNK(6); break;
            case 5: ROW_CHUNK(5); break;
            case 4: ROW_CHUNK(4); break;
            case 3: ROW_CHUNK(3); break;
            case 2: ROW_CHUNK(2); break;
            case 1: ROW_CHUNK(1); break;
            default: ROW_CHUNK(0); break;
            }
#undef ROW_CHUNK
        }
    }
}

#undef CHUNK_VECTORS
#undef VEC
#undef LANES
