/*
 * test_sched.c - in-system tests of scheduling seen from user space:
 * priorities, fairness within a priority, CPU affinity, and killing a
 * thread blocked in a futex.
 *
 * The threads here are native threads running plain C functions on
 * stacks given by the test (no libc inside them): they spin, counting,
 * on one chosen CPU.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mica.h"
#include "utest.h"

#define STACK 16384

static volatile uint64_t counters[4];
static volatile int stop_all;

static void spinner(uint64_t slot)
{
    while (!stop_all)
        counters[slot]++;
    mica_thread_exit();
}

static mica_handle_t start(void (*fn)(uint64_t), uint64_t arg, unsigned prio,
                           int cpu)
{
    mica_handle_t t;
    char *stack = aligned_alloc(16, STACK);
    if (!stack || mica_thread_create(mica_process_self(), "spin", 4, &t))
        return 0;
    if (mica_thread_set_priority(t, prio) ||
        mica_thread_set_affinity(t, 1ull << cpu) ||
        mica_thread_start(t, (uint64_t)fn, (uint64_t)(stack + STACK - 8), arg,
                          0)) {
        mica_handle_close(t);
        return 0;
    }
    return t;
}

static void sleep_ms(uint64_t ms)
{
    uint64_t now;
    mica_clock_get(&now);
    mica_nanosleep(now + ms * 1000000);
}

/* Wait until counters[slot] grows by at least `by`, for up to `ms`. */
static int wait_progress(int slot, uint64_t by, uint64_t ms)
{
    uint64_t start = counters[slot], now, end;
    mica_clock_get(&now);
    for (end = now + ms * 1000000; now < end; mica_clock_get(&now)) {
        if (counters[slot] - start >= by)
            return 1;
        sleep_ms(1);
    }
    return counters[slot] - start >= by;
}

static void finish(mica_handle_t *t, int n)
{
    stop_all = 1;
    for (int i = 0; i < n; i++) {
        if (!t[i])
            continue;
        mica_object_wait_one(t[i], SIGNAL_TERMINATED, 0, NULL);
        mica_handle_close(t[i]);
    }
    stop_all = 0;
}

static int last_cpu(void)
{
    struct mica_system_info si;
    mica_system_info(&si);
    return (int)si.cpus_online - 1;
}

UTEST(sched_higher_priority_always_first)
{
    int cpu = last_cpu();
    mica_handle_t t[2] = { 0, 0 };
    counters[0] = counters[1] = 0;
    t[0] = start(spinner, 0, 8, cpu);                 /* low */
    UASSERT(t[0] != 0);
    UEXPECT(wait_progress(0, 1, 5000));
    t[1] = start(spinner, 1, 12, cpu);                /* high, same CPU */
    UASSERT(t[1] != 0);
    /* once high has run, low must not run again while high spins; the
     * checks count progress, not time, so a slow host cannot fool them */
    UASSERT(wait_progress(1, 1, 5000));
    uint64_t lo = counters[0];
    UEXPECT(wait_progress(1, 1000000, 10000));      /* high runs on */
    UEXPECT(counters[0] == lo);                       /* low never does */
    mica_thread_kill(t[1]);
    mica_object_wait_one(t[1], SIGNAL_TERMINATED, 0, NULL);
    UEXPECT(wait_progress(0, 1000, 5000));            /* low runs again */
    finish(t, 2);
}

/* Equal priorities share a CPU: after several slices each, no spinner
 * has done more than four times the work of another. */
UTEST(sched_fair_within_a_priority)
{
    int cpu = last_cpu();
    mica_handle_t t[3] = { 0, 0, 0 };
    for (int i = 0; i < 3; i++) {
        counters[i] = 0;
        t[i] = start(spinner, (uint64_t)i, 10, cpu);
        UASSERT(t[i] != 0);
    }
    /* at least 300 ms, and until each has had its turns */
    sleep_ms(300);
    for (int i = 0; i < 3; i++)
        UEXPECT(wait_progress(i, 1, 10000));
    sleep_ms(100);
    uint64_t c[3] = { counters[0], counters[1], counters[2] };
    finish(t, 3);
    uint64_t lo = c[0], hi = c[0];
    for (int i = 1; i < 3; i++) {
        lo = c[i] < lo ? c[i] : lo;
        hi = c[i] > hi ? c[i] : hi;
    }
    UEXPECT(lo > 0 && hi < 4 * lo);
}

UTEST(sched_affinity_errors_and_moves)
{
    mica_handle_t t;
    UASSERT(mica_thread_create(mica_process_self(), "a", 1, &t) == OK);
    UEXPECT(mica_thread_set_affinity(t, 0) == ERR_INVALID_ARGS);
    UEXPECT(mica_thread_set_affinity(t, 1ull << 63) == ERR_INVALID_ARGS);
    UEXPECT(mica_thread_set_affinity(mica_process_self(), 1) ==
            ERR_WRONG_TYPE);
    mica_handle_t weak;
    UASSERT(mica_handle_duplicate(t, RIGHT_READ, &weak) == OK);
    UEXPECT(mica_thread_set_affinity(weak, 1) == ERR_ACCESS_DENIED);
    mica_handle_close(weak);
    mica_handle_close(t);
}

static void futex_waiter(uint64_t word)
{
    volatile uint32_t *w = (volatile uint32_t *)word;
    w[1] = 1;
    /* futex(FUTEX_WAIT, 0): blocks until woken or killed */
    mica_syscall6(202, (long)w, 0, 0, 0, 0, 0);
    w[1] = 2;                                   /* never reached */
    mica_thread_exit();
}

UTEST(sched_kill_while_in_futex)
{
    static volatile uint32_t word[2];
    word[0] = 0;
    word[1] = 0;
    mica_handle_t t = start(futex_waiter, (uint64_t)word, 16, last_cpu());
    UASSERT(t != 0);
    while (word[1] == 0)
        mica_thread_yield();
    sleep_ms(5);
    UEXPECT(mica_thread_kill(t) == OK);
    uint64_t now;
    mica_clock_get(&now);
    UEXPECT(mica_object_wait_one(t, SIGNAL_TERMINATED, now + 2000000000ull,
                                 NULL) == OK);
    UEXPECT(word[1] == 1);
    mica_handle_close(t);
}
