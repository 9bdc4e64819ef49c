/*
 * kmem.h - per-process bounds on kernel memory, and allocation-failure
 * injection.
 *
 * Every kernel allocation a process causes (handle tables, queued
 * messages, kernel objects, pages) is charged to its kmem_account.  A
 * charge that would pass the limit fails with ERR_NO_MEMORY, which the
 * system call returns; the kernel never panics for want of memory a user
 * asked for.  A NULL account is unlimited (the kernel's own objects).
 *
 * The account must outlive everything charged to it, and things charged
 * to a process (an endpoint, a queued message, a vmo) can outlive the
 * process when another process holds them.  So the owner does not free
 * the account itself: it closes it (kmem_account_close), and `release`
 * runs once the account is closed and nothing is charged to it any
 * more, at once or at the last uncharge.  A closed account refuses new
 * charges.
 *
 * Failure injection: kmem_fail_set(n, seed) makes kmem_should_fail()
 * answer true about once in n calls, from a deterministic generator, so a
 * test run can be replayed from its seed.  kobj_alloc consults it; other
 * allocators that can fail on behalf of a user (pages) should too.
 */
#ifndef MICA_KMEM_H
#define MICA_KMEM_H

#include "types.h"

#define KMEM_UNLIMITED UINT64_MAX

struct kmem_account {
    uint64_t used;              /* bytes charged now (| KMEM_CLOSED); atomic */
    uint64_t limit;             /* used never exceeds it */
    uint64_t peak;              /* highest `used` seen; atomic */
    void (*release)(struct kmem_account *a);    /* frees the owner's memory */
};

#define KMEM_CLOSED (1ull << 63)

void kmem_account_init(struct kmem_account *a, uint64_t limit);

/* The owner is gone: call a->release once nothing is charged (now, or at
 * the last kmem_uncharge). */
void kmem_account_close(struct kmem_account *a,
                        void (*release)(struct kmem_account *a));

/* Bytes charged now. */
static inline uint64_t kmem_used(const struct kmem_account *a)
{
    return __atomic_load_n(&a->used, __ATOMIC_RELAXED) & ~KMEM_CLOSED;
}

/* Charge `bytes` to `a`: 0, or ERR_NO_MEMORY (nothing charged) when the
 * limit would be passed.  NULL `a` always succeeds. */
int kmem_charge(struct kmem_account *a, uint64_t bytes);

/* Give back `bytes` charged earlier. */
void kmem_uncharge(struct kmem_account *a, uint64_t bytes);

/* Fail about one allocation in `one_in_n` (0 turns injection off),
 * pseudo-randomly from `seed`. */
void kmem_fail_set(uint32_t one_in_n, uint64_t seed);

/* Limit injection to where `filter` returns true (the kernel: system
 * calls of a process that asked for it).  NULL: everywhere. */
void kmem_fail_set_filter(bool (*filter)(void));

/* True when the next allocation should fail (injection on and drawn). */
bool kmem_should_fail(void);

/* Failures injected since the last kmem_fail_set. */
uint64_t kmem_failures_injected(void);

/* `size` zeroed bytes charged to `a`, or NULL (over the limit, out of
 * memory or injected failure) with nothing charged or allocated. */
void *kobj_alloc(struct kmem_account *a, size_t size);

/* Free `p` from kobj_alloc(a, size) and give the charge back. NULL ok. */
void kobj_free(struct kmem_account *a, void *p, size_t size);

#endif
