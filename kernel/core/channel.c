/*
 * channel.c - channel endpoints: queues, calls and replies, and death.
 *
 * Sending looks for a receiver already blocked on the peer (on the peer
 * itself or, when the peer is bound, on its port).  Found, and its buffer
 * big enough: the message goes straight into that buffer and the receiver
 * is woken -- or, for a call, run at once in the caller's place
 * (sched_block_handoff).  Otherwise the message is copied into the kernel
 * and queued at the peer, and one receiver, if any, is woken to look.
 *
 * A call's record sits on the caller's stack and moves through states
 * (ipc.h): QUEUED with its request, SERVING on the serving list of the
 * endpoint (or its port) that received it, DONE when answered or failed.
 * The caller leaves only once the record is off every list, so a late
 * reply finds nothing and fails with ERR_NOT_FOUND; it can never reach a
 * later call, whose transaction id is new (ids are never reused).
 *
 * A call lends its caller's priority (pi.h): while QUEUED it counts in
 * its serve point's set (the port's, or the unbound endpoint's: sp_of),
 * while SERVING it raises the thread that received it.  Every way a call
 * ends goes through call_finish_locked, call_abandon or channel_reply,
 * which take it off both.
 *
 * Closing an endpoint (its last handle) settles everything touching it:
 * messages queued at it are destroyed (closing the handles inside) and
 * the calls among them fail with ERR_PEER_CLOSED, as do calls it received
 * and had not answered; calls made through it fail with ERR_CANCELED;
 * threads reading it are canceled; the peer sees PEER_CLOSED, can still
 * read what was queued for it, then gets ERR_PEER_CLOSED.
 */
#include "channel.h"
#include "clock.h"
#include "grant.h"
#include "lib.h"
#include "mica/errors.h"
#include "port.h"
#include "process.h"
#include "sched.h"
#include "signal_wait.h"
#include "syscall_impl.h"
#include "uaccess.h"

spinlock_t ipc_lock = SPINLOCK_INIT;
static uint64_t last_txid;

#define KERNEL_SIGNALS (SIGNAL_READABLE | SIGNAL_WRITABLE | SIGNAL_PEER_CLOSED)

static void channel_close(struct channel *ep);

static void ep_destroy(struct object *o)
{
    struct channel *ep = container_of(o, struct channel, obj);
    kobj_free(ep->acct, ep, sizeof(*ep));
}

static void ep_last_handle(struct object *o)
{
    channel_close(container_of(o, struct channel, obj));
}

static const struct object_ops channel_ops = {
    .name = "channel",
    .destroy = ep_destroy,
    .last_handle = ep_last_handle,
};

int channel_create(struct kmem_account *acct, struct channel **a,
                   struct channel **b)
{
    struct channel *x = kobj_alloc(acct, sizeof(*x));
    struct channel *y = x ? kobj_alloc(acct, sizeof(*y)) : NULL;
    if (!y) {
        kobj_free(acct, x, sizeof(*x));
        return ERR_NO_MEMORY;
    }
    object_init(&x->obj, OBJ_CHANNEL, &channel_ops);
    object_init(&y->obj, OBJ_CHANNEL, &channel_ops);
    x->acct = y->acct = acct;
    x->obj.signals = y->obj.signals = SIGNAL_WRITABLE;
    object_ref(&y->obj);
    x->peer = y;
    object_ref(&x->obj);
    y->peer = x;
    *a = x;
    *b = y;
    return 0;
}

/* --- queues and signals (ipc_lock held) ---------------------------------- */

static void update_signals(struct channel *ep)
{
    mica_signals_t s = 0;
    if (ep->head)
        s |= SIGNAL_READABLE;
    if (!ep->peer)
        s |= SIGNAL_PEER_CLOSED;
    else if (ep->peer->count < MICA_CHANNEL_MAX_QUEUED)
        s |= SIGNAL_WRITABLE;
    if ((ep->obj.signals & KERNEL_SIGNALS) != s)
        object_signal(&ep->obj, KERNEL_SIGNALS, s);
}

