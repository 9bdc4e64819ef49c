/*
 * observer.h - one-shot signal observers (object_wait_async), and the
 * packet sources of ports.
 *
 * An observer waits for any of a set of signals on one object and then
 * queues a MICA_PACKET_SIGNAL packet on a port, once.  It sits on two
 * lists, both under ipc_lock: the observed object's (o->observers) and
 * the port's (p->sources).  Its packet is allocated when it is armed, so
 * delivery never fails.  It holds no reference on either: the port drops
 * it when it closes, the object when its last reference goes.
 *
 * A port source is anything that queues packets on a port without
 * holding a reference to it (observers, timers bound with
 * timer_set_port): it is on p->sources and its `closed` hook runs, with
 * ipc_lock held, when the port closes.
 *
 * Lock order: ipc_lock, then an object's lock, then sched_lock.  A signal
 * change on an object with observers therefore takes ipc_lock first
 * (observed_lock), unless the caller holds it already (channel.c does).
 * Additions to o->observers hold o->lock as well as ipc_lock, so whoever
 * holds o->lock and finds the list empty knows no observer was armed
 * before its change.
 */
#ifndef MICA_OBSERVER_H
#define MICA_OBSERVER_H

#include "kmem.h"
#include "object.h"
#include "spinlock.h"

struct port;

struct port_source {
    struct port_source *next, **pprev;      /* on port->sources */
    /* The port closed: let go of it (ipc_lock held; s is off the list
     * already and may be freed). */
    void (*closed)(struct port_source *s);
};

/* ipc_lock held. */
void port_source_add_locked(struct port *p, struct port_source *s);
void port_source_del_locked(struct port_source *s);
/* port.c: the port closes; each source's `closed` hook runs. */
void port_sources_close_locked(struct port *p);

/* Arm an observer of `want` on o for port p with `key`, charged to
 * acct; fires at once when o has one of `want` now.  0, ERR_NO_MEMORY,
 * or ERR_BAD_STATE (p has closed). */
int observer_arm(struct object *o, struct port *p, uint64_t key,
                 mica_signals_t want, struct kmem_account *acct);

/* Remove every observer on o for port p with `key`: 0, or ERR_NOT_FOUND
 * when there was none. */
int observer_cancel(struct object *o, struct port *p, uint64_t key);

/* Locking o for a signal change (signal_wait.c). */
struct observed {
    irqflags_t fo, fi;
    bool ipc;                   /* ipc_lock taken here */
};

void observed_lock_slow(struct object *o, struct observed *g);
void observed_unlock_slow(struct object *o, struct observed *g,
                          mica_signals_t now);

/* Take o->lock, after ipc_lock when o has observers and the caller does
 * not hold ipc_lock.  Inline: every signal change of every object comes
 * here, and most objects have no observers. */
static inline void observed_lock(struct object *o, struct observed *g)
{
    g->ipc = false;
    g->fo = spin_lock_irqsave(&o->lock);
    if (unlikely(__atomic_load_n(&o->observers, __ATOMIC_ACQUIRE)))
        observed_lock_slow(o, g);
}

/* Release what observed_lock took, first firing the observers that one
 * of the signals `now` (o's signals, set under the lock) satisfies. */
static inline void observed_unlock(struct object *o, struct observed *g,
                                   mica_signals_t now)
{
    if (likely(!g->ipc && !o->observers))
        spin_unlock_irqrestore(&o->lock, g->fo);
    else
        observed_unlock_slow(o, g, now);
}

#endif
