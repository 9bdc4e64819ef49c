/*
 * smp.h - running a function on other CPUs.
 *
 * smp_call_all runs fn(arg) on every online CPU but the caller, by IPI,
 * and returns when all have finished.  The functions run in interrupt
 * context (interrupts off) and must be short and not block.  One call
 * at a time (a lock serializes callers); never call it with interrupts
 * off, or two CPUs calling each other would deadlock.
 */
#ifndef MICA_SMP_H
#define MICA_SMP_H

#include "types.h"

void smp_call_all(void (*fn)(void *), void *arg);

/* The same for the CPUs in `mask` (bit per CPU id; this CPU is skipped). */
void smp_call_mask(uint64_t mask, void (*fn)(void *), void *arg);

/* Arch hook: send the call IPI to one CPU. */
void arch_send_call_ipi(unsigned cpu);

/* Run by the arch's IPI handler. */
void smp_call_handle(void);

#endif
