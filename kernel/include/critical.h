/*
 * critical.h - bounded non-preemptible sections in user mode.
 *
 * A user thread that holds a budget (a MICA_RESOURCE_CRITICAL resource)
 * may hold off its own preemption by setting `defer` in its critical
 * page (mica/critical.h): a page of the kernel's, made on first use and
 * mapped into the thread's process, which the scheduler reads through
 * the direct map while the thread is off user mode.  docs/kernel.md
 * ("Bounded critical sections") has the rules.
 *
 * The scheduler's state is the thread's crit_deadline (0: no preemption
 * held off), under sched_lock like the rest of it; the budget attached
 * is in struct crit, changed under sched_lock too.  A thread without a
 * struct crit, or without a budget, costs the scheduler one load on the
 * preemption path.
 */
#ifndef MICA_CRITICAL_H
#define MICA_CRITICAL_H

#include <mica/critical.h>

#include "kmem.h"
#include "types.h"

struct resource;
struct thread;
struct vmo;

struct crit {
    struct vmo *vmo;                /* the page: contiguous, never cloned */
    struct mica_critical_page *page;    /* the kernel's view of it */
    vaddr_t uaddr;                  /* where it was last mapped, 1 once the
                                       thread has ended (atomic) */
    struct resource *budget;        /* referenced; NULL: none (sched_lock) */
    uint64_t deferrals, overruns;   /* this thread's (sched_lock) */
    struct kmem_account *acct;      /* the thread's process's */
};

/* Map t's critical page (made on first use, charged to t's process)
 * into t's process read-write, unless it is still mapped where it was
 * last; its address goes to *addr.  0, ERR_BAD_STATE (a kernel thread,
 * t has ended, its process has died) or ERR_NO_MEMORY. */
int crit_map(struct thread *t, vaddr_t *addr);

/* Attach budget r to t (NULL: detach).  0, ERR_ACCESS_DENIED (r is not
 * a budget), ERR_BAD_STATE (r was revoked; a kernel thread, or t has
 * ended) or ERR_NO_MEMORY (t's page could not be made). */
int crit_set_budget(struct thread *t, struct resource *r);

/* The thread has ended (the reaper): its page leaves its process's
 * address space, and is never mapped again. */
void crit_thread_gone(struct thread *t);

/* The thread object goes: its page and budget with it. */
void crit_free(struct thread *t);

/*
 * The scheduler's hooks, with sched_lock held.
 *
 * crit_defer_locked: t, running with a struct crit, is about to be
 * preempted (by a thread of priority `top` queued on its CPU, or at the
 * end of its slice).  True to hold the preemption off: t is in a
 * section, has a budget and the preempting priority is below the
 * real-time band; its slice is extended to the end of the budget.
 * False to preempt, which is also what an overrun gets (reported at
 * t's next return to user mode: crit_report).
 *
 * crit_end_locked: t (with crit_deadline set) gave up the CPU, by
 * itself or not: the preemption it held off has happened.
 */
bool crit_defer_locked(struct thread *t, int top, uint64_t now);
void crit_end_locked(struct thread *t);

/* On the current thread t's way back to user mode (interrupts off, no
 * lock held) after an overrun: report it through t's exception
 * channels and act on the verdict (kill: its process dies). */
void crit_report(struct thread *t);

#endif
