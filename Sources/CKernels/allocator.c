// The allocator's thresholds for large blocks (glibc's mallopt; elsewhere nothing to set).
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
