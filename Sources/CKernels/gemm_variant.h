// One GEMM variant (Goto/BLIS blocking), instantiated by gemm.c for each instruction set with
// VARIANT (function name suffix), VECTOR_BYTES, MR (rows of the register tile), NR_VECTORS
// (columns of the register tile, in vectors), the block sizes KC, MC, NC, and DIRECT_ROWS (the
// most rows of A for which a row-major B is read where it lies rather than packed).

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define LANES (VECTOR_BYTES / 4)
#define NR (NR_VECTORS * LANES)

typedef float CAT(vec, VARIANT) __attribute__((vector_size(VECTOR_BYTES), aligned(4)));
#define VEC CAT(vec, VARIANT)

/// Packs rows [0, mc) x columns [0, kc) of A into MR-row panels, k-major, zero-padded.
static void CAT(pack_a, VARIANT)(int64_t mc, int64_t kc, const float *a, int64_t rs, int64_t cs, float *packed) {
    for (int64_t panel = 0; panel < mc; panel += MR) {
        int64_t rows = mc - panel < MR ? mc - panel : MR;
        const float *source = a + panel * rs;
        if (cs == 1 && rows == MR) {
            for (int i = 0; i < MR; i++)
                for (int64_t p = 0; p < kc; p++) packed[p * MR + i] = source[i * rs + p];
        } else {
            for (int64_t p = 0; p < kc; p++)
                for (int i = 0; i < MR; i++) packed[p * MR + i] = i < rows ? source[i * rs + p * cs] : 0.0f;
        }
        packed += kc * MR;
    }
}

typedef float CAT(octet, VARIANT) __attribute__((vector_size(32), aligned(4)));
#define OCTET CAT(octet, VARIANT)

