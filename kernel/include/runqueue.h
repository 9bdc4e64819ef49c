/*
 * runqueue.h - a priority run queue with O(1) pick.
 *
 * 32 priorities (0 lowest, 31 highest), one FIFO list per priority and
 * a 32-bit bitmap of the non-empty lists, so the highest ready priority
 * is one bit scan away.  Round robin within a priority falls out of
 * push_back after a time slice and pop from the front.  The queue does
 * no locking: the scheduler holds its CPU's lock around every call.
 */
#ifndef MICA_RUNQUEUE_H
#define MICA_RUNQUEUE_H

#include "types.h"

#define PRIO_COUNT   32
#define PRIO_MIN     0
#define PRIO_DEFAULT 16
#define PRIO_MAX     31

struct rq_node {
    struct rq_node *next, *prev;
    uint8_t prio;               /* the list it is on */
    bool queued;
};

struct runqueue {
    struct rq_node head[PRIO_COUNT];    /* circular list sentinels */
    uint32_t bitmap;                    /* bit p: list p non-empty */
    unsigned count;
};

void rq_init(struct runqueue *q);
void rq_push_back(struct runqueue *q, struct rq_node *n, unsigned prio);
void rq_push_front(struct runqueue *q, struct rq_node *n, unsigned prio);
void rq_remove(struct runqueue *q, struct rq_node *n);

/* Highest non-empty priority, or -1 when empty. */
static inline int rq_top_prio(const struct runqueue *q)
{
    return q->bitmap ? 31 - __builtin_clz(q->bitmap) : -1;
}

/* Remove and return the first node of the highest priority, or NULL. */
struct rq_node *rq_pop(struct runqueue *q);

/* The node that would be popped, without removing it. */
struct rq_node *rq_peek(const struct runqueue *q);

/* For work stealing: the last node (the one that would run last) of the
 * highest priority p for which accept(node, ctx) agrees, or NULL. */
struct rq_node *rq_find_steal(const struct runqueue *q,
                              bool (*accept)(struct rq_node *, void *),
                              void *ctx);

#endif
