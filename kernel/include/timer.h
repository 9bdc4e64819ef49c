/*
 * timer.h - timers: objects that assert SIGNAL_SIGNALED at a deadline,
 * once or periodically, and may queue a packet on a port each time.
 *
 * A timer (OBJ_TIMER) armed with timer_set expires at its deadline (at
 * once if it has passed); a periodic one then re-arms itself at deadline
 * + k * period, for the smallest k that lies in the future, counting the
 * periods it skipped.  Each expiry asserts SIGNAL_SIGNALED, which stays
 * until timer_set or timer_cancel clears it.  A timer bound to a port
 * (timer_set_port) also queues a MICA_PACKET_TIMER packet there: data[0]
 * the last deadline that passed, data[1] how many expiries the packet
 * stands for.  The packet is part of the timer, so delivery never fails:
 * an expiry that finds it still queued adds to its count instead.
 *
 * Locks: `lock` (arming) comes before ipc_lock (the port binding and the
 * packet, as for every port queue), which comes before the object's lock
 * (its signals).  Expiry runs from the timer interrupt (ktimer.c).  A
 * timer whose last handle closes is disarmed and let go of its port.
 */
#ifndef MICA_TIMER_H
#define MICA_TIMER_H

#include "ktimer.h"
#include "observer.h"
#include "port.h"

struct timer {
    struct object obj;              /* OBJ_TIMER */
    spinlock_t lock;                /* armed, deadline, period */
    struct ktimer kt;
    bool armed;
    uint64_t deadline;              /* next expiry, while armed */
    uint64_t period;                /* 0: one-shot */
    /* under ipc_lock */
    struct port *port;              /* bound to, or NULL (not referenced) */
    struct port_source src;         /* on port->sources while bound */
    uint64_t key;
    struct pkt pkt;                 /* owner-provided (acct NULL) */
    struct kmem_account *acct;
};

/* A new, disarmed timer charged to acct, with one reference for the
 * caller: 0 or ERR_NO_MEMORY. */
int timer_create(struct kmem_account *acct, struct timer **out);

/* Arm t for `deadline` (clock_ns) and then every `period` ns (0: once),
 * replacing any earlier arming; SIGNAL_SIGNALED is cleared. */
void timer_set(struct timer *t, uint64_t deadline, uint64_t period);

/* Disarm t, clear SIGNAL_SIGNALED and withdraw its packet if it is
 * still queued. */
void timer_cancel(struct timer *t);

/* Deliver t's expiries to port p with `key` from now on (p NULL: to no
 * port), withdrawing its packet from the port it was bound to.  0, or
 * ERR_BAD_STATE when p has closed. */
int timer_set_port(struct timer *t, struct port *p, uint64_t key);

#endif
