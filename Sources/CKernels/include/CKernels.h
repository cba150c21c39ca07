#ifndef LATENT_CKERNELS_H
#define LATENT_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// The kernel variant this processor runs: 2 for AVX-512, 1 for AVX2 with FMA, 0 otherwise.
int latent_instruction_level(void);

/// C[i*ldc + j] = alpha * sum_p A(i,p) B(p,j) + beta * C[i*ldc + j] for 0 <= i < m, 0 <= j < n,
/// where A(i,p) = a[i*a_row_stride + p*a_col_stride] and B(p,j) = b[p*b_row_stride + j*b_col_stride]
/// (a transposed operand is the same matrix with its strides swapped). beta == 0 never reads C.
/// With a `bias` (n floats, else NULL), C[i*ldc + j] = alpha * sum_p A(i,p) B(p,j) + bias[j]
/// instead, the same sum as writing the bias into C first with beta 1, and C is not read.
/// Single-threaded and reentrant: callers split C into blocks across threads.
void latent_sgemm(int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t a_row_stride, int64_t a_col_stride,
                  const float *b, int64_t b_row_stride, int64_t b_col_stride,
                  float beta, const float *bias, float *c, int64_t ldc);

/// The baseline of A (m x k, A(i,p) = a[i*a_row_stride + p*a_col_stride], its rows or its
/// columns contiguous) when A is mostly that baseline, one value per column of A as stored (per
/// column of A, or per row of an A stored transposed), as standardized binarized images are:
/// k floats (m when a_col_stride is not 1) in the calling thread's scratch memory, valid until
/// its next call; NULL when A is not such a matrix (judged from a few rows), has fewer than 8
/// rows as stored, or fewer than 64 rows not stored transposed (its product would read all of
/// B for the baseline's share and save little).
const float *latent_sparse_baseline(int64_t m, int64_t k, const float *a, int64_t a_row_stride, int64_t a_col_stride);

/// C = A B + beta C, or A B + bias in every row (alpha 1, `bias` as for latent_sgemm), for an A
/// laid out as for latent_sparse_baseline with that baseline (for an A stored transposed, the
/// entries of these m rows) and a B with contiguous rows `b_row_stride` apart: row i is the baseline's share plus the products of the
/// entries that differ from it, equal to latent_sgemm's result to rounding for a finite B, and
/// not finite wherever latent_sgemm's is (an infinity in B may come out NaN). Single-threaded
/// and reentrant, as latent_sgemm; each element of C does not depend on m or n, so the threads
/// may split C either way.
void latent_sgemm_sparse(int64_t m, int64_t n, int64_t k, const float *a, int64_t a_row_stride, int64_t a_col_stride,
                         const float *baseline, const float *b, int64_t b_row_stride, float beta, const float *bias, float *c, int64_t ldc);

/// The register tile of the GEMM chosen for this processor (rows of A by columns of B): blocks
/// of C split across threads in multiples of it waste no lanes.
void latent_sgemm_tile_shape(int64_t *rows, int64_t *columns);

/// The GEMM variant chosen for this processor at run time: "avx512", "avx2" or "generic".
const char *latent_sgemm_kernel_name(void);

/// y = e^x elementwise (y may alias x).
void latent_vexp(const float *x, float *y, int64_t n);
/// y = log x elementwise: -inf at 0, NaN below 0.
void latent_vlog(const float *x, float *y, int64_t n);
/// y = log(1 + x) elementwise, accurate for tiny x.
void latent_vlog1p(const float *x, float *y, int64_t n);
/// y = e^x - 1 elementwise, accurate for tiny x.
void latent_vexpm1(const float *x, float *y, int64_t n);
/// y = tanh x elementwise.
void latent_vtanh(const float *x, float *y, int64_t n);
/// y = 1 / (1 + e^-x) elementwise, accurate in both tails.
void latent_vsigmoid(const float *x, float *y, int64_t n);
/// y = log(1 + e^x) = max(x, 0) + log1p(e^-|x|) elementwise.
void latent_vsoftplus(const float *x, float *y, int64_t n);
/// y = log sigmoid(x) = -softplus(-x) elementwise.
void latent_vlogsigmoid(const float *x, float *y, int64_t n);

