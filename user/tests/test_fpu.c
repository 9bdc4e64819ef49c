/*
 * test_fpu.c - every thread keeps its own x87/SSE/AVX registers.
 *
 * More threads than CPUs each load a pattern of their own into all
 * sixteen XMM registers, yield (so other threads run on the same CPU
 * and load theirs), and check the registers still hold their pattern.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "utest.h"

#define THREADS 8
#define ROUNDS 200

static void *fpu_worker(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg + 1;
    uint64_t bad = 0;
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t in[2] = { id * 0x0101010101010101ull, (uint64_t)r };
        uint64_t out[2], x0[2];
        __asm__ volatile(
            "movdqu %2, %%xmm0\n\tmovdqa %%xmm0, %%xmm1\n\t"
            "movdqa %%xmm0, %%xmm2\n\tmovdqa %%xmm0, %%xmm3\n\t"
            "movdqa %%xmm0, %%xmm4\n\tmovdqa %%xmm0, %%xmm5\n\t"
            "movdqa %%xmm0, %%xmm6\n\tmovdqa %%xmm0, %%xmm7\n\t"
            "movdqa %%xmm0, %%xmm8\n\tmovdqa %%xmm0, %%xmm9\n\t"
            "movdqa %%xmm0, %%xmm10\n\tmovdqa %%xmm0, %%xmm11\n\t"
            "movdqa %%xmm0, %%xmm12\n\tmovdqa %%xmm0, %%xmm13\n\t"
            "movdqa %%xmm0, %%xmm14\n\tmovdqa %%xmm0, %%xmm15\n\t"
            "movl $24, %%eax\n\tsyscall\n\t"    /* sched_yield, no libc */
            "pxor %%xmm1, %%xmm15\n\tpxor %%xmm2, %%xmm14\n\t"
            "pxor %%xmm3, %%xmm13\n\tpxor %%xmm4, %%xmm12\n\t"
            "pxor %%xmm5, %%xmm11\n\tpxor %%xmm6, %%xmm10\n\t"
            "pxor %%xmm7, %%xmm9\n\tpor %%xmm15, %%xmm14\n\t"
            "por %%xmm14, %%xmm13\n\tpor %%xmm13, %%xmm12\n\t"
            "por %%xmm12, %%xmm11\n\tpor %%xmm11, %%xmm10\n\t"
            "por %%xmm10, %%xmm9\n\tpxor %%xmm0, %%xmm8\n\t"
            "por %%xmm9, %%xmm8\n\tmovdqu %%xmm8, %0\n\t"
            "movdqu %%xmm0, %1"
            : "=m"(out), "=m"(x0) : "m"(in)
            : "rax", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3",
              "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
              "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
        bad += out[0] | out[1];             /* all pairs were equal: 0 */
        bad += (x0[0] != in[0]) | (x0[1] != in[1]);
    }
    return (void *)(uintptr_t)bad;
}

UTEST(fpu_registers_survive_switches)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        UASSERT(pthread_create(&t[i], NULL, fpu_worker,
                               (void *)(uintptr_t)i) == 0);
    for (int i = 0; i < THREADS; i++) {
        void *bad = (void *)1;
        UEXPECT(pthread_join(t[i], &bad) == 0);
        UEXPECT(bad == NULL);
    }
}
