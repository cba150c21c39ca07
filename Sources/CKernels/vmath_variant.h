// Vectorized transcendental functions, instantiated by vmath.c per instruction set with
// VARIANT and VECTOR_BYTES. Cephes-style polynomials after Cody-Waite range reduction;
// every function is branch-free over a vector and handles NaN, infinities and denormals.

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define LANES (VECTOR_BYTES / 4)

typedef float CAT(vf, VARIANT) __attribute__((vector_size(VECTOR_BYTES), aligned(4)));
typedef int32_t CAT(vi, VARIANT) __attribute__((vector_size(VECTOR_BYTES), aligned(4)));
#define VF CAT(vf, VARIANT)
#define VI CAT(vi, VARIANT)

static inline __attribute__((always_inline)) VF CAT(blend, VARIANT)(VI mask, VF a, VF b) {
    return (VF)((mask & (VI)a) | (~mask & (VI)b));
}
#define BLEND CAT(blend, VARIANT)

/// p 2^n for integral n in [-252, 254]: two exact power-of-two factors applied in turn, so
/// results near the overflow and underflow thresholds stay finite and exact.
static inline __attribute__((always_inline)) VF CAT(scale_by_pow2, VARIANT)(VF p, VF n) {
    VI k = __builtin_convertvector(n, VI);
    VI half = k >> 1;
    return p * (VF)((half + 127) << 23) * (VF)((k - half + 127) << 23);
}

