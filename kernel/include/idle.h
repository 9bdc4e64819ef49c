/*
 * idle.h - CPUs waiting for an interrupt, and how long the whole
 * machine spent so.
 *
 * An idle loop calls cpu_idle_wait() instead of halting directly; the
 * interrupt entry calls cpu_idle_woken() first thing when this CPU was
 * halted there.  In between, the CPU counts as halted.  While every
 * online CPU is halted the machine is idle, and the kernel adds those
 * stretches up in timestamp ticks (system_info's idle_all_ticks).  Under
 * QEMU with -icount and sleep=off, where the timestamp counts executed
 * instructions and jumps ahead only while every CPU is halted, that sum
 * is exactly the jumps: a benchmark subtracts it to count instructions
 * across a wait for a device (docs/benchmarks.md).
 */
#ifndef MICA_IDLE_H
#define MICA_IDLE_H

#include <stdint.h>

struct percpu;

/* Halt until an interrupt; called with interrupts disabled, returns
 * with them disabled, after the interrupt has been handled. */
void cpu_idle_wait(void);

/* This CPU, halted in cpu_idle_wait, took an interrupt (or an NMI):
 * it no longer counts as halted.  Interrupts are disabled. */
void cpu_idle_woken(struct percpu *c);

/* Timestamp ticks during which every online CPU was halted, so far. */
uint64_t idle_all_ticks(void);

#endif
