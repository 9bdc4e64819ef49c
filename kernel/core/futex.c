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
 *
 * PI futexes keep no state of their own: their waiters sit in the same
 * buckets (marked `pi`, never requeued) and each lends its priority to
 * the owner through a pi_waiter (pi.h).  All waiters of one word lend to
 * the same owner, the one the kernel knows; the word must agree with it.
 * Reading and writing the word happen under the bucket lock alone (they
 * may fault); the waiter lists of owners and the owner links need
 * ipc_lock, taken inside the bucket lock.  A waiter blocks with ipc_lock
 * held into waitq_wait, so the unlocker (bucket lock, then ipc_lock)
 * cannot hand it the lock before it sleeps; it leaves the bucket itself
 * unless the unlocker took it out (`granted`).
 */
#include "futex.h"
#include "ipc.h"
#include "lib.h"
#include "mica/errors.h"
#include "pi.h"
#include "process.h"
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
    bool pi;                        /* a struct pi_futex_waiter */
    struct waitq wq;
    struct futex_waiter *next;
};

/* A waiter for a PI lock. */
struct pi_futex_waiter {
    struct futex_waiter w;
    bool granted;                   /* the unlocker made it the owner */
    uint64_t seq;                   /* arrival, for first come first served */
    struct pi_waiter piw;
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
                              false, WAITQ_INIT, NULL };
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
            if (w->pi) {
                woken = ERR_INVALID_ARGS;   /* a PI lock: unlock it */
                break;
            }
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
    for (struct futex_waiter *w = b1->head; w && !r; w = w->next)
        if (w->pi && w->as == k1->obj && w->addr == k1->off)
            r = ERR_INVALID_ARGS;           /* PI waiters never move */
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

/* --- PI futexes ------------------------------------------------------------ */

#define PI_AGAIN 1                  /* look at the word again */

static uint64_t pi_seq;

/* w as a waiter for the PI lock k, or NULL. */
static struct pi_futex_waiter *pi_of(struct futex_waiter *w,
                                     const struct futex_key *k)
{
    if (!w->pi || w->as != k->obj || w->addr != k->off)
        return NULL;
    return container_of(w, struct pi_futex_waiter, w);
}

/* The owner the kernel knows for k: whom its waiters lend to (bucket
 * lock and ipc_lock held).  Waiters whose owner exited lend to nobody. */
static struct thread *pi_known_owner(struct bucket *b,
                                     const struct futex_key *k)
{
    for (struct futex_waiter *w = b->head; w; w = w->next) {
        struct pi_futex_waiter *p = pi_of(w, k);
        if (p && p->piw.owner)
            return p->piw.owner;
    }
    return NULL;
}

/* Does any PI waiter of k other than `but` wait in b? */
static bool pi_others(struct bucket *b, const struct futex_key *k,
                      const struct pi_futex_waiter *but)
{
    for (struct futex_waiter *w = b->head; w; w = w->next) {
        struct pi_futex_waiter *p = pi_of(w, k);
        if (p && p != but)
            return true;
    }
    return false;
}

/* The waiter of k lending to `owner` that gets the lock next: the
 * highest priority, first come among equals (ipc_lock held). */
static struct pi_futex_waiter *pi_next_owner(struct bucket *b,
                                             const struct futex_key *k,
                                             const struct thread *owner)
{
    struct pi_futex_waiter *best = NULL;
    for (struct futex_waiter *w = b->head; w; w = w->next) {
        struct pi_futex_waiter *p = pi_of(w, k);
        if (!p || p->piw.owner != owner)
            continue;
        if (!best || w->t->prio > best->w.t->prio ||
            (w->t->prio == best->w.t->prio && p->seq < best->seq))
            best = p;
    }
    return best;
}

