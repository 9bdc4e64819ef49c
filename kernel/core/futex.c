/*
 * futex.c - futex wait, wake and requeue.
 *
 * 64 buckets hashed by the key, each with a lock and a list of waiters.
 * A private futex's key is (address space, address); a shared one's is
 * (vmo, offset), so processes mapping the same memory at any address
 * meet on the same word.  A waiter takes its bucket lock, reads the user word
 * (the read may fault and resolve the fault: the bucket lock is a plain
 * spinlock held with interrupts on, and the fault path never takes it),
 * compares, and if equal queues itself and sleeps; the scheduler lock
 * is taken before the bucket lock is dropped (waitq.h), so no wake can
 * fall between.  Waiters are threads; their key is kept in the thread.
 * Requeue moves a waiter to another key (and bucket) under both bucket
 * locks, so a waiter leaving without a wake (timeout, kill, interrupt)
 * unlinks itself from the bucket its key names at that moment.
 */
#include "futex.h"
#include "lib.h"
#include "mica/errors.h"
#include "sched.h"
#include "spinlock.h"
#include "thread.h"
#include "uaccess.h"
#include "waitq.h"

#define FUTEX_BUCKETS 64

struct futex_waiter {
    struct thread *t;
    const void *as;                 /* key: address space or vmo */
    uint64_t addr;                  /* key: address or vmo offset */
    uint32_t bitset;
    struct waitq wq;
    struct futex_waiter *next;
};

struct bucket {
    spinlock_t lock;
    struct futex_waiter *head;
};

static struct bucket buckets[FUTEX_BUCKETS];

static struct bucket *bucket_of(const void *as, uint64_t addr)
{
    uint64_t h = ((uintptr_t)as >> 6) ^ (addr >> 2);
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    return &buckets[(h >> 58) % FUTEX_BUCKETS];
}

static void unlink_waiter(struct bucket *b, struct futex_waiter *w)
{
    struct futex_waiter **pp = &b->head;
    while (*pp && *pp != w)
        pp = &(*pp)->next;
    if (*pp)
        *pp = w->next;
}

/* A waiter that was not woken (timed out, killed, interrupted) leaves
 * the bucket it is in now: home (where it queued with key k) unless
 * requeue moved it.
 * Its key changes only under its bucket's lock, so the key read again
 * with that lock held names the bucket to unlink it from. */
static void unlink_own(struct bucket *home, struct futex_waiter *w,
                       const struct futex_key *k)
{
    struct bucket *b = home;
    for (;;) {
        spin_lock(&b->lock);
        bool unmoved = b == home && w->as == k->obj && w->addr == k->off;
        if (unmoved || bucket_of(w->as, w->addr) == b) {
            unlink_waiter(b, w);        /* still there if not woken */
            spin_unlock(&b->lock);
            return;
        }
        spin_unlock(&b->lock);
        b = bucket_of(w->as, w->addr);
    }
}

int futex_wait(const struct futex_key *k, uint64_t uaddr, uint32_t val,
               uint64_t deadline, uint32_t bitset)
{
    if ((uaddr & 3) || !bitset)
        return ERR_INVALID_ARGS;
    struct bucket *b = bucket_of(k->obj, k->off);
    struct futex_waiter w = { thread_current(), k->obj, k->off, bitset,
                              WAITQ_INIT, NULL };
    uint32_t cur;
    spin_lock(&b->lock);
    if (copy_from_user(&cur, uaddr, sizeof(cur))) {
        spin_unlock(&b->lock);
        return ERR_FAULT;
    }
    if (cur != val) {
        spin_unlock(&b->lock);
        return ERR_SHOULD_WAIT;
    }
    w.next = b->head;
    b->head = &w;
    irqflags_t f = arch_irq_save();
    int r = waitq_wait(&w.wq, &b->lock, f, deadline);
    unlink_own(b, &w, k);
    arch_irq_restore(f);
    return r;
}

int futex_wake(const struct futex_key *k, int n, uint32_t bitset)
{
    if (k->off & 3)
        return ERR_INVALID_ARGS;
    const void *as = k->obj;
    uint64_t uaddr = k->off;
    struct bucket *b = bucket_of(as, uaddr);
    int woken = 0;
    spin_lock(&b->lock);
    struct futex_waiter **pp = &b->head;
    while (*pp && woken < n) {
        struct futex_waiter *w = *pp;
        if (w->as == as && w->addr == uaddr && (w->bitset & bitset)) {
            *pp = w->next;
            woken += waitq_wake(&w->wq, 1, 0);
        } else {
            pp = &w->next;
        }
    }
    spin_unlock(&b->lock);
    return woken;
}

int futex_requeue(const struct futex_key *k1, uint64_t uaddr, int n,
                  const struct futex_key *k2, int n2, bool cmp, uint32_t val)
{
    if ((uaddr | k1->off | k2->off) & 3)
        return ERR_INVALID_ARGS;
    struct bucket *b1 = bucket_of(k1->obj, k1->off);
    struct bucket *b2 = bucket_of(k2->obj, k2->off);
    struct bucket *lo = b1 < b2 ? b1 : b2, *hi = b1 < b2 ? b2 : b1;
    spin_lock(&lo->lock);
    if (hi != lo)
        spin_lock(&hi->lock);
    uint32_t cur = 0;
    int r = 0;
    if (cmp && copy_from_user(&cur, uaddr, sizeof(cur)))
        r = ERR_FAULT;
    else if (cmp && cur != val)
        r = ERR_SHOULD_WAIT;
    struct futex_waiter **pp = &b1->head;
    int woken = 0, moved = 0;
    while (!r && *pp) {
        struct futex_waiter *w = *pp;
        if (w->as != k1->obj || w->addr != k1->off) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        if (woken < n) {
            woken += waitq_wake(&w->wq, 1, 0);
        } else if (moved < n2) {
            w->as = k2->obj;
            w->addr = k2->off;
            w->next = b2->head;
            b2->head = w;
            moved++;
            if (b1 == b2 && pp == &b1->head)
                pp = &w->next;          /* skip the one just moved */
        } else {
            w->next = *pp;              /* put it back and stop */
            *pp = w;
            break;
        }
    }
    if (hi != lo)
        spin_unlock(&hi->lock);
    spin_unlock(&lo->lock);
    return r ? r : woken + moved;
}
