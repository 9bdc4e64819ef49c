/*
 * irq_line.h - the interrupt protocol of one line, as a state machine.
 *
 * A line (an I/O APIC input, or an MSI vector) has any number of sinks:
 * the interrupt objects that drivers bound to it.  Every hardware
 * interrupt that starts a service gets the next sequence number; each
 * sink then owes an answer for it, ACK ("mine, handled") or NAK ("not
 * mine").  The rules (docs/interrupts.md has the reasoning):
 *
 *   - A service ends with the first ACK, or when every sink has NAKed.
 *   - Level-triggered lines stay masked while in service and are
 *     unmasked when it ends; edge-triggered lines buffer one edge that
 *     arrives during service and replay it (as a new sequence number)
 *     when the service ends.
 *   - Answers must name the sequence number in service, from a sink that
 *     still owes one: a stale or repeated answer is refused.
 *   - All NAK: the line is reported unhandled with every holder named,
 *     masked, and unmasked again by a kick after a back-off that doubles
 *     each time (from IRQ_BACKOFF_MIN to IRQ_BACKOFF_MAX) until a service
 *     ends with an ACK.
 *   - A sink that goes away while it owes an answer is NAKed on its
 *     behalf.
 *   - A service that lasts longer than IRQ_LATE_NS is reported once, with
 *     every sink that still owes an answer, and counted late.
 *   - An interrupt with no sink, or one that cannot be (a level line
 *     raised while masked), is spurious: counted, and a line without
 *     sinks is masked.
 *
 * This file knows nothing of locks, threads or hardware: the caller holds
 * the line's lock around every call, and the line acts on the world only
 * through its ops (mask, unmask, notify and release a sink, report,
 * arm its one timer).  The late check does not re-arm the timer for each
 * service: one armed for an earlier service fires, finds the service
 * under way younger than IRQ_LATE_NS and re-arms for its deadline, so a
 * busy line costs no timer work per interrupt.  So the protocol is tested on the host against a fake
 * interrupt controller (tests/host/test_irq_line.c).
 */
#ifndef MICA_IRQ_LINE_H
#define MICA_IRQ_LINE_H

#include "types.h"

#define IRQ_LATE_NS     1000000000ull   /* a service longer than this is late */
#define IRQ_BACKOFF_MIN 10000000ull     /* first kick after an unhandled one */
#define IRQ_BACKOFF_MAX 10000000000ull  /* the back-off stops doubling here */

enum irq_trigger { IRQ_EDGE, IRQ_LEVEL };

enum irq_state {
    IRQ_IDLE,           /* unmasked (if it has sinks), no service */
    IRQ_IN_SERVICE,     /* sinks owe answers for `seq` */
    IRQ_BACKOFF,        /* all NAKed: masked until the kick */
};

struct irq_line;
struct irq_sink;

struct irq_counters {
    uint64_t raised;        /* services started (replayed edges included) */
    uint64_t acked;
    uint64_t naked;         /* NAK answers, those given for dead sinks too */
    uint64_t spurious;
    uint64_t late;
    uint64_t unhandled;     /* services every sink NAKed */
};

struct irq_line_ops {
    void (*mask)(struct irq_line *l);
    void (*unmask)(struct irq_line *l);
    /* A service began that s owes an answer for (wake its waiter). */
    void (*notify)(struct irq_line *l, struct irq_sink *s);
    /* s owes no answer any more (it answered, another sink ACKed, or it
     * is going away). */
    void (*release)(struct irq_line *l, struct irq_sink *s);
    /* All sinks NAKed service `seq`; the report names them all (the
     * line's `backoff` is already the coming one). */
    void (*report_unhandled)(struct irq_line *l, uint64_t seq);
    /* Service `seq` is late; s is a sink that still owes an answer. */
    void (*report_late)(struct irq_line *l, struct irq_sink *s,
                        uint64_t seq);
    /* Call irq_line_timer at `deadline` (ns); 0 disarms. */
    void (*arm)(struct irq_line *l, uint64_t deadline);
};

struct irq_sink {
    struct irq_line *line;      /* NULL when not attached */
    struct irq_sink *next;
    uint64_t seq;               /* the last service it was told of */
    bool owes;                  /* it still owes an answer for `seq` */
};

struct irq_line {
    const struct irq_line_ops *ops;
    enum irq_trigger trigger;
    enum irq_state state;
    uint64_t seq;               /* the last service started; 0: none yet */
    struct irq_sink *sinks;
    unsigned nsinks;
    unsigned owing;             /* sinks that owe an answer for `seq` */
    bool edge_pending;          /* an edge came during service */
    bool masked;                /* as last set through ops */
    bool late_reported;
    uint64_t service_start;     /* ns */
    uint64_t backoff;           /* ns until the next kick; 0: none yet */
    uint64_t kick_at;           /* in back-off: when to unmask (ns) */
    uint64_t timer_at;          /* the timer's deadline; 0: not armed */
    struct irq_counters count;
};

/* A line with no sinks, masked. */
void irq_line_init(struct irq_line *l, enum irq_trigger trigger,
                   const struct irq_line_ops *ops);

/* Attach s.  The first sink unmasks the line.  Returns true if a service
 * is under way: s then owes an answer for it too, and a wait returns
 * it at once. */
bool irq_sink_attach(struct irq_line *l, struct irq_sink *s);

/* Detach s, NAKing on its behalf if it owes an answer (at time `now`).
 * The last sink masks the line and ends any back-off. */
void irq_sink_detach(struct irq_sink *s, uint64_t now);

/* A hardware interrupt at time `now`. */
void irq_line_raise(struct irq_line *l, uint64_t now);

/* The service s should look at, if newer than `last_seq`: true and
 * *seq set, else false (the caller blocks until notified). */
bool irq_sink_pending(const struct irq_sink *s, uint64_t last_seq,
                      uint64_t *seq);

/* Answers for service `seq`: 0, or ERR_BAD_STATE when seq is not the
 * service under way or s already answered it (stale or repeated). */
int irq_sink_ack(struct irq_sink *s, uint64_t seq, uint64_t now);
int irq_sink_nak(struct irq_sink *s, uint64_t seq, uint64_t now);

/* The line's timer fired: the late check in service, the kick in
 * back-off. */
void irq_line_timer(struct irq_line *l, uint64_t now);

#endif
