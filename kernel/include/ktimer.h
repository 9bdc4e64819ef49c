/*
 * ktimer.h - kernel timers: run a function at a deadline, from the timer
 * interrupt.
 *
 * A ktimer waits on the list of the CPU that armed it, sorted by
 * deadline; each CPU's one-shot timer is programmed for the earlier of
 * its next sleeper (sched.c) and its next ktimer.  When it expires, the
 * timer interrupt takes it off the list and calls its function with
 * interrupts off and no lock held: the function may take any lock that
 * is always taken with interrupts off (spin_lock_irqsave), and nothing
 * else.
 *
 * The lists have a lock per CPU, a leaf: nothing is taken while it is
 * held.  The owner of a ktimer serializes ktimer_arm and ktimer_cancel
 * on it (timer.c does both under its timer's lock); the function may
 * re-arm its own ktimer under the same rule.
 */
#ifndef MICA_KTIMER_H
#define MICA_KTIMER_H

#include "arch.h"
#include "types.h"

struct ktimer {
    struct ktimer *next;            /* on its CPU's list, by deadline */
    uint64_t deadline;              /* clock_ns */
    void (*fn)(struct ktimer *kt);
    int cpu;                        /* whose list it is on; -1: none */
    uint32_t running;               /* calls of fn under way (atomic) */
};

void ktimer_init(struct ktimer *kt, void (*fn)(struct ktimer *kt));

/* Run kt->fn at `deadline` (at once, from the next timer interrupt, if
 * it has passed), on this CPU.  An armed ktimer is moved. */
void ktimer_arm(struct ktimer *kt, uint64_t deadline);

/* Take kt off its list; true if it was armed and had not yet been taken
 * to run.  Its function may still be running, or about to run, on
 * another CPU. */
bool ktimer_cancel(struct ktimer *kt);

/* ktimer_cancel, then wait until no call of kt->fn is under way, so kt's
 * memory can go.  The owner must first have made sure fn will not arm kt
 * again, and must hold no lock fn takes.  Never from fn itself. */
void ktimer_cancel_sync(struct ktimer *kt);

/* Each CPU's earliest ktimer deadline, 0 if none: written by ktimer.c
 * under the list's lock, read without it by the scheduler, which
 * programs the CPU's timer with it (on every switch: hence inline). */
struct ktimer_next {
    uint64_t deadline;
} __aligned(64);
extern struct ktimer_next ktimer_next[MAX_CPUS];

static inline uint64_t ktimer_next_deadline(unsigned cpu)
{
    return __atomic_load_n(&ktimer_next[cpu].deadline, __ATOMIC_ACQUIRE);
}

/* Timer interrupt: run this CPU's ktimers whose deadline has passed. */
void ktimer_expire(void);

#endif
