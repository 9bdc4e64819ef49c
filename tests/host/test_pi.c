/*
 * test_pi.c - host tests of priority inheritance (kernel/core/pi.c):
 * what calls and PI futex waiters lend, recomputation from the lenders
 * that remain, the chain walk and its bounds.
 *
 * Threads and calls are bare structures wired by hand the way channel.c
 * and futex.c wire them; the scheduler is a stub that records the
 * effective priorities it is given.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ipc.h"
#include "pi.h"
#include "sched.h"

spinlock_t ipc_lock = SPINLOCK_INIT;
spinlock_t sched_lock = SPINLOCK_INIT;

static int prio_changes;
static struct thread *woken[8];
static int nwoken;

void sched_set_prio_locked(struct thread *t, unsigned prio)
{
    if (t->prio != prio)
        prio_changes++;
    t->prio = (uint8_t)prio;
}

void sched_wakeup_locked(struct thread *t, int result)
{
    (void)result;
    if (nwoken < 8)
        woken[nwoken++] = t;
}

#define NT 24
static struct thread th[NT];
static struct call calls[NT];
static struct serve_point sps[4];

static int setup(void **state)
{
    (void)state;
    memset(th, 0, sizeof(th));
    memset(calls, 0, sizeof(calls));
    memset(sps, 0, sizeof(sps));
    for (int i = 0; i < NT; i++)
        th[i].base_prio = th[i].prio = 4;
    prio_changes = nwoken = 0;
    return 0;
}

/* Thread `caller` blocks in call i, which waits queued at sp. */
static struct call *queue_call(int i, int caller, struct serve_point *sp)
{
    struct call *c = &calls[i];
    c->t = &th[caller];
    pi_call_begin_locked(c);
    pi_queue_locked(c, sp);
    return c;
}

/* ... and `server` receives it: it is served at sp. */
static void serve_call(struct call *c, int server)
{
    struct serve_point *sp = c->sp;
    pi_unqueue_locked(c);
    c->prev = NULL;
    c->next = sp->serving;
    if (sp->serving)
        sp->serving->prev = c;
    sp->serving = c;
    pi_hold_locked(c, &th[server]);
}

static struct call *call_served(int i, int caller, int server,
                                struct serve_point *sp)
{
    struct call *c = queue_call(i, caller, sp);
    serve_call(c, server);
    return c;
}

static void answer(struct call *c)
{
    struct serve_point *sp = c->sp;
    if (c->prev)
        c->prev->next = c->next;
    else
        sp->serving = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pi_unhold_locked(c);
    pi_call_end_locked(c);
}

static void test_prio_set(void **state)
{
    (void)state;
    struct prio_set s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(prio_set_top(&s), -1);
    prio_set_add(&s, 7);
    prio_set_add(&s, 12);
    prio_set_add(&s, 12);
    assert_int_equal(prio_set_top(&s), 12);
    prio_set_remove(&s, 12);
    assert_int_equal(prio_set_top(&s), 12);
    prio_set_remove(&s, 12);
    assert_int_equal(prio_set_top(&s), 7);
    prio_set_remove(&s, 7);
    assert_int_equal(s.bits, 0);
}

/* Serving callers at 13 and 10: 13, then 10, then the base. */
static void test_drops_to_the_next_caller(void **state)
{
    (void)state;
    th[1].prio = 10;
    th[2].prio = 13;
    struct call *a = call_served(0, 1, 0, &sps[0]);
    assert_int_equal(th[0].prio, 10);
    struct call *b = call_served(1, 2, 0, &sps[0]);
    assert_int_equal(th[0].prio, 13);
    answer(b);
    assert_int_equal(th[0].prio, 10);
    answer(a);
    assert_int_equal(th[0].prio, 4);
    assert_null(th[0].pi_held);
}

/* Equal priorities: nothing to lend, nothing recomputed. */
static void test_same_priority_costs_no_walk(void **state)
{
    (void)state;
    struct call *c = call_served(0, 1, 0, &sps[0]);
    answer(c);
    assert_int_equal(prio_changes, 0);
    assert_int_equal(th[0].prio, 4);
}

/* A queued call raises the threads serving its serve point, and stops
 * when withdrawn. */
static void test_queued_call_raises_servers(void **state)
{
    (void)state;
    th[1].prio = 6;
    th[3].prio = 12;
    struct call *a = call_served(0, 1, 0, &sps[0]);
    struct call *b = call_served(1, 1, 2, &sps[0]);
    struct call *q = queue_call(2, 3, &sps[0]);
    assert_int_equal(th[0].prio, 12);
    assert_int_equal(th[2].prio, 12);
    pi_unqueue_locked(q);               /* withdrawn */
    pi_call_end_locked(q);
    assert_int_equal(th[0].prio, 6);
    assert_int_equal(th[2].prio, 6);
    answer(a);
    answer(b);
    assert_int_equal(th[0].prio, 4);
    assert_int_equal(th[2].prio, 4);
    assert_int_equal(sps[0].queued.bits, 0);
}

/* Client 1 -> A (0) -> B (2); the client's base rises and falls. */
static void test_chain_follows_the_head(void **state)
{
    (void)state;
    struct call *ca = call_served(0, 1, 0, &sps[0]);
    struct call *ab = call_served(1, 0, 2, &sps[1]);
    pi_set_base(&th[1], 14);
    assert_int_equal(th[0].prio, 14);
    assert_int_equal(th[2].prio, 14);
    pi_set_base(&th[1], 9);
    assert_int_equal(th[0].prio, 9);
    assert_int_equal(th[2].prio, 9);
    answer(ab);
    assert_int_equal(th[2].prio, 4);
    assert_int_equal(th[0].prio, 9);
    answer(ca);
    assert_int_equal(th[0].prio, 4);
}