/* Where threads wait to receive what arrives at ep. */
static struct receiver **receivers_of(struct channel *ep)
{
    return ep->port ? &ep->port->receivers : &ep->receivers;
}

/* Where calls to ep wait and are served: its port's, or its own. */
static struct serve_point *sp_of(struct channel *ep)
{
    return ep->port ? &ep->port->sp : &ep->sp;
}

static struct call **serving_of(struct channel *ep)
{
    return &sp_of(ep)->serving;
}

/* Wake the first thread waiting for messages at ep to look again. */
static void poke_receiver(struct channel *ep)
{
    struct receiver **list = receivers_of(ep);
    for (struct receiver *r = *list; r; r = r->next) {
        if (r->packets_only)
            continue;
        receiver_unlink(list, r);
        r->state = W_RETRY;
        sched_wakeup(r->t, 0);
        return;
    }
}

static void enqueue(struct channel *ep, struct msg *m)
{
    channel_gc_inflight_locked(m, +1);
    m->next = NULL;
    if (ep->tail)
        ep->tail->next = m;
    else
        ep->head = m;
    ep->tail = m;
    ep->count++;
    if (m->call)
        pi_queue_locked(m->call, sp_of(ep));
    if (ep->port)
        port_endpoint_ready_locked(ep->port, ep);
    update_signals(ep);
    if (ep->peer)
        update_signals(ep->peer);
    poke_receiver(ep);
}

static struct msg *dequeue(struct channel *ep)
{
    struct msg *m = ep->head;
    ep->head = m->next;
    if (!ep->head)
        ep->tail = NULL;
    ep->count--;
    channel_gc_inflight_locked(m, -1);
    if (m->call)
        pi_unqueue_locked(m->call);
    if (ep->port) {                         /* to the back, or off */
        port_endpoint_unready_locked(ep->port, ep);
        port_endpoint_ready_locked(ep->port, ep);
    }
    update_signals(ep);
    if (ep->peer)
        update_signals(ep->peer);
    return m;
}

static void requeue_front(struct channel *ep, struct msg *m)
{
    channel_gc_inflight_locked(m, +1);
    m->next = ep->head;
    ep->head = m;
    if (!ep->tail)
        ep->tail = m;
    ep->count++;
    if (m->call)
        pi_queue_locked(m->call, sp_of(ep));
    if (ep->port)
        port_endpoint_ready_locked(ep->port, ep);
    update_signals(ep);
    if (ep->peer)
        update_signals(ep->peer);
}

/* --- calls (ipc_lock held) ------------------------------------------------ */

void call_finish_locked(struct call *c, int status)
{
    pi_unqueue_locked(c);
    pi_unhold_locked(c);
    c->status = status;
    c->state = W_DONE;
    sched_wakeup(c->t, 0);
}

static void serving_link(struct call **head, struct call *c)
{
    c->prev = NULL;
    c->next = *head;
    if (*head)
        (*head)->prev = c;
    *head = c;
    c->state = W_SERVING;
}

/* c is served at sp by thread `by`, which it raises (pi.h). */
static void call_serve(struct serve_point *sp, struct call *c,
                       struct thread *by)
{
    c->sp = sp;
    serving_link(&sp->serving, c);
    pi_hold_locked(c, by);
}

static void serving_unlink(struct call **head, struct call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        *head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
}

/* Fail every call on `head` served at `server` with `status`. */
static void fail_serving(struct call **head, struct channel *server,
                         int status)
{
    for (struct call *c = *head, *next; c; c = next) {
        next = c->next;
        if (c->server != server)
            continue;
        serving_unlink(head, c);
        call_finish_locked(c, status);
    }
}

/* Thread `by` received c's request: c is served at ep from now on,
 * unless an end closed while the request was in flight. */
static void call_received(struct call *c, struct channel *ep,
                          struct thread *by)
{
    if (c->ep->closed)
        call_finish_locked(c, ERR_CANCELED);
    else if (ep->closed || !ep->peer)
        call_finish_locked(c, ERR_PEER_CLOSED);
    else
        call_serve(sp_of(ep), c, by);
}