/* The word is free (tid 0): take it, keeping FUTEX_OWNER_DIED. */
static int pi_take_free(struct bucket *b, const struct futex_key *k,
                        uint64_t uaddr, uint32_t v)
{
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    bool known = pi_known_owner(b, k) != NULL;
    bool others = pi_others(b, k, NULL);
    spin_unlock_irqrestore(&ipc_lock, f);
    if (known)
        return ERR_INVALID_ARGS;        /* free, yet threads wait on it */
    uint32_t nv = thread_current()->tid | (v & FUTEX_OWNER_DIED) |
                  (others ? FUTEX_WAITERS : 0);
    uint32_t cur;
    int err = cmpxchg_user32(uaddr, v, nv, &cur);
    return err ? err : cur == v ? 0 : PI_AGAIN;
}

/* The owner named by a held word: the one the kernel knows, else the
 * live user thread with that id (of the caller's process for a private
 * futex); NULL when there is none (it exited, or never was).  *ref is a
 * reference the caller drops once no spinlock is held.  With
 * ERR_INVALID_ARGS, the word names someone else than the known owner. */
static int pi_find_owner(struct bucket *b, const struct futex_key *k,
                         uint32_t tid, bool private, struct thread **owner,
                         struct thread **ref)
{
    struct thread *me = thread_current(), *t;
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    t = pi_known_owner(b, k);
    if (t)
        object_ref(&t->obj);
    spin_unlock_irqrestore(&ipc_lock, f);
    if (!t)
        t = thread_by_tid(tid);
    *ref = t;
    *owner = NULL;
    if (!t)
        return 0;
    if (t->tid != tid)
        return ERR_INVALID_ARGS;
    f = spin_lock_irqsave(&ipc_lock);
    if (!t->pi_exited && (!private || t->proc == me->proc))
        *owner = t;
    spin_unlock_irqrestore(&ipc_lock, f);
    return 0;
}

/* The owner is gone and the caller was waiting for it: take the lock
 * over, telling the next owner what happened. */
static int pi_take_over(struct bucket *b, const struct futex_key *k,
                        uint64_t uaddr, uint32_t v)
{
    uint32_t nv = thread_current()->tid | FUTEX_OWNER_DIED |
                  (pi_others(b, k, NULL) ? FUTEX_WAITERS : 0);
    uint32_t cur;
    int err = cmpxchg_user32(uaddr, v, nv, &cur);
    return err ? err : cur == v ? 0 : PI_AGAIN;
}

/* Block as w on the owner's lock (bucket lock held, released for the
 * sleep and held again on return).  0 or PI_AGAIN; an error ends it. */
static int pi_block(struct bucket *b, struct pi_futex_waiter *p,
                    struct thread *owner, uint64_t deadline, bool *heir)
{
    struct futex_waiter *w = &p->w;
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    struct thread *known = pi_known_owner(b, &(struct futex_key){ w->as,
                                                                 w->addr });
    if (owner->pi_exited || (known && known != owner)) {
        spin_unlock_irqrestore(&ipc_lock, f);
        return PI_AGAIN;                /* it changed: look again */
    }
    if (pi_would_deadlock_locked(owner, w->t)) {
        spin_unlock_irqrestore(&ipc_lock, f);
        return ERR_BAD_STATE;
    }
    p->granted = false;
    p->seq = ++pi_seq;
    w->next = b->head;
    b->head = w;
    pi_wait_begin_locked(&p->piw, owner);
    spin_unlock(&b->lock);
    int r = waitq_wait(&w->wq, &ipc_lock, f, deadline);
    spin_lock(&b->lock);
    f = spin_lock_irqsave(&ipc_lock);
    if (!p->granted) {
        unlink_waiter(b, w);
        *heir = p->piw.owner == NULL;   /* its owner exited */
        pi_wait_end_locked(&p->piw);
    }
    spin_unlock_irqrestore(&ipc_lock, f);
    if (p->granted)
        return 0;
    return r ? r : PI_AGAIN;
}

/* One look at the word (bucket lock held): take the lock, block on its
 * owner, or fail.  *ref is an owner reference for the caller to drop
 * once no spinlock is held. */
