// A standard normal from two Philox words by Box-Muller in double, sqrt(-2 log u1) cos(2 pi u2),
// rounded to float. log and cos are written out here (the reductions and minimax polynomials of
// fdlibm: errors below 1 and 1.5 ulp of a double) instead of called from libm, so that a loop
// over many pairs vectorizes, and every instruction set rounds alike: products and sums are
// never fused. The floats agree with libm's log and cos (none of 3e8 random pairs differed).
#ifndef LATENT_BOX_MULLER_H
#define LATENT_BOX_MULLER_H

#include "CKernels.h"
#include <string.h>

/// log x for a positive normal double: x = 2^k m with m in [sqrt(2)/2, sqrt(2)), f = m - 1,
/// s = f / (2 + f), log m = 2 atanh s = f - f^2/2 + s (f^2/2 + R(s^2)).
static inline double box_muller_log(double x) {
#pragma clang fp contract(off)
    const double lg1 = 6.666666666666735130e-01, lg2 = 3.999999999940941908e-01, lg3 = 2.857142874366239149e-01,
                 lg4 = 2.222219843214978396e-01, lg5 = 1.818357216161805012e-01, lg6 = 1.531383769920937332e-01,
                 lg7 = 1.479819860511658591e-01;
    const double ln2_high = 6.93147180369123816490e-01, ln2_low = 1.90821492927058770002e-10;
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    uint64_t fraction = bits & 0x000FFFFFFFFFFFFFull;
    int64_t halved = fraction > 0x6A09E667F3BCCull;
    uint64_t m_bits = fraction | (halved ? 0x3FE0000000000000ull : 0x3FF0000000000000ull);
    double m;
    memcpy(&m, &m_bits, sizeof m);
    double k = (double)((int64_t)(bits >> 52) - 1023 + halved);
    double f = m - 1.0, s = f / (2.0 + f), z = s * s, w = z * z;
    double r = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7))) + w * (lg2 + w * (lg4 + w * lg6));
    double half_square = 0.5 * f * f;
    return k * ln2_high - ((half_square - (s * (half_square + r) + k * ln2_low)) - f);
}

/// cos x for 0 <= x <= 2 pi: x = q pi/2 + r with |r| <= pi/4 (pi/2 in three parts), then
/// cos r or sin r, signed by the quadrant q.
static inline double box_muller_cos(double x) {
#pragma clang fp contract(off)
    const double c1 = 4.16666666666666019037e-02, c2 = -1.38888888888741095749e-03, c3 = 2.48015872894767294178e-05,
                 c4 = -2.75573143513906633035e-07, c5 = 2.08757232129817482790e-09, c6 = -1.13596475577881948265e-11;
    const double s1 = -1.66666666666666324348e-01, s2 = 8.33333333332248946124e-03, s3 = -1.98412698298579493134e-04,
                 s4 = 2.75573137070700676789e-06, s5 = -2.50507602534068634195e-08, s6 = 1.58969099521155010221e-10;
    const double pio2_1 = 1.57079632673412561417e+00, pio2_2 = 6.07710050630396597660e-11,
                 pio2_3 = 2.02226624879595063154e-21, two_over_pi = 6.36619772367581382433e-01;
    int64_t quadrant = (int64_t)(x * two_over_pi + 0.5);
    double q = (double)quadrant;
    double r = ((x - q * pio2_1) - q * pio2_2) - q * pio2_3, z = r * r;
    double half = 0.5 * z, w = 1.0 - half;
    double cosine = w + (((1.0 - w) - half) + z * (z * (c1 + z * (c2 + z * (c3 + z * (c4 + z * (c5 + z * c6)))))));
    double sine = r + z * r * (s1 + z * (s2 + z * (s3 + z * (s4 + z * (s5 + z * s6)))));
    double value = (quadrant & 1) ? sine : cosine;
    return ((quadrant & 3) == 1 || (quadrant & 3) == 2) ? -value : value;
}

/// N(0, 1) from words (w1, w2): u1 = (w1 + 1/2) 2^-32 in double, u2 = latent_open_unit(w2).
static inline float box_muller(uint32_t w1, uint32_t w2) {
#pragma clang fp contract(off)
    double radius = __builtin_elementwise_sqrt(-2.0 * box_muller_log(((double)w1 + 0.5) * 0x1p-32));
    return (float)(radius * box_muller_cos(2.0 * 3.141592653589793 * (double)latent_open_unit(w2)));
}

#endif
