/*
 * signal_wait.h - waiting for an object's signals.
 *
 * Every change of an object's signals goes through object_signal(),
 * which wakes the threads waiting on signals and fires the object's
 * one-shot observers (observer.h); a woken waiter re-checks its own
 * condition.  Waiters queue while holding the object's lock, so no
 * change can slip between their check and their sleep.  Waiters on one
 * object sleep on a queue chosen by the object's address (shared with
 * the objects that hash alike); waiters on many share one more.
 * object_signal may take ipc_lock (when the object has observers and
 * the caller does not hold it): call it with no object lock or
 * sched_lock held.
 */
#ifndef MICA_SIGNAL_WAIT_H
#define MICA_SIGNAL_WAIT_H

#include "object.h"

/* Clear then set signal bits of o, waking waiters if anything changed. */
void object_signal(struct object *o, mica_signals_t clear,
                   mica_signals_t set);

/* Wait until any of `want` is set on o, the deadline (clock_ns, 0 =
 * none) passes or the thread is killed or interrupted.  *observed gets
 * the signals seen last.  Returns 0, ERR_TIMED_OUT, ERR_CANCELED or
 * ERR_INTERRUPTED (a wanted signal seen at the end wins over the last
 * three). */
int object_wait_signals(struct object *o, mica_signals_t want,
                        uint64_t deadline, mica_signals_t *observed);

/* The same, also ending with ERR_CANCELED once still(ctx) turns false
 * (checked with o's lock held; whoever makes it false must then call
 * object_wait_kick(o)).  Used for "the waited handle was closed". */
int object_wait_signals_while(struct object *o, mica_signals_t want,
                              uint64_t deadline, mica_signals_t *observed,
                              bool (*still)(void *ctx), void *ctx);

/* Wait until any objs[i] has a signal of want[i]; seen[i] gets each
 * object's signals.  still(i, ctx) (optional) must stay true for each
 * object, else ERR_CANCELED.  Returns 0, ERR_TIMED_OUT, ERR_CANCELED or
 * ERR_INTERRUPTED. */
int object_wait_many(struct object *const *objs, const mica_signals_t *want,
                     mica_signals_t *seen, unsigned n, uint64_t deadline,
                     bool (*still)(unsigned i, void *ctx), void *ctx);

/* Wake o's waiters so they re-check their condition, and fire the
 * observers o's signals satisfy now (for signals changed in place). */
void object_wait_kick(struct object *o);

#endif