static int pi_attempt(struct bucket *b, struct pi_futex_waiter *p,
                      uint64_t uaddr, bool private, bool try,
                      uint64_t deadline, bool *heir, struct thread **ref)
{
    struct futex_waiter *w = &p->w;
    const struct futex_key k = { w->as, w->addr };
    uint32_t v, cur;
    if (copy_from_user(&v, uaddr, sizeof(v)))
        return ERR_FAULT;
    uint32_t tid = v & FUTEX_TID_MASK;
    if (tid == w->t->tid)
        return ERR_BAD_STATE;
    if (tid == 0)
        return pi_take_free(b, &k, uaddr, v);
    struct thread *owner;
    int err = pi_find_owner(b, &k, tid, private, &owner, ref);
    if (err)
        return err;
    if (!owner)
        return *heir ? pi_take_over(b, &k, uaddr, v) : ERR_NOT_FOUND;
    if (try)
        return ERR_SHOULD_WAIT;
    if (!(v & FUTEX_WAITERS)) {         /* the owner's unlock must come here */
        err = cmpxchg_user32(uaddr, v, v | FUTEX_WAITERS, &cur);
        return err ? err : PI_AGAIN;
    }
    *heir = false;
    return pi_block(b, p, owner, deadline, heir);
}

int futex_lock_pi(const struct futex_key *k, uint64_t uaddr, bool private,
                  bool try, uint64_t deadline)
{
    if (uaddr & 3)
        return ERR_INVALID_ARGS;
    struct bucket *b = bucket_of(k->obj, k->off);
    struct pi_futex_waiter p = {
        .w = { .t = thread_current(), .as = k->obj, .addr = k->off,
               .bitset = ~0u, .pi = true, .wq = WAITQ_INIT },
    };
    p.piw.t = p.w.t;
    bool heir = false;
    int r;
    spin_lock(&b->lock);
    do {
        struct thread *ref = NULL;
        r = pi_attempt(b, &p, uaddr, private, try, deadline, &heir, &ref);
        if (ref) {
            spin_unlock(&b->lock);
            object_unref(&ref->obj);
            spin_lock(&b->lock);
        }
    } while (r == PI_AGAIN);
    spin_unlock(&b->lock);
    return r;
}

/* Hand the lock to `next` (bucket lock held; the word says so already):
 * the other waiters lend to it from now on. */
static void pi_hand_over(struct bucket *b, const struct futex_key *k,
                         struct pi_futex_waiter *next)
{
    struct thread *me = thread_current();
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    unlink_waiter(b, &next->w);
    next->granted = true;
    pi_wait_end_locked(&next->piw);
    for (struct futex_waiter *w = b->head; w; w = w->next) {
        struct pi_futex_waiter *p = pi_of(w, k);
        if (p && p->piw.owner == me)
            pi_wait_move_locked(&p->piw, next->w.t);
    }
    pi_refresh_locked(me);
    pi_refresh_locked(next->w.t);
    waitq_wake(&next->w.wq, 1, 0);
    spin_unlock_irqrestore(&ipc_lock, f);
}

int futex_unlock_pi(const struct futex_key *k, uint64_t uaddr)
{
    if (uaddr & 3)
        return ERR_INVALID_ARGS;
    struct thread *me = thread_current();
    struct bucket *b = bucket_of(k->obj, k->off);
    int r;
    spin_lock(&b->lock);
    for (;;) {
        uint32_t v, cur;
        r = copy_from_user(&v, uaddr, sizeof(v));
        if (r)
            break;
        if ((v & FUTEX_TID_MASK) != me->tid) {
            r = ERR_ACCESS_DENIED;
            break;
        }
        irqflags_t f = spin_lock_irqsave(&ipc_lock);
        struct pi_futex_waiter *next = pi_next_owner(b, k, me);
        bool more = next && pi_others(b, k, next);
        spin_unlock_irqrestore(&ipc_lock, f);
        uint32_t nv = next ? next->w.t->tid | (more ? FUTEX_WAITERS : 0) : 0;
        r = cmpxchg_user32(uaddr, v, nv, &cur);
        if (r)
            break;
        if (cur != v)
            continue;                   /* changed under us: again */
        if (next)
            pi_hand_over(b, k, next);
        break;
    }
    spin_unlock(&b->lock);
    return r;
}
