/*
 * thread_arch.h - the machine state each thread keeps on x86_64.
 */
#ifndef MICA_X86_64_THREAD_ARCH_H
#define MICA_X86_64_THREAD_ARCH_H

#include "types.h"

struct arch_thread {
    uintptr_t ctx_sp;       /* saved kernel stack pointer while switched out */
    uint64_t fs_base;       /* user TLS base (arch_prctl ARCH_SET_FS) */
    uint64_t gs_base;       /* user GS base */
    void *fpu;              /* FXSAVE/XSAVE area, NULL for kernel threads */
};

#endif
