/*
 * interrupt.c - interrupt objects (interrupt.h).
 *
 * The object is a sink of its line plus the ways a driver learns of a
 * service: a wait queue, SIGNAL_SIGNALED, and a port binding.  All three
 * are driven from the line's operations (irq.c), which run under the
 * line's lock, in the interrupt handler or in the system call that ended
 * a service.  Waiters block on `wq` releasing that same lock
 * (waitq_wait), so a service that starts between their check and their
 * sleep wakes them.
 *
 * The packet lives inside the object, as a timer's does (timer.c): a
 * service that finds it still queued updates it (the newest sequence
 * number, one more service counted) instead of queueing another, so
 * delivery never fails and never allocates in the interrupt handler.
 */
#include "clock.h"
#include "interrupt.h"
#include "ipc.h"
#include "lib.h"
#include "mica/errors.h"
#include "process.h"
#include "signal_wait.h"

static struct interrupt *of_sink(const struct irq_sink *s)
{
    return container_of(s, struct interrupt, sink);
}

/* who: a process's name, a whole NUL-terminated array of that size. */
static void set_holder(struct interrupt *in, const char *who)
{
    _Static_assert(INTERRUPT_HOLDER_MAX == PROCESS_NAME_MAX, "names");
    if (who)
        memcpy(in->holder, who, sizeof(in->holder));
}

/* --- the port binding (ipc_lock held) ------------------------------------------ */

static void withdraw_locked(struct interrupt *in)
{
    if (in->port && in->pkt.queued)
        port_unqueue_pkt_locked(in->port, &in->pkt);
}

static void unbind_locked(struct interrupt *in)
{
    withdraw_locked(in);
    port_source_del_locked(&in->src);
    __atomic_store_n(&in->port, NULL, __ATOMIC_RELAXED);
}

static void interrupt_port_closed(struct port_source *s)
{
    struct interrupt *in = container_of(s, struct interrupt, src);
    withdraw_locked(in);
    __atomic_store_n(&in->port, NULL, __ATOMIC_RELAXED);
}

static void deliver(struct interrupt *in, uint64_t seq)
{
    if (!__atomic_load_n(&in->port, __ATOMIC_RELAXED))
        return;                             /* not bound: no ipc_lock */
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    if (in->port && in->pkt.queued) {
        in->pkt.p.data[0] = seq;
        in->pkt.p.data[1]++;
    } else if (in->port) {
        in->pkt.p = (struct mica_packet){
            .key = in->key, .type = MICA_PACKET_INTERRUPT,
            .data = { seq, 1 },
        };
        port_queue_pkt_locked(in->port, &in->pkt);
    }
    spin_unlock_irqrestore(&ipc_lock, f);
}

/* --- the line's operations (its lock held) -------------------------------------- */

void interrupt_sink_notify(struct irq_sink *s)
{
    struct interrupt *in = of_sink(s);
    waitq_wake(&in->wq, -1, 0);
    deliver(in, s->seq);
    object_signal(&in->obj, 0, SIGNAL_SIGNALED);
}

void interrupt_sink_release(struct irq_sink *s)
{
    object_signal(&of_sink(s)->obj, SIGNAL_SIGNALED, 0);
}

const char *interrupt_sink_holder(const struct irq_sink *s)
{
    return of_sink(s)->holder;
}

/* --- the calls ------------------------------------------------------------------ */

int interrupt_wait(struct interrupt *in, uint64_t last_seq,
                   uint64_t deadline, const char *who, uint64_t *seq)
{
    for (;;) {
        irqflags_t f = spin_lock_irqsave(&in->hw->lock);
        set_holder(in, who);
        if (!in->sink.line) {
            spin_unlock_irqrestore(&in->hw->lock, f);
            return ERR_CANCELED;
        }
        if (irq_sink_pending(&in->sink, last_seq, seq)) {
            spin_unlock_irqrestore(&in->hw->lock, f);
            return 0;
        }
        int err = waitq_wait(&in->wq, &in->hw->lock, f, deadline);
        if (err)
            return err;
    }
}

