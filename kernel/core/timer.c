/*
 * timer.c - timer objects on top of kernel timers.
 *
 * The arming state (armed, deadline, period) is under the timer's own
 * lock, which the expiry function takes too: whatever timer_set or
 * timer_cancel decides under it holds for every expiry that comes after,
 * even one whose ktimer was already taken to run on another CPU (it
 * finds the timer disarmed, or its deadline not yet reached, and does
 * nothing).  The expiry computes the next deadline and re-arms the
 * ktimer under that lock, then queues or updates the packet under
 * ipc_lock and asserts SIGNAL_SIGNALED (object_signal, which fires the
 * timer's observers).  It runs in the timer interrupt with interrupts
 * off; every lock it takes is only ever taken with interrupts off.
 *
 * The timer's packet lives inside it (acct NULL: port.h), so it is on a
 * port's queue at most once: `pkt.queued` says whether it is there,
 * under ipc_lock.  The binding holds no reference on the port: the
 * timer is one of the port's sources, and a closing port unbinds it.
 * Unbinding, cancelling and destroying withdraw a queued packet.
 */
#include "clock.h"
#include "ipc.h"
#include "lib.h"
#include "mica/errors.h"
#include "panic.h"
#include "signal_wait.h"
#include "timer.h"

/* --- the port binding (ipc_lock held) ------------------------------------------ */

static void withdraw_locked(struct timer *t)
{
    if (t->port && t->pkt.queued)
        port_unqueue_pkt_locked(t->port, &t->pkt);
}

static void unbind_locked(struct timer *t)
{
    withdraw_locked(t);
    port_source_del_locked(&t->src);
    __atomic_store_n(&t->port, NULL, __ATOMIC_RELAXED);
}

static void timer_port_closed(struct port_source *s)
{
    struct timer *t = container_of(s, struct timer, src);
    withdraw_locked(t);
    __atomic_store_n(&t->port, NULL, __ATOMIC_RELAXED);
}

/* Queue the packet for `count` expiries, the last at `last`, or add them
 * to the one still queued. */
static void deliver(struct timer *t, uint64_t last, uint64_t count)
{
    if (!__atomic_load_n(&t->port, __ATOMIC_RELAXED))
        return;                             /* not bound: no ipc_lock */
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    if (t->port && t->pkt.queued) {
        t->pkt.p.data[0] = last;
        t->pkt.p.data[1] += count;
    } else if (t->port) {
        t->pkt.p = (struct mica_packet){
            .key = t->key, .type = MICA_PACKET_TIMER, .data = { last, count },
        };
        port_queue_pkt_locked(t->port, &t->pkt);
    }
    spin_unlock_irqrestore(&ipc_lock, f);
}

/* --- expiry ------------------------------------------------------------------------ */

/* t's deadline has passed by `now` (t->lock held): the last deadline
 * passed and how many did, and t re-armed for the next, or disarmed. */
static void advance(struct timer *t, uint64_t now, uint64_t *last,
                    uint64_t *count)
{
    uint64_t skipped = t->period ? (now - t->deadline) / t->period : 0;
    *last = t->deadline + skipped * t->period;
    *count = skipped + 1;
    if (!t->period || *last > UINT64_MAX - t->period) {
        t->armed = false;                   /* no next deadline */
        return;
    }
    t->deadline = *last + t->period;
    ktimer_arm(&t->kt, t->deadline);
}

static void timer_expire(struct ktimer *kt)
{
    struct timer *t = container_of(kt, struct timer, kt);
    irqflags_t f = spin_lock_irqsave(&t->lock);
    uint64_t now = clock_ns();
    if (t->armed && t->deadline <= now) {
        uint64_t last, count;
        advance(t, now, &last, &count);
        deliver(t, last, count);
        object_signal(&t->obj, 0, SIGNAL_SIGNALED);
    }
    spin_unlock_irqrestore(&t->lock, f);
}

/* --- the calls ---------------------------------------------------------------------- */

void timer_set(struct timer *t, uint64_t deadline, uint64_t period)
{
    irqflags_t f = spin_lock_irqsave(&t->lock);
    t->armed = true;
    t->deadline = deadline;
    t->period = period;
    ktimer_arm(&t->kt, deadline);
    object_signal(&t->obj, SIGNAL_SIGNALED, 0);
    spin_unlock_irqrestore(&t->lock, f);
}

/* Disarm (t->lock held); the ktimer may still be running elsewhere. */
static void disarm_locked(struct timer *t)
{
    t->armed = false;
    ktimer_cancel(&t->kt);
}

void timer_cancel(struct timer *t)
{
    irqflags_t f = spin_lock_irqsave(&t->lock);
    disarm_locked(t);
    object_signal(&t->obj, SIGNAL_SIGNALED, 0);
    irqflags_t fi = spin_lock_irqsave(&ipc_lock);
    withdraw_locked(t);
    spin_unlock_irqrestore(&ipc_lock, fi);
    spin_unlock_irqrestore(&t->lock, f);
}

int timer_set_port(struct timer *t, struct port *p, uint64_t key)
{
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    int err = p && p->closed ? ERR_BAD_STATE : 0;
    if (!err) {
        unbind_locked(t);
        if (p) {
            t->key = key;
            port_source_add_locked(p, &t->src);
            __atomic_store_n(&t->port, p, __ATOMIC_RELAXED);
        }
    }
    spin_unlock_irqrestore(&ipc_lock, f);
    return err;
}

/* --- life and death ----------------------------------------------------------------- */

/* Disarm and let go of the port: nobody can set the timer any more. */
static void timer_stop(struct timer *t)
{
    irqflags_t f = spin_lock_irqsave(&t->lock);
    disarm_locked(t);
    spin_unlock_irqrestore(&t->lock, f);
    f = spin_lock_irqsave(&ipc_lock);
    unbind_locked(t);
    spin_unlock_irqrestore(&ipc_lock, f);
}

static void timer_last_handle(struct object *o)
{
    timer_stop(container_of(o, struct timer, obj));
}

static void timer_destroy(struct object *o)
{
    struct timer *t = container_of(o, struct timer, obj);
    KASSERT(!spin_held_by_me(&ipc_lock));   /* the expiry may want it */
    timer_stop(t);
    ktimer_cancel_sync(&t->kt);
    kobj_free(t->acct, t, sizeof(*t));
}

static const struct object_ops timer_ops = {
    .name = "timer",
    .destroy = timer_destroy,
    .last_handle = timer_last_handle,
};

int timer_create(struct kmem_account *acct, struct timer **out)
{
    struct timer *t = kobj_alloc(acct, sizeof(*t));
    if (!t)
        return ERR_NO_MEMORY;
    object_init(&t->obj, OBJ_TIMER, &timer_ops);
    t->lock = (spinlock_t)SPINLOCK_INIT;
    ktimer_init(&t->kt, timer_expire);
    t->src.closed = timer_port_closed;
    t->acct = acct;
    *out = t;
    return 0;
}
