/*
 * sched.h - the scheduler.
 *
 * Per-CPU run queues of 32 priorities (runqueue.h), round robin within a
 * priority with a 10 ms slice, preemption when a higher priority becomes
 * ready (by IPI on another CPU), an idle thread per CPU that steals work
 * from busy CPUs, CPU affinity, and a one-shot timer per CPU programmed
 * for the next event only (no tick when idle).
 *
 * One lock (sched_lock) covers every run queue and every thread's
 * scheduling state; it is held across a context switch and released by
 * the thread switched to.  A finer scheme is possible later; this one is
 * simple to reason about and the hold times are short.
 */
#ifndef MICA_SCHED_H
#define MICA_SCHED_H

#include "mica/errors.h"
#include "runqueue.h"
#include "spinlock.h"
#include "thread.h"

#define SLICE_NS 10000000ull        /* 10 ms */

struct sched_cpu {
    struct runqueue rq;
    struct thread *idle;
    struct thread *sleepers;        /* by deadline */
    struct thread *dead;            /* exited thread still on its stack */
    volatile bool need_resched;
    bool slice_timed;               /* the timer covers the current slice */
    uint64_t switches;
};

extern spinlock_t sched_lock;

/* Per-CPU scheduler state and idle thread; run on each CPU at start. */
void sched_init_cpu(void);

/* Make t READY (from NEW or BLOCKED) and queue it on a suitable CPU;
 * its sched_block_locked returns `result`.  The _locked form runs with
 * sched_lock held. */
void sched_wakeup(struct thread *t, int result);
void sched_wakeup_locked(struct thread *t, int result);

/*
 * sched_wait_abort_locked - may the thread block now?
 *
 * Every primitive that blocks a thread on behalf of a system call calls
 * this with sched_lock held, after the thread is committed to waiting
 * (its condition checked under the lock that guards it) and before it
 * blocks (sched_prepare_block_locked), and returns the status instead of
 * blocking when it is nonzero:
 *
 *   ERR_CANCELED     the thread is being killed (kill_pending);
 *   ERR_INTERRUPTED  thread_interrupt asked its waits in this system
 *                    call to end (interrupt_pending, inside a call);
 *   0                block.
 *
 * A thread already blocked is woken by the same events through
 * sched_wakeup with the same status, so a primitive that checks here and
 * blocks under one hold of sched_lock never misses a kill or an
 * interrupt.  Whatever a woken waiter gets that is not its own success
 * or timeout must end its system call (retrying would wait again, and
 * would fail again at once).  waitq_wait and sched_sleep_until do all of
 * this; a new blocking primitive built on sched_block_locked must too.
 */
static inline int sched_wait_abort_locked(const struct thread *t)
{
    if (t->kill_pending)
        return ERR_CANCELED;
    if (t->interrupt_pending && t->in_syscall)
        return ERR_INTERRUPTED;
    return 0;
}

/* Make t, running on another CPU, enter the kernel (so it sees a kill or
 * a suspension on its way back to user mode).  sched_lock held. */
void sched_poke_locked(struct thread *t);

/* Give up the CPU to an equal or higher priority thread, if any. */
void sched_yield(void);

/* Block the current thread (its state already BLOCKED, sched_lock held
 * with *f the saved interrupt state); returns its wait_result once woken,
 * with the lock released and interrupts restored. */
int sched_block_locked(irqflags_t f);

/* Block the current thread (deadline as for sched_prepare_block_locked)
 * and wake `next`, a BLOCKED thread, with result 0 -- running it here at
 * once, without the run queues, when its affinity allows and nothing
 * more urgent is queued on this CPU (the IPC fast path).  `held` is a
 * lock the caller holds, taken with spin_lock_irqsave (flags f); it is
 * released once the current thread counts as blocked, so a wakeup
 * cannot be lost.  Returns the current thread's wait result; a kill or
 * interrupt pending (sched_wait_abort_locked) ends it before blocking.
 * With `next` NULL it just blocks. */
int sched_block_handoff(struct thread *next, spinlock_t *held, irqflags_t f,
                        uint64_t deadline);

/* Sleep until `deadline_ns` (clock_ns); ERR_TIMED_OUT when it passes,
 * ERR_CANCELED if the thread was killed, ERR_INTERRUPTED if interrupted
 * (sched_wait_abort_locked). */
int sched_sleep_until(uint64_t deadline_ns);

/* Timer interrupt on this CPU; interrupt-exit hook (may switch). */
void sched_timer_event(void);

/* Program this CPU's timer again: its earliest kernel timer (ktimer.c)
 * changed. */
void sched_timer_reprogram(void);
void sched_preempt_check(bool from_user);

/* Mark the current thread BLOCKED (sched_lock held), on its CPU's
 * sleeper list when it has a deadline (ns, 0 = none). */
void sched_prepare_block_locked(uint64_t deadline);

/* End the current thread (sched_lock held, interrupts off). */
noreturn void sched_exit_locked(void);

/* Wake a thread to die (ERR_CANCELED if blocked). */
void sched_kill_wake(struct thread *t);

/* Restrict a thread to the CPUs in mask (at least one online, else
 * ERR_INVALID_ARGS); a thread on another CPU moves at once. */
int sched_set_affinity(struct thread *t, uint64_t mask);

/* Give t the effective priority `prio` (sched_lock held; pi.c decides
 * what it is): a READY thread moves to that list of its run queue and
 * may preempt, a RUNNING one lowered below a thread waiting for its CPU
 * gives way at the next chance, a blocked one keeps it for its wakeup.
 * Base priorities change through pi_set_base (pi.h). */
void sched_set_prio_locked(struct thread *t, unsigned prio);

/* Arch hooks */
void arch_context_switch(uintptr_t *prev_sp, uintptr_t next_sp);
void arch_switch_prepare(struct thread *prev, struct thread *next);
void arch_timer_oneshot(uint64_t deadline_ns);    /* 0: off */
void arch_send_resched(int cpu);

#endif
