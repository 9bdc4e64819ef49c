/*
 * port.c - ports, and the receivers that block on ports and channels.
 *
 * A port holds three things under ipc_lock: the endpoints bound to it
 * that have messages (the ready list, served round robin: an endpoint
 * goes to the back after each message), queued packets, and the threads
 * blocked receiving.  Messages come before packets.  A receiver blocks
 * with its buffer described in its record, so a sender can copy straight
 * into it (channel.c); packets are small and go into the record itself.
 *
 * Closing a port (its last handle) cancels its receivers, fails the calls
 * it handed out and that were not yet answered with ERR_PEER_CLOSED (no
 * one can answer them through it any more), frees its packets and lets
 * its endpoints go: they become plain, unbound endpoints.  Signal
 * observers and timers that would queue packets here are its `sources`
 * (observer.c): they let go too.
 */
#include "clock.h"
#include "lib.h"
#include "mica/errors.h"
#include "observer.h"
#include "panic.h"
#include "port.h"
#include "sched.h"

static void port_destroy(struct object *o)
{
    struct port *p = container_of(o, struct port, obj);
    kobj_free(p->acct, p, sizeof(*p));
}

static void port_close(struct object *o);

static const struct object_ops port_ops = {
    .name = "port",
    .destroy = port_destroy,
    .last_handle = port_close,
};

int port_create(struct kmem_account *acct, struct port **out)
{
    struct port *p = kobj_alloc(acct, sizeof(*p));
    if (!p)
        return ERR_NO_MEMORY;
    object_init(&p->obj, OBJ_PORT, &port_ops);
    p->acct = acct;
    *out = p;
    return 0;
}

/* --- receivers (ipc_lock held) --------------------------------------------- */

void receiver_unlink(struct receiver **list, struct receiver *r)
{
    for (struct receiver **pp = list; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            r->next = NULL;
            return;
        }
    }
}

void receiver_done(struct receiver *r, int status)
{
    r->status = status;
    r->state = W_DONE;
    sched_wakeup(r->t, 0);
}

int receiver_block(struct receiver *r, struct receiver **list,
                   uint64_t deadline, struct thread *wake, irqflags_t *f)
{
    if (deadline && clock_ns() >= deadline) {
        if (wake)
            sched_wakeup(wake, 0);
        return ERR_TIMED_OUT;
    }
    r->state = W_WAITING;
    r->next = *list;
    *list = r;
    int err = sched_block_handoff(wake, &ipc_lock, *f, deadline);
    *f = spin_lock_irqsave(&ipc_lock);
    while (r->state == W_CLAIMED) {
        spin_unlock_irqrestore(&ipc_lock, *f);
        arch_cpu_relax();
        *f = spin_lock_irqsave(&ipc_lock);
    }
    if (r->state == W_WAITING)
        receiver_unlink(list, r);
    else
        err = 0;
    return err;
}

/* --- endpoints of the port (ipc_lock held) ---------------------------------- */

void port_endpoint_ready_locked(struct port *p, struct channel *ep)
{
    if (ep->on_ready || !ep->head)
        return;
    ep->on_ready = true;
    ep->ready_next = NULL;
    if (p->ready_tail)
        p->ready_tail->ready_next = ep;
    else
        p->ready_head = ep;
    p->ready_tail = ep;
}

void port_endpoint_unready_locked(struct port *p, struct channel *ep)
{
    if (!ep->on_ready)
        return;
    struct channel *prev = NULL;
    for (struct channel *c = p->ready_head; c; prev = c, c = c->ready_next) {
        if (c != ep)
            continue;
        if (prev)
            prev->ready_next = c->ready_next;
        else
            p->ready_head = c->ready_next;
        if (p->ready_tail == c)
            p->ready_tail = prev;
        break;
    }
    ep->on_ready = false;
    ep->ready_next = NULL;
}

void port_endpoint_remove_locked(struct port *p, struct channel *ep)
{
    port_endpoint_unready_locked(p, ep);
    for (struct channel **pp = &p->bound; *pp; pp = &(*pp)->bound_next) {
        if (*pp == ep) {
            *pp = ep->bound_next;
            break;
        }
    }
}

/* --- packets ------------------------------------------------------------------ */

static void pkt_free(struct pkt *pk)
{
    if (pk->acct)                   /* else its owner's (port.h) */
        kobj_free(pk->acct, pk, sizeof(*pk));
}

void port_queue_pkt_locked(struct port *p, struct pkt *pk)
{
    if (p->closed) {
        pkt_free(pk);       /* kobj_free takes no lock of ours */
        return;
    }
    struct receiver *r = p->receivers;
    if (r) {
        receiver_unlink(&p->receivers, r);
        r->kind = MICA_RECV_PACKET;
        r->pkt = pk->p;
        r->txid = 0;
        r->key = pk->p.key;
        r->actual_bytes = r->actual_handles = 0;
        pkt_free(pk);
        receiver_done(r, 0);
        return;
    }
    pk->next = NULL;
    if (p->pkt_tail)
        p->pkt_tail->next = pk;
    else
        p->pkt_head = pk;
    p->pkt_tail = pk;
    p->npkts++;
    pk->queued = true;
}

