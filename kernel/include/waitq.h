/*
 * waitq.h - queues of threads waiting for something.
 *
 * A wait queue belongs to whatever is waited for (a futex word, an
 * object's signals, a process's death).  Its list is protected by the
 * scheduler lock, so a waiter can release its own lock (the object's)
 * and block with no window for a lost wakeup: the lock order is
 * "object lock, then scheduler lock", never the reverse.
 */
#ifndef MICA_WAITQ_H
#define MICA_WAITQ_H

#include "spinlock.h"
#include "thread.h"

struct waitq {
    struct thread *head, *tail;
};

#define WAITQ_INIT { NULL, NULL }

/* Block the current thread on wq until woken, the deadline (clock_ns,
 * 0 = none) passes, or the thread is killed or interrupted.  `held`, when
 * not NULL, is a spinlock the caller holds (taken with spin_lock_irqsave,
 * flags `f`); it is released once the thread is queued, or when the wait
 * is refused at once (sched_wait_abort_locked).  Returns the waker's
 * result, ERR_TIMED_OUT, ERR_CANCELED or ERR_INTERRUPTED. */
int waitq_wait(struct waitq *wq, spinlock_t *held, irqflags_t f,
               uint64_t deadline);

/* Wake up to n waiters (n < 0: all) with `result`; returns how many. */
int waitq_wake(struct waitq *wq, int n, int result);

/* Number of threads waiting. */
unsigned waitq_count(const struct waitq *wq);

/* Scheduler-internal: take t off whatever queue it waits on. */
void waitq_remove_locked(struct thread *t);

#endif
