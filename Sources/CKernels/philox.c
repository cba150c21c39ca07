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

/// Element `place` of a batch of blocks for a uniform draw: one word.
static float uniform_element(const uint32_t *words, int64_t place) { return open_unit(words[place]); }

/// Element `place` of a batch of blocks for a normal draw: Box-Muller on a pair of words.
static float normal_element(const uint32_t *words, int64_t place) {
    const uint32_t *pair = words + 2 * place;
    double radius = sqrt(-2 * log(((double)pair[0] + 0.5) * 0x1p-32));
    return (float)(radius * cos(2 * 3.141592653589793 * (double)open_unit(pair[1])));
}

/// out[j] = element first + j of a draw taking `per_block` elements from each block.
static inline __attribute__((always_inline)) void fill(uint64_t key, uint64_t stream, int64_t first, int64_t count, float *out,
                                                       int64_t per_block, float (*element)(const uint32_t *, int64_t)) {
    blocks_function blocks = chosen_blocks();
    uint32_t words[4 * PHILOX_LANES];
    for (int64_t e = first; e < first + count;) {
        int64_t block = e / per_block, end = (block + PHILOX_LANES) * per_block < first + count ? (block + PHILOX_LANES) * per_block : first + count;
        blocks(key, stream, (uint64_t)block, words);
        for (; e < end; e++) out[e - first] = element(words, e - block * per_block);
    }
}

void latent_philox_uniform(uint64_t key, uint64_t stream, int64_t first, int64_t count, float *out) {
    fill(key, stream, first, count, out, 4, uniform_element);
}

void latent_philox_normal(uint64_t key, uint64_t stream, int64_t first, int64_t count, float *out) {
    fill(key, stream, first, count, out, 2, normal_element);
}
