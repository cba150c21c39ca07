// The Philox4x32-10 block function over PHILOX_LANES consecutive counters, and the uniform and
// normal floats of those blocks, instantiated by philox.c per instruction set with VARIANT.

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#ifndef PHILOX_LANES
#define PHILOX_LANES 16
#endif

/// words[4 j + w] = word w of block (key, stream, counter + j) for j < PHILOX_LANES.
static void CAT(philox_blocks, VARIANT)(uint64_t key, uint64_t stream, uint64_t counter, uint32_t *restrict words) {
    uint32_t c0[PHILOX_LANES], c1[PHILOX_LANES], c2[PHILOX_LANES], c3[PHILOX_LANES];
    for (int l = 0; l < PHILOX_LANES; l++) {
        c0[l] = (uint32_t)(counter + l);
        c1[l] = (uint32_t)((counter + l) >> 32);
        c2[l] = (uint32_t)stream;
        c3[l] = (uint32_t)(stream >> 32);
    }
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int round = 0; round < 10; round++) {
        for (int l = 0; l < PHILOX_LANES; l++) {
            uint64_t product0 = (uint64_t)0xD2511F53u * c0[l], product1 = (uint64_t)0xCD9E8D57u * c2[l];
            uint32_t next0 = (uint32_t)(product1 >> 32) ^ c1[l] ^ k0, next2 = (uint32_t)(product0 >> 32) ^ c3[l] ^ k1;
            c1[l] = (uint32_t)product1;
            c3[l] = (uint32_t)product0;
            c0[l] = next0;
            c2[l] = next2;
        }
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    for (int l = 0; l < PHILOX_LANES; l++) {
        words[4 * l] = c0[l];
        words[4 * l + 1] = c1[l];
        words[4 * l + 2] = c2[l];
        words[4 * l + 3] = c3[l];
    }
}

/// out[e] = uniform element e of the PHILOX_LANES blocks from `counter`: word e % 4 of block e / 4.
static void CAT(philox_uniforms, VARIANT)(uint64_t key, uint64_t stream, uint64_t counter, float *restrict out) {
    uint32_t words[4 * PHILOX_LANES];
    CAT(philox_blocks, VARIANT)(key, stream, counter, words);
    for (int e = 0; e < 4 * PHILOX_LANES; e++) out[e] = latent_open_unit(words[e]);
}

/// out[e] = normal element e of the PHILOX_LANES blocks from `counter`: Box-Muller on words
/// (2 e, 2 e + 1), which are words (0, 1) or (2, 3) of block e / 2.
static void CAT(philox_normals, VARIANT)(uint64_t key, uint64_t stream, uint64_t counter, float *restrict out) {
    uint32_t words[4 * PHILOX_LANES];
    CAT(philox_blocks, VARIANT)(key, stream, counter, words);
    for (int e = 0; e < 2 * PHILOX_LANES; e++) out[e] = box_muller(words[2 * e], words[2 * e + 1]);
}