/* A low call is with B behind A; a high call queues at A's port: the
 * loan goes from the queue to A and along A's call to B. */
static void test_chain_through_a_queue(void **state)
{
    (void)state;
    th[1].prio = 6;
    struct call *lo = call_served(0, 1, 0, &sps[0]);
    struct call *ab = call_served(1, 0, 2, &sps[1]);
    assert_int_equal(th[2].prio, 6);
    th[3].prio = 12;
    struct call *hi = queue_call(2, 3, &sps[0]);
    assert_int_equal(th[0].prio, 12);
    assert_int_equal(th[2].prio, 12);
    /* the queued caller's own priority changes: so do the servers */
    pi_set_base(&th[3], 13);
    assert_int_equal(hi->q_prio, 13);
    assert_int_equal(th[2].prio, 13);
    answer(ab);
    assert_int_equal(th[2].prio, 4);
    assert_int_equal(th[0].prio, 13);   /* serving lo, queue behind */
    answer(lo);
    assert_int_equal(th[0].prio, 4);    /* serving nothing: not lent */
    serve_call(hi, 0);
    assert_int_equal(th[0].prio, 13);
    answer(hi);
    assert_int_equal(th[0].prio, 4);
    assert_int_equal(th[2].prio, 4);
}

/* A PI futex waiter raises the owner, and through the owner's call the
 * server it waits for. */
static void test_futex_waiter_chain(void **state)
{
    (void)state;
    struct pi_waiter w = { .t = &th[1] };
    struct call *c = call_served(0, 0, 2, &sps[0]);
    th[1].prio = 11;
    pi_wait_begin_locked(&w, &th[0]);
    assert_int_equal(th[0].prio, 11);
    assert_int_equal(th[2].prio, 11);
    assert_true(pi_would_deadlock_locked(&th[0], &th[2]));
    assert_false(pi_would_deadlock_locked(&th[0], &th[3]));
    pi_wait_move_locked(&w, &th[3]);    /* the lock changes hands */
    pi_refresh_locked(&th[0]);
    pi_refresh_locked(&th[3]);
    assert_int_equal(th[0].prio, 4);
    assert_int_equal(th[2].prio, 4);
    assert_int_equal(th[3].prio, 11);
    pi_wait_end_locked(&w);
    assert_int_equal(th[3].prio, 4);
    assert_null(th[1].pi_wait);
    answer(c);
}

/* Each thread serves the next one's call: a cycle.  The walk ends. */
static void test_cycle_is_bounded(void **state)
{
    (void)state;
    struct call *ab = call_served(0, 0, 1, &sps[0]);
    struct call *ba = call_served(1, 1, 0, &sps[1]);
    pi_set_base(&th[0], 9);
    assert_int_equal(th[0].prio, 9);
    assert_int_equal(th[1].prio, 9);
    assert_true(prio_changes <= PI_BUDGET);
    /* th[1] still lends 9 to th[0] through the cycle: a deadlock keeps
     * its loans until a call in it ends */
    pi_set_base(&th[0], 4);
    assert_int_equal(th[0].prio, 9);
    answer(ba);
    assert_int_equal(th[0].prio, 4);
    assert_int_equal(th[1].prio, 4);
    answer(ab);
}

/* A chain longer than PI_DEPTH: the walk stops there; the rest is set
 * right when its own lenders next change. */
static void test_depth_is_bounded(void **state)
{
    (void)state;
    struct call *c[NT - 1];
    for (int i = 0; i < NT - 1; i++)
        c[i] = call_served(i, i, i + 1, &sps[i % 2]);
    pi_set_base(&th[0], 20);
    assert_int_equal(th[PI_DEPTH].prio, 20);            /* 16 hops on */
    assert_int_equal(th[PI_DEPTH + 1].prio, 4);
    for (int i = NT - 2; i >= 0; i--)
        answer(c[i]);
    for (int i = 1; i < NT; i++)
        assert_int_equal(th[i].prio, 4);
}

/* An exiting thread lets its calls go and wakes its futex waiters. */
static void test_thread_exit(void **state)
{
    (void)state;
    th[1].prio = 12;
    struct call *c = call_served(0, 1, 0, &sps[0]);
    struct pi_waiter w = { .t = &th[2] };
    th[2].prio = 13;
    pi_wait_begin_locked(&w, &th[0]);
    assert_int_equal(th[0].prio, 13);
    pi_thread_exit(&th[0]);
    assert_true(th[0].pi_exited);
    assert_int_equal(th[0].prio, 4);
    assert_null(c->holder);
    assert_null(w.owner);
    assert_int_equal(nwoken, 1);
    assert_ptr_equal(woken[0], &th[2]);
    answer(c);                          /* answered later: nothing held */
    pi_wait_end_locked(&w);
    assert_null(th[2].pi_wait);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_prio_set, setup),
        cmocka_unit_test_setup(test_drops_to_the_next_caller, setup),
        cmocka_unit_test_setup(test_same_priority_costs_no_walk, setup),
        cmocka_unit_test_setup(test_queued_call_raises_servers, setup),
        cmocka_unit_test_setup(test_chain_follows_the_head, setup),
        cmocka_unit_test_setup(test_chain_through_a_queue, setup),
        cmocka_unit_test_setup(test_futex_waiter_chain, setup),
        cmocka_unit_test_setup(test_cycle_is_bounded, setup),
        cmocka_unit_test_setup(test_depth_is_bounded, setup),
        cmocka_unit_test_setup(test_thread_exit, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
