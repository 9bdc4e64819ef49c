/*
 * irq_line.c - the interrupt protocol of one line (irq_line.h).
 *
 * The protocol is managarm's sequence numbers with the holes closed: a
 * driver waits for a sequence number newer than the last it saw, so an
 * interrupt between binding and the first wait, or between an answer and
 * the next wait, is never lost; answers name the sequence number, so a
 * late answer to an old service cannot end a new one; and the ways a
 * service could otherwise never end (every driver says "not mine", a
 * driver dies owing an answer, a driver never answers) each have a rule.
 *
 * A service is a span of `state == IRQ_IN_SERVICE`; `owing` counts the
 * sinks with `owes` set, all of them for `seq`.  Every path that ends a
 * service goes through end_service (an ACK) or all_naked (the last NAK),
 * so the mask, the buffered edge and the timer are handled in one place
 * each.  The timer is the line's only one: the late check while in
 * service, the kick while in back-off, disarmed otherwise.
 */
#include "irq_line.h"
#include "mica/errors.h"

static void set_mask(struct irq_line *l, bool masked)
{
    if (l->masked == masked)
        return;
    l->masked = masked;
    if (masked)
        l->ops->mask(l);
    else
        l->ops->unmask(l);
}

static void arm(struct irq_line *l, uint64_t deadline)
{
    l->timer_at = deadline;
    l->ops->arm(l, deadline);
}

void irq_line_init(struct irq_line *l, enum irq_trigger trigger,
                   const struct irq_line_ops *ops)
{
    *l = (struct irq_line){ .ops = ops, .trigger = trigger,
                            .state = IRQ_IDLE, .masked = true };
}

/* A new service: every sink owes an answer for the next number. */
static void start_service(struct irq_line *l, uint64_t now)
{
    l->seq++;
    l->count.raised++;
    l->state = IRQ_IN_SERVICE;
    l->service_start = now;
    l->late_reported = false;
    l->owing = l->nsinks;
    if (l->trigger == IRQ_LEVEL)
        set_mask(l, true);
    if (!l->timer_at)
        arm(l, now + IRQ_LATE_NS);      /* else it fires and re-arms */
    for (struct irq_sink *s = l->sinks; s; s = s->next) {
        s->seq = l->seq;
        s->owes = true;
        l->ops->notify(l, s);
    }
}

static void clear_owed(struct irq_line *l)
{
    for (struct irq_sink *s = l->sinks; s; s = s->next) {
        if (s->owes) {
            s->owes = false;
            l->ops->release(l, s);
        }
    }
    l->owing = 0;
}

/* An ACK ended the service: unmask a level line, replay a buffered
 * edge. */
static void end_service(struct irq_line *l, uint64_t now)
{
    clear_owed(l);
    l->state = IRQ_IDLE;
    l->backoff = 0;
    if (l->trigger == IRQ_LEVEL) {
        set_mask(l, false);
    } else if (l->edge_pending) {
        l->edge_pending = false;
        start_service(l, now);
    }
}

/* Every sink NAKed: report, mask, and kick again after the back-off. */
static void all_naked(struct irq_line *l, uint64_t now)
{
    l->count.unhandled++;
    if (l->backoff == 0)
        l->backoff = IRQ_BACKOFF_MIN;
    else if (l->backoff < IRQ_BACKOFF_MAX)
        l->backoff = MIN(l->backoff * 2, IRQ_BACKOFF_MAX);
    l->ops->report_unhandled(l, l->seq);
    clear_owed(l);
    set_mask(l, true);
    l->state = IRQ_BACKOFF;
    l->kick_at = now + l->backoff;
    arm(l, l->kick_at);
}

/* The back-off is over: unmask, and replay an edge kept from before. */
static void kick(struct irq_line *l, uint64_t now)
{
    l->state = IRQ_IDLE;
    set_mask(l, false);
    if (l->trigger == IRQ_EDGE && l->edge_pending) {
        l->edge_pending = false;
        start_service(l, now);
    }
}

