/*
 * pi.h - priority inheritance: a thread blocked on another lends it its
 * priority.
 *
 * A thread's effective priority (thread.prio) is the highest of its base
 * priority (thread.base_prio, as set) and of what it is lent:
 *
 *   - by each call it serves (received and not yet answered): the
 *     caller's effective priority, and the highest effective priority
 *     among the callers whose calls wait queued at the same serve point
 *     (the port the call came through, or its endpoint when unbound),
 *     so queued calls raise the threads busy serving that port;
 *   - by each thread blocked on a PI futex it owns: that thread's
 *     effective priority.
 *
 * It is always recomputed from the donors that remain, never restored
 * from a saved value, so a server answering the higher of two callers
 * drops to the other's priority, and to its base once both are answered
 * or gone.  Every record is taken off its lists when its call ends, for
 * whatever reason (reply, timeout, kill, interrupt, a closed endpoint or
 * port), and when a futex wait ends.
 *
 * Chains: a thread whose effective priority changes while it is blocked
 * in a call or on a PI futex lends the new value on, to the thread
 * serving its call (or, while the call is queued, to the threads
 * serving its serve point) or owning the futex, and so on.  The walk
 * stops where nothing changes, after PI_DEPTH hops, or once it has
 * visited PI_BUDGET threads (a queued call can raise several servers);
 * so a cycle (a user-space deadlock) costs a bounded walk.  A thread
 * the walk did not reach keeps a priority from before the change until
 * its own donors change again; what each record contributes is never
 * lost, so undoing stays exact.
 *
 * Locking: every structure here (the calls a thread serves, the waiters
 * on futexes it owns, what it is blocked on, the queued-call sets of
 * serve points) is guarded by ipc_lock.  An effective priority changes
 * with ipc_lock and sched_lock held (in that order), so it can be read
 * under either.
 */
#ifndef MICA_PI_H
#define MICA_PI_H

#include "runqueue.h"
#include "types.h"

#define PI_DEPTH  16        /* hops along a chain */
#define PI_BUDGET 64        /* threads recomputed by one walk */

struct thread;
struct call;

/* A multiset of priorities: how many of each, and a bitmap of those
 * present, so the highest is one bit scan away. */
struct prio_set {
    uint32_t bits;
    uint32_t count[PRIO_COUNT];
};

static inline int prio_set_top(const struct prio_set *s)
{
    return s->bits ? 31 - __builtin_clz(s->bits) : -1;
}

static inline void prio_set_add(struct prio_set *s, unsigned p)
{
    if (s->count[p]++ == 0)
        s->bits |= 1u << p;
}

static inline void prio_set_remove(struct prio_set *s, unsigned p)
{
    if (--s->count[p] == 0)
        s->bits &= ~(1u << p);
}

/* Where calls wait to be served and are served: a port, or an endpoint
 * that is not bound to one (ipc_lock). */
struct serve_point {
    struct call *serving;       /* received here, reply pending */
    struct prio_set queued;     /* callers' priorities, calls queued here */
};

/* A thread blocked on a PI futex (futex.c), lending its priority to the
 * owner.  `owner` is NULL once the owner has exited. */
struct pi_waiter {
    struct thread *t;
    struct thread *owner;
    struct pi_waiter *next, *prev;      /* on owner->pi_waiters */
};

/* --- calls (channel.c; ipc_lock held) ------------------------------------- */

/* c's request waits queued at sp: its caller's priority counts there. */
void pi_queue_locked(struct call *c, struct serve_point *sp);
/* ... no longer (received, withdrawn, failed); a no-op if not counted. */
void pi_unqueue_locked(struct call *c);

/* The hooks every call runs are inline, in ipc.h: pi_call_begin_locked
 * and pi_call_end_locked (the caller is blocked in the call),
 * pi_hold_locked and pi_unhold_locked (a thread serves it). */

/* --- PI futexes (futex.c; ipc_lock held) ---------------------------------- */

/* w->t blocks on a futex owned by `owner`; raises the owner's chain. */
void pi_wait_begin_locked(struct pi_waiter *w, struct thread *owner);
/* w's wait ends (granted, timed out, killed): the owner drops back. */
void pi_wait_end_locked(struct pi_waiter *w);
/* The futex changed hands: w now lends to `owner` instead (neither
 * owner is recomputed: pi_refresh_locked both after a batch). */
void pi_wait_move_locked(struct pi_waiter *w, struct thread *owner);
/* Would `me` blocking on `owner` close a cycle (me at its end)? */
bool pi_would_deadlock_locked(const struct thread *owner,
                              const struct thread *me);

/* --- threads --------------------------------------------------------------- */

/* Recompute t's effective priority and pass a change on (ipc_lock). */
void pi_refresh_locked(struct thread *t);

/* Set t's base priority; its effective one follows (takes ipc_lock). */
void pi_set_base(struct thread *t, unsigned prio);

/* The current thread is exiting: it serves nothing any more, and the
 * waiters on futexes it owns wake with their owner gone (takes
 * ipc_lock).  Afterwards it is never lent anything again. */
void pi_thread_exit(struct thread *t);

#endif