/* The caller gives up (deadline, kill, interrupt): off every list, and
 * whoever it raised drops back. */
static void call_abandon(struct call *c)
{
    if (c->state == W_QUEUED && c->msg) {
        c->msg->call = NULL;
        c->msg = NULL;
    } else if (c->state == W_SERVING) {
        serving_unlink(&c->sp->serving, c);
    }
    pi_unqueue_locked(c);
    pi_unhold_locked(c);
    c->state = W_DONE;
}

/* Grants carried by c's request are tied to c (ipc_lock held). */
static void attach_grants(struct call *c, struct object *const *objs,
                          uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (grant_attach_locked(objs[i]))
            c->grants[c->ngrants++] = container_of(objs[i], struct grant,
                                                   obj);
}

static struct call *find_call(struct call *head, uint64_t txid)
{
    for (struct call *c = head; c; c = c->next)
        if (c->txid == txid)
            return c;
    return NULL;
}

/* --- sending -------------------------------------------------------------- */

static bool fits(const struct umsg *um, const struct ubuf *b)
{
    return um->nbytes <= b->bytes_cap && um->nhandles <= b->handles_cap;
}

/* A receiver blocked for ep's messages whose buffer takes um, claimed. */
static struct receiver *take_receiver(struct channel *ep, const struct umsg *um)
{
    struct receiver **list = receivers_of(ep);
    for (struct receiver *r = *list; r; r = r->next) {
        if (r->packets_only)
            continue;
        if (!fits(um, &r->buf))
            return NULL;
        receiver_unlink(list, r);
        r->state = W_CLAIMED;
        return r;
    }
    return NULL;
}

#define SEND_QUEUE 1    /* send_direct: the receiver failed; queue instead */

/* Copy um straight into r's buffer.  ipc_lock held on entry and exit,
 * dropped for the copy. */
static int send_direct(struct channel *ep, struct channel *peer,
                       struct receiver *r, const struct umsg *um,
                       struct direct *d, struct call *c, irqflags_t *f)
{
    r->kind = MICA_RECV_MESSAGE;
    r->key = peer->key;
    r->txid = c ? c->txid : 0;
    r->actual_bytes = um->nbytes;
    r->actual_handles = um->nhandles;
    if (um->nbytes || um->nhandles) {
        object_ref(&peer->obj);
        spin_unlock_irqrestore(&ipc_lock, *f);
        bool theirs;
        int err = msg_direct(um, r->t, &r->buf, &ep->obj, &peer->obj, d,
                             &theirs);
        if (!err)
            msg_direct_commit(d);
        object_unref(&peer->obj);
        *f = spin_lock_irqsave(&ipc_lock);
        if (err && theirs) {
            receiver_done(r, err);
            return SEND_QUEUE;
        }
        if (err) {
            r->state = W_RETRY;
            sched_wakeup(r->t, 0);
            return err;
        }
    }
    if (c) {
        attach_grants(c, d->objs, um->nhandles);
        c->server = peer;
        call_received(c, peer, r->t);
    }
    r->status = 0;
    r->state = W_DONE;
    return 0;
}

/* Copy um into the kernel and queue it at ep's peer. */
static int send_queued(struct channel *ep, const struct umsg *um,
                       struct direct *d, struct call *c, irqflags_t *f)
{
    struct channel *peer = ep->peer;
    object_ref(&peer->obj);
    spin_unlock_irqrestore(&ipc_lock, *f);
    struct msg *m;
    int err = msg_create(um, &process_current()->acct, d->src, &ep->obj,
                         &peer->obj, &m);
    object_unref(&peer->obj);
    *f = spin_lock_irqsave(&ipc_lock);
    if (err)
        return err;
    peer = ep->peer;
    if (!peer || peer->kernel_held ||
        peer->count >= MICA_CHANNEL_MAX_QUEUED) {
        spin_unlock_irqrestore(&ipc_lock, *f);
        msg_abort_take(d->src, um->nhandles);
        kobj_free(m->acct, m, m->size);
        *f = spin_lock_irqsave(&ipc_lock);
        return !peer ? ERR_PEER_CLOSED
               : peer->kernel_held ? ERR_NOT_SUPPORTED : ERR_SHOULD_WAIT;
    }
    m->txid = c ? c->txid : 0;
    m->call = c;
    if (c) {
        attach_grants(c, m->objs, m->nhandles);
        c->msg = m;
        c->server = peer;
        c->state = W_QUEUED;
    }
    enqueue(peer, m);
    spin_unlock_irqrestore(&ipc_lock, *f);
    msg_commit_take(d->src, um->nhandles);
    *f = spin_lock_irqsave(&ipc_lock);
    return 0;
}

