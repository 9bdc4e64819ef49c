/*
 * ipc.h - what channels (channel.c), ports (port.c) and messages (msg.c)
 * share.
 *
 * One lock, ipc_lock, guards every queue, waiter list and endpoint link
 * of the IPC objects, as sched_lock guards the run queues: it keeps the
 * death rules (docs/ipc.md) simple to get right.  It also guards
 * priority inheritance (pi.h), IPC's and PI futexes' alike.  Order: a
 * futex bucket's lock, then ipc_lock, then an object's lock (signals),
 * then sched_lock.  User memory is never touched with ipc_lock held: a
 * copy can fault, and resolving a fault may wait for other CPUs.
 *
 * Waiting threads are described by records on their own kernel stacks:
 *
 *   struct receiver  a thread blocked in a receive (channel or port).
 *   struct call      a thread blocked in channel_call, awaiting a reply.
 *
 * Handing a message to a waiting thread is claim, copy, complete: under
 * ipc_lock the sender takes the record off its list (CLAIMED); without
 * the lock it copies straight into the waiter's buffer; under the lock
 * again it marks the record DONE and wakes or switches to the waiter.
 * A claimed waiter woken early (deadline, kill) does not leave before
 * the claim ends, so its buffer and handle table stay valid for the
 * copy; the copy itself takes its own page references (msg.c).
 */
#ifndef MICA_IPC_H
#define MICA_IPC_H

#include <mica/ipc.h>
#include <mica/rights.h>

#include "kmem.h"
#include "object.h"
#include "pi.h"
#include "spinlock.h"
#include "thread.h"

extern spinlock_t ipc_lock;

/* A receive buffer in some thread's address space. */
struct ubuf {
    uint64_t bytes, handles;            /* user addresses */
    uint32_t bytes_cap, handles_cap;
    uint64_t infos;                     /* user address, or 0: none wanted */
};

/* A message still in its sender's memory. */
struct umsg {
    uint64_t bytes, handles;            /* user addresses */
    uint32_t nbytes, nhandles;
};

/* A message queued in the kernel: its bytes, and its handles in flight
 * (each holds a reference and counts as a handle of its object). */
struct msg {
    struct msg *next;
    struct call *call;          /* the caller awaiting a reply, if a call */
    uint64_t txid;              /* 0: not a call */
    uint32_t nbytes, nhandles;
    uint32_t size;              /* bytes allocated */
    struct kmem_account *acct;  /* charged for the message */
    struct object **objs;
    mica_rights_t *rights;
    uint8_t *data;
};

/* Waiter states (receiver.state, call.state). */
enum {
    W_WAITING,      /* on a list, nothing yet */
    W_CLAIMED,      /* taken off its list by a thread delivering to it */
    W_DONE,         /* delivered: results filled in */
    W_RETRY,        /* woken to look at its queue again */
    W_QUEUED,       /* call: request queued, not yet received */
    W_SERVING,      /* call: received by a server, reply pending */
};

struct receiver {
    struct thread *t;
    struct receiver *next;
    struct ubuf buf;
    uint32_t state;
    bool packets_only;          /* port_wait: no messages */
    /* results, once DONE */
    int status;
    uint32_t kind;              /* MICA_RECV_* */
    uint32_t actual_bytes, actual_handles;
    uint64_t key, txid;
    struct mica_packet pkt;
    struct call *served;        /* the call it received, if any */
};

struct channel;
struct grant;

struct call {
    struct thread *t;
    struct call *next, *prev;   /* on the serving list (SERVING) */
    struct channel *ep;         /* the caller's endpoint */
    struct channel *server;     /* the endpoint it went to */
    struct msg *msg;            /* its request, while QUEUED */
    /* priority inheritance (pi.h) */
    struct serve_point *sp;     /* where it is queued or served */
    struct thread *holder;      /* the thread serving it, if any */
    struct call *hold_next, *hold_prev;     /* on holder->pi_held */
    uint8_t q_prio;             /* counted in sp->queued, if q_counted */
    bool q_counted;
    struct ubuf reply;          /* the caller's; kernel memory if kernel_reply */
    bool kernel_reply;          /* a call the kernel makes (channel_call_kernel) */
    uint64_t txid;
    uint32_t state;
    int status;
    uint32_t actual_bytes, actual_handles;
    uint32_t ngrants;
    struct grant *grants[MICA_MSG_MAX_HANDLES];     /* tied to this call */
};

/* --- priority inheritance for calls (pi.h), inline for the fast path:
 * ipc_lock held. */

/* The current thread, c->t, is blocked in call c ... */
static inline void pi_call_begin_locked(struct call *c)
{
    c->holder = NULL;
    c->q_counted = false;
    c->t->pi_call = c;
}

/* ... no longer (c is off every list). */
static inline void pi_call_end_locked(struct call *c)
{
    c->t->pi_call = NULL;
}

/* Thread t serves c, received through c->sp: it is lent c's caller's
 * priority and that of the callers queued at c->sp. */
