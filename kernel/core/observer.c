/*
 * observer.c - one-shot signal observers, and the packet sources of
 * ports.
 *
 * Everything here is under ipc_lock: an observer's two list links, the
 * port's source list, and the hand-off of the observer's packet to the
 * port (port_queue_pkt_locked).  Firing happens in the signal change
 * itself: observed_lock takes ipc_lock before the object's lock when the
 * object has observers, the change is made, the observers the new
 * signals satisfy are taken off both lists while the object's lock is
 * still held, and their packets are queued after it is dropped, ipc_lock
 * still held.  So an observer sees every change made after it was armed
 * (arming checks the signals and links under both locks), each fires at
 * most once, and the packet carries the signals as that change left
 * them.  Callers that already hold ipc_lock (channel.c, changing an
 * endpoint's signals) are recognised with spin_held_by_me: ipc_lock is
 * only ever held with interrupts off, so no other context on this CPU
 * can be its holder.
 *
 * The timer interrupt changes signals too (timer.c): every lock taken on
 * this path (ipc_lock, object locks, sched_lock, the allocator's) is
 * always taken with interrupts off, so the interrupted code never holds
 * one of them.
 *
 * An observer is two allocations charged to the process that armed it:
 * the record and its packet, which the port frees once delivered.  It
 * goes away when it fires, when it is canceled, when its port closes
 * (port_sources_close_locked) or when the observed object's last
 * reference goes (observers_object_gone); in the last three its packet
 * is freed with it.
 */
#include "ipc.h"
#include "lib.h"
#include "mica/errors.h"
#include "observer.h"
#include "port.h"

struct observer {
    struct port_source src;             /* on the port's sources */
    struct observer *next, **pprev;     /* on the object's list */
    struct port *port;
    uint64_t key;
    mica_signals_t want;
    struct kmem_account *acct;
    struct pkt *pk;
};

/* --- port sources (ipc_lock held) -------------------------------------------- */

void port_source_add_locked(struct port *p, struct port_source *s)
{
    s->next = p->sources;
    if (s->next)
        s->next->pprev = &s->next;
    s->pprev = &p->sources;
    p->sources = s;
}

void port_source_del_locked(struct port_source *s)
{
    if (!s->pprev)
        return;
    *s->pprev = s->next;
    if (s->next)
        s->next->pprev = s->pprev;
    s->next = NULL;
    s->pprev = NULL;
}

void port_sources_close_locked(struct port *p)
{
    for (struct port_source *s; (s = p->sources);) {
        port_source_del_locked(s);
        s->closed(s);
    }
}

/* --- observers ------------------------------------------------------------------ */

static void obs_unlink(struct observer *ob)
{
    struct observer *next = ob->next;
    __atomic_store_n(ob->pprev, next, __ATOMIC_RELEASE);
    if (next)
        next->pprev = ob->pprev;
    ob->next = NULL;
    ob->pprev = NULL;
    port_source_del_locked(&ob->src);
}

static void obs_free(struct observer *ob)
{
    if (ob->pk)
        kobj_free(ob->acct, ob->pk, sizeof(*ob->pk));
    kobj_free(ob->acct, ob, sizeof(*ob));
}

/* Hand ob's packet to its port and free the rest (ob off its lists). */
static void obs_fire(struct observer *ob, mica_signals_t now)
{
    struct pkt *pk = ob->pk;
    pk->p = (struct mica_packet){
        .key = ob->key, .type = MICA_PACKET_SIGNAL, .signals = now,
    };
    ob->pk = NULL;
    port_queue_pkt_locked(ob->port, pk);
    obs_free(ob);
}

static void obs_port_closed(struct port_source *s)
{
    struct observer *ob = container_of(s, struct observer, src);
    obs_unlink(ob);
    obs_free(ob);
}

