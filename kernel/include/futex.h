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

/* What names a futex word: (address space, address) for a private one,
 * (vmo, offset) for a shared one. */
struct futex_key {
    const void *obj;
    uint64_t off;
};

/* Sleep if the word at uaddr (the caller's, named by k) == val, until
 * woken, the deadline (clock_ns, 0 = none) or a kill.  0 when woken,
 * ERR_SHOULD_WAIT when the value differed, ERR_TIMED_OUT, ERR_CANCELED,
 * ERR_FAULT, ERR_INVALID_ARGS. */
int futex_wait(const struct futex_key *k, uint64_t uaddr, uint32_t val,
               uint64_t deadline, uint32_t bitset);

/* Wake up to n waiters on k (matching bitset); returns how many. */
int futex_wake(const struct futex_key *k, int n, uint32_t bitset);

/* Wake up to n on k1, then move up to n2 of the rest to k2 (when `cmp`,
 * only if the word at uaddr == val).  Returns woken + moved, or an error. */
int futex_requeue(const struct futex_key *k1, uint64_t uaddr, int n,
                  const struct futex_key *k2, int n2, bool cmp, uint32_t val);

#endif
