/*
 * signal_wait.c - object signals and the threads waiting for them.
 *
 * A change of signals also fires the object's one-shot observers
 * (observer.c), in the same hold of the object's lock: observed_lock
 * takes ipc_lock first when the object has any, as the lock order wants.
 *
 * Who is woken: a thread waiting on one object sleeps on one of
 * SIGNAL_BUCKETS queues, chosen by the object's address, so a change
 * wakes only the waiters of objects that hash alike, not every waiter
 * in the system.  It queues while holding the object's lock, and the
 * change is made under that lock too, so after the change the waker
 * sees the waiter on the queue (it may look at the queue without the
 * scheduler's lock: an empty queue has nobody of this object).  Threads
 * waiting on many objects (wait_many) share one queue and a generation
 * number instead, woken by every change while any of them waits.
 */
#include "clock.h"
#include "mica/errors.h"
#include "observer.h"
#include "signal_wait.h"
#include "waitq.h"

#define SIGNAL_BUCKETS 64
static struct waitq one_waiters[SIGNAL_BUCKETS];
static struct waitq signal_waiters = WAITQ_INIT;    /* wait_many */
static uint64_t signal_gen;         /* bumped before every wake */
static uint32_t many_waiting;       /* threads inside object_wait_many */
static spinlock_t wait_gate = SPINLOCK_INIT;

static struct waitq *bucket(const struct object *o)
{
    uintptr_t a = (uintptr_t)o;
    return &one_waiters[(a >> 6 ^ a >> 12) % SIGNAL_BUCKETS];
}

/* o's signals changed (its lock released since). */
static void wake_waiters(struct object *o)
{
    struct waitq *wq = bucket(o);
    if (__atomic_load_n(&wq->head, __ATOMIC_ACQUIRE))
        waitq_wake(wq, -1, 0);
    /* A many-object waiter counts itself in many_waiting before it reads
     * the generation: if we see nobody counted after our bump, any waiter
     * still to come reads the new generation, and with it the change.
     * Otherwise: it compares the generation under wait_gate and then
     * queues; passing through the gate after the bump orders our look at
     * the queue after any such waiter has queued. */
    __atomic_add_fetch(&signal_gen, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&many_waiting, __ATOMIC_SEQ_CST) == 0)
        return;
    irqflags_t f = spin_lock_irqsave(&wait_gate);
    spin_unlock_irqrestore(&wait_gate, f);
    if (__atomic_load_n(&signal_waiters.head, __ATOMIC_ACQUIRE))
        waitq_wake(&signal_waiters, -1, 0);
}

/* Clear then set, fire the observers the result satisfies, and wake the
 * waiters if anything changed (always, for a kick). */
static void signal_update(struct object *o, mica_signals_t clear,
                          mica_signals_t set, bool kick)
{
    struct observed g;
    observed_lock(o, &g);               /* also orders with waiters */
    mica_signals_t old = o->signals, now = (old & ~clear) | set;
    o->signals = now;
    observed_unlock(o, &g, now);
    if (kick || now != old)
        wake_waiters(o);
}

void object_signal(struct object *o, mica_signals_t clear, mica_signals_t set)
{
    signal_update(o, clear, set, false);
}

/* Also the way signals changed outside object_signal (SIGNAL_SUSPENDED,
 * thread_control.c) reach observers. */
void object_wait_kick(struct object *o)
{
    signal_update(o, 0, 0, true);
}

int object_wait_signals(struct object *o, mica_signals_t want,
                        uint64_t deadline, mica_signals_t *observed)
{
    return object_wait_signals_while(o, want, deadline, observed, NULL, NULL);
}

int object_wait_signals_while(struct object *o, mica_signals_t want,
                              uint64_t deadline, mica_signals_t *observed,
                              bool (*still)(void *ctx), void *ctx)
{
    for (;;) {
        irqflags_t f = spin_lock_irqsave(&o->lock);
        mica_signals_t s = o->signals;
        if (observed)
            *observed = s;
        if (s & want) {
            spin_unlock_irqrestore(&o->lock, f);
            return 0;
        }
        if (still && !still(ctx)) {
            spin_unlock_irqrestore(&o->lock, f);
            return ERR_CANCELED;
        }
        if (deadline && clock_ns() >= deadline) {
            spin_unlock_irqrestore(&o->lock, f);
            return ERR_TIMED_OUT;
        }
        int r = waitq_wait(bucket(o), &o->lock, f, deadline);
        if (r) {                /* timed out, killed or interrupted */
            if (observed)
                *observed = __atomic_load_n(&o->signals, __ATOMIC_RELAXED);
            return (observed && (*observed & want)) ? 0 : r;
        }
    }
}

/* Sleep until a signal changes anywhere after generation `gen` was read,
 * or the deadline, or a kill.  The generation is compared with the
 * scheduler lock held, after which no wake can be missed. */
static int wait_after(uint64_t gen, uint64_t deadline)
{
    irqflags_t f = arch_irq_save();
    spin_lock(&wait_gate);
    if (__atomic_load_n(&signal_gen, __ATOMIC_SEQ_CST) != gen) {
        spin_unlock(&wait_gate);
        arch_irq_restore(f);
        return 0;
    }
    return waitq_wait(&signal_waiters, &wait_gate, f, deadline);
}

static int wait_many(struct object *const *objs, const mica_signals_t *want,
                     mica_signals_t *seen, unsigned n, uint64_t deadline,
                     bool (*still)(unsigned i, void *ctx), void *ctx)
{
    for (;;) {
        uint64_t gen = __atomic_load_n(&signal_gen, __ATOMIC_SEQ_CST);
        bool any = false;
        for (unsigned i = 0; i < n; i++) {
            seen[i] = __atomic_load_n(&objs[i]->signals, __ATOMIC_ACQUIRE);
            any |= (seen[i] & want[i]) != 0;
            if (still && !still(i, ctx))
                return ERR_CANCELED;
        }
        if (any)
            return 0;
        if (deadline && clock_ns() >= deadline)
            return ERR_TIMED_OUT;
        int r = wait_after(gen, deadline);
        if (r)                  /* timed out, killed or interrupted */
            return r;
    }
}

int object_wait_many(struct object *const *objs, const mica_signals_t *want,
                     mica_signals_t *seen, unsigned n, uint64_t deadline,
                     bool (*still)(unsigned i, void *ctx), void *ctx)
{
    __atomic_add_fetch(&many_waiting, 1, __ATOMIC_SEQ_CST);
    int r = wait_many(objs, want, seen, n, deadline, still, ctx);
    __atomic_sub_fetch(&many_waiting, 1, __ATOMIC_SEQ_CST);
    return r;
}