int observer_arm(struct object *o, struct port *p, uint64_t key,
                 mica_signals_t want, struct kmem_account *acct)
{
    struct observer *ob = kobj_alloc(acct, sizeof(*ob));
    struct pkt *pk = ob ? kobj_alloc(acct, sizeof(*pk)) : NULL;
    if (!pk) {
        kobj_free(acct, ob, sizeof(*ob));
        return ERR_NO_MEMORY;
    }
    pk->acct = acct;
    *ob = (struct observer){
        .src.closed = obs_port_closed, .port = p, .key = key, .want = want,
        .acct = acct, .pk = pk,
    };
    irqflags_t fi = spin_lock_irqsave(&ipc_lock);
    if (p->closed) {
        spin_unlock_irqrestore(&ipc_lock, fi);
        obs_free(ob);
        return ERR_BAD_STATE;
    }
    irqflags_t fo = spin_lock_irqsave(&o->lock);
    mica_signals_t now = o->signals;
    if (!(now & want)) {
        ob->next = o->observers;
        if (ob->next)
            ob->next->pprev = &ob->next;
        ob->pprev = &o->observers;
        __atomic_store_n(&o->observers, ob, __ATOMIC_RELEASE);
        port_source_add_locked(p, &ob->src);
    }
    spin_unlock_irqrestore(&o->lock, fo);
    if (now & want)
        obs_fire(ob, now);
    spin_unlock_irqrestore(&ipc_lock, fi);
    return 0;
}

int observer_cancel(struct object *o, struct port *p, uint64_t key)
{
    struct observer *gone = NULL;
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    for (struct observer *ob = o->observers, *next; ob; ob = next) {
        next = ob->next;
        if (ob->port != p || ob->key != key)
            continue;
        obs_unlink(ob);
        ob->next = gone;
        gone = ob;
    }
    spin_unlock_irqrestore(&ipc_lock, f);
    int err = gone ? 0 : ERR_NOT_FOUND;
    for (struct observer *ob = gone, *next; ob; ob = next) {
        next = ob->next;
        obs_free(ob);
    }
    return err;
}

/* ipc_lock, unless this CPU holds it already; true if taken. */
static bool ipc_lock_unless_held(irqflags_t *f)
{
    if (spin_held_by_me(&ipc_lock))
        return false;
    *f = spin_lock_irqsave(&ipc_lock);
    return true;
}

void observers_object_gone(struct object *o)
{
    irqflags_t f = 0;
    bool took = ipc_lock_unless_held(&f);
    struct observer *gone = NULL;
    for (struct observer *ob; (ob = o->observers);) {
        obs_unlink(ob);
        ob->next = gone;
        gone = ob;
    }
    if (took)
        spin_unlock_irqrestore(&ipc_lock, f);
    for (struct observer *ob = gone, *next; ob; ob = next) {
        next = ob->next;
        obs_free(ob);
    }
}

/* --- signal changes --------------------------------------------------------------- */

/* o->lock is held and o has observers (observed_lock). */
void observed_lock_slow(struct object *o, struct observed *g)
{
    if (spin_held_by_me(&ipc_lock))
        return;
    spin_unlock_irqrestore(&o->lock, g->fo);        /* ipc_lock first */
    g->fi = spin_lock_irqsave(&ipc_lock);
    g->ipc = true;
    g->fo = spin_lock_irqsave(&o->lock);
}

/* With o->lock held, and ipc_lock whenever o has observers. */
void observed_unlock_slow(struct object *o, struct observed *g,
                          mica_signals_t now)
{
    struct observer *due = NULL;
    for (struct observer *ob = o->observers, *next; ob; ob = next) {
        next = ob->next;
        if (!(ob->want & now))
            continue;
        obs_unlink(ob);
        ob->next = due;
        due = ob;
    }
    spin_unlock_irqrestore(&o->lock, g->fo);
    for (struct observer *ob = due, *next; ob; ob = next) {
        next = ob->next;
        obs_fire(ob, now);
    }
    if (g->ipc)
        spin_unlock_irqrestore(&ipc_lock, g->fi);
}
