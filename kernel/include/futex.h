/*
 * futex.h - fast user-space mutexes: wait on a 32-bit word, wake waiters.
 *
 * Private futexes are keyed by (address space, address).  A waiter
 * checks the word and queues under its bucket's lock, so a waker that
 * changed the word and then calls futex_wake cannot miss it.
 *
 * PI futexes (Linux's FUTEX_LOCK_PI, FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI)
 * are locks whose word holds the owner's thread id: FUTEX_WAITERS is set
 * while threads wait in the kernel, so the owner's unlock comes here, and
 * the kernel hands the lock to the best waiter (highest priority, then
 * first come) by writing that waiter's id into the word.  Waiters lend
 * the owner their priority (pi.h).
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

/* Wake up to n waiters on k (matching bitset); returns how many, or
 * ERR_INVALID_ARGS on meeting a PI waiter (PI futexes are released with
 * futex_unlock_pi; those woken before stay woken, as on Linux). */
int futex_wake(const struct futex_key *k, int n, uint32_t bitset);

/* Wake up to n on k1, then move up to n2 of the rest to k2 (when `cmp`,
 * only if the word at uaddr == val).  Returns woken + moved, or an error
 * (ERR_INVALID_ARGS when a PI waiter waits on k1: nothing moves). */
int futex_requeue(const struct futex_key *k1, uint64_t uaddr, int n,
                  const struct futex_key *k2, int n2, bool cmp, uint32_t val);

/* The PI futex word. */
#define FUTEX_WAITERS    0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK   0x3fffffffu

/*
 * Take the PI lock at uaddr for the current thread (`try`: only if free
 * at once).  A word naming another thread makes the caller wait for it
 * (deadline: clock_ns, 0 = none); the owner must be a live user thread,
 * of the caller's process when `private`.  When an owner exits while
 * threads wait, the first of them to run takes the lock over with
 * FUTEX_OWNER_DIED set.
 *
 *   0                 the caller owns the lock (the word holds its id)
 *   ERR_INVALID_ARGS  uaddr not 4-byte aligned; or the word disagrees
 *                     with the owner the kernel knows (a corrupted word)
 *   ERR_FAULT         the word cannot be read and written
 *   ERR_BAD_STATE     the caller owns it already, or waiting would close
 *                     a cycle of waits (Linux: EDEADLK)
 *   ERR_NOT_FOUND     the word names no such thread (Linux: ESRCH)
 *   ERR_SHOULD_WAIT   `try`, and another thread owns it
 *   ERR_TIMED_OUT, ERR_CANCELED, ERR_INTERRUPTED   as for futex_wait
 */
int futex_lock_pi(const struct futex_key *k, uint64_t uaddr, bool private,
                  bool try, uint64_t deadline);

/* Release the PI lock at uaddr, which the caller owns: the word becomes
 * the best waiter's id (with FUTEX_WAITERS if more wait), or 0.  0,
 * ERR_INVALID_ARGS (misaligned), ERR_FAULT, or ERR_ACCESS_DENIED: the
 * word does not hold the caller's id (Linux: EPERM). */
int futex_unlock_pi(const struct futex_key *k, uint64_t uaddr);

#endif