static int answer(struct interrupt *in, uint64_t seq, const char *who,
                  int (*fn)(struct irq_sink *, uint64_t, uint64_t))
{
    irqflags_t f = spin_lock_irqsave(&in->hw->lock);
    set_holder(in, who);
    int err = fn(&in->sink, seq, clock_ns());
    spin_unlock_irqrestore(&in->hw->lock, f);
    return err;
}

int interrupt_ack(struct interrupt *in, uint64_t seq, const char *who)
{
    return answer(in, seq, who, irq_sink_ack);
}

int interrupt_nak(struct interrupt *in, uint64_t seq, const char *who)
{
    return answer(in, seq, who, irq_sink_nak);
}

int interrupt_set_port(struct interrupt *in, struct port *p, uint64_t key)
{
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    int err = p && p->closed ? ERR_BAD_STATE : 0;
    if (!err) {
        unbind_locked(in);
        if (p) {
            in->key = key;
            port_source_add_locked(p, &in->src);
            __atomic_store_n(&in->port, p, __ATOMIC_RELAXED);
        }
    }
    spin_unlock_irqrestore(&ipc_lock, f);
    return err;
}

void interrupt_info(struct interrupt *in, struct mica_irq_info *info)
{
    struct irq_hw *hw = in->hw;
    irqflags_t f = spin_lock_irqsave(&hw->lock);
    const struct irq_line *l = &hw->line;
    *info = (struct mica_irq_info){
        .number = hw->msi ? MICA_IRQ_MSI_NUMBER : hw->num,
        .level = hw->level, .state = l->state,
        .msi_address = hw->msi_address, .msi_data = hw->msi_data,
        .sinks = l->nsinks, .seq = l->seq, .raised = l->count.raised,
        .acked = l->count.acked, .naked = l->count.naked,
        .spurious = l->count.spurious, .late = l->count.late,
        .unhandled = l->count.unhandled,
    };
    spin_unlock_irqrestore(&hw->lock, f);
}

/* --- life and death ------------------------------------------------------------- */

/* Leave the line (NAKing what is owed) and the port; wake the waiters. */
static void interrupt_last_handle(struct object *o)
{
    struct interrupt *in = container_of(o, struct interrupt, obj);
    irqflags_t f = spin_lock_irqsave(&in->hw->lock);
    irq_sink_detach(&in->sink, clock_ns());
    waitq_wake(&in->wq, -1, ERR_CANCELED);
    spin_unlock_irqrestore(&in->hw->lock, f);
    f = spin_lock_irqsave(&ipc_lock);
    unbind_locked(in);
    spin_unlock_irqrestore(&ipc_lock, f);
}

static void interrupt_destroy(struct object *o)
{
    struct interrupt *in = container_of(o, struct interrupt, obj);
    interrupt_last_handle(o);               /* if it never had a handle */
    if (in->hw->msi)
        irq_msi_free(in->hw);               /* it was the line's only sink */
    kobj_free(in->acct, in, sizeof(*in));
}

static const struct object_ops interrupt_ops = {
    .name = "interrupt",
    .destroy = interrupt_destroy,
    .last_handle = interrupt_last_handle,
};

int interrupt_create(struct irq_hw *hw, const char *holder,
                     struct kmem_account *acct, struct interrupt **out,
                     bool *pending)
{
    struct interrupt *in = kobj_alloc(acct, sizeof(*in));
    if (!in)
        return ERR_NO_MEMORY;
    object_init(&in->obj, OBJ_INTERRUPT, &interrupt_ops);
    in->hw = hw;
    in->wq = (struct waitq)WAITQ_INIT;
    in->src.closed = interrupt_port_closed;
    in->acct = acct;
    set_holder(in, holder);
    irqflags_t f = spin_lock_irqsave(&hw->lock);
    *pending = irq_sink_attach(&hw->line, &in->sink);
    if (*pending)
        object_signal(&in->obj, 0, SIGNAL_SIGNALED);
    spin_unlock_irqrestore(&hw->lock, f);
    *out = in;
    return 0;
}
