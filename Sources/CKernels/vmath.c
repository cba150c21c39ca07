// Elementwise transcendental functions, vectorized per instruction set and chosen at run time.
#include "CKernels.h"

#pragma clang fp contract(fast)

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
#define VARIANT avx512
#define VECTOR_BYTES 64
#include "vmath_variant.h"
#undef VARIANT
#undef VECTOR_BYTES
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define VARIANT avx2
#define VECTOR_BYTES 32
#include "vmath_variant.h"
#undef VARIANT
#undef VECTOR_BYTES
#pragma clang attribute pop
#endif

#define VARIANT generic
#define VECTOR_BYTES 16
#include "vmath_variant.h"

#if defined(__x86_64__)
#define DISPATCH(public_name, function)                                                   \
    void public_name(const float *x, float *y, int64_t n) {                             \
        switch (latent_instruction_level()) {                                                  \
        case 2: function##_array_avx512(x, y, n); break;                                \
        case 1: function##_array_avx2(x, y, n); break;                                  \
        default: function##_array_generic(x, y, n);                                     \
        }                                                                               \
    }
#else
#define DISPATCH(public_name, function) \
    void public_name(const float *x, float *y, int64_t n) { function##_array_generic(x, y, n); }
#endif

DISPATCH(latent_vexp, exp)
DISPATCH(latent_vlog, log)
DISPATCH(latent_vlog1p, log1p)
DISPATCH(latent_vexpm1, expm1)
DISPATCH(latent_vtanh, tanh)
DISPATCH(latent_vsigmoid, sigmoid)
DISPATCH(latent_vsoftplus, softplus)
DISPATCH(latent_vlogsigmoid, logsigmoid)

void latent_bernoulli_log_likelihood(const float *logits, const float *values, float *y, float *dlogits, int64_t n) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: bernoulli_log_likelihood_avx512(logits, values, y, dlogits, n); return;
    case 1: bernoulli_log_likelihood_avx2(logits, values, y, dlogits, n); return;
    }
#endif
    bernoulli_log_likelihood_generic(logits, values, y, dlogits, n);
}

void latent_bernoulli_log_likelihood_rows(const float *logits, const float *values, float *y, float *dlogits, int64_t rows, int64_t columns) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: bernoulli_log_likelihood_rows_avx512(logits, values, y, dlogits, rows, columns); return;
    case 1: bernoulli_log_likelihood_rows_avx2(logits, values, y, dlogits, rows, columns); return;
    }
#endif
    bernoulli_log_likelihood_rows_generic(logits, values, y, dlogits, rows, columns);
}