/// Writes the 8 x 8 block at `from` (rows `from_stride` apart) transposed to `to` (rows
/// `to_stride` apart): three rounds of shuffles instead of 64 scattered stores.
static inline __attribute__((always_inline)) void CAT(transpose8, VARIANT)(const float *from, int64_t from_stride, float *to, int64_t to_stride) {
    OCTET v[8], t[8], u[8];
    for (int i = 0; i < 8; i++) v[i] = *(const OCTET *)(from + i * from_stride);
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(v[i], v[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(v[i], v[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        *(OCTET *)(to + i * to_stride) = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        *(OCTET *)(to + (i + 4) * to_stride) = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/// Packs rows [0, kc) x columns [0, nc) of B into NR-column panels, k-major, zero-padded.
static void CAT(pack_b, VARIANT)(int64_t kc, int64_t nc, const float *b, int64_t rs, int64_t cs, float *packed) {
    for (int64_t panel = 0; panel < nc; panel += NR) {
        int64_t columns = nc - panel < NR ? nc - panel : NR;
        const float *source = b + panel * cs;
        if (cs == 1 && columns == NR) {
            for (int64_t p = 0; p < kc; p++)
                for (int j = 0; j < NR; j++) packed[p * NR + j] = source[p * rs + j];
        } else if (rs == 1 && columns == NR) {
            int64_t p = 0;
            for (; p + 8 <= kc; p += 8)
                for (int j = 0; j < NR; j += 8) CAT(transpose8, VARIANT)(source + j * cs + p, cs, packed + p * NR + j, NR);
            for (; p < kc; p++)
                for (int j = 0; j < NR; j++) packed[p * NR + j] = source[j * cs + p];
        } else {
            for (int64_t p = 0; p < kc; p++)
                for (int j = 0; j < NR; j++) packed[p * NR + j] = j < columns ? source[p * rs + j * cs] : 0.0f;
        }
        packed += kc * NR;
    }
}

/// The register tile: C[height x NR] = alpha * Apanel Bpanel + beta * C, or + bias in every row
/// when `bias` is not NULL, rows < m and columns < n kept; row p of the B panel starts at
/// b + p * ldb (NR when packed). `height` is MR, or fewer for the last rows of A (a constant at
/// each call, so each height compiles to its own tile).
static inline __attribute__((always_inline)) void CAT(tile, VARIANT)(
    int height, int64_t kc, const float *a, const float *b, int64_t ldb, float alpha, float beta, const float *bias,
    float *c, int64_t ldc, int64_t m, int64_t n) {
    VEC acc[MR][NR_VECTORS];
#pragma clang loop unroll(full)
    for (int i = 0; i < height; i++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NR_VECTORS; v++) acc[i][v] = (VEC){0};
    for (int64_t p = 0; p < kc; p++) {
        VEC bv[NR_VECTORS];
#pragma clang loop unroll(full)
        for (int v = 0; v < NR_VECTORS; v++) bv[v] = *(const VEC *)(b + p * ldb + v * LANES);
#pragma clang loop unroll(full)
        for (int i = 0; i < height; i++) {
            float ai = a[p * MR + i];
#pragma clang loop unroll(full)
            for (int v = 0; v < NR_VECTORS; v++) acc[i][v] += bv[v] * ai;
        }
    }
    if (m == height && n == NR) {
#pragma clang loop unroll(full)
        for (int i = 0; i < height; i++)
#pragma clang loop unroll(full)
            for (int v = 0; v < NR_VECTORS; v++) {
                VEC *target = (VEC *)(c + i * ldc + v * LANES);
                if (bias) *target = acc[i][v] * alpha + *(const VEC *)(bias + v * LANES);
                else *target = beta == 0.0f ? acc[i][v] * alpha : acc[i][v] * alpha + *target * beta;
            }
        return;
    }
    float buffer[MR * NR] __attribute__((aligned(64)));
#pragma clang loop unroll(full)
    for (int i = 0; i < height; i++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NR_VECTORS; v++) *(VEC *)(buffer + i * NR + v * LANES) = acc[i][v];
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            c[i * ldc + j] = bias ? alpha * buffer[i * NR + j] + bias[j]
                             : beta == 0.0f ? alpha * buffer[i * NR + j] : alpha * buffer[i * NR + j] + beta * c[i * ldc + j];
}

/// With few rows of A (at most DIRECT_ROWS), each B panel serves few tiles and packing B costs
/// a large share of the multiply: whole panels of a row-major B are then read where they lie
/// (a partial last panel is still packed, so no row is read past its end).
static void CAT(gemm, VARIANT)(int64_t m, int64_t n, int64_t k, float alpha,
                               const float *a, int64_t ars, int64_t acs,
                               const float *b, int64_t brs, int64_t bcs,
                               float beta, const float *bias, float *c, int64_t ldc) {
    float *packed_a = scratch(PACKED_A, MC * KC * 4);
    float *packed_b = scratch(PACKED_B, KC * ((NC + NR - 1) / NR * NR) * 4);
    int direct_b = bcs == 1 && m <= DIRECT_ROWS;
    for (int64_t jc = 0; jc < n; jc += NC) {
        int64_t nc = n - jc < NC ? n - jc : NC;
        for (int64_t pc = 0; pc < k; pc += KC) {
            int64_t kc = k - pc < KC ? k - pc : KC;
            float block_beta = pc == 0 ? beta : 1.0f;
            const float *block_bias = pc == 0 && bias ? bias + jc : 0;
            const float *b_block = b + pc * brs + jc * bcs;
            if (!direct_b) CAT(pack_b, VARIANT)(kc, nc, b_block, brs, bcs, packed_b);
            for (int64_t ic = 0; ic < m; ic += MC) {
                int64_t mc = m - ic < MC ? m - ic : MC;
                CAT(pack_a, VARIANT)(mc, kc, a + ic * ars + pc * acs, ars, acs, packed_a);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int64_t columns = nc - jr < NR ? nc - jr : NR;
                    const float *panel = packed_b + jr * kc;
                    int64_t ldb = NR;
                    if (direct_b && columns == NR) {
                        panel = b_block + jr;
                        ldb = brs;
                    } else if (direct_b) {
                        CAT(pack_b, VARIANT)(kc, columns, b_block + jr, brs, bcs, packed_b);
                        panel = packed_b;
                    }
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int64_t rows = mc - ir < MR ? mc - ir : MR;
                        const float *a_panel = packed_a + ir * kc;
                        float *c_tile = c + (ic + ir) * ldc + jc + jr;
                        const float *tile_bias = block_bias ? block_bias + jr : 0;
                        if (rows > MR / 2)
                            CAT(tile, VARIANT)(MR, kc, a_panel, panel, ldb, alpha, block_beta, tile_bias, c_tile, ldc, rows, columns);
                        else if (rows > MR / 4)
                            CAT(tile, VARIANT)(MR / 2, kc, a_panel, panel, ldb, alpha, block_beta, tile_bias, c_tile, ldc, rows, columns);
                        else
                            CAT(tile, VARIANT)(MR / 4 > 0 ? MR / 4 : 1, kc, a_panel, panel, ldb, alpha, block_beta, tile_bias, c_tile, ldc, rows, columns);
                    }
                }
            }
        }
    }
}

static void CAT(tile_shape, VARIANT)(int64_t *rows, int64_t *columns) {
    *rows = MR;
    *columns = NR;
}

#undef VEC
#undef OCTET
#undef NR
#undef LANES
