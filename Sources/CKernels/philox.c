// Philox4x32-10 (Salmon et al. 2011) for whole draws: many counters at once, in lanes the
// compiler vectorizes per instruction set, then turned into uniform or normal floats. Element
// e of a uniform draw is word e % 4 of block e / 4; element e of a normal draw takes words
// (0, 1) of block e / 2 when e is even and (2, 3) when odd: the same numbers, bit for bit, as
// `Philox.block` in TensorCore computes one at a time.
#include "CKernels.h"
#include <math.h>

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
#define VARIANT avx512
#include "philox_variant.h"
#undef VARIANT
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define VARIANT avx2
#include "philox_variant.h"
#undef VARIANT
#pragma clang attribute pop
#endif

#define VARIANT generic
#include "philox_variant.h"

typedef void (*blocks_function)(uint64_t, uint64_t, uint64_t, uint32_t *);

static blocks_function chosen_blocks(void) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: return philox_blocks_avx512;
    case 1: return philox_blocks_avx2;
    }
#endif
    return philox_blocks_generic;
}

static inline float open_unit(uint32_t bits) { return ((float)(bits >> 8) + 0.5f) * 0x1p-24f; }

void latent_philox_uniform(uint64_t key, uint64_t stream, int64_t first, int64_t count, float *out) {
    blocks_function blocks = chosen_blocks();
    uint32_t words[4 * PHILOX_LANES];
    for (int64_t e = first; e < first + count;) {
        int64_t block = e / 4, end = (block + PHILOX_LANES) * 4 < first + count ? (block + PHILOX_LANES) * 4 : first + count;
        blocks(key, stream, (uint64_t)block, words);
        for (; e < end; e++) out[e - first] = open_unit(words[e - block * 4]);
    }
}

void latent_philox_normal(uint64_t key, uint64_t stream, int64_t first, int64_t count, float *out) {
    blocks_function blocks = chosen_blocks();
    uint32_t words[4 * PHILOX_LANES];
    for (int64_t e = first; e < first + count;) {
        int64_t block = e / 2, end = (block + PHILOX_LANES) * 2 < first + count ? (block + PHILOX_LANES) * 2 : first + count;
        blocks(key, stream, (uint64_t)block, words);
        for (; e < end; e++) {
            const uint32_t *pair = words + 2 * (e - block * 2);
            double radius = sqrt(-2 * log(((double)pair[0] + 0.5) * 0x1p-32));
            out[e - first] = (float)(radius * cos(2 * 3.141592653589793 * (double)open_unit(pair[1])));
        }
    }
}
