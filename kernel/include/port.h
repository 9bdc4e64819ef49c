/*
 * port.h - ports: where a server waits for everything at once.
 *
 * A port (OBJ_PORT) collects the messages of the channel endpoints bound
 * to it (each with a key), packets queued by user code (port_queue),
 * by signal observers (object_wait_async) and by timers.  Threads
 * receive from it with port_receive (messages and packets) or port_wait
 * (packets only).  Calls received through a port are answered through
 * it (reply_receive), so the port also keeps the calls it has handed
 * out and not yet seen answered.
 */
#ifndef MICA_PORT_H
#define MICA_PORT_H

#include "channel.h"
#include "ipc.h"

struct pkt {
    struct pkt *next;
    struct kmem_account *acct;      /* charged, or NULL: owner-provided */
    struct mica_packet p;
    bool queued;                    /* on a port's queue (ipc_lock) */
};

struct port_source;

struct port {
    struct object obj;              /* OBJ_PORT */
    struct receiver *receivers;     /* threads blocked receiving */
    struct channel *ready_head, *ready_tail;
    struct channel *bound;          /* every bound endpoint */
    struct pkt *pkt_head, *pkt_tail;
    uint32_t npkts;
    struct serve_point sp;          /* calls queued at its endpoints, and
                                       received here, reply pending */
    bool closed;                    /* its last handle is gone */
    struct kmem_account *acct;
    struct port_source *sources;    /* observers, timers (observer.h) */
};

int port_create(struct kmem_account *acct, struct port **out);

/* Receive the next message (or packet) through the port into b.
 * `packets_only`: port_wait.  `wake` as for channel_receive.  Errors:
 * ERR_SHOULD_WAIT (nowait), ERR_TIMED_OUT, ERR_CANCELED,
 * ERR_BUFFER_TOO_SMALL (the message stays queued; out has its sizes and
 * key), ERR_FAULT, ERR_NO_RESOURCES, ERR_NO_MEMORY. */
int port_receive(struct port *p, const struct ubuf *b, bool packets_only,
                 bool nowait, uint64_t deadline, struct thread *wake,
                 struct recv_out *out);

/* Queue a packet charged to acct (user packets).  ERR_SHOULD_WAIT when
 * MICA_PORT_MAX_PACKETS are queued, ERR_NO_MEMORY, ERR_BAD_STATE. */
int port_queue(struct port *p, const struct mica_packet *pkt,
               struct kmem_account *acct);

/* Queue a packet the caller allocated with kobj_alloc(pk->acct, ...)
 * (observers and timers allocate theirs ahead, so this cannot fail);
 * the port frees it once delivered or when it closes.  An
 * owner-provided packet (acct NULL: a timer's) is never freed here:
 * `queued` tells its owner whether it still waits on the queue, and the
 * owner withdraws it before it goes away. */
void port_queue_pkt_locked(struct port *p, struct pkt *pk);

/* Take a queued owner-provided packet off p's queue (ipc_lock held). */
void port_unqueue_pkt_locked(struct port *p, struct pkt *pk);

/* For channel.c, ipc_lock held.  ready: ep has messages, put it at the
 * back of the port's ready list unless it is on it; unready: take it
 * off; remove: off the ready and bound lists (ep closes). */
void port_endpoint_ready_locked(struct port *p, struct channel *ep);
void port_endpoint_unready_locked(struct port *p, struct channel *ep);
void port_endpoint_remove_locked(struct port *p, struct channel *ep);

#endif
