/*
 * interrupt.h - interrupt objects: a driver's end of a device interrupt
 * line.
 *
 * An interrupt object (OBJ_INTERRUPT) is one sink of an irq_hw line
 * (irq.h): it is told of every service the line starts and owes an
 * answer for it (docs/interrupts.md).  While it owes one, its
 * SIGNAL_SIGNALED is asserted, so object_wait_one, object_wait_async and
 * wait_many work on it like on anything else; interrupt_wait is the
 * precise form (a sequence number newer than the last one seen).  Bound
 * to a port, it also queues a MICA_PACKET_INTERRUPT packet for every
 * service (data[0] the sequence number, data[1] how many services the
 * packet stands for, when the driver was slow to take it).
 *
 * The object names its holder in reports by the program name of the
 * last process that waited on it or answered through it (at first, its
 * creator): `holder` and `who` below are a process's name array.  When its last handle closes it leaves the line, NAKing any
 * answer it owed, and its waiters get ERR_CANCELED.
 */
#ifndef MICA_INTERRUPT_H
#define MICA_INTERRUPT_H

#include "irq.h"
#include "mica/device.h"
#include "observer.h"
#include "port.h"
#include "waitq.h"

#define INTERRUPT_HOLDER_MAX 32

struct interrupt {
    struct object obj;              /* OBJ_INTERRUPT */
    struct irq_hw *hw;
    /* under hw->lock */
    struct irq_sink sink;
    struct waitq wq;
    char holder[INTERRUPT_HOLDER_MAX];
    /* under ipc_lock */
    struct port *port;              /* bound to, or NULL (not referenced) */
    struct port_source src;
    uint64_t key;
    struct pkt pkt;                 /* owner-provided (acct NULL) */
    struct kmem_account *acct;
};

/* Bind a new interrupt object to hw, named after `holder`: 0 or
 * ERR_NO_MEMORY; *pending says whether a service was under way (the
 * object owes an answer for it). */
int interrupt_create(struct irq_hw *hw, const char *holder,
                     struct kmem_account *acct, struct interrupt **out,
                     bool *pending);

/* Wait for a service newer than last_seq: 0 and *seq, ERR_TIMED_OUT,
 * ERR_CANCELED (the object left the line), ERR_INTERRUPTED. */
int interrupt_wait(struct interrupt *in, uint64_t last_seq,
                   uint64_t deadline, const char *who, uint64_t *seq);

/* Answer service seq: 0 or ERR_BAD_STATE (stale, repeated, or not
 * owed). */
int interrupt_ack(struct interrupt *in, uint64_t seq, const char *who);
int interrupt_nak(struct interrupt *in, uint64_t seq, const char *who);

/* Queue a packet on p for every service from now on (p NULL: none). 0 or
 * ERR_BAD_STATE (p has closed). */
int interrupt_set_port(struct interrupt *in, struct port *p, uint64_t key);

/* The line's counters and state. */
void interrupt_info(struct interrupt *in, struct mica_irq_info *info);

/* For irq.c, the line's lock held: a service s owes an answer for began;
 * s owes none any more; who holds s. */
void interrupt_sink_notify(struct irq_sink *s);
void interrupt_sink_release(struct irq_sink *s);
const char *interrupt_sink_holder(const struct irq_sink *s);

#endif
