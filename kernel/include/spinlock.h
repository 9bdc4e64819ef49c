/*
 * spinlock.h - ticket spinlocks.
 *
 * FIFO-fair: a CPU takes a ticket and waits until it is served, so no
 * CPU starves under contention.  Locks taken from interrupt handlers must
 * be taken with spin_lock_irqsave everywhere.  `owner_cpu` is kept for
 * panic (which must not deadlock on a lock its own CPU holds) and for
 * assertions.
 */
#ifndef MICA_SPINLOCK_H
#define MICA_SPINLOCK_H

#include "arch.h"
#include "percpu.h"

typedef struct spinlock {
    uint32_t next;      /* next ticket to hand out */
    uint32_t serving;   /* ticket now holding the lock */
    int owner_cpu;      /* -1 when free */
} spinlock_t;

#define SPINLOCK_INIT { 0, 0, -1 }

/* This CPU's id, for owner_cpu (0 before per-CPU data exists). */
static inline int spin_owner_id(void)
{
    struct percpu *c = this_cpu();
    return c ? (int)c->id : 0;
}

static inline void spin_lock(spinlock_t *l)
{
    uint32_t t = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != t)
        arch_cpu_relax();
    l->owner_cpu = spin_owner_id();
}

/* Take the lock only if it is free now. */
static inline bool spin_trylock(spinlock_t *l)
{
    uint32_t s = __atomic_load_n(&l->serving, __ATOMIC_RELAXED);
    uint32_t n = s;
    if (!__atomic_compare_exchange_n(&l->next, &n, s + 1, false,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return false;
    l->owner_cpu = spin_owner_id();
    return true;
}

static inline void spin_unlock(spinlock_t *l)
{
    l->owner_cpu = -1;
    __atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_RELEASE);
}

static inline irqflags_t spin_lock_irqsave(spinlock_t *l)
{
    irqflags_t f = arch_irq_save();
    spin_lock(l);
    return f;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, irqflags_t f)
{
    spin_unlock(l);
    arch_irq_restore(f);
}

static inline bool spin_held_by_me(const spinlock_t *l)
{
    return l->owner_cpu == spin_owner_id();
}

#endif
