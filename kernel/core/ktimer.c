/*
 * ktimer.c - kernel timers on per-CPU lists sorted by deadline.
 *
 * A ktimer is armed on the CPU that arms it, so the timer interrupt that
 * runs it is that CPU's own and no other CPU needs telling.  Each list
 * publishes its earliest deadline in ktimer_next[cpu], which
 * program_timer (sched.c) reads under sched_lock without this file's
 * lock: the lock order stays
 * "sched_lock, then nothing of ours" and "our lock, then nothing at all".
 * When arming puts a new earliest deadline on the list, the CPU's timer
 * is reprogrammed at once (sched_timer_reprogram), except from a
 * function run by the expiry, after which sched_timer_event programs it
 * anyway.  A ktimer canceled from another CPU may leave that CPU one
 * early interrupt that finds nothing to do.
 *
 * Expiry takes each due ktimer off the list under the lock, counts it
 * running, drops the lock and calls its function.  `running` is what
 * ktimer_cancel_sync waits on; it is raised before the ktimer leaves the
 * list (under the lock), so a canceler that no longer finds it there
 * sees the call coming.  A function that re-arms its own ktimer does so
 * for a deadline after the time this pass started, which the pass leaves
 * for the next interrupt: one pass never runs a ktimer twice.
 */
#include "clock.h"
#include "ktimer.h"
#include "percpu.h"
#include "sched.h"
#include "spinlock.h"

struct ktimer_cpu {
    spinlock_t lock;
    struct ktimer *head;
    bool expiring;                  /* in ktimer_expire (its own CPU's) */
} __aligned(64);

struct ktimer_next ktimer_next[MAX_CPUS];
static struct ktimer_cpu kcpus[MAX_CPUS] = {
    [0 ... MAX_CPUS - 1] = { .lock = SPINLOCK_INIT },
};

/* The published earliest deadline of kc's CPU. */
static uint64_t *next_of(struct ktimer_cpu *kc)
{
    return &ktimer_next[kc - kcpus].deadline;
}

void ktimer_init(struct ktimer *kt, void (*fn)(struct ktimer *kt))
{
    kt->next = NULL;
    kt->deadline = 0;
    kt->fn = fn;
    kt->cpu = -1;
    kt->running = 0;
}

static void publish(struct ktimer_cpu *kc)
{
    __atomic_store_n(next_of(kc), kc->head ? kc->head->deadline : 0,
                     __ATOMIC_RELEASE);
}

/* Unlink kt from kc's list (kc's lock held, kt on it). */
static void unlink(struct ktimer_cpu *kc, struct ktimer *kt)
{
    struct ktimer **pp = &kc->head;
    while (*pp != kt)
        pp = &(*pp)->next;
    *pp = kt->next;
    kt->next = NULL;
    __atomic_store_n(&kt->cpu, -1, __ATOMIC_RELEASE);
    publish(kc);
}

void ktimer_arm(struct ktimer *kt, uint64_t deadline)
{
    ktimer_cancel(kt);
    if (deadline == 0)
        deadline = 1;                       /* 0 means "none" in `next` */
    irqflags_t f = arch_irq_save();         /* stay on this CPU */
    struct ktimer_cpu *kc = &kcpus[this_cpu()->id];
    spin_lock(&kc->lock);
    struct ktimer **pp = &kc->head;
    while (*pp && (*pp)->deadline <= deadline)
        pp = &(*pp)->next;
    kt->deadline = deadline;
    kt->next = *pp;
    *pp = kt;
    __atomic_store_n(&kt->cpu, (int)this_cpu()->id, __ATOMIC_RELEASE);
    bool first = kc->head == kt;
    publish(kc);
    spin_unlock(&kc->lock);
    if (first && !kc->expiring)         /* else sched_timer_event will */
        sched_timer_reprogram();
    arch_irq_restore(f);
}

bool ktimer_cancel(struct ktimer *kt)
{
    int cpu = __atomic_load_n(&kt->cpu, __ATOMIC_ACQUIRE);
    if (cpu < 0)
        return false;
    struct ktimer_cpu *kc = &kcpus[cpu];
    irqflags_t f = spin_lock_irqsave(&kc->lock);
    bool on = kt->cpu == cpu;           /* not taken to run meanwhile */
    if (on)
        unlink(kc, kt);
    spin_unlock_irqrestore(&kc->lock, f);
    return on;
}

void ktimer_cancel_sync(struct ktimer *kt)
{
    ktimer_cancel(kt);
    while (__atomic_load_n(&kt->running, __ATOMIC_ACQUIRE))
        arch_cpu_relax();
}

/* The first ktimer due by `now`, off the list and counted running. */
static struct ktimer *take_due(struct ktimer_cpu *kc, uint64_t now)
{
    spin_lock(&kc->lock);
    struct ktimer *kt = kc->head;
    if (kt && kt->deadline <= now) {
        __atomic_add_fetch(&kt->running, 1, __ATOMIC_ACQ_REL);
        unlink(kc, kt);
    } else {
        kt = NULL;
    }
    spin_unlock(&kc->lock);
    return kt;
}

void ktimer_expire(void)
{
    struct ktimer_cpu *kc = &kcpus[this_cpu()->id];
    if (!__atomic_load_n(next_of(kc), __ATOMIC_ACQUIRE))
        return;
    uint64_t now = clock_ns();
    kc->expiring = true;
    for (struct ktimer *kt; (kt = take_due(kc, now));) {
        kt->fn(kt);
        __atomic_sub_fetch(&kt->running, 1, __ATOMIC_RELEASE);
    }
    kc->expiring = false;
}
