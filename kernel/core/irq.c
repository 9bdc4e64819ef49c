/*
 * irq.c - device interrupt lines (irq.h): the protocol's state machine
 * (irq_line.c) wired to the interrupt controller, the kernel timers and
 * the log.
 *
 * Lines live in one static table, so the architecture's handler can find
 * one by number without a reference.  A GSI line is set up on first use
 * and stays; an MSI line goes back to the table when its one interrupt
 * object is gone.  `routed` changes under `table_lock`; the handler
 * checks it, then works under the line's lock, which is never
 * reinitialised, so an interrupt that arrives while an MSI line is
 * given back or taken again finds a line with no sinks (spurious).
 *
 * Reports go to the kernel log: an unhandled interrupt names every
 * holder, a late one the holders that still owe an answer.  The timer is
 * the line's ktimer; its function takes the line's lock like everything
 * else.
 */
#include "clock.h"
#include "interrupt.h"
#include "irq.h"
#include "lib.h"
#include "log.h"
#include "mica/errors.h"
#include "printf.h"

static struct irq_hw lines[IRQ_LINES] = {
    [0 ... IRQ_LINES - 1] = { .lock = SPINLOCK_INIT },
};
static spinlock_t table_lock = SPINLOCK_INIT;

static struct irq_hw *hw_of(struct irq_line *l)
{
    return container_of(l, struct irq_hw, line);
}

static void op_mask(struct irq_line *l)
{
    if (!hw_of(l)->msi)
        arch_irq_line_mask(hw_of(l)->num, true);
}

static void op_unmask(struct irq_line *l)
{
    if (!hw_of(l)->msi)
        arch_irq_line_mask(hw_of(l)->num, false);
}

/* How reports name a line. */
static const char *kind_of(const struct irq_hw *hw)
{
    return hw->msi ? "MSI line" : "GSI";
}

static void op_notify(struct irq_line *l, struct irq_sink *s)
{
    (void)l;
    interrupt_sink_notify(s);
}

static void op_release(struct irq_line *l, struct irq_sink *s)
{
    (void)l;
    interrupt_sink_release(s);
}

static void op_unhandled(struct irq_line *l, uint64_t seq)
{
    char names[160];
    size_t n = 0;
    names[0] = 0;
    for (struct irq_sink *s = l->sinks; s && n < sizeof(names) - 1;
         s = s->next)
        n += ksnprintf(names + n, sizeof(names) - n, "%s'%s'",
                       n ? ", " : "", interrupt_sink_holder(s));
    kprintf("irq: unhandled interrupt %lu on %s %u: every holder (%s) "
            "said not mine; masked for %lu ms\n", seq, kind_of(hw_of(l)),
            hw_of(l)->num, names, l->backoff / 1000000);
}

static void op_late(struct irq_line *l, struct irq_sink *s, uint64_t seq)
{
    kprintf("irq: interrupt %lu on %s %u unanswered for over %lu ms by "
            "'%s'\n", seq, kind_of(hw_of(l)), hw_of(l)->num,
            (unsigned long)(IRQ_LATE_NS / 1000000), interrupt_sink_holder(s));
}

static void op_arm(struct irq_line *l, uint64_t deadline)
{
    struct irq_hw *hw = hw_of(l);
    if (deadline)
        ktimer_arm(&hw->kt, deadline);
    else
        ktimer_cancel(&hw->kt);
}

static const struct irq_line_ops hw_ops = {
    .mask = op_mask, .unmask = op_unmask, .notify = op_notify,
    .release = op_release, .report_unhandled = op_unhandled,
    .report_late = op_late, .arm = op_arm,
};

static void hw_timer(struct ktimer *kt)
{
    struct irq_hw *hw = container_of(kt, struct irq_hw, kt);
    irqflags_t f = spin_lock_irqsave(&hw->lock);
    irq_line_timer(&hw->line, clock_ns());
    spin_unlock_irqrestore(&hw->lock, f);
}

/* Under the line's own lock: a late interrupt from the line's previous
 * use (an MSI line given back and taken again) may be looking at it. */
static void setup(struct irq_hw *hw, uint32_t num, bool level,
                  bool active_low)
{
    irqflags_t f = spin_lock_irqsave(&hw->lock);
    hw->num = num;
    hw->level = level;
    hw->active_low = active_low;
    irq_line_init(&hw->line, level ? IRQ_LEVEL : IRQ_EDGE, &hw_ops);
    ktimer_init(&hw->kt, hw_timer);
    spin_unlock_irqrestore(&hw->lock, f);
}

int irq_hw_get(uint32_t gsi, bool level, bool active_low,
               struct irq_hw **out)
{
    if (gsi >= IRQ_MAX_GSI)
        return ERR_OUT_OF_RANGE;
    struct irq_hw *hw = &lines[gsi];
    int err = 0;
    irqflags_t f = spin_lock_irqsave(&table_lock);
    if (!hw->routed) {
        setup(hw, gsi, level, active_low);
        err = arch_irq_line_route(gsi, level, active_low);
        hw->routed = !err;
    } else if (hw->level != level || hw->active_low != active_low) {
        err = ERR_ALREADY_EXISTS;
    }
    spin_unlock_irqrestore(&table_lock, f);
    *out = err ? NULL : hw;
    return err;
}

int irq_msi_alloc(struct irq_hw **out)
{
    int err = ERR_NO_RESOURCES;
    irqflags_t f = spin_lock_irqsave(&table_lock);
    for (uint32_t n = IRQ_MAX_GSI; n < IRQ_LINES && err; n++) {
        struct irq_hw *hw = &lines[n];
        if (hw->routed)
            continue;
        setup(hw, n, false, false);
        hw->msi = true;
        err = arch_irq_msi_route(n, &hw->msi_address, &hw->msi_data);
        if (!err) {
            __atomic_store_n(&hw->routed, true, __ATOMIC_RELEASE);
            *out = hw;
        }
    }
    spin_unlock_irqrestore(&table_lock, f);
    return err;
}

/* The line has no sink any more, so nothing arms its timer again; one
 * already running finishes before the line can be set up anew. */
void irq_msi_free(struct irq_hw *hw)
{
    ktimer_cancel_sync(&hw->kt);
    irqflags_t f = spin_lock_irqsave(&table_lock);
    arch_irq_msi_unroute(hw->num);
    __atomic_store_n(&hw->routed, false, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&table_lock, f);
}

void irq_hw_raise(uint32_t num)
{
    if (num >= IRQ_LINES ||
        !__atomic_load_n(&lines[num].routed, __ATOMIC_ACQUIRE))
        return;
    struct irq_hw *hw = &lines[num];
    irqflags_t f = spin_lock_irqsave(&hw->lock);
    irq_line_raise(&hw->line, clock_ns());
    spin_unlock_irqrestore(&hw->lock, f);
}