/* Send um from ep (as call c, if any).  *to is the receiver it went
 * straight to, DONE and still to be woken.  ipc_lock held. */
static int send_locked(struct channel *ep, const struct umsg *um,
                       struct direct *d, struct call *c, irqflags_t *f,
                       struct thread **to)
{
    *to = NULL;
    for (int tries = 0;; tries++) {
        if (ep->closed)
            return ERR_CANCELED;
        struct channel *peer = ep->peer;
        if (!peer)
            return ERR_PEER_CLOSED;
        if (peer->kernel_held)
            return ERR_NOT_SUPPORTED;   /* an exception channel's end */
        if (peer->count >= MICA_CHANNEL_MAX_QUEUED)
            return ERR_SHOULD_WAIT;
        struct receiver *r = tries == 0 ? take_receiver(peer, um) : NULL;
        if (!r)
            return send_queued(ep, um, d, c, f);
        int err = send_direct(ep, peer, r, um, d, c, f);
        if (err != SEND_QUEUE) {
            if (!err)
                *to = r->t;
            return err;
        }
    }
}

int channel_write(struct channel *ep, const struct umsg *um)
{
    struct direct d;
    int err = msg_handles_in(um, d.src);
    if (err)
        return err;
    struct thread *to;
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    err = send_locked(ep, um, &d, NULL, &f, &to);
    if (to)
        sched_wakeup(to, 0);
    spin_unlock_irqrestore(&ipc_lock, f);
    return err;
}

int channel_write_kernel(struct channel *ep, struct msg *m)
{
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    struct channel *peer = ep->peer;
    int err = ep->closed ? ERR_CANCELED
              : !peer || peer->kernel_held ? ERR_PEER_CLOSED
              : peer->count >= MICA_CHANNEL_MAX_QUEUED ? ERR_SHOULD_WAIT : 0;
    if (!err) {
        m->txid = 0;
        m->call = NULL;
        enqueue(peer, m);
    }
    spin_unlock_irqrestore(&ipc_lock, f);
    return err;
}

bool channel_peer_closed(struct channel *ep)
{
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    bool closed = ep->closed || !ep->peer;
    spin_unlock_irqrestore(&ipc_lock, f);
    return closed;
}

int channel_kernel_hold(struct channel *ep, bool hold)
{
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    int err = 0;
    if (hold && (ep->closed || !ep->peer))
        err = ERR_PEER_CLOSED;
    else if (hold && (ep->peer->kernel_held ||
                      __atomic_load_n(&ep->obj.handles, __ATOMIC_RELAXED) != 1))
        err = ERR_BAD_STATE;
    if (!err)
        ep->kernel_held = hold;
    spin_unlock_irqrestore(&ipc_lock, f);
    return err;
}

/* Block until c is answered; first running `to` (a receiver just handed
 * the request) in our place.  ipc_lock held.  Inlined: channel_call is
 * the fast path's (make bench), and channel_call_kernel calls it too. */
