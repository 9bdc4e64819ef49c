/*
 * runqueue.c - the priority lists and bitmap of runqueue.h.
 *
 * Invariant: bit p of the bitmap is set exactly when list p is not
 * empty, and `count` is the number of queued nodes.  A node knows whether
 * it is queued, so removing an unqueued node is caught.
 */
#include "panic.h"
#include "runqueue.h"

void rq_init(struct runqueue *q)
{
    for (unsigned p = 0; p < PRIO_COUNT; p++)
        q->head[p].next = q->head[p].prev = &q->head[p];
    q->bitmap = 0;
    q->count = 0;
}

static void link_between(struct rq_node *n, struct rq_node *prev,
                         struct rq_node *next)
{
    n->prev = prev;
    n->next = next;
    prev->next = n;
    next->prev = n;
}

static void enqueue(struct runqueue *q, struct rq_node *n, unsigned prio,
                    bool back)
{
    KASSERT(prio < PRIO_COUNT && !n->queued);
    struct rq_node *h = &q->head[prio];
    if (back)
        link_between(n, h->prev, h);
    else
        link_between(n, h, h->next);
    n->prio = (uint8_t)prio;
    n->queued = true;
    q->bitmap |= 1u << prio;
    q->count++;
}

void rq_push_back(struct runqueue *q, struct rq_node *n, unsigned prio)
{
    enqueue(q, n, prio, true);
}

void rq_push_front(struct runqueue *q, struct rq_node *n, unsigned prio)
{
    enqueue(q, n, prio, false);
}

void rq_remove(struct runqueue *q, struct rq_node *n)
{
    KASSERT(n->queued);
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = NULL;
    n->queued = false;
    struct rq_node *h = &q->head[n->prio];
    if (h->next == h)
        q->bitmap &= ~(1u << n->prio);
    q->count--;
}

struct rq_node *rq_peek(const struct runqueue *q)
{
    int p = rq_top_prio(q);
    return p < 0 ? NULL : q->head[p].next;
}

struct rq_node *rq_pop(struct runqueue *q)
{
    struct rq_node *n = rq_peek(q);
    if (n)
        rq_remove(q, n);
    return n;
}

struct rq_node *rq_find_steal(const struct runqueue *q,
                              bool (*accept)(struct rq_node *, void *),
                              void *ctx)
{
    for (int p = rq_top_prio(q); p >= 0; p--) {
        const struct rq_node *h = &q->head[p];
        for (struct rq_node *n = h->prev; n != h; n = n->prev)
            if (accept(n, ctx))
                return n;
    }
    return NULL;
}
