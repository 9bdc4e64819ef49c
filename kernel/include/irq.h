/*
 * irq.h - the machine's device interrupt lines, as the kernel serves them
 * to user space.
 *
 * Each GSI below IRQ_MAX_GSI may become an irq_hw: the line's protocol
 * state (irq_line.h) under its own lock, its timer, and its mode.  The
 * first interrupt object bound to a GSI routes it (arch_irq_line_route:
 * trigger mode and polarity are fixed from then on); later ones must ask
 * for the same mode.  The architecture's interrupt handler calls
 * irq_hw_raise.  The line's operations (irq.c) reach the interrupt
 * objects (interrupt.h), the arch (mask, unmask) and the log.
 *
 * Lock order: an irq_hw's lock comes before ipc_lock, object locks and
 * sched_lock (a service's start wakes waiters and queues packets under
 * it); it is always taken with interrupts off.
 */
#ifndef MICA_IRQ_H
#define MICA_IRQ_H

#include "irq_line.h"
#include "ktimer.h"
#include "spinlock.h"

#define IRQ_MAX_GSI 64

struct irq_hw {
    spinlock_t lock;
    struct irq_line line;
    struct ktimer kt;
    uint32_t gsi;
    bool routed;                    /* mode fixed, vector assigned */
    bool level, active_low;
};

/* The line for `gsi`, routed with this mode if it is not yet: 0,
 * ERR_OUT_OF_RANGE (no such GSI here), ERR_NOT_FOUND (no controller
 * serves it) or ERR_ALREADY_EXISTS (routed with another mode).  Lines
 * are never freed. */
int irq_hw_get(uint32_t gsi, bool level, bool active_low,
               struct irq_hw **out);

/* The architecture's handler: a hardware interrupt on `gsi`. */
void irq_hw_raise(uint32_t gsi);

#endif
