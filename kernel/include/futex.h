/*
 * futex.h - fast user-space mutexes: wait on a 32-bit word, wake waiters.
 *
 * Private futexes are keyed by (address space, address).  A waiter
 * checks the word and queues under its bucket's lock, so a waker that
 * changed the word and then calls futex_wake cannot miss it.
 */
#ifndef MICA_FUTEX_H
#define MICA_FUTEX_H

#include "types.h"

struct aspace;

/* Sleep if *uaddr == val, until woken, the deadline (clock_ns, 0 =
 * none) or a kill.  0 when woken, ERR_SHOULD_WAIT when the value
 * differed, ERR_TIMED_OUT, ERR_CANCELED, ERR_FAULT, ERR_INVALID_ARGS. */
int futex_wait(struct aspace *as, uint64_t uaddr, uint32_t val,
               uint64_t deadline, uint32_t bitset);

/* Wake up to n waiters on the word (matching bitset); returns how many. */
int futex_wake(struct aspace *as, uint64_t uaddr, int n, uint32_t bitset);

/* Wake up to n, then move up to n2 of the rest to uaddr2 (when `cmp`,
 * only if *uaddr == val).  Returns woken + moved, or an error. */
int futex_requeue(struct aspace *as, uint64_t uaddr, int n, uint64_t uaddr2,
                  int n2, bool cmp, uint32_t val);

#endif
