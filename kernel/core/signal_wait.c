/*
 * signal_wait.c - object signals and the threads waiting for them.
 */
#include "clock.h"
#include "mica/errors.h"
#include "signal_wait.h"
#include "waitq.h"

static struct waitq signal_waiters = WAITQ_INIT;

void object_signal(struct object *o, mica_signals_t clear, mica_signals_t set)
{
    irqflags_t f = spin_lock_irqsave(&o->lock);
    mica_signals_t old = o->signals;
    o->signals = (old & ~clear) | set;
    bool changed = o->signals != old;
    spin_unlock_irqrestore(&o->lock, f);
    if (changed)
        waitq_wake(&signal_waiters, -1, 0);
}

void object_wait_kick(struct object *o)
{
    irqflags_t f = spin_lock_irqsave(&o->lock);   /* order with waiters */
    spin_unlock_irqrestore(&o->lock, f);
    waitq_wake(&signal_waiters, -1, 0);
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
        int r = waitq_wait(&signal_waiters, &o->lock, f, deadline);
        if (r == ERR_CANCELED || r == ERR_TIMED_OUT) {
            if (observed)
                *observed = __atomic_load_n(&o->signals, __ATOMIC_RELAXED);
            return (observed && (*observed & want)) ? 0 : r;
        }
    }
}