static inline __attribute__((always_inline)) int
call_wait(struct call *c, struct thread *to, uint64_t deadline,
          irqflags_t *f)
{
    int err = 0;
    for (;;) {
        while (c->state == W_CLAIMED) {     /* a reply is being copied */
            spin_unlock_irqrestore(&ipc_lock, *f);
            arch_cpu_relax();
            *f = spin_lock_irqsave(&ipc_lock);
        }
        if (c->state == W_DONE)
            return c->status;
        if (err) {
            call_abandon(c);
            return err;
        }
        if (deadline && clock_ns() >= deadline) {
            err = ERR_TIMED_OUT;
            if (to)
                sched_wakeup(to, 0);
            to = NULL;
            continue;
        }
        err = sched_block_handoff(to, &ipc_lock, *f, deadline);
        to = NULL;
        *f = spin_lock_irqsave(&ipc_lock);
    }
}

int channel_call(struct channel *ep, const struct umsg *um,
                 const struct ubuf *reply, uint64_t deadline,
                 uint32_t *nb, uint32_t *nh)
{
    struct direct d;
    int err = msg_handles_in(um, d.src);
    if (err)
        return err;
    struct call c;                      /* grants[] filled as needed */
    c.t = thread_current();
    c.next = c.prev = NULL;
    c.ep = ep;
    c.server = NULL;
    c.msg = NULL;
    c.reply = *reply;
    c.kernel_reply = false;
    c.txid = __atomic_add_fetch(&last_txid, 1, __ATOMIC_RELAXED);
    c.state = W_WAITING;
    c.status = 0;
    c.actual_bytes = c.actual_handles = 0;
    c.ngrants = 0;
    struct thread *to;
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    pi_call_begin_locked(&c);
    err = send_locked(ep, um, &d, &c, &f, &to);
    if (!err)
        err = call_wait(&c, to, deadline, &f);
    pi_call_end_locked(&c);
    spin_unlock_irqrestore(&ipc_lock, f);
    for (uint32_t i = 0; i < c.ngrants; i++) {
        grant_revoke(c.grants[i]);
        object_unref(&c.grants[i]->obj);
    }
    *nb = c.actual_bytes;
    *nh = c.actual_handles;
    return err;
}

int channel_call_kernel(struct channel *ep, struct msg *m, void *reply,
                        uint32_t cap, uint64_t deadline, uint32_t *nb,
                        bool *queued)
{
    struct call c;
    c.t = thread_current();
    c.next = c.prev = NULL;
    c.ep = ep;
    c.msg = NULL;
    c.reply = (struct ubuf){ .bytes = (uint64_t)(uintptr_t)reply,
                             .bytes_cap = cap };
    c.kernel_reply = true;
    c.txid = __atomic_add_fetch(&last_txid, 1, __ATOMIC_RELAXED);
    c.state = W_WAITING;
    c.status = 0;
    c.actual_bytes = c.actual_handles = 0;
    c.ngrants = 0;
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    struct channel *peer = ep->peer;
    int err = ep->closed ? ERR_CANCELED
              : !peer ? ERR_PEER_CLOSED
              : peer->kernel_held ? ERR_NOT_SUPPORTED
              : peer->count >= MICA_CHANNEL_MAX_QUEUED ? ERR_SHOULD_WAIT : 0;
    *queued = !err;
    if (!err) {
        pi_call_begin_locked(&c);
        m->txid = c.txid;
        m->call = &c;
        c.msg = m;
        c.server = peer;
        c.state = W_QUEUED;
        enqueue(peer, m);
        err = call_wait(&c, NULL, deadline, &f);
        pi_call_end_locked(&c);
    }
    spin_unlock_irqrestore(&ipc_lock, f);
    *nb = c.actual_bytes;
    return err;
}

/* --- replying --------------------------------------------------------------- */

/* The bytes of a reply to a call the kernel made go into its buffer,
 * copied from the replying thread's own memory.  ERR_FAULT is ours. */
static int reply_kernel(const struct umsg *um, struct call *c)
{
    void *dst = (void *)(uintptr_t)c->reply.bytes;
    return copy_from_user(dst, um->bytes, um->nbytes);
}

