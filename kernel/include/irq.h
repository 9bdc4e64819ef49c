/*
 * irq.h - the machine's device interrupt lines, as the kernel serves them
 * to user space.
 *
 * Each GSI below IRQ_MAX_GSI may become an irq_hw: the line's protocol
 * state (irq_line.h) under its own lock, its timer, and its mode.  The
 * first interrupt object bound to a GSI routes it (arch_irq_line_route:
 * trigger mode and polarity are fixed from then on); later ones must ask
 * for the same mode.  MSI lines are edge-triggered lines of their own,
 * one per interrupt object, with a vector the kernel picked; the kernel
 * cannot mask the device, so a masked MSI line only keeps its edge.  The architecture's interrupt handler calls
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
#define IRQ_MAX_MSI 112
/* Lines are numbered: GSIs 0-63, then the MSI lines. */
#define IRQ_LINES (IRQ_MAX_GSI + IRQ_MAX_MSI)

struct irq_hw {
    spinlock_t lock;
    struct irq_line line;
    struct ktimer kt;
    uint32_t num;                   /* line number (a GSI below 64) */
    bool routed;                    /* in use: mode fixed, vector set */
    bool msi;                       /* an MSI line, owned by one object */
    bool level, active_low;
    uint64_t msi_address;           /* what the device writes, and where */
    uint32_t msi_data;
};

/* The line for `gsi`, routed with this mode if it is not yet: 0,
 * ERR_OUT_OF_RANGE (no such GSI here), ERR_NOT_FOUND (no controller
 * serves it) or ERR_ALREADY_EXISTS (routed with another mode).  Lines
 * are never freed. */
int irq_hw_get(uint32_t gsi, bool level, bool active_low,
               struct irq_hw **out);

/* A free MSI line, edge-triggered, with the address and data the device
 * must write: 0 or ERR_NO_RESOURCES (all in use).  Given back with
 * irq_msi_free once its one interrupt object is gone. */
int irq_msi_alloc(struct irq_hw **out);
void irq_msi_free(struct irq_hw *hw);

/* The architecture's handler: a hardware interrupt on line `num`. */
void irq_hw_raise(uint32_t num);

#endif
