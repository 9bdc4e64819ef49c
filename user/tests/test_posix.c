/*
 * test_posix.c - musl's own code on Mica: stdio, malloc, and pthreads
 * (clone, futexes, thread exit with the child-tid wake) on every CPU,
 * and pinning threads to a CPU with sched_setaffinity.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mica.h"
#include "utest.h"

UTEST(musl_printf_and_malloc)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%s %d %5.2f", "mica", 42, 3.14159);
    UEXPECT(n == 13 && strcmp(buf, "mica 42  3.14") == 0);
    char *p = malloc(100000);
    UASSERT(p != NULL);
    memset(p, 7, 100000);
    UEXPECT(p[99999] == 7);
    free(p);
    UEXPECT(printf("    # printf reaches the log\n") > 0);
}

UTEST(musl_clock_and_sleep)
{
    struct timespec a, b, d = { 0, 20000000 };
    UEXPECT(clock_gettime(CLOCK_MONOTONIC, &a) == 0);
    UEXPECT(nanosleep(&d, NULL) == 0);
    UEXPECT(clock_gettime(CLOCK_MONOTONIC, &b) == 0);
    long ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
    UEXPECT(ns >= 20000000 && ns < 2000000000L);
    UEXPECT(getpid() > 0);
}

#define NTHREADS 8
#define ROUNDS 2000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static long counter;
static int turn;

static void *worker(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    /* then take turns in id order through a condition variable */
    pthread_mutex_lock(&lock);
    while (turn != id)
        pthread_cond_wait(&turn_cv, &lock);
    turn++;
    pthread_cond_broadcast(&turn_cv);
    pthread_mutex_unlock(&lock);
    return (void *)(id * 10);
}

UTEST(pthreads_mutex_condvar_join)
{
    pthread_t t[NTHREADS];
    counter = 0;
    turn = 0;
    for (long i = 0; i < NTHREADS; i++)
        UASSERT(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (long i = 0; i < NTHREADS; i++) {
        void *ret = NULL;
        UEXPECT(pthread_join(t[i], &ret) == 0);
        UEXPECT((long)ret == i * 10);
    }
    UEXPECT(counter == (long)NTHREADS * ROUNDS);
    UEXPECT(turn == NTHREADS);
}

static volatile int stop;
static long wakes[4];

static void *waker(void *arg)
{
    long id = (long)arg;
    while (!stop) {
        pthread_mutex_lock(&lock);
        wakes[id]++;
        pthread_cond_signal(&turn_cv);
        pthread_mutex_unlock(&lock);
        sched_yield();          /* on one CPU, let the waiter in */
    }
    return NULL;
}

UTEST(pthreads_futex_stress)
{
    pthread_t t[4];
    stop = 0;
    for (long i = 0; i < 4; i++)
        UASSERT(pthread_create(&t[i], NULL, waker, (void *)i) == 0);
    long got = 0;
    pthread_mutex_lock(&lock);
    while (got < 500) {
        pthread_cond_wait(&turn_cv, &lock);     /* never lost: someone signals again */
        got++;
    }
    pthread_mutex_unlock(&lock);
    stop = 1;
    for (int i = 0; i < 4; i++)
        UEXPECT(pthread_join(t[i], NULL) == 0);
    UEXPECT(got == 500);
}

/* sched_setaffinity pins the caller, and a thread it creates afterwards
 * inherits the mask.  Pinned to one CPU, the other thread cannot run
 * while the main thread spins, and each yield runs it for exactly one
 * turn of its loop; on another CPU it would count on during the spin. */
static volatile int yield_stop;
static volatile long yield_turns;

static void *turn_counter(void *arg)
{
    (void)arg;
    while (!yield_stop) {
        yield_turns++;
        sched_yield();
    }
    return NULL;
}

static long set_affinity(uint64_t mask)
{
    return syscall(SYS_sched_setaffinity, 0, sizeof(mask), &mask);
}

UTEST(sched_setaffinity_pins_threads)
{
    pthread_t t;
    UASSERT(set_affinity(1) == 0);                  /* CPU 0 */
    yield_stop = 0;
    yield_turns = 0;
    UASSERT(pthread_create(&t, NULL, turn_counter, NULL) == 0);
    while (yield_turns == 0)
        sched_yield();
    int alone = 0;
    for (int i = 0; i < 100; i++) {
        long before = yield_turns;
        for (volatile int j = 0; j < 10000; j++)
            ;
        long mid = yield_turns;
        sched_yield();
        if (mid == before && yield_turns - mid == 1)
            alone++;
    }
    yield_stop = 1;
    UEXPECT(pthread_join(t, NULL) == 0);
    UEXPECT(alone >= 90);
    UEXPECT(set_affinity(~0ull) == 0);
}

/* A futex word seen at two addresses (one vmo mapped twice): shared
 * futexes meet by (memory object, offset), private ones by address. */
static volatile uint32_t *word_a, *word_b;
static volatile int shared_woken;

static void *shared_waiter(void *arg)
{
    long r = syscall(SYS_futex, word_a, 0 /* FUTEX_WAIT, shared */, 0, NULL,
                     NULL, 0);
    shared_woken = r == 0 ? 1 : -1;
    (void)arg;
    return NULL;
}

UTEST(futex_shared_by_memory_not_address)
{
    mica_handle_t v, self = mica_process_self();
    uint64_t a = 0, b = 0;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UASSERT(mica_vm_map(self, v, 0, 4096, MICA_VM_READ | MICA_VM_WRITE,
                        &a) == OK);
    UASSERT(mica_vm_map(self, v, 0, 4096, MICA_VM_READ | MICA_VM_WRITE,
                        &b) == OK);
    UASSERT(a != b);
    word_a = (volatile uint32_t *)a;
    word_b = (volatile uint32_t *)b;
    *word_a = 0;
    shared_woken = 0;
    pthread_t t;
    UASSERT(pthread_create(&t, NULL, shared_waiter, NULL) == 0);
    struct timespec d = { 0, 20000000 };
    nanosleep(&d, NULL);                        /* it is waiting now */
    /* a private wake at the other address reaches nobody */
    UEXPECT(syscall(SYS_futex, word_b, 1 | 128, 1, NULL, NULL, 0) == 0);
    UEXPECT(shared_woken == 0);
    /* a shared wake at the other address wakes it */
    long woken = 0;
    for (int i = 0; i < 100 && woken == 0; i++) {
        woken = syscall(SYS_futex, word_b, 1 /* FUTEX_WAKE, shared */, 1,
                        NULL, NULL, 0);
        if (!woken)
            nanosleep(&d, NULL);
    }
    UEXPECT(woken == 1);
    UEXPECT(pthread_join(t, NULL) == 0);
    UEXPECT(shared_woken == 1);
    mica_vm_unmap(self, a, 4096);
    mica_vm_unmap(self, b, 4096);
    mica_handle_close(v);
}
