/*
 * channel.h - channels: pairs of message endpoints, and calls.
 *
 * A channel is two endpoint objects (OBJ_CHANNEL), each the other's peer.
 * What one end writes queues at the other, up to MICA_CHANNEL_MAX_QUEUED
 * messages.  An endpoint may be bound to a port: its messages are then
 * received through the port, with the key given at binding.
 *
 * A call writes a request with a kernel-assigned transaction id and
 * blocks until the reply with that id comes back; the call record lives
 * on the caller's stack (ipc.h).  docs/ipc.md has the rules for each
 * kind of death.
 */
#ifndef MICA_CHANNEL_H
#define MICA_CHANNEL_H

#include "ipc.h"

struct port;

struct channel {
    struct object obj;              /* OBJ_CHANNEL */
    struct channel *peer;           /* referenced; NULL once an end closed */
    struct msg *head, *tail;        /* messages to read here */
    uint32_t count;
    struct receiver *receivers;     /* threads blocked reading here */
    struct serve_point sp;          /* calls queued and served here,
                                       while unbound */
    struct port *port;              /* bound to (referenced) */
    uint64_t key;
    struct channel *ready_next;     /* on port->ready while it has messages */
    struct channel *bound_next;     /* on port->bound */
    bool on_ready;
    bool closed;                    /* its last handle is gone */
    bool kernel_held;               /* an exception channel's: only the
                                       kernel writes through it, and
                                       nothing may be written to it */
    struct kmem_account *acct;
    /* cycle collection (channel_gc.c) */
    uint32_t inflight;              /* its handles inside queued messages */
    struct channel *inflight_next, *inflight_prev;
    struct channel *gc_next;        /* work list */
    uint32_t gc_refs;
    bool gc_cand, gc_live;
};

/* A new pair, charged to acct, each with one reference for the caller. */
int channel_create(struct kmem_account *acct, struct channel **a,
                   struct channel **b);

/* Send um through ep (no reply wanted).  Errors: ERR_PEER_CLOSED,
 * ERR_SHOULD_WAIT (the peer's queue is full), ERR_FAULT, ERR_NO_MEMORY,
 * ERR_BAD_HANDLE, ERR_ACCESS_DENIED, ERR_INVALID_ARGS. */
int channel_write(struct channel *ep, const struct umsg *um);

/* The kernel sends m through ep (exception channels): queued at the
 * peer, never straight into a receiver's buffer.  On success m is the
 * queue's.  Errors: ERR_CANCELED (ep closed), ERR_PEER_CLOSED,
 * ERR_SHOULD_WAIT (the peer's queue is full); m stays the caller's. */
int channel_write_kernel(struct channel *ep, struct msg *m);

/* Whether ep's peer has closed (a snapshot). */
bool channel_peer_closed(struct channel *ep);

/* An exception channel's endpoint (exception.c) becomes the kernel's
 * (hold true; writes to it then fail with ERR_NOT_SUPPORTED), or stops
 * being so (a binding that failed).  The caller holds ep's only handle,
 * leaving its table.  Errors (hold true): ERR_PEER_CLOSED, ERR_BAD_STATE
 * (ep has another handle, in a table or in flight, or its peer is an
 * exception channel's too: nobody could read either end). */
int channel_kernel_hold(struct channel *ep, bool hold);

/* Send um as a call and wait for the reply into `reply` (sizes received
 * or needed in *nb, *nh).  Errors: those of channel_write, and
 * ERR_TIMED_OUT, ERR_CANCELED (killed, or ep closed), ERR_PEER_CLOSED
 * (the server's end closed), ERR_BUFFER_TOO_SMALL (the reply was
 * dropped), ERR_FAULT (the reply buffer). */
int channel_call(struct channel *ep, const struct umsg *um,
                 const struct ubuf *reply, uint64_t deadline,
                 uint32_t *nb, uint32_t *nh);

/* The kernel calls through ep on the current thread's behalf (a
 * process's standard streams, console_client.c): m, built by the kernel,
 * is queued at the peer as a call, and the reply's bytes (no handles)
 * are copied into `reply`, kernel memory of `cap` bytes, by the thread
 * that replies; their count goes to *nb.  The call lends priority and
 * ends on death as any other.  On an error before m was queued
 * (ERR_CANCELED, ERR_PEER_CLOSED, ERR_NOT_SUPPORTED, ERR_SHOULD_WAIT: the
 * peer's queue is full) m stays the caller's; after, it is the queue's.
 * Errors once queued: those of channel_call. */
int channel_call_kernel(struct channel *ep, struct msg *m, void *reply,
                        uint32_t cap, uint64_t deadline, uint32_t *nb,
                        bool *queued);

/* Where a received message goes and what came with it. */
struct recv_out {
    uint32_t kind;
    uint32_t actual_bytes, actual_handles;
    uint64_t key, txid;
    struct mica_packet pkt;
};

/* The receive half, for an unbound endpoint: wait (unless `nowait`)
 * for the next message.  `wake` (optional) is a thread to run in our
 * place when we block: a caller just replied to.  Errors:
 * ERR_SHOULD_WAIT (nowait, empty), ERR_PEER_CLOSED (empty and the peer
 * closed), ERR_BUFFER_TOO_SMALL, ERR_BAD_STATE (bound to a port),
 * ERR_TIMED_OUT, ERR_CANCELED, ERR_FAULT, ERR_NO_RESOURCES. */
int channel_receive(struct channel *ep, const struct ubuf *b, bool nowait,
                    uint64_t deadline, struct thread *wake,
                    struct recv_out *out);

/* Reply to transaction txid received through ep (src_port NULL) or
 * through the port.  On success *wake is the caller, DONE but not yet
 * woken: the caller of channel_reply wakes it (or runs it).  Errors:
 * ERR_NOT_FOUND (no such call pending: answered, abandoned, or never),
 * ERR_BUFFER_TOO_SMALL (the caller's buffer: the call ends with it),
 * ERR_FAULT, ERR_BAD_HANDLE, ... (ours: the call stays pending). */
int channel_reply(struct channel *ep, struct port *src_port, uint64_t txid,
                  const struct umsg *um, struct thread **wake);

/* Bind ep to port with key.  ERR_ALREADY_EXISTS (already bound),
 * ERR_BAD_STATE (calls it received are pending, or the port is closed). */
int channel_bind(struct channel *ep, struct port *port, uint64_t key);

/* Receive ep's first message into b (ipc_lock held, flags *f; dropped
 * during the copy).  A call in it becomes one the receiver serves.
 * Errors as msg_read; the message then stays queued. */
int channel_take_msg_locked(struct channel *ep, const struct ubuf *b,
                            struct recv_out *out, irqflags_t *f);

/* channel_gc.c, ipc_lock held.  A queued message carrying m's handles
 * went in (+1) or out (-1) of a queue. */
void channel_gc_inflight_locked(struct msg *m, int delta);
/* Find endpoints reachable only from queues of other such endpoints
 * (cycles nobody can read any more) and take their queued messages out;
 * returns them, for the caller to destroy once ipc_lock is dropped. */
struct msg *channel_gc_locked(void);
/* True when channel_gc_locked has anything to look at. */
bool channel_gc_pending(void);
/* channel.c: take ep's queue for destruction (calls in it fail). */
struct msg *channel_purge_locked(struct channel *ep, int status);

/* port.c: a closed port lets its bound endpoints go. */
void channel_unbind_locked(struct channel *ep);

#endif
