/*
 * test_threads.c - in-system tests of native threads: handle tables of
 * their own (capabilities at thread granularity), killing threads blocked
 * in the kernel, and waiting on a handle another thread closes.
 *
 * Threads started with mica_thread_start run a plain C function on a
 * stack given here, without musl's thread setup, so they only make
 * system calls and touch memory shared with the test.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mica.h"
#include "utest.h"

#define STACK 16384

struct shared {
    volatile int step;
    volatile int r_process_handle;
    volatile int r_given_handle;
    volatile int r_write;
    mica_handle_t given;
    mica_handle_t foreign;              /* valid in the process's table */
};

static void own_table_thread(uint64_t arg)
{
    struct shared *s = (struct shared *)arg;
    uint64_t size;
    while (s->step == 0)
        mica_thread_yield();
    /* the process's handles mean nothing in this thread's own table */
    s->r_process_handle = mica_vmo_get_size(s->foreign, &size);
    s->r_given_handle = mica_vmo_get_size(s->given, &size);
    s->r_write = mica_vmo_write(s->given, "x", 0, 1);
    s->step = 2;
    mica_thread_exit();
}

static int start_thread(mica_handle_t t, void (*fn)(uint64_t), void *arg)
{
    char *stack = aligned_alloc(16, STACK);
    if (!stack)
        return ERR_NO_MEMORY;
    /* entered like a called function: rsp + 8 aligned to 16 */
    return mica_thread_start(t, (uint64_t)fn, (uint64_t)(stack + STACK - 8),
                             (uint64_t)arg, 0);
}

UTEST(thread_own_handle_table)
{
    static struct shared s;
    memset((void *)&s, 0, sizeof(s));
    mica_handle_t t, v, ro;
    UASSERT(mica_thread_create_flags(mica_process_self(), "own", 3, &t,
                                     MICA_THREAD_OWN_HANDLES) == OK);
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UASSERT(mica_handle_duplicate(v, RIGHT_READ | RIGHT_TRANSFER, &ro) == OK);
    s.foreign = v;
    UEXPECT(mica_handle_transfer(ro, t, RIGHT_READ | RIGHT_WRITE,
                                 &s.given) == ERR_INVALID_ARGS);
    UASSERT(mica_handle_transfer(ro, t, RIGHT_SAME_RIGHTS, &s.given) == OK);
    uint64_t size;
    UEXPECT(mica_vmo_get_size(ro, &size) == ERR_BAD_HANDLE);   /* moved */
    UASSERT(start_thread(t, own_table_thread, (void *)&s) == OK);
    s.step = 1;
    mica_signals_t seen;
    UEXPECT(mica_object_wait_one(t, SIGNAL_TERMINATED, 0, &seen) == OK ||
            s.step == 2);
    while (s.step != 2)
        mica_thread_yield();
    UEXPECT(s.r_process_handle == ERR_BAD_HANDLE);
    UEXPECT(s.r_given_handle == OK);
    UEXPECT(s.r_write == ERR_ACCESS_DENIED);        /* read-only as moved */
    /* without RIGHT_TRANSFER a handle cannot move */
    mica_handle_t nt, out;
    UASSERT(mica_handle_duplicate(v, RIGHT_READ, &nt) == OK);
    UEXPECT(mica_handle_transfer(nt, t, RIGHT_SAME_RIGHTS, &out) ==
            ERR_ACCESS_DENIED);
    mica_handle_close(nt);
    mica_handle_close(v);
    mica_handle_close(t);
}

static void sleeper_thread(uint64_t arg)
{
    volatile int *state = (volatile int *)arg;
    *state = 1;
    mica_nanosleep(~0ull >> 1);                     /* "forever" */
    *state = 2;                                     /* never reached */
    mica_thread_exit();
}

UTEST(thread_kill_while_sleeping)
{
    static volatile int state;
    state = 0;
    mica_handle_t t;
    UASSERT(mica_thread_create(mica_process_self(), "sleepy", 6, &t) == OK);
    UASSERT(start_thread(t, sleeper_thread, (void *)&state) == OK);
    while (state == 0)
        mica_thread_yield();
    uint64_t now;
    mica_clock_get(&now);
    mica_nanosleep(now + 5000000);
    UEXPECT(mica_thread_kill(t) == OK);
    mica_signals_t seen = 0;
    UEXPECT(mica_object_wait_one(t, SIGNAL_TERMINATED, now + 2000000000ull,
                                 &seen) == OK);
    UEXPECT(state == 1);
    mica_handle_close(t);
}

static void waiter_thread(uint64_t arg)
{
    volatile int *r = (volatile int *)arg;
    mica_signals_t seen;
    r[1] = 1;
    r[0] = mica_object_wait_one((mica_handle_t)r[2], SIGNAL_USER0, 0, &seen);
    r[1] = 2;
    mica_thread_exit();
}

UTEST(thread_wait_survives_handle_close)
{
    static volatile int r[3];
    mica_handle_t v, t;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    r[0] = 12345;
    r[1] = 0;
    r[2] = (int)v;
    UASSERT(mica_thread_create(mica_process_self(), "waiter", 6, &t) == OK);
    UASSERT(start_thread(t, waiter_thread, (void *)r) == OK);
    while (r[1] == 0)
        mica_thread_yield();
    uint64_t now;
    mica_clock_get(&now);
    mica_nanosleep(now + 5000000);                  /* it is blocked now */
    UEXPECT(r[1] == 1);
    /* closing the handle ends the wait through it, with ERR_CANCELED */
    UEXPECT(mica_handle_close(v) == OK);
    UEXPECT(mica_object_wait_one(t, SIGNAL_TERMINATED, 0, NULL) == OK);
    UEXPECT(r[1] == 2 && r[0] == ERR_CANCELED);
    mica_handle_close(t);
}