void port_unqueue_pkt_locked(struct port *p, struct pkt *pk)
{
    struct pkt *prev = NULL;
    for (struct pkt *q = p->pkt_head; q; prev = q, q = q->next) {
        if (q != pk)
            continue;
        if (prev)
            prev->next = q->next;
        else
            p->pkt_head = q->next;
        if (p->pkt_tail == q)
            p->pkt_tail = prev;
        p->npkts--;
        break;
    }
    pk->next = NULL;
    pk->queued = false;
}

int port_queue(struct port *p, const struct mica_packet *pkt,
               struct kmem_account *acct)
{
    struct pkt *pk = kobj_alloc(acct, sizeof(*pk));
    if (!pk)
        return ERR_NO_MEMORY;
    pk->acct = acct;
    pk->p = *pkt;
    pk->p.type = MICA_PACKET_USER;
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    int err = p->closed ? ERR_BAD_STATE
              : p->npkts >= MICA_PORT_MAX_PACKETS ? ERR_SHOULD_WAIT : 0;
    if (!err)
        port_queue_pkt_locked(p, pk);
    spin_unlock_irqrestore(&ipc_lock, f);
    if (err)
        pkt_free(pk);
    return err;
}

static struct pkt *pop_pkt(struct port *p)
{
    struct pkt *pk = p->pkt_head;
    p->pkt_head = pk->next;
    if (!p->pkt_head)
        p->pkt_tail = NULL;
    p->npkts--;
    pk->queued = false;
    return pk;
}

/* --- receiving ------------------------------------------------------------------ */

int port_receive(struct port *p, const struct ubuf *b, bool packets_only,
                 bool nowait, uint64_t deadline, struct thread *wake,
                 struct recv_out *out)
{
    struct receiver r = {
        .t = thread_current(), .buf = *b, .packets_only = packets_only,
    };
    struct pkt *got = NULL;
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    int err;
    for (;;) {
        if (p->closed) {
            err = ERR_CANCELED;
        } else if (!packets_only && p->ready_head) {
            err = channel_take_msg_locked(p->ready_head, b, out, &f);
        } else if (p->pkt_head) {
            got = pop_pkt(p);
            out->kind = MICA_RECV_PACKET;
            out->pkt = got->p;
            out->key = got->p.key;
            out->txid = 0;
            out->actual_bytes = out->actual_handles = 0;
            err = 0;
        } else if (nowait) {
            err = ERR_SHOULD_WAIT;
        } else {
            err = receiver_block(&r, &p->receivers, deadline, wake, &f);
            wake = NULL;
            if (r.state == W_DONE) {
                err = r.status;
                out->kind = r.kind;
                out->actual_bytes = r.actual_bytes;
                out->actual_handles = r.actual_handles;
                out->key = r.key;
                out->txid = r.txid;
                out->pkt = r.pkt;
            } else if (!err) {
                continue;                   /* look again */
            }
        }
        break;
    }
    spin_unlock_irqrestore(&ipc_lock, f);
    if (wake)
        sched_wakeup(wake, 0);
    if (got)
        pkt_free(got);
    return err;
}

/* --- closing ---------------------------------------------------------------------- */

static void port_close(struct object *o)
{
    struct port *p = container_of(o, struct port, obj);
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    p->closed = true;
    for (struct receiver *r; (r = p->receivers);) {
        receiver_unlink(&p->receivers, r);
        receiver_done(r, ERR_CANCELED);
    }
    for (struct call *c; (c = p->sp.serving);) {
        p->sp.serving = c->next;
        if (p->sp.serving)
            p->sp.serving->prev = NULL;
        c->next = c->prev = NULL;
        call_finish_locked(c, ERR_PEER_CLOSED);
    }
    unsigned unbound = 0;
    for (struct channel *ep; (ep = p->bound);) {
        p->bound = ep->bound_next;
        channel_unbind_locked(ep);
        unbound++;
    }
    p->ready_head = p->ready_tail = NULL;
    KASSERT(!p->sp.queued.bits);            /* went with the endpoints */
    port_sources_close_locked(p);           /* observers, timers let go */
    struct pkt *pkts = p->pkt_head;
    p->pkt_head = p->pkt_tail = NULL;
    p->npkts = 0;
    spin_unlock_irqrestore(&ipc_lock, f);
    for (struct pkt *pk = pkts, *next; pk; pk = next) {
        next = pk->next;
        pkt_free(pk);
    }
    while (unbound--)
        object_unref(&p->obj);              /* each endpoint's reference */
}
