/*
 * test_sched.c - self-tests of kernel threads, the scheduler, wait
 * queues, sleeping and killing.
 */
#include "clock.h"
#include "ktest.h"
#include "lib.h"
#include "mica/errors.h"
#include "percpu.h"
#include "sched.h"
#include "thread.h"
#include "waitq.h"

static struct thread *spawn(const char *name, void (*fn)(void *), void *arg,
                            unsigned prio, int cpu)
{
    struct thread *t;
    if (thread_create_kernel(name, fn, arg, prio, &t))
        return NULL;
    if (cpu >= 0)
        t->affinity = 1ull << cpu;
    return t;
}

static void start_and_drop(struct thread *t)
{
    thread_start(t);
    object_unref(&t->obj);
}

static void wait_count(volatile int *c, int want, uint64_t ms)
{
    uint64_t end = clock_ns() + ms * 1000000;
    while (__atomic_load_n(c, __ATOMIC_ACQUIRE) < want && clock_ns() < end)
        sched_sleep_until(clock_ns() + 1000000);
}

KTEST(sched_sleep_times_out)
{
    uint64_t t0 = clock_ns(), ticks0 = this_cpu()->ticks;
    KEXPECT(sched_sleep_until(t0 + 20000000) == ERR_TIMED_OUT);
    uint64_t d = clock_ns() - t0;
    KEXPECT(d >= 20000000 && d < 500000000);
    KEXPECT(this_cpu()->ticks > ticks0);            /* the timer fired */
}

static volatile int order[3], order_n;

static void record(void *arg)
{
    order[__atomic_fetch_add(&order_n, 1, __ATOMIC_ACQ_REL)] = (int)(uintptr_t)arg;
}

KTEST(sched_higher_priority_runs_first)
{
    int me = (int)this_cpu()->id;
    order_n = 0;
    struct thread *lo = spawn("lo", record, (void *)1, 4, me);
    struct thread *mid = spawn("mid", record, (void *)2, 10, me);
    struct thread *hi = spawn("hi", record, (void *)3, 20, me);
    KASSERT_T(lo && mid && hi);
    start_and_drop(lo);
    start_and_drop(mid);
    start_and_drop(hi);
    wait_count(&order_n, 3, 1000);
    KEXPECT(order_n == 3);
    KEXPECT(order[0] == 3 && order[1] == 2 && order[2] == 1);
}

static volatile int rr_log[16], rr_n;

static void yielder(void *arg)
{
    for (int i = 0; i < 4; i++) {
        rr_log[__atomic_fetch_add(&rr_n, 1, __ATOMIC_ACQ_REL)] = (int)(uintptr_t)arg;
        sched_yield();
    }
}

KTEST(sched_round_robin_within_priority)
{
    int me = (int)this_cpu()->id;
    rr_n = 0;
    struct thread *a = spawn("rr-a", yielder, (void *)1, 20, me);
    struct thread *b = spawn("rr-b", yielder, (void *)2, 20, me);
    KASSERT_T(a && b);
    start_and_drop(a);
    start_and_drop(b);
    wait_count(&rr_n, 8, 1000);
    KASSERT_T(rr_n == 8);
    for (int i = 1; i < 8; i++)
        KEXPECT(rr_log[i] != rr_log[i - 1]);        /* they alternate */
}

static volatile int ran_on[64], ran_n;

static void note_cpu(void *arg)
{
    sched_sleep_until(clock_ns() + 2000000);
    ran_on[(uintptr_t)arg] = (int)this_cpu()->id + 1;
    __atomic_fetch_add(&ran_n, 1, __ATOMIC_ACQ_REL);
}

KTEST(sched_affinity_on_every_cpu)
{
    ran_n = 0;
    for (unsigned i = 0; i < ncpus; i++) {
        ran_on[i] = 0;
        struct thread *t = spawn("pinned", note_cpu, (void *)(uintptr_t)i,
                                 PRIO_DEFAULT, (int)i);
        KASSERT_T(t != NULL);
        start_and_drop(t);
    }
    wait_count(&ran_n, (int)ncpus, 2000);
    for (unsigned i = 0; i < ncpus; i++)
        KEXPECT(ran_on[i] == (int)i + 1);
}

static struct waitq test_wq = WAITQ_INIT;
static volatile int wq_result, wq_done;

static void waiter(void *arg)
{
    uint64_t deadline = (uintptr_t)arg ? clock_ns() + (uintptr_t)arg : 0;
    wq_result = waitq_wait(&test_wq, NULL, 0, deadline);
    __atomic_store_n(&wq_done, 1, __ATOMIC_RELEASE);
}

static int run_waiter(uint64_t timeout_ns, int action)
{
    wq_done = 0;
    wq_result = 12345;
    struct thread *t = spawn("waiter", waiter, (void *)(uintptr_t)timeout_ns,
                             PRIO_DEFAULT, -1);
    if (!t)
        return 12346;
    thread_start(t);
    while (waitq_count(&test_wq) == 0 && !wq_done)
        sched_sleep_until(clock_ns() + 1000000);
    if (action == 1)
        waitq_wake(&test_wq, 1, 77);
    else if (action == 2)
        thread_kill(t);
    wait_count(&wq_done, 1, 2000);
    object_unref(&t->obj);
    return wq_done ? wq_result : 12347;
}

KTEST(waitq_wake_timeout_and_kill)
{
    KEXPECT(run_waiter(0, 1) == 77);                 /* woken with a result */
    KEXPECT(run_waiter(5000000, 0) == ERR_TIMED_OUT);
    KEXPECT(run_waiter(0, 2) == ERR_CANCELED);       /* killed while blocked */
    KEXPECT(waitq_count(&test_wq) == 0);
}

static volatile int exits;

static void short_lived(void *arg)
{
    (void)arg;
    __atomic_fetch_add(&exits, 1, __ATOMIC_ACQ_REL);
}

KTEST(thread_exit_returns_memory)
{
    exits = 0;
    for (int i = 0; i < 8; i++) {           /* warm caches, any CPU */
        struct thread *t = spawn("warm", short_lived, NULL, PRIO_DEFAULT, -1);
        KASSERT_T(t != NULL);
        start_and_drop(t);
    }
    wait_count(&exits, 8, 2000);
    sched_sleep_until(clock_ns() + 5000000);
    uint64_t live = object_live_count(OBJ_THREAD);
    exits = 0;
    for (int i = 0; i < 200; i++) {         /* on this CPU: quick */
        struct thread *t = spawn("brief", short_lived, NULL, PRIO_DEFAULT,
                                 (int)this_cpu()->id);
        KASSERT_T(t != NULL);
        start_and_drop(t);
    }
    wait_count(&exits, 200, 5000);
    sched_sleep_until(clock_ns() + 5000000);
    KEXPECT(exits == 200);
    KEXPECT(object_live_count(OBJ_THREAD) == live);
}
