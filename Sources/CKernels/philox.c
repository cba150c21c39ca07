// Philox4x32-10 (Salmon et al. 2011) for whole draws: many counters at once, in lanes the
// compiler vectorizes per instruction set, then turned into uniform or normal floats, also in
// lanes (box_muller.h). Element e of a uniform draw is word e % 4 of block e / 4; element e of
// a normal draw takes words (0, 1) of block e / 2 when e is even and (2, 3) when odd: the same
// numbers, bit for bit, as `Philox.block` in TensorCore computes one at a time.
#include "CKernels.h"
#include "box_muller.h"
#include <string.h>

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

typedef void (*batch_function)(uint64_t key, uint64_t stream, uint64_t counter, float *out);

/// The uniform (`normal` 0) or normal (1) floats of PHILOX_LANES blocks, for this processor.
static batch_function chosen_batch(int normal) {
#if defined(__x86_64__)
    switch (latent_instruction_level()) {
    case 2: return normal ? philox_normals_avx512 : philox_uniforms_avx512;
    case 1: return normal ? philox_normals_avx2 : philox_uniforms_avx2;
    }
#endif
    return normal ? philox_normals_generic : philox_uniforms_generic;
}

/// out[j] = element first + j of a draw taking `per_block` elements from each block.
static void fill(uint64_t key, uint64_t stream, int64_t first, int64_t count, float *out, int64_t per_block, batch_function batch) {
    float elements[4 * PHILOX_LANES];
    for (int64_t e = first; e < first + count;) {
        int64_t block = e / per_block, end = (block + PHILOX_LANES) * per_block < first + count ? (block + PHILOX_LANES) * per_block : first + count;
        batch(key, stream, (uint64_t)block, elements);
        memcpy(out + (e - first), elements + (e - block * per_block), (size_t)(end - e) * sizeof(float));
        e = end;
    }
}

void latent_philox_uniform(uint64_t key, uint64_t stream, int64_t first, int64_t count, float *out) {
    fill(key, stream, first, count, out, 4, chosen_batch(0));
}

void latent_philox_normal(uint64_t key, uint64_t stream, int64_t first, int64_t count, float *out) {
    fill(key, stream, first, count, out, 2, chosen_batch(1));
}

float latent_standard_normal(uint32_t w1, uint32_t w2) { return box_muller(w1, w2); }
