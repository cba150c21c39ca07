// One GEMM variant (Goto/BLIS blocking), instantiated by gemm.c for each instruction set with
// VARIANT (function name suffix), VECTOR_BYTES, MR (rows of the register tile), NR_VECTORS
// (columns of the register tile, in vectors), and the block sizes KC, MC, NC.

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

/// Packs rows [0, kc) x columns [0, nc) of B into NR-column panels, k-major, zero-padded.
static void CAT(pack_b, VARIANT)(int64_t kc, int64_t nc, const float *b, int64_t rs, int64_t cs, float *packed) {
    for (int64_t panel = 0; panel < nc; panel += NR) {
        int64_t columns = nc - panel < NR ? nc - panel : NR;
        const float *source = b + panel * cs;
        if (cs == 1 && columns == NR) {
            for (int64_t p = 0; p < kc; p++)
                for (int j = 0; j < NR; j++) packed[p * NR + j] = source[p * rs + j];
        } else if (rs == 1 && columns == NR) {
            for (int j = 0; j < NR; j++)
                for (int64_t p = 0; p < kc; p++) packed[p * NR + j] = source[j * cs + p];
        } else {
            for (int64_t p = 0; p < kc; p++)
                for (int j = 0; j < NR; j++) packed[p * NR + j] = j < columns ? source[p * rs + j * cs] : 0.0f;
        }
        packed += kc * NR;
    }
}

/// The register tile: C[MR x NR] = alpha * Apanel Bpanel + beta * C, rows < m and columns < n kept.
static inline __attribute__((always_inline)) void CAT(tile, VARIANT)(
    int64_t kc, const float *a, const float *b, float alpha, float beta, float *c, int64_t ldc, int64_t m, int64_t n) {
    VEC acc[MR][NR_VECTORS];
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NR_VECTORS; v++) acc[i][v] = (VEC){0};
    for (int64_t p = 0; p < kc; p++) {
        VEC bv[NR_VECTORS];
#pragma clang loop unroll(full)
        for (int v = 0; v < NR_VECTORS; v++) bv[v] = *(const VEC *)(b + p * NR + v * LANES);
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++) {
            float ai = a[p * MR + i];
#pragma clang loop unroll(full)
            for (int v = 0; v < NR_VECTORS; v++) acc[i][v] += bv[v] * ai;
        }
    }
    if (m == MR && n == NR) {
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
            for (int v = 0; v < NR_VECTORS; v++) {
                VEC *target = (VEC *)(c + i * ldc + v * LANES);
                *target = beta == 0.0f ? acc[i][v] * alpha : acc[i][v] * alpha + *target * beta;
            }
        return;
    }
    float buffer[MR * NR] __attribute__((aligned(64)));
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NR_VECTORS; v++) *(VEC *)(buffer + i * NR + v * LANES) = acc[i][v];
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            c[i * ldc + j] = beta == 0.0f ? alpha * buffer[i * NR + j] : alpha * buffer[i * NR + j] + beta * c[i * ldc + j];
}

static void CAT(gemm, VARIANT)(int64_t m, int64_t n, int64_t k, float alpha,
                               const float *a, int64_t ars, int64_t acs,
                               const float *b, int64_t brs, int64_t bcs,
                               float beta, float *c, int64_t ldc) {
    float *packed_a = packing_buffer(0, MC * KC);
    float *packed_b = packing_buffer(1, KC * ((NC + NR - 1) / NR * NR));
    for (int64_t jc = 0; jc < n; jc += NC) {
        int64_t nc = n - jc < NC ? n - jc : NC;
        for (int64_t pc = 0; pc < k; pc += KC) {
            int64_t kc = k - pc < KC ? k - pc : KC;
            float block_beta = pc == 0 ? beta : 1.0f;
            CAT(pack_b, VARIANT)(kc, nc, b + pc * brs + jc * bcs, brs, bcs, packed_b);
            for (int64_t ic = 0; ic < m; ic += MC) {
                int64_t mc = m - ic < MC ? m - ic : MC;
                CAT(pack_a, VARIANT)(mc, kc, a + ic * ars + pc * acs, ars, acs, packed_a);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int64_t columns = nc - jr < NR ? nc - jr : NR;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int64_t rows = mc - ir < MR ? mc - ir : MR;
                        CAT(tile, VARIANT)(kc, packed_a + ir * kc, packed_b + jr * kc, alpha, block_beta,
                                           c + (ic + ir) * ldc + jc + jr, ldc, rows, columns);
                    }
                }
            }
        }
    }
}

#undef VEC
#undef NR
#undef LANES
