/*
 * kmem_account.c - kernel memory accounts and failure injection.
 *
 * An account is three words updated with atomics, no lock: a charge is a
 * compare-and-swap loop that refuses to move `used` past `limit`, so the
 * bound holds however many CPUs charge at once.  `peak` is a best-effort
 * maximum, raised by compare-and-swap after each charge.  Closing sets
 * the top bit of `used`; whoever brings `used` to exactly that bit (the
 * close itself, or the last uncharge after it) calls `release`, and only
 * one of them can.
 *
 * Injection draws from splitmix64 over an atomic counter: each call
 * takes the next counter value, so the sequence of answers is fixed by
 * the seed (which call gets which answer depends only on call order).
 */
#include <mica/errors.h>

#include "kmem.h"
#include "panic.h"
#include "slab.h"

static uint32_t fail_one_in;            /* 0: injection off */
static uint64_t fail_state;             /* splitmix64 counter */
static uint64_t fail_count;

void kmem_account_init(struct kmem_account *a, uint64_t limit)
{
    a->used = 0;
    a->limit = limit;
    a->peak = 0;
    a->release = NULL;
}

void kmem_account_close(struct kmem_account *a,
                        void (*release)(struct kmem_account *a))
{
    a->release = release;
    if (__atomic_add_fetch(&a->used, KMEM_CLOSED, __ATOMIC_ACQ_REL) ==
        KMEM_CLOSED)
        release(a);
}

static void raise_peak(struct kmem_account *a, uint64_t used)
{
    uint64_t p = __atomic_load_n(&a->peak, __ATOMIC_RELAXED);
    while (used > p &&
           !__atomic_compare_exchange_n(&a->peak, &p, used, true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

int kmem_charge(struct kmem_account *a, uint64_t bytes)
{
    if (!a)
        return 0;
    uint64_t used = __atomic_load_n(&a->used, __ATOMIC_RELAXED);
    do {
        if ((used & KMEM_CLOSED) || bytes > a->limit - used)
            return ERR_NO_MEMORY;
    } while (!__atomic_compare_exchange_n(&a->used, &used, used + bytes, true,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    raise_peak(a, used + bytes);
    return 0;
}

void kmem_uncharge(struct kmem_account *a, uint64_t bytes)
{
    if (!a)
        return;
    uint64_t old = __atomic_fetch_sub(&a->used, bytes, __ATOMIC_ACQ_REL);
    KASSERT((old & ~KMEM_CLOSED) >= bytes);
    if (old - bytes == KMEM_CLOSED)
        a->release(a);                  /* the last charge of a closed one */
}

void kmem_fail_set(uint32_t one_in_n, uint64_t seed)
{
    __atomic_store_n(&fail_state, seed, __ATOMIC_RELAXED);
    __atomic_store_n(&fail_count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&fail_one_in, one_in_n, __ATOMIC_RELEASE);
}

static uint64_t splitmix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static bool (*fail_filter)(void);

void kmem_fail_set_filter(bool (*filter)(void))
{
    fail_filter = filter;
}

bool kmem_should_fail(void)
{
    uint32_t n = __atomic_load_n(&fail_one_in, __ATOMIC_ACQUIRE);
    if (likely(n == 0))
        return false;
    if (fail_filter && !fail_filter())
        return false;
    uint64_t s = __atomic_add_fetch(&fail_state, 0x9e3779b97f4a7c15ull,
                                    __ATOMIC_RELAXED);
    if (splitmix64(s) % n != 0)
        return false;
    __atomic_fetch_add(&fail_count, 1, __ATOMIC_RELAXED);
    return true;
}

uint64_t kmem_failures_injected(void)
{
    return __atomic_load_n(&fail_count, __ATOMIC_RELAXED);
}

void *kobj_alloc(struct kmem_account *a, size_t size)
{
    if (kmem_should_fail())
        return NULL;
    if (kmem_charge(a, size) != 0)
        return NULL;
    void *p = kzalloc(size);
    if (!p)
        kmem_uncharge(a, size);
    return p;
}

void kobj_free(struct kmem_account *a, void *p, size_t size)
{
    if (!p)
        return;
    kfree(p);
    kmem_uncharge(a, size);
}
