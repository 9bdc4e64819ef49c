/*
 * irq.c - device interrupt lines (irq.h): the protocol's state machine
 * (irq_line.c) wired to the interrupt controller, the kernel timers and
 * the log.
 *
 * Lines are made on first use and never freed, so the architecture's
 * handler can find one by number without a reference.  `routed` is
 * written once, under `table_lock`, before the line is handed out; the
 * handler reads the line only after the controller was programmed.
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

static struct irq_hw lines[IRQ_MAX_GSI];
static spinlock_t table_lock = SPINLOCK_INIT;

static struct irq_hw *hw_of(struct irq_line *l)
{
    return container_of(l, struct irq_hw, line);
}

static void op_mask(struct irq_line *l)
{
    arch_irq_line_mask(hw_of(l)->gsi, true);
}

static void op_unmask(struct irq_line *l)
{
    arch_irq_line_mask(hw_of(l)->gsi, false);
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
    kprintf("irq: unhandled interrupt %lu on GSI %u: every holder (%s) "
            "said not mine; masked for %lu ms\n", seq, hw_of(l)->gsi,
            names, l->backoff / 1000000);
}

static void op_late(struct irq_line *l, struct irq_sink *s, uint64_t seq)
{
    kprintf("irq: interrupt %lu on GSI %u unanswered for over %lu ms by "
            "'%s'\n", seq, hw_of(l)->gsi, (unsigned long)(IRQ_LATE_NS / 1000000),
            interrupt_sink_holder(s));
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

int irq_hw_get(uint32_t gsi, bool level, bool active_low,
               struct irq_hw **out)
{
    if (gsi >= IRQ_MAX_GSI)
        return ERR_OUT_OF_RANGE;
    struct irq_hw *hw = &lines[gsi];
    int err = 0;
    irqflags_t f = spin_lock_irqsave(&table_lock);
    if (!hw->routed) {
        hw->lock = (spinlock_t)SPINLOCK_INIT;
        hw->gsi = gsi;
        hw->level = level;
        hw->active_low = active_low;
        irq_line_init(&hw->line, level ? IRQ_LEVEL : IRQ_EDGE, &hw_ops);
        ktimer_init(&hw->kt, hw_timer);
        err = arch_irq_line_route(gsi, level, active_low);
        hw->routed = !err;
    } else if (hw->level != level || hw->active_low != active_low) {
        err = ERR_ALREADY_EXISTS;
    }
    spin_unlock_irqrestore(&table_lock, f);
    *out = err ? NULL : hw;
    return err;
}

void irq_hw_raise(uint32_t gsi)
{
    if (gsi >= IRQ_MAX_GSI || !lines[gsi].routed)
        return;
    struct irq_hw *hw = &lines[gsi];
    irqflags_t f = spin_lock_irqsave(&hw->lock);
    irq_line_raise(&hw->line, clock_ns());
    spin_unlock_irqrestore(&hw->lock, f);
}
