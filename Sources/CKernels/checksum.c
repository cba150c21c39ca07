// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zlib, gzip and PNG compute it.
#include "CKernels.h"

static uint32_t crc_table[256];
static int crc_table_ready;

static void make_crc_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
    crc_table_ready = 1;
}

uint32_t latent_crc32(uint32_t crc, const uint8_t *bytes, int64_t count) {
    if (!crc_table_ready) make_crc_table();
    crc = ~crc;
    for (int64_t i = 0; i < count; i++) crc = crc_table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
