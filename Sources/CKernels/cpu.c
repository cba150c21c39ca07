// The instruction set the kernels run with, detected once at run time.
#include "CKernels.h"

int latent_instruction_level(void) {
    static int level = -1;
    if (level < 0) {
#if defined(__x86_64__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) level = 2;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = 1;
        else level = 0;
#else
        level = 0;
#endif
    }
    return level;
}
