/*
 * percpu.h - what the kernel keeps for each CPU.
 *
 * One struct percpu per CPU, reached through this_cpu() (the GS base on
 * x86_64).  Fields are written only by their own CPU unless noted.
 */
#ifndef MICA_PERCPU_H
#define MICA_PERCPU_H

#include "arch.h"

struct thread;
struct sched_cpu;
struct aspace;

/*
 * The first fields are read by assembly at fixed offsets (checked at
 * compile time in arch code): keep their order.
 */
struct percpu {
    struct percpu *self;        /* must stay first: this_cpu() reads it */
    uintptr_t kstack_top;       /* +8: kernel stack of the current thread */
    uintptr_t user_rsp;         /* +16: scratch for the syscall entry */
    struct thread *current;     /* +24: the running thread */
    unsigned id;                /* logical number, 0 = boot CPU */
    uint32_t hw_id;             /* the interrupt controller's id (APIC id) */
    volatile bool online;       /* written by the CPU itself when up */
    volatile uint64_t ticks;    /* timer interrupts taken */
    uint64_t irq_count;         /* all interrupts taken */
    uintptr_t stack_top;        /* this CPU's boot/idle stack */
    void *arch;                 /* arch-private (GDT, TSS, IST stacks) */
    struct sched_cpu *sched;    /* this CPU's run queue and idle thread */
    struct aspace *aspace;      /* user address space loaded, or NULL */
    volatile bool halted;       /* in cpu_idle_wait's halt (idle.h) */
};

#define PERCPU_KSTACK_TOP 8
#define PERCPU_USER_RSP   16
#define PERCPU_CURRENT    24

extern struct percpu *cpus[MAX_CPUS];
extern unsigned ncpus;          /* CPUs found (online or not) */

/* Number of CPUs that have come online (they never go offline). */
unsigned cpus_online(void);

/* c has come online: it takes work and counts in cpus_online. */
void cpu_set_online(struct percpu *c);

#endif
