// Whole-array loops, written plainly and auto-vectorized, instantiated by arrays.c per
// instruction set with VARIANT.

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)

static void CAT(adam, VARIANT)(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, int64_t n,
                               float lr, float beta1, float beta2, float epsilon, float weight_decay, float clip,
                               float correction1, float correction2) {
    const float step = lr / correction1, scale = 1.0f / correction2;
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i] + weight_decay * p[i];
        gi = gi < -clip ? -clip : (gi > clip ? clip : gi);
        m[i] = beta1 * m[i] + (1.0f - beta1) * gi;
        v[i] = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        p[i] -= step * m[i] / (__builtin_elementwise_sqrt(v[i] * scale) + epsilon);
    }
}

static int CAT(all_finite, VARIANT)(const float *x, int64_t n) {
    const uint32_t *bits = (const uint32_t *)x;
    uint32_t saturated = 0;
    for (int64_t i = 0; i < n; i++) saturated |= (bits[i] & 0x7F800000u) == 0x7F800000u;
    return saturated == 0;
}

static inline __attribute__((always_inline)) int CAT(outside, VARIANT)(float x, float lower, float upper, int integral) {
    return !(x >= lower) | !(x <= upper) | (integral & (x != __builtin_elementwise_floor(x)));
}

static int64_t CAT(first_outside, VARIANT)(const float *x, int64_t n, float lower, float upper, int integral) {
    for (int64_t start = 0; start < n; start += 1024) {
        int64_t end = n - start < 1024 ? n : start + 1024;
        int any = 0;
        for (int64_t i = start; i < end; i++) any |= CAT(outside, VARIANT)(x[i], lower, upper, integral);
        if (!any) continue;
        for (int64_t i = start; i < end; i++)
            if (CAT(outside, VARIANT)(x[i], lower, upper, integral)) return i;
    }
    return -1;
}

static void CAT(binary, VARIANT)(int op, const float *a, const float *b, float *y, int64_t n) {
    switch (op) {
    case 0: for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i]; break;
    case 1: for (int64_t i = 0; i < n; i++) y[i] = a[i] - b[i]; break;
    case 2: for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i]; break;
    default: for (int64_t i = 0; i < n; i++) y[i] = a[i] / b[i]; break;
    }
}

static void CAT(relu_forward, VARIANT)(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void CAT(relu_backward, VARIANT)(const float *x, const float *g, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = g[i] * (x[i] > 0.0f ? 1.0f : 0.0f);
}

static void CAT(row_sums, VARIANT)(const float *x, int64_t rows, int64_t columns, float *out) {
    if (columns < 16) {
        /* The lanes below would all stay zero: the same sums, added in the same order. */
        for (int64_t r = 0; r < rows; r++) {
            double total = 0;
            for (int64_t j = 0; j < columns; j++) total += (double)x[r * columns + j];
            out[r] = (float)total;
        }
        return;
    }
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * columns;
        double lanes[16] = {0};
        int64_t j = 0;
        for (; j + 16 <= columns; j += 16)
            for (int l = 0; l < 16; l++) lanes[l] += (double)row[j + l];
        double total = 0;
        for (int l = 0; l < 16; l++) total += lanes[l];
        for (; j < columns; j++) total += (double)row[j];
        out[r] = (float)total;
    }
}

static void CAT(column_sums, VARIANT)(const float *x, int64_t rows, int64_t columns, double *accumulator) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < columns; j++) accumulator[j] += (double)x[r * columns + j];
}