int channel_reply(struct channel *ep, struct port *src_port, uint64_t txid,
                  const struct umsg *um, struct thread **wake)
{
    struct direct d;
    *wake = NULL;
    int err = msg_handles_in(um, d.src);
    if (err)
        return err;
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    struct call **head = src_port ? &src_port->sp.serving : &ep->sp.serving;
    struct call *c = txid ? find_call(*head, txid) : NULL;
    if (!c) {
        spin_unlock_irqrestore(&ipc_lock, f);
        return ERR_NOT_FOUND;
    }
    serving_unlink(head, c);
    c->actual_bytes = um->nbytes;
    c->actual_handles = um->nhandles;
    if (!fits(um, &c->reply)) {
        c->status = ERR_BUFFER_TOO_SMALL;
        err = ERR_BUFFER_TOO_SMALL;
    } else if (um->nbytes || um->nhandles) {
        c->state = W_CLAIMED;
        spin_unlock_irqrestore(&ipc_lock, f);
        bool theirs = false;
        if (c->kernel_reply) {
            err = reply_kernel(um, c);
        } else {
            err = msg_direct(um, c->t, &c->reply, &c->server->obj,
                             &c->ep->obj, &d, &theirs);
            if (!err)
                msg_direct_commit(&d);
        }
        f = spin_lock_irqsave(&ipc_lock);
        if (err && !theirs) {
            serving_link(head, c);          /* ours: try again later */
            spin_unlock_irqrestore(&ipc_lock, f);
            return err;
        }
        c->status = err;
    } else {
        c->status = 0;
    }
    pi_unhold_locked(c);                    /* the server drops back */
    c->state = W_DONE;
    *wake = c->t;
    spin_unlock_irqrestore(&ipc_lock, f);
    return err;
}

/* --- receiving -------------------------------------------------------------- */

int channel_take_msg_locked(struct channel *ep, const struct ubuf *b,
                            struct recv_out *out, irqflags_t *f)
{
    struct msg *m = ep->head;
    out->kind = MICA_RECV_MESSAGE;
    out->key = ep->key;
    out->txid = m->txid;
    out->actual_bytes = m->nbytes;
    out->actual_handles = m->nhandles;
    if (m->nbytes > b->bytes_cap || m->nhandles > b->handles_cap)
        return ERR_BUFFER_TOO_SMALL;
    dequeue(ep);
    struct call *c = m->call;
    if (c) {
        m->call = NULL;
        c->msg = NULL;
        c->state = W_CLAIMED;
    }
    spin_unlock_irqrestore(&ipc_lock, *f);
    int err = msg_read(m, b);
    *f = spin_lock_irqsave(&ipc_lock);
    if (!err) {
        if (c)
            call_received(c, ep, thread_current());
        return 0;
    }
    if (!ep->closed) {
        m->call = c;
        if (c) {
            c->msg = m;
            c->state = W_QUEUED;
        }
        requeue_front(ep, m);
        return err;
    }
    if (c)
        call_finish_locked(c, ERR_PEER_CLOSED);
    spin_unlock_irqrestore(&ipc_lock, *f);
    msg_destroy(m);
    *f = spin_lock_irqsave(&ipc_lock);
    return err;
}

static void out_from_receiver(struct recv_out *out, const struct receiver *r)
{
    out->kind = r->kind;
    out->actual_bytes = r->actual_bytes;
    out->actual_handles = r->actual_handles;
    out->key = r->key;
    out->txid = r->txid;
    out->pkt = r->pkt;
}

int channel_receive(struct channel *ep, const struct ubuf *b, bool nowait,
                    uint64_t deadline, struct thread *wake,
                    struct recv_out *out)
{
    struct receiver r = { .t = thread_current(), .buf = *b };
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    int err;
    for (;;) {
        if (ep->port) {
            err = ERR_BAD_STATE;
        } else if (ep->closed) {
            err = ERR_CANCELED;
        } else if (ep->head) {
            err = channel_take_msg_locked(ep, b, out, &f);
        } else if (!ep->peer) {
            err = ERR_PEER_CLOSED;
        } else if (nowait) {
            err = ERR_SHOULD_WAIT;
        } else {
            err = receiver_block(&r, &ep->receivers, deadline, wake, &f);
            wake = NULL;
            if (r.state == W_DONE) {
                err = r.status;
                out_from_receiver(out, &r);
            } else if (!err) {
                continue;                   /* look again */
            }
        }
        break;
    }
    spin_unlock_irqrestore(&ipc_lock, f);
    if (wake)
        sched_wakeup(wake, 0);
    return err;
}

