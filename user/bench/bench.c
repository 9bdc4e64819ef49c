/*
 * bench.c - micro-benchmarks of the kernel's fast paths, run by init
 * when the kernel command line says `bench=all` (make bench).
 *
 * Under QEMU with -icount shift=0,sleep=off the TSC counts executed guest
 * instructions, so each figure is instructions per operation and the same
 * on every run.  Every figure is the median of many measured iterations
 * after a warm-up, minus the median cost of an empty rdtsc pair.
 * The benchmark boot has two CPUs; init pins itself to CPU 0 first, and
 * the threads it creates inherit that, so the thread benchmarks measure
 * same-CPU switches.  bench/linux/linuxbench.c measures Linux the same way.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "mica.h"

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define ITERS 2001
#define WARMUP 200

static inline uint64_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_u64);
    return v[n / 2];
}

static uint64_t samples[ITERS];
static uint64_t overhead;

static void report(const char *name, uint64_t med)
{
    printf("bench %s instructions=%llu\n", name,
           (unsigned long long)(med > overhead ? med - overhead : 0));
}

static void measure_overhead(void)
{
    for (int i = 0; i < ITERS; i++) {
        uint64_t t0 = tsc();
        samples[i] = tsc() - t0;
    }
    overhead = median(samples, ITERS);
}

/* Restrict the calling thread to CPU 0; threads it creates inherit it. */
static void pin_cpu0(void)
{
    uint64_t mask = 1;
    if (syscall(SYS_sched_setaffinity, 0, sizeof(mask), &mask))
        printf("bench: sched_setaffinity failed\n");
}

static void bench_null_syscall(void)
{
    for (int i = -WARMUP; i < ITERS; i++) {
        uint64_t t0 = tsc();
        mica_syscall6(0x1FFF, 0, 0, 0, 0, 0, 0);    /* unknown: returns */
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    report("null_syscall", median(samples, ITERS));
}

static void bench_page_fault(void)
{
    mica_handle_t v, self = mica_process_self();
    uint64_t addr = 0;
    size_t pages = ITERS + WARMUP;
    if (mica_vmo_create(pages * 4096, &v) ||
        mica_vm_map(self, v, 0, pages * 4096, MICA_VM_READ | MICA_VM_WRITE,
                    &addr)) {
        printf("bench: page_fault setup failed\n");
        return;
    }
    volatile char *p = (volatile char *)addr;
    for (int i = -WARMUP; i < ITERS; i++) {
        uint64_t t0 = tsc();
        p[(size_t)(i + WARMUP) * 4096] = 1;         /* first touch */
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    report("page_fault", median(samples, ITERS));
    mica_vm_unmap(self, addr, pages * 4096);
    mica_handle_close(v);
}

/* Two threads on one CPU yielding to each other: a switch each way. */
static volatile int yield_stop;

static void *yielder(void *arg)
{
    (void)arg;
    while (!yield_stop)
        sched_yield();
    return NULL;
}

static void bench_thread_switch(void)
{
    pthread_t t;
    yield_stop = 0;
    pthread_create(&t, NULL, yielder, NULL);
    for (int i = -WARMUP; i < ITERS; i++) {
        uint64_t t0 = tsc();
        sched_yield();                      /* to the other and back */
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    yield_stop = 1;
    pthread_join(t, NULL);
    report("thread_switch_yield_pair", median(samples, ITERS));
}

/* Futex ping-pong: wake the other thread, wait to be woken back. */
static volatile int ping, pong;

static void fwait(volatile int *w, int v)
{
    while (*w == v)
        syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void fwake(volatile int *w)
{
    __atomic_add_fetch(w, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *ponger(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITERS + WARMUP; i++) {
        fwait(&ping, i);
        fwake(&pong);
    }
    return NULL;
}

static void bench_futex(void)
{
    pthread_t t;
    ping = pong = 0;
    pthread_create(&t, NULL, ponger, NULL);
    for (int i = -WARMUP; i < ITERS; i++) {
        int seen = pong;
        uint64_t t0 = tsc();
        fwake(&ping);
        fwait(&pong, seen);
        uint64_t t1 = tsc();
        if (i >= 0)
            samples[i] = t1 - t0;
    }
    pthread_join(t, NULL);
    report("futex_round_trip", median(samples, ITERS));
}

int bench_run(const char *sel)
{
    (void)sel;
    pin_cpu0();
    measure_overhead();
    printf("bench rdtsc_overhead instructions=%llu\n",
           (unsigned long long)overhead);
    bench_null_syscall();
    bench_page_fault();
    bench_thread_switch();
    bench_futex();
    fflush(stdout);
    return 0;
}
