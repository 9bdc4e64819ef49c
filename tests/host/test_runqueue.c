/*
 * test_runqueue.c - host tests of the priority run queue.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "runqueue.h"

static void test_empty(void **state)
{
    (void)state;
    struct runqueue q;
    rq_init(&q);
    assert_int_equal(rq_top_prio(&q), -1);
    assert_null(rq_pop(&q));
    assert_null(rq_peek(&q));
}

static void test_priority_then_fifo(void **state)
{
    (void)state;
    struct runqueue q;
    struct rq_node n[6] = { 0 };
    rq_init(&q);
    rq_push_back(&q, &n[0], 5);
    rq_push_back(&q, &n[1], 20);
    rq_push_back(&q, &n[2], 5);
    rq_push_back(&q, &n[3], 20);
    rq_push_front(&q, &n[4], 5);
    rq_push_back(&q, &n[5], 0);
    assert_int_equal(q.count, 6);
    assert_int_equal(rq_top_prio(&q), 20);
    struct rq_node *want[] = { &n[1], &n[3], &n[4], &n[0], &n[2], &n[5] };
    for (int i = 0; i < 6; i++)
        assert_ptr_equal(rq_pop(&q), want[i]);
    assert_int_equal(q.bitmap, 0);
    assert_int_equal(q.count, 0);
}

static void test_remove_clears_bitmap(void **state)
{
    (void)state;
    struct runqueue q;
    struct rq_node a = { 0 }, b = { 0 };
    rq_init(&q);
    rq_push_back(&q, &a, 31);
    rq_push_back(&q, &b, 31);
    rq_remove(&q, &a);
    assert_int_equal(rq_top_prio(&q), 31);
    rq_remove(&q, &b);
    assert_int_equal(rq_top_prio(&q), -1);
    expect_assert_failure(rq_remove(&q, &b));       /* not queued */
    rq_push_back(&q, &a, 3);
    expect_assert_failure(rq_push_back(&q, &a, 4)); /* already queued */
    expect_assert_failure(rq_push_back(&q, &b, 32));/* no such priority */
}

static bool odd_only(struct rq_node *n, void *ctx)
{
    struct rq_node *base = ctx;
    return (n - base) % 2 == 1;
}

static void test_steal_takes_last_acceptable(void **state)
{
    (void)state;
    struct runqueue q;
    struct rq_node n[5] = { 0 };
    rq_init(&q);
    for (int i = 0; i < 4; i++)
        rq_push_back(&q, &n[i], 10);
    rq_push_back(&q, &n[4], 12);                    /* even: refused */
    assert_ptr_equal(rq_find_steal(&q, odd_only, n), &n[3]);
    rq_remove(&q, &n[3]);
    assert_ptr_equal(rq_find_steal(&q, odd_only, n), &n[1]);
    rq_remove(&q, &n[1]);
    assert_null(rq_find_steal(&q, odd_only, n));
}

static void test_random_against_model(void **state)
{
    (void)state;
    enum { N = 64 };
    struct runqueue q;
    struct rq_node n[N] = { 0 };
    unsigned seq[N] = { 0 }, counter = 0;
    rq_init(&q);
    srand(7);
    for (int step = 0; step < 20000; step++) {
        int i = rand() % N;
        if (!n[i].queued) {
            rq_push_back(&q, &n[i], (unsigned)(rand() % PRIO_COUNT));
            seq[i] = ++counter;
        } else if (rand() % 2) {
            rq_remove(&q, &n[i]);
        } else {
            /* the model: highest priority, then earliest enqueued */
            int best = -1;
            for (int k = 0; k < N; k++)
                if (n[k].queued && (best < 0 || n[k].prio > n[best].prio ||
                    (n[k].prio == n[best].prio && seq[k] < seq[best])))
                    best = k;
            assert_ptr_equal(rq_pop(&q), &n[best]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_priority_then_fifo),
        cmocka_unit_test(test_remove_clears_bitmap),
        cmocka_unit_test(test_steal_takes_last_acceptable),
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