bool irq_sink_attach(struct irq_line *l, struct irq_sink *s)
{
    s->line = l;
    s->next = l->sinks;
    l->sinks = s;
    l->nsinks++;
    s->seq = 0;
    s->owes = false;
    if (l->state == IRQ_IN_SERVICE) {
        s->seq = l->seq;
        s->owes = true;
        l->owing++;
        return true;
    }
    if (l->state == IRQ_IDLE)
        set_mask(l, false);
    return false;
}

/* s answers "not mine" (itself, or on its behalf as it goes). */
static void nak_one(struct irq_line *l, struct irq_sink *s, uint64_t now)
{
    s->owes = false;
    l->ops->release(l, s);
    l->count.naked++;
    if (--l->owing == 0)
        all_naked(l, now);
}

void irq_sink_detach(struct irq_sink *s, uint64_t now)
{
    struct irq_line *l = s->line;
    if (!l)
        return;
    if (s->owes)
        nak_one(l, s, now);
    for (struct irq_sink **pp = &l->sinks; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    l->nsinks--;
    s->line = NULL;
    s->next = NULL;
    if (l->nsinks == 0) {
        /* nobody left to serve it: masked, no back-off, no edge kept */
        set_mask(l, true);
        l->state = IRQ_IDLE;
        l->edge_pending = false;
        l->backoff = 0;
        arm(l, 0);
    }
}

void irq_line_raise(struct irq_line *l, uint64_t now)
{
    if (l->nsinks == 0) {
        l->count.spurious++;
        set_mask(l, true);
        return;
    }
    switch (l->state) {
    case IRQ_IDLE:
        start_service(l, now);
        return;
    case IRQ_IN_SERVICE:
    case IRQ_BACKOFF:
        if (l->trigger == IRQ_EDGE)
            l->edge_pending = true;     /* one edge is kept, more merge */
        else
            l->count.spurious++;        /* masked: should not happen */
        return;
    }
}

bool irq_sink_pending(const struct irq_sink *s, uint64_t last_seq,
                      uint64_t *seq)
{
    if (!s->line || !s->owes || s->seq <= last_seq)
        return false;
    *seq = s->seq;
    return true;
}

/* Is (s, seq) an answer the line is waiting for? */
static bool answer_ok(const struct irq_sink *s, uint64_t seq)
{
    const struct irq_line *l = s->line;
    return l && l->state == IRQ_IN_SERVICE && s->owes && seq == l->seq;
}

int irq_sink_ack(struct irq_sink *s, uint64_t seq, uint64_t now)
{
    if (!answer_ok(s, seq))
        return ERR_BAD_STATE;
    s->line->count.acked++;
    end_service(s->line, now);
    return 0;
}

int irq_sink_nak(struct irq_sink *s, uint64_t seq, uint64_t now)
{
    if (!answer_ok(s, seq))
        return ERR_BAD_STATE;
    nak_one(s->line, s, now);
    return 0;
}

void irq_line_timer(struct irq_line *l, uint64_t now)
{
    if (!l->timer_at || now < l->timer_at)
        return;                         /* disarmed or moved meanwhile */
    l->timer_at = 0;
    switch (l->state) {
    case IRQ_IN_SERVICE:
        if (l->late_reported)
            return;
        if (now - l->service_start < IRQ_LATE_NS) {
            arm(l, l->service_start + IRQ_LATE_NS);     /* a later service */
            return;
        }
        l->late_reported = true;
        l->count.late++;
        for (struct irq_sink *s = l->sinks; s; s = s->next)
            if (s->owes)
                l->ops->report_late(l, s, l->seq);
        return;
    case IRQ_BACKOFF:
        if (now >= l->kick_at)
            kick(l, now);
        else
            arm(l, l->kick_at);
        return;
    case IRQ_IDLE:
        return;                         /* stays disarmed until a service */
    }
}
