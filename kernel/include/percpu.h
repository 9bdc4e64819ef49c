/*
 * percpu.h - what the kernel keeps for each CPU.
 *
 * One struct percpu per CPU, reached through this_cpu() (the GS base on
 * x86_64).  Fields are written only by their own CPU unless noted.
 */
#ifndef MICA_PERCPU_H
#define MICA_PERCPU_H

#include "arch.h"

struct percpu {
    struct percpu *self;        /* must stay first: this_cpu() reads it */
    unsigned id;                /* logical number, 0 = boot CPU */
    uint32_t hw_id;             /* the interrupt controller's id (APIC id) */
    volatile bool online;       /* written by the CPU itself when up */
    volatile uint64_t ticks;    /* timer interrupts taken */
    uint64_t irq_count;         /* all interrupts taken */
    uintptr_t stack_top;        /* this CPU's boot/idle stack */
    void *arch;                 /* arch-private (GDT, TSS, IST stacks) */
};

extern struct percpu *cpus[MAX_CPUS];
extern unsigned ncpus;          /* CPUs found (online or not) */

/* Number of CPUs that have come online. */
unsigned cpus_online(void);

#endif