static inline void pi_hold_locked(struct call *c, struct thread *t)
{
    c->holder = t;
    c->hold_prev = NULL;
    c->hold_next = t->pi_held;
    if (t->pi_held)
        t->pi_held->hold_prev = c;
    t->pi_held = c;
    if (c->t->prio > t->prio || (c->sp->queued.bits >> t->prio) > 1)
        pi_refresh_locked(t);
}

/* ... no longer (answered, failed, abandoned); a no-op if not held. */
static inline void pi_unhold_locked(struct call *c)
{
    struct thread *t = c->holder;
    if (!t)
        return;
    if (c->hold_prev)
        c->hold_prev->hold_next = c->hold_next;
    else
        t->pi_held = c->hold_next;
    if (c->hold_next)
        c->hold_next->hold_prev = c->hold_prev;
    c->holder = NULL;
    if (t->prio > t->base_prio)         /* else nothing lent counted */
        pi_refresh_locked(t);
}

/* channel.c: end call c with `status` and wake its caller; c is off
 * every list already (ipc_lock held). */
void call_finish_locked(struct call *c, int status);

/* msg.c: building, delivering and destroying messages. */

/* Copy a user message into a new kernel message charged to `acct`,
 * taking its handles from the caller's table (begun, not committed:
 * msg_commit_take or msg_abort_take finish it).  `self` and `peer` are
 * objects the message may not carry.  Errors: ERR_NO_MEMORY, ERR_FAULT,
 * ERR_BAD_HANDLE, ERR_ACCESS_DENIED, ERR_INVALID_ARGS. */
int msg_create(const struct umsg *um, struct kmem_account *acct,
               const mica_handle_t *hs, struct object *self,
               struct object *peer, struct msg **out);
void msg_commit_take(const mica_handle_t *hs, uint32_t n);

/* A message of nbytes and no handles, charged to acct, whose bytes
 * (m->data) the kernel fills before sending it.  ERR_NO_MEMORY. */
int msg_create_kernel_raw(struct kmem_account *acct, uint32_t nbytes,
                          struct msg **out);

/* A message the kernel writes: nbytes of data and n handles in flight
 * (objs[i]: a reference and a handle count each, which the message
 * takes over).  Error: ERR_NO_MEMORY (the caller keeps objs). */
int msg_create_kernel(struct kmem_account *acct, const void *data,
                      uint32_t nbytes, struct object *const *objs,
                      const mica_rights_t *rights, uint32_t n,
                      struct msg **out);
void msg_abort_take(const mica_handle_t *hs, uint32_t n);

/* Destroy a message nobody will read, closing the handles inside. */
void msg_destroy(struct msg *m);

/* The receiving thread copies a queued message into its own buffer and
 * takes its handles.  0, or ERR_BUFFER_TOO_SMALL (sizes in *nb, *nh),
 * ERR_FAULT, ERR_NO_RESOURCES, ERR_NO_MEMORY: the message is untouched
 * and stays the caller's to keep queued.  On success m is consumed. */
int msg_read(struct msg *m, const struct ubuf *b);

/* Sending straight into a blocked thread's buffer. */
struct direct {
    mica_handle_t src[MICA_MSG_MAX_HANDLES];    /* the sender's handles */
    mica_handle_t dst[MICA_MSG_MAX_HANDLES];    /* reserved for the receiver */
    struct object *objs[MICA_MSG_MAX_HANDLES];
    mica_rights_t rights[MICA_MSG_MAX_HANDLES];
    uint32_t n;
    struct handle_table *dst_table;
};

/* Copy um from the current thread into thread t's buffer b and move its
 * handles (prepared, not committed).  0; ERR_FAULT with *theirs false
 * when the sender's memory or handles are at fault (ERR_BAD_HANDLE, ...)
 * and true when the receiver's buffer or table is (ERR_FAULT,
 * ERR_NO_RESOURCES, ...).  On error nothing moved. */
int msg_direct(const struct umsg *um, struct thread *t, const struct ubuf *b,
               struct object *self, struct object *peer, struct direct *d,
               bool *theirs);
void msg_direct_commit(struct direct *d);
void msg_direct_abort(struct direct *d);

/* Read the sender's handle values of um into d->src and check the
 * count; ERR_FAULT, ERR_OUT_OF_RANGE. */
int msg_handles_in(const struct umsg *um, mica_handle_t *hs);

/* port.c */
struct port;

/* Hand a receiver its results and wake it (ipc_lock held). */
void receiver_done(struct receiver *r, int status);
/* Block the current thread as receiver r on *list until it is DONE or
 * RETRY, the deadline passes or it is killed, first running `wake` (if
 * any) in its place.  Called and returning with ipc_lock held (flags
 * *f).  Returns 0 when DONE or RETRY, else the wake error with r off
 * its list. */
int receiver_block(struct receiver *r, struct receiver **list,
                   uint64_t deadline, struct thread *wake, irqflags_t *f);
/* Take r off a list (ipc_lock held). */
void receiver_unlink(struct receiver **list, struct receiver *r);

#endif