/// One Adam step in place: g' = clamp(g + weight_decay p, -clip, clip); m = b1 m + (1-b1) g';
/// v = b2 v + (1-b2) g'^2; p -= lr (m / correction1) / (sqrt(v / correction2) + epsilon).
void latent_adam_update(float *p, const float *g, float *m, float *v, int64_t n, float lr, float beta1, float beta2,
                        float epsilon, float weight_decay, float clip, float correction1, float correction2);

/// y = x l - softplus(l) (the Bernoulli log-likelihood of x with logits l) and, unless dlogits
/// is NULL, dlogits = x - sigmoid(l), elementwise.
void latent_bernoulli_log_likelihood(const float *logits, const float *values, float *y, float *dlogits, int64_t n);
/// y[r] = the sum over row r (`columns` entries of rows x columns matrices) of those terms, the
/// same number, bit for bit, as latent_row_sums of them, without writing them; dlogits as above.
void latent_bernoulli_log_likelihood_rows(const float *logits, const float *values, float *y, float *dlogits, int64_t rows, int64_t columns);

/// y = a op b elementwise for op 0 (+), 1 (-), 2 (*), 3 (/); y may alias a or b.
void latent_vbinary(int op, const float *a, const float *b, float *y, int64_t n);

/// y = max(x, 0) elementwise.
void latent_vrelu(const float *x, float *y, int64_t n);
/// y = g * (x > 0 ? 1 : 0) elementwise: the gradient of ReLU (a NaN in g stays NaN).
void latent_vrelu_backward(const float *x, const float *g, float *y, int64_t n);

/// out[r] = sum_j x[r, j] for a rows x columns matrix, accumulated in double (16 partial sums a row).
void latent_row_sums(const float *x, int64_t rows, int64_t columns, float *out);
/// accumulator[j] += sum_r x[r, j] for a rows x columns matrix, in double.
void latent_column_sums(const float *x, int64_t rows, int64_t columns, double *accumulator);

/// out, in row-major order over `shape` (rank axes), gets x[sum_k i_k strides[k]]: a strided
/// (possibly broadcast, with stride 0) view of x written out contiguously.
void latent_strided_copy(const float *x, int64_t rank, const ptrdiff_t *shape, const ptrdiff_t *strides, float *out);

/// 1 when every one of the `n` floats is finite (no NaN, no infinity), 0 otherwise.
int latent_all_finite(const float *x, int64_t n);

/// The index of the first of the `n` floats outside [lower, upper], or not an integer when
/// `integral` is 1 (NaN is always outside); -1 when every one is inside.
int64_t latent_first_outside(const float *x, int64_t n, float lower, float upper, int integral);

/// A uniform float strictly inside (0, 1) from 32 random bits: ((bits >> 8) + 1/2) 2^-24, at
/// most the float below 1 (the top value rounds up to 1 in float).
static inline float latent_open_unit(uint32_t bits) {
    float u = ((float)(bits >> 8) + 0.5f) * 0x1p-24f;
    return u < 0x1.fffffep-1f ? u : 0x1.fffffep-1f;
}

/// out[j] = element first + j of a U(0, 1) draw: latent_open_unit of word e % 4 of Philox4x32-10
/// block (key, stream, e / 4).
void latent_philox_uniform(uint64_t key, uint64_t stream, int64_t first, int64_t count, float *out);
/// out[j] = element first + j of a N(0, 1) draw: latent_standard_normal of words (0, 1) of
/// block e / 2 for even e and (2, 3) for odd e.
void latent_philox_normal(uint64_t key, uint64_t stream, int64_t first, int64_t count, float *out);
/// N(0, 1) from two random words by Box-Muller in double, sqrt(-2 log u1) cos(2 pi u2), with
/// u1 = (w1 + 1/2) 2^-32 and u2 = latent_open_unit(w2), rounded to float.
float latent_standard_normal(uint32_t w1, uint32_t w2);

/// The CRC-32 of `count` bytes continuing from `crc` (0 to start): zlib's `crc32`.
uint32_t latent_crc32(uint32_t crc, const uint8_t *bytes, int64_t count);

/// Blocks of up to `largest_block` bytes come from the allocator's heap instead of being
/// mapped one by one, and up to `free_top_kept` free bytes at its top stay for reuse (glibc).
void latent_keep_blocks_in_heap(int64_t largest_block, int64_t free_top_kept);
/// 1 when malloc can give a block of `bytes` now (it is freed at once), else 0.
int latent_can_allocate(int64_t bytes);

/// A hint to the processor that the caller is spin-waiting (x86 `pause`, Arm `yield`).
static inline void latent_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
