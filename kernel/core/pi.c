/*
 * pi.c - priority inheritance through calls and PI futexes.
 *
 * The donors of a thread are found from the thread itself: the calls it
 * serves (thread.pi_held, each with its caller and serve point) and the
 * waiters on futexes it owns (thread.pi_waiters).  pi_compute reads
 * them; nothing is accumulated, so what a donor lent disappears with it.
 * The one stored figure is a queued call's entry in its serve point's
 * set (call.q_prio), kept equal to its caller's effective priority by
 * the walk that changes that priority.
 *
 * The walk (pi_update) recomputes a thread, and when its effective
 * priority changed, passes the change on along what the thread is
 * blocked on: the thread serving its call; every thread serving its
 * call's serve point while the call is queued; the owner of its PI
 * futex.  Depth and total work are bounded (pi.h).  It runs with
 * ipc_lock and sched_lock held and touches no other lock, so it can run
 * from any IPC or futex path.
 *
 * The IPC fast path (same priorities) pays a few list links and two
 * comparisons, inline (ipc.h): holding a call walks (and takes
 * sched_lock) only when the call lends more than the server has, and
 * letting it go only when the server was raised at all.
 */
#include "ipc.h"
#include "pi.h"
#include "sched.h"

struct walk {
    int budget;
};

static void pi_update(struct thread *t, int depth, struct walk *w);

/* What c lends the thread serving it. */
static unsigned call_lends(const struct call *c)
{
    int q = prio_set_top(&c->sp->queued);
    return MAX((int)c->t->prio, q);
}

static unsigned pi_compute(const struct thread *t)
{
    unsigned p = t->base_prio;
    for (const struct call *c = t->pi_held; c; c = c->hold_next)
        p = MAX(p, call_lends(c));
    for (const struct pi_waiter *w = t->pi_waiters; w; w = w->next)
        p = MAX(p, (unsigned)w->t->prio);
    return p;
}

/* The set of sp changed: its servers recompute. */
static void serve_point_changed(struct serve_point *sp, int depth,
                                struct walk *w)
{
    for (struct call *c = sp->serving; c; c = c->next)
        if (c->holder)
            pi_update(c->holder, depth, w);
}

/* t's effective priority changed: what t is blocked on learns it. */
static void pass_on(struct thread *t, int depth, struct walk *w)
{
    struct call *c = t->pi_call;
    if (c && c->holder) {
        pi_update(c->holder, depth + 1, w);
    } else if (c && c->q_counted && c->q_prio != t->prio) {
        struct serve_point *sp = c->sp;
        int before = prio_set_top(&sp->queued);
        prio_set_remove(&sp->queued, c->q_prio);
        prio_set_add(&sp->queued, t->prio);
        c->q_prio = t->prio;
        if (prio_set_top(&sp->queued) != before)
            serve_point_changed(sp, depth + 1, w);
    } else if (t->pi_wait && t->pi_wait->owner) {
        pi_update(t->pi_wait->owner, depth + 1, w);
    }
}

static void pi_update(struct thread *t, int depth, struct walk *w)
{
    if (depth > PI_DEPTH || w->budget <= 0)
        return;
    w->budget--;
    unsigned p = pi_compute(t);
    if (p == t->prio)
        return;
    sched_set_prio_locked(t, p);
    pass_on(t, depth, w);
}

void pi_refresh_locked(struct thread *t)
{
    struct walk w = { PI_BUDGET };
    spin_lock(&sched_lock);
    pi_update(t, 0, &w);
    spin_unlock(&sched_lock);
}

/* --- calls ------------------------------------------------------------------ */

void pi_queue_locked(struct call *c, struct serve_point *sp)
{
    int before = prio_set_top(&sp->queued);
    c->sp = sp;
    c->q_prio = c->t->prio;
    c->q_counted = true;
    prio_set_add(&sp->queued, c->q_prio);
    if ((int)c->q_prio > before && sp->serving) {
        struct walk w = { PI_BUDGET };
        spin_lock(&sched_lock);
        serve_point_changed(sp, 0, &w);
        spin_unlock(&sched_lock);
    }
}

void pi_unqueue_locked(struct call *c)
{
    if (!c->q_counted)
        return;
    struct serve_point *sp = c->sp;
    int before = prio_set_top(&sp->queued);
    prio_set_remove(&sp->queued, c->q_prio);
    c->q_counted = false;
    if (prio_set_top(&sp->queued) < before && sp->serving) {
        struct walk w = { PI_BUDGET };
        spin_lock(&sched_lock);
        serve_point_changed(sp, 0, &w);
        spin_unlock(&sched_lock);
    }
}

/* --- PI futexes --------------------------------------------------------------- */

static void waiter_link(struct pi_waiter *w, struct thread *owner)
{
    w->owner = owner;
    w->prev = NULL;
    w->next = owner->pi_waiters;
    if (owner->pi_waiters)
        owner->pi_waiters->prev = w;
    owner->pi_waiters = w;
}

static void waiter_unlink(struct pi_waiter *w)
{
    struct thread *owner = w->owner;
    if (w->prev)
        w->prev->next = w->next;
    else
        owner->pi_waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->next = w->prev = NULL;
    w->owner = NULL;
}

void pi_wait_begin_locked(struct pi_waiter *w, struct thread *owner)
{
    waiter_link(w, owner);
    w->t->pi_wait = w;
    if (w->t->prio > owner->prio)
        pi_refresh_locked(owner);
}

void pi_wait_end_locked(struct pi_waiter *w)
{
    struct thread *owner = w->owner;
    w->t->pi_wait = NULL;
    if (!owner)
        return;                     /* it exited; nothing to undo */
    waiter_unlink(w);
    if (owner->prio > owner->base_prio)
        pi_refresh_locked(owner);
}

void pi_wait_move_locked(struct pi_waiter *w, struct thread *owner)
{
    if (w->owner)
        waiter_unlink(w);
    waiter_link(w, owner);
}

/* The thread `t` waits for, along calls and futexes, if any. */
static const struct thread *blocker(const struct thread *t)
{
    if (t->pi_call)
        return t->pi_call->holder;
    return t->pi_wait ? t->pi_wait->owner : NULL;
}

bool pi_would_deadlock_locked(const struct thread *owner,
                              const struct thread *me)
{
    const struct thread *t = owner;
    for (int i = 0; t && i < PI_DEPTH; i++, t = blocker(t))
        if (t == me)
            return true;
    return false;
}

/* --- threads -------------------------------------------------------------------- */

void pi_set_base(struct thread *t, unsigned prio)
{
    if (prio > PRIO_MAX)
        prio = PRIO_MAX;
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    t->base_prio = (uint8_t)prio;
    pi_refresh_locked(t);
    spin_unlock_irqrestore(&ipc_lock, f);
}

void pi_thread_exit(struct thread *t)
{
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    t->pi_exited = true;
    while (t->pi_held) {
        struct call *c = t->pi_held;
        t->pi_held = c->hold_next;
        c->hold_next = c->hold_prev = NULL;
        c->holder = NULL;           /* answered later, or failed */
    }
    spin_lock(&sched_lock);
    while (t->pi_waiters) {
        struct pi_waiter *w = t->pi_waiters;
        waiter_unlink(w);           /* owner NULL: it looks again */
        sched_wakeup_locked(w->t, 0);
    }
    sched_set_prio_locked(t, t->base_prio);
    spin_unlock(&sched_lock);
    spin_unlock_irqrestore(&ipc_lock, f);
}
