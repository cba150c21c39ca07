// The allocator's thresholds for large blocks (glibc's mallopt; elsewhere nothing to set), and
// a trial allocation.
#include <stdlib.h>
#include "CKernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void latent_keep_blocks_in_heap(int64_t largest_block, int64_t free_top_kept) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, (int)largest_block);
    mallopt(M_TRIM_THRESHOLD, (int)free_top_kept);
#else
    (void)largest_block;
    (void)free_top_kept;
#endif
}

int latent_can_allocate(int64_t bytes) {
    void *block = malloc((size_t)bytes);
    if (block == NULL) return 0;
    // The compiler may drop a malloc whose block is never used; this use is opaque to it.
    __asm__ volatile("" : : "r"(block) : "memory");
    free(block);
    return 1;
}
