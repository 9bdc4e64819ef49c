/*
 * channel_gc.c - collecting endpoints that only sit in each other's
 * queues.
 *
 * Endpoint A1 queued inside B1's queue, B1 inside A1's, every other
 * handle of both closed: nobody can ever read A1 or B1, yet each keeps
 * the other alive.  Reference counts cannot see this; a small tracing
 * pass can, the way Unix-socket collectors do:
 *
 *   1. Candidates are the endpoints all of whose handles are inside
 *      queued messages (obj.handles == inflight).  Every endpoint with a
 *      handle in flight is on one list, so nothing else is looked at.
 *   2. For each candidate, count the handles to it held in candidates'
 *      queues; a candidate with more handles than that is reachable from
 *      outside (a table, or the queue of an endpoint someone holds).
 *   3. Everything in the queue of a reachable candidate is reachable too;
 *      follow that to a fixed point.
 *   4. The rest is garbage: its queues are taken out and destroyed,
 *      which closes the handles inside and lets the endpoints close the
 *      ordinary way.
 *
 * A handle in the middle of a transfer counts in obj.handles but not in
 * `inflight`, so its endpoint is never a candidate: the pass is
 * conservative.  It runs, under ipc_lock, when an endpoint closes and
 * some endpoint is in flight at all.
 */
#include "channel.h"
#include "lib.h"
#include "mica/errors.h"

static struct channel *inflight_head;

static struct channel *as_channel(struct object *o)
{
    return o->type == OBJ_CHANNEL ? container_of(o, struct channel, obj)
                                  : NULL;
}

static void inflight_add(struct channel *c, int delta)
{
    if (delta > 0 && c->inflight++ == 0) {
        c->inflight_prev = NULL;
        c->inflight_next = inflight_head;
        if (inflight_head)
            inflight_head->inflight_prev = c;
        inflight_head = c;
    } else if (delta < 0 && --c->inflight == 0) {
        if (c->inflight_prev)
            c->inflight_prev->inflight_next = c->inflight_next;
        else
            inflight_head = c->inflight_next;
        if (c->inflight_next)
            c->inflight_next->inflight_prev = c->inflight_prev;
        c->inflight_next = c->inflight_prev = NULL;
    }
}

void channel_gc_inflight_locked(struct msg *m, int delta)
{
    for (uint32_t i = 0; i < m->nhandles; i++) {
        struct channel *c = as_channel(m->objs[i]);
        if (c)
            inflight_add(c, delta);
    }
}

bool channel_gc_pending(void)
{
    return inflight_head != NULL;
}

/* Apply fn to every endpoint carried by messages queued at x. */
static void each_carried(struct channel *x, void (*fn)(struct channel *,
                                                       struct channel **),
                         struct channel **work)
{
    for (struct msg *m = x->head; m; m = m->next)
        for (uint32_t i = 0; i < m->nhandles; i++) {
            struct channel *y = as_channel(m->objs[i]);
            if (y)
                fn(y, work);
        }
}

static void uncount(struct channel *y, struct channel **work)
{
    (void)work;
    if (y->gc_cand)
        y->gc_refs--;
}

static void make_live(struct channel *y, struct channel **work)
{
    if (y->gc_cand && !y->gc_live) {
        y->gc_live = true;
        y->gc_next = *work;
        *work = y;
    }
}

struct msg *channel_gc_locked(void)
{
    struct channel *work = NULL;
    for (struct channel *c = inflight_head; c; c = c->inflight_next) {
        c->gc_refs = __atomic_load_n(&c->obj.handles, __ATOMIC_ACQUIRE);
        c->gc_cand = c->gc_refs == c->inflight;
        c->gc_live = false;
    }
    for (struct channel *c = inflight_head; c; c = c->inflight_next)
        if (c->gc_cand)
            each_carried(c, uncount, NULL);
    for (struct channel *c = inflight_head; c; c = c->inflight_next)
        if (c->gc_cand && c->gc_refs > 0)
            make_live(c, &work);
    while (work) {
        struct channel *x = work;
        work = x->gc_next;
        each_carried(x, make_live, &work);
    }
    struct msg *dead = NULL, **tail = &dead;
    for (struct channel *c = inflight_head; c; c = c->inflight_next) {
        if (!c->gc_cand || c->gc_live || !c->head)
            continue;
        *tail = channel_purge_locked(c, ERR_PEER_CLOSED);
        while (*tail)
            tail = &(*tail)->next;
    }
    return dead;
}