/* --- binding and closing ------------------------------------------------------ */

/* ep was bound or unbound: the calls queued at it now wait at its new
 * serve point. */
static void requeue_calls(struct channel *ep)
{
    for (struct msg *m = ep->head; m; m = m->next) {
        if (m->call) {
            pi_unqueue_locked(m->call);
            pi_queue_locked(m->call, sp_of(ep));
        }
    }
}

int channel_bind(struct channel *ep, struct port *port, uint64_t key)
{
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    int err = 0;
    if (ep->port)
        err = ERR_ALREADY_EXISTS;
    else if (ep->sp.serving || ep->receivers || port->closed || ep->closed)
        err = ERR_BAD_STATE;
    if (!err) {
        object_ref(&port->obj);
        ep->port = port;
        ep->key = key;
        ep->bound_next = port->bound;
        port->bound = ep;
        requeue_calls(ep);
        if (ep->head) {
            port_endpoint_ready_locked(port, ep);
            poke_receiver(ep);
        }
    }
    spin_unlock_irqrestore(&ipc_lock, f);
    return err;
}

void channel_unbind_locked(struct channel *ep)
{
    ep->port = NULL;
    ep->on_ready = false;
    ep->ready_next = ep->bound_next = NULL;
    requeue_calls(ep);
}

/* The peer of a closing endpoint: calls from it fail, it sees the close. */
static void close_peer(struct channel *ep, struct channel *peer)
{
    for (struct msg *m = peer->head; m; m = m->next) {
        if (m->call) {
            call_finish_locked(m->call, ERR_CANCELED);
            m->call = NULL;
        }
    }
    fail_serving(serving_of(peer), peer, ERR_CANCELED);
    peer->peer = NULL;
    ep->peer = NULL;
    if (!peer->port)
        for (struct receiver *r; (r = peer->receivers);) {
            receiver_unlink(&peer->receivers, r);
            r->state = W_RETRY;
            sched_wakeup(r->t, 0);
        }
    update_signals(peer);
}

struct msg *channel_purge_locked(struct channel *ep, int status)
{
    struct msg *dead = ep->head;
    ep->head = ep->tail = NULL;
    ep->count = 0;
    for (struct msg *m = dead; m; m = m->next) {
        channel_gc_inflight_locked(m, -1);
        if (m->call) {
            call_finish_locked(m->call, status);
            m->call = NULL;
        }
    }
    if (ep->port)
        port_endpoint_unready_locked(ep->port, ep);
    update_signals(ep);
    if (ep->peer)
        update_signals(ep->peer);
    return dead;
}

static void destroy_all(struct msg *m)
{
    for (struct msg *next; m; m = next) {
        next = m->next;
        msg_destroy(m);
    }
}

static void channel_close(struct channel *ep)
{
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    ep->closed = true;
    struct msg *dead = channel_purge_locked(ep, ERR_PEER_CLOSED);
    for (struct receiver *r; (r = ep->receivers);) {
        receiver_unlink(&ep->receivers, r);
        receiver_done(r, ERR_CANCELED);
    }
    fail_serving(serving_of(ep), ep, ERR_PEER_CLOSED);
    struct channel *peer = ep->peer;
    if (peer)
        close_peer(ep, peer);
    struct port *port = ep->port;
    if (port) {
        port_endpoint_remove_locked(port, ep);
        channel_unbind_locked(ep);
    }
    struct msg *garbage = channel_gc_pending() ? channel_gc_locked() : NULL;
    spin_unlock_irqrestore(&ipc_lock, f);
    destroy_all(dead);
    destroy_all(garbage);
    if (peer) {
        object_unref(&peer->obj);           /* ep's reference to it */
        object_unref(&ep->obj);             /* its reference to ep */
    }
    if (port)
        object_unref(&port->obj);
}
