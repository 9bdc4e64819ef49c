/*
 * mica/critical.h - bounded non-preemptible sections in user mode.
 *
 * A thread may hold off its own preemption for a short section of code
 * (a user-mode spinlock, a device register sequence) without a system
 * call: it sets `defer` in its critical page before the section and
 * clears it after.  The kernel honours the flag only for a thread that
 * has a budget, a resource of kind MICA_RESOURCE_CRITICAL (mica/device.h)
 * attached with thread_set_critical_budget; the budget is that
 * resource's size in nanoseconds.
 *
 * While `defer` is set, a time-slice expiry or the wakeup of a thread
 * below the real-time band (priorities MICA_PRIO_REALTIME and up, which
 * always preempt) that would preempt the thread is held off: the thread
 * runs on for at most its budget, and the kernel sets `preempt_pending`.
 * The thread yields when it leaves the section (mica_crit_leave in
 * user/lib/mica.h does both).  A thread still in its section when the
 * budget runs out is preempted anyway, and the overrun is reported as an
 * exception (MICA_EXC_CRITICAL_OVERRUN, mica/exception.h).  The
 * MICA_CRITICAL_STRIKES-th overrun charged to one budget revokes it.
 *
 * The page (thread_critical_page) is the kernel's, one per thread,
 * pinned and mapped read-write into the thread's process; the kernel
 * reads it through its own mapping.  Only `defer` is the thread's to
 * write; the kernel writes the rest and never reads it back.
 * docs/kernel.md ("Bounded critical sections") has the rules.
 */
#ifndef MICA_ABI_CRITICAL_H
#define MICA_ABI_CRITICAL_H

#include <stdint.h>

/* Priorities MICA_PRIO_REALTIME..31 are the real-time band: a thread of
 * the band that becomes ready preempts a critical section at once. */
#define MICA_PRIO_REALTIME       24u

/* The largest budget a MICA_RESOURCE_CRITICAL resource may grant (ns). */
#define MICA_CRITICAL_BUDGET_MAX 10000000ull

/* Overruns charged to one budget resource before it is revoked. */
#define MICA_CRITICAL_STRIKES    3u

struct mica_critical_page {
    /* The thread's: nonzero while it is inside a section (the nesting
     * depth, for mica_crit_enter and mica_crit_leave). */
    volatile uint32_t defer;
    /* The kernel's: 1 when it held off a preemption in this section;
     * the thread owes a yield when it leaves.  Cleared when the thread
     * next gives up the CPU, by itself or not. */
    volatile uint32_t preempt_pending;
    /* The kernel's: the budget per section in ns, 0 for none (then
     * `defer` is ignored); 0 too once the budget is revoked. */
    volatile uint64_t budget_ns;
    /* The kernel's: preemptions held off so far (each starts a
     * budget's worth of time, which lasts until the thread gives up
     * its CPU), and sections preempted when that time ran out. */
    volatile uint64_t deferrals;
    volatile uint64_t overruns;
};

#endif