/// e^x: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-7 polynomial, times 2^n.
static inline __attribute__((always_inline)) VF CAT(exp, VARIANT)(VF x) {
    VF clamped = BLEND(x > 88.7228394f, (VF){} + 88.7228394f, BLEND(x < -104.0f, (VF){} - 104.0f, x));
    VF n = (clamped * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    VF r = clamped - n * 0.693359375f + n * 2.12194440e-4f;
    VF p = (VF){} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    VF result = CAT(scale_by_pow2, VARIANT)(p, n);
    result = BLEND(x > 88.7228394f, (VF){} + __builtin_inff(), result);
    result = BLEND(x < -104.0f, (VF){}, result);
    return BLEND(x != x, x, result);
}

/// log x: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) = f - f^2/2 + f^3 P(f) for f = m - 1.
static inline __attribute__((always_inline)) VF CAT(log, VARIANT)(VF x) {
    VI subnormal = x < 1.17549435e-38f;
    VF scaled = BLEND(subnormal, x * 8388608.0f, x);
    VI bits = (VI)scaled;
    VF e = __builtin_convertvector(((bits >> 23) & 0xff) - 126, VF) - BLEND(subnormal, (VF){} + 23.0f, (VF){});
    VF m = (VF)((bits & 0x007fffff) | 0x3f000000);
    VI low = m < 0.707106781186547524f;
    e = e - BLEND(low, (VF){} + 1.0f, (VF){});
    VF f = BLEND(low, m + m, m) - 1.0f;
    VF z = f * f;
    VF p = (VF){} + 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    VF y = p * f * z - e * 2.12194440e-4f - 0.5f * z;
    VF result = f + y + e * 0.693359375f;
    result = BLEND(x == 0.0f, (VF){} - __builtin_inff(), result);
    result = BLEND(x < 0.0f, (VF){} + __builtin_nanf(""), result);
    result = BLEND(x == __builtin_inff(), x, result);
    return BLEND(x != x, x, result);
}

/// log(1 + x) = log(u) x / (u - 1) with u = 1 + x rounded (exact correction, Goldberg 1991).
static inline __attribute__((always_inline)) VF CAT(log1p, VARIANT)(VF x) {
    VF u = x + 1.0f;
    VF d = u - 1.0f;
    VF corrected = CAT(log, VARIANT)(u) * (x / BLEND(d == 0.0f, (VF){} + 1.0f, d));
    VF result = BLEND(d == 0.0f, x, corrected);
    result = BLEND(x == __builtin_inff(), x, result);
    return BLEND(u == 0.0f, (VF){} - __builtin_inff(), result);
}

/// e^x - 1 = (u - 1) x / log(u) with u = e^x rounded (Kahan's correction).
static inline __attribute__((always_inline)) VF CAT(expm1, VARIANT)(VF x) {
    VF u = CAT(exp, VARIANT)(x);
    VF d = u - 1.0f;
    VF l = CAT(log, VARIANT)(u);
    VF corrected = d * (x / BLEND(l == 0.0f, (VF){} + 1.0f, l));
    VF result = BLEND(u == 1.0f, x, corrected);
    result = BLEND(d == -1.0f, d, result);
    return BLEND(x > 88.0f, u - 1.0f, result);
}

/// tanh x: an odd polynomial for |x| < 0.625, 1 - 2 / (e^(2|x|) + 1) with the sign otherwise.
static inline __attribute__((always_inline)) VF CAT(tanh, VARIANT)(VF x) {
    VF z = x * x;
    VF p = (VF){} + -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    VF small = p * z * x + x;
    VF a = (VF)((VI)x & 0x7fffffff);
    VF large = 1.0f - 2.0f / (CAT(exp, VARIANT)(a + a) + 1.0f);
    large = (VF)((VI)large | ((VI)x & (int32_t)0x80000000));
    return BLEND(a < 0.625f, small, large);
}

/// 1 / (1 + e^-x), as e^x / (1 + e^x) for negative x so the left tail keeps its precision.
static inline __attribute__((always_inline)) VF CAT(sigmoid, VARIANT)(VF x) {
    VF a = (VF)((VI)x & 0x7fffffff);
    VF e = CAT(exp, VARIANT)(-a);
    VF s = 1.0f / (1.0f + e);
    return BLEND(x >= 0.0f, s, e * s);
}

/// log(1 + e^x) = max(x, 0) + log1p(e^-|x|).
static inline __attribute__((always_inline)) VF CAT(softplus, VARIANT)(VF x) {
    VF a = (VF)((VI)x & 0x7fffffff);
    VF tail = CAT(log1p, VARIANT)(CAT(exp, VARIANT)(-a));
    VF result = BLEND(x > 0.0f, x, (VF){}) + tail;
    return BLEND(x != x, x, result);
}

/// log sigmoid(x) = min(x, 0) - log1p(e^-|x|).
static inline __attribute__((always_inline)) VF CAT(logsigmoid, VARIANT)(VF x) {
    VF a = (VF)((VI)x & 0x7fffffff);
    VF tail = CAT(log1p, VARIANT)(CAT(exp, VARIANT)(-a));
    VF result = BLEND(x < 0.0f, x, (VF){}) - tail;
    return BLEND(x != x, x, result);
}

/// x l - softplus(l) for one vector of logits l and values x, and its derivative in l,
/// x - sigmoid(l), in *slope unless slope is NULL: the Bernoulli log-likelihood.
static inline __attribute__((always_inline)) VF CAT(bernoulli_term, VARIANT)(VF logits, VF values, VF *slope) {
    VF a = (VF)((VI)logits & 0x7fffffff);
    VF e = CAT(exp, VARIANT)(-a);
    VF softplus = BLEND(logits > 0.0f, logits, (VF){}) + CAT(log1p, VARIANT)(e);
    if (slope) {
        VF s = 1.0f / (1.0f + e);
        *slope = values - BLEND(logits >= 0.0f, s, e * s);
    }
    return values * logits - softplus;
}

/// The Bernoulli terms of n elements, and their derivatives in dl unless it is NULL.
static void CAT(bernoulli_log_likelihood, VARIANT)(const float *l, const float *x, float *y, float *dl, int64_t n) {
    for (int64_t i = 0; i < n; i += LANES) {
        int64_t lanes = n - i < LANES ? n - i : LANES;
        VF logits = {}, values = {}, slope = {};
        if (lanes == LANES) {
            logits = *(const VF *)(l + i);
            values = *(const VF *)(x + i);
        } else {
            for (int64_t j = 0; j < lanes; j++) { logits[j] = l[i + j]; values[j] = x[i + j]; }
        }
        VF likelihood = CAT(bernoulli_term, VARIANT)(logits, values, dl ? &slope : 0);
        if (lanes == LANES) {
            *(VF *)(y + i) = likelihood;
            if (dl) *(VF *)(dl + i) = slope;
        } else {
            for (int64_t j = 0; j < lanes; j++) {
                y[i + j] = likelihood[j];
                if (dl) dl[i + j] = slope[j];
            }
        }
    }
}

typedef float CAT(vf16, VARIANT) __attribute__((vector_size(64), aligned(4)));
typedef double CAT(vd16, VARIANT) __attribute__((vector_size(128), aligned(8)));

/// y[r] = the sum of row r's terms x l - softplus(l) (`columns` of them), in double and in the
/// order of the row sums (16 running lanes, then the rest), the terms computed as above and
/// never written out; their derivatives in dl unless it is NULL. Four blocks of 16 columns are
/// computed at a time, so that their long chains of dependent instructions overlap, and added
/// to the lanes in column order.
static void CAT(bernoulli_log_likelihood_rows, VARIANT)(const float *l, const float *x, float *y, float *dl, int64_t rows, int64_t columns) {
    for (int64_t r = 0; r < rows; r++) {
        const float *logits = l + r * columns, *values = x + r * columns;
        float *slopes = dl ? dl + r * columns : 0;
        CAT(vd16, VARIANT) lanes = {};
        int64_t j = 0;
        while (j + 16 <= columns) {
            int64_t blocks = columns - j >= 64 ? 4 : 1;
            CAT(vf16, VARIANT) terms[4];
            for (int64_t v = 0; v < blocks * 16 / LANES; v++) {
                VF slope;
                int64_t at = j + v * LANES;
                VF term = CAT(bernoulli_term, VARIANT)(*(const VF *)(logits + at), *(const VF *)(values + at), slopes ? &slope : 0);
                for (int i = 0; i < LANES; i++) terms[v * LANES / 16][(v * LANES) % 16 + i] = term[i];
                if (slopes) *(VF *)(slopes + at) = slope;
            }
            for (int64_t b = 0; b < blocks; b++) lanes += __builtin_convertvector(terms[b], CAT(vd16, VARIANT));
            j += blocks * 16;
        }
        double total = 0;
        for (int i = 0; i < 16; i++) total += lanes[i];
        if (j < columns) {
            float terms[16];
            CAT(bernoulli_log_likelihood, VARIANT)(logits + j, values + j, terms, slopes ? slopes + j : 0, columns - j);
            for (int64_t i = 0; i < columns - j; i++) total += (double)terms[i];
        }
        y[r] = (float)total;
    }
}

/// The array loop: whole vectors, then the tail through a padded vector.
#define ARRAY_LOOP(function)                                                        \
    static void CAT(function##_array, VARIANT)(const float *x, float *y, int64_t n) { \
        int64_t i = 0;                                                              \
        for (; i + LANES <= n; i += LANES)                                          \
            *(VF *)(y + i) = CAT(function, VARIANT)(*(const VF *)(x + i));           \
        if (i < n) {                                                                \
            VF tail = {};                                                           \
            for (int64_t j = 0; j < n - i; j++) tail[j] = x[i + j];                  \
            tail = CAT(function, VARIANT)(tail);                                     \
            for (int64_t j = 0; j < n - i; j++) y[i + j] = tail[j];                  \
        }                                                                           \
    }

ARRAY_LOOP(exp)
ARRAY_LOOP(log)
ARRAY_LOOP(log1p)
ARRAY_LOOP(expm1)
ARRAY_LOOP(tanh)
ARRAY_LOOP(sigmoid)
ARRAY_LOOP(softplus)
ARRAY_LOOP(logsigmoid)

#undef ARRAY_LOOP
#undef BLEND
#undef VF
#undef VI
#undef LANES
