/*
 * sched.c - picking threads to run, blocking and waking them.
 *
 * Every CPU has a run queue and an idle thread.  schedule_locked() runs
 * with sched_lock held and interrupts off: it puts the current thread
 * back if it is still runnable, picks the highest-priority thread of this
 * CPU's queue (stealing from another CPU's queue when empty), and
 * switches.  The lock is released by whoever runs next: the code after
 * arch_context_switch in schedule_locked, or sched_switch_finish for a
 * thread that runs for the first time.
 *
 * Sleepers sit on their CPU's list sorted by deadline; each CPU programs
 * its one-shot timer for the earliest of its next sleeper, its next
 * kernel timer (ktimer.c, run from the timer interrupt before the
 * sleepers) and, when other threads are ready, the end of the current
 * slice.  An idle CPU with no sleeper and no kernel timer takes no timer
 * interrupts at all.
 *
 * A wait ends early for two reasons besides its own: a kill (the thread
 * is woken with ERR_CANCELED) and thread_interrupt (ERR_INTERRUPTED, only
 * for waits inside a system call).  Both set a flag in the thread under
 * sched_lock and wake it if it is blocked; every blocking primitive
 * checks the flags with sched_wait_abort_locked under the same lock hold
 * in which it blocks, so neither can fall between check and sleep.  A
 * parked thread (thread_control.c) is blocked but not in a system call:
 * only a kill or its resumption wakes it.
 *
 * A running thread with a budget may hold a preemption off for a
 * while (critical.c): the preemption path (sched_preempt_check) asks
 * crit_defer_locked before it lets schedule_locked preempt; a yield, a
 * block or an exit never asks.  The slice a section extends ends when
 * its budget does, so the slice timer enforces the budget, and whenever
 * the thread gives up the CPU the preemption it held off has happened
 * (crit_end_locked).
 *
 * Threads are queued, compared and preempted at their effective
 * priority (thread.prio).  Priority inheritance (pi.c) decides it and
 * changes it through sched_set_prio_locked, which moves a ready thread
 * to its new list; the scheduler itself never looks at base_prio.
 */
#include "arch.h"
#include "clock.h"
#include "critical.h"
#include "ktimer.h"
#include "lib.h"
#include "log.h"
#include "mica/errors.h"
#include "panic.h"
#include "percpu.h"
#include "sched.h"
#include "waitq.h"

spinlock_t sched_lock = SPINLOCK_INIT;

static inline struct sched_cpu *sc_of(int cpu)
{
    return cpus[cpu]->sched;
}

static inline struct thread *rq_thread(struct rq_node *n)
{
    return container_of(n, struct thread, rq);
}

static void enqueue(struct thread *t, int cpu, bool front)
{
    t->cpu = cpu;
    t->state = THREAD_READY;
    if (front)
        rq_push_front(&sc_of(cpu)->rq, &t->rq, t->prio);
    else
        rq_push_back(&sc_of(cpu)->rq, &t->rq, t->prio);
}

/* Prefer the thread's last CPU; else an idle CPU it may use. */
static int choose_cpu(struct thread *t)
{
    int cpu = t->cpu;
    if (cpu < 0 || (unsigned)cpu >= ncpus || !cpus[cpu]->online ||
        !(t->affinity & (1ull << cpu)))
        cpu = -1;
    if (cpu >= 0 && cpus[cpu]->current && cpus[cpu]->current->idle)
        return cpu;
    for (unsigned i = 0; i < ncpus; i++) {
        if (cpus[i]->online && (t->affinity & (1ull << i)) &&
            cpus[i]->current && cpus[i]->current->idle &&
            sc_of((int)i)->rq.count == 0)
            return (int)i;
    }
    if (cpu >= 0)
        return cpu;
    for (unsigned i = 0; i < ncpus; i++)
        if (cpus[i]->online && (t->affinity & (1ull << i)))
            return (int)i;
    return 0;
}

static void program_timer(struct sched_cpu *sc, struct thread *next,
                          uint64_t now);

/* A READY thread on `cpu` preempts its current one if more urgent; if
 * not, the current one must at least have its time slice timed now that
 * it has company (an idle queue runs without a slice timer). */
static void kick(int cpu, struct thread *t)
{
    struct thread *cur = cpus[cpu]->current;
    struct sched_cpu *sc = sc_of(cpu);
    bool local = cpu == (int)this_cpu()->id;
    if (cur && !cur->idle && cur->prio >= t->prio) {
        if (sc->slice_timed)
            return;
        if (local)
            program_timer(sc, cur, 0);
        else
            arch_send_resched(cpu);     /* it re-times its own slice */
        return;
    }
    if (local)
        sc->need_resched = true;
    else
        arch_send_resched(cpu);
}

static void wakeup_locked(struct thread *t, int result)
{
    if (t->state != THREAD_BLOCKED && t->state != THREAD_NEW)
        return;
    waitq_remove_locked(t);
    t->wait_result = result;
    t->deadline = 0;
    int cpu = choose_cpu(t);
    enqueue(t, cpu, false);
    kick(cpu, t);
}

void sched_wakeup(struct thread *t, int result)
{
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    wakeup_locked(t, result);
    spin_unlock_irqrestore(&sched_lock, f);
}

void sched_wakeup_locked(struct thread *t, int result)
{
    wakeup_locked(t, result);
}

void sched_poke_locked(struct thread *t)
{
    if (t->state == THREAD_RUNNING && t->cpu != (int)this_cpu()->id)
        arch_send_resched(t->cpu);
}

static bool may_steal(struct rq_node *n, void *ctx)
{
    return rq_thread(n)->affinity & (1ull << *(int *)ctx);
}

static struct thread *steal(int me)
{
    for (unsigned i = 0; i < ncpus; i++) {
        if ((int)i == me || !cpus[i]->online || !cpus[i]->sched)
            continue;
        struct runqueue *q = &sc_of((int)i)->rq;
        struct rq_node *n = rq_find_steal(q, may_steal, &me);
        if (n) {
            rq_remove(q, n);
            return rq_thread(n);
        }
    }
    return NULL;
}

static struct thread *pick_next(struct sched_cpu *sc, int me)
{
    struct rq_node *n = rq_pop(&sc->rq);
    if (n)
        return rq_thread(n);
    struct thread *t = steal(me);
    return t ? t : sc->idle;
}

/* This CPU's timer: its next sleeper or kernel timer (ktimer.c), or the
 * end of the slice when others are waiting.  Given the time (`now`, else
 * 0), a slice already over is not timed: the timer would fire at once,
 * again and again, for as long as the thread stays in the kernel (which
 * is not preempted) or keeps the CPU over lower priorities.
 * need_resched switches at the next chance instead, when a thread of the
 * same priority waits.  Callers without the time at hand (a wakeup) may
 * time a slice that is over: that costs one interrupt, whose
 * sched_timer_event then passes the time. */
static void program_timer(struct sched_cpu *sc, struct thread *next,
                          uint64_t now)
{
    uint64_t when = sc->sleepers ? sc->sleepers->deadline : 0;
    uint64_t kt = ktimer_next_deadline(this_cpu()->id);
    if (kt && (when == 0 || kt < when))
        when = kt;
    bool company = !next->idle && sc->rq.count > 0;
    bool over = company && now && next->slice_end <= now;
    sc->slice_timed = company && !over;
    if (over && rq_top_prio(&sc->rq) >= (int)next->prio)
        sc->need_resched = true;
    else if (sc->slice_timed && (when == 0 || next->slice_end < when))
        when = next->slice_end;
    arch_timer_oneshot(when);
}

/* With sched_lock held and interrupts off: switch to the best thread. */
static void schedule_locked(void)
{
    struct percpu *c = this_cpu();
    struct sched_cpu *sc = c->sched;
    struct thread *prev = c->current;
    uint64_t now = clock_ns();
    sc->need_resched = false;
    if (prev->state == THREAD_RUNNING && !prev->idle &&
        !(prev->affinity & (1ull << c->id))) {
        enqueue(prev, choose_cpu(prev), false);     /* must move */
        kick(prev->cpu, prev);
    } else if (prev->state == THREAD_RUNNING && !prev->idle) {
        int top = rq_top_prio(&sc->rq);
        if (top < prev->prio || (top == prev->prio &&
                                 now < prev->slice_end)) {
            program_timer(sc, prev, now);
            return;                     /* keep running */
        }
        /* Preempted by something more urgent: wait on an idle CPU it may
         * use if there is one, not behind a thread that may run here
         * for ever (nothing steals work from a busy CPU later). */
        int to = top > prev->prio ? choose_cpu(prev) : (int)c->id;
        enqueue(prev, to, false);
        if (to != (int)c->id)
            kick(to, prev);
    }
    struct thread *next = pick_next(sc, (int)c->id);
    if (next != prev)
        next->slice_end = now + SLICE_NS;
    next->state = THREAD_RUNNING;
    next->cpu = (int)c->id;
    program_timer(sc, next, now);
    if (next == prev)
        return;
    if (__builtin_expect(prev->crit_deadline != 0, 0))
        crit_end_locked(prev);          /* a preemption it held off */
    sc->switches++;
    if (prev->state == THREAD_DEAD) {
        KASSERT(!sc->dead);
        sc->dead = prev;            /* released once off its stack */
    }
    c->current = next;
    arch_switch_prepare(prev, next);
    arch_context_switch(&prev->arch.ctx_sp, next->arch.ctx_sp);
    /* running again as prev, on whatever CPU; the lock is still held */
}

/* Drop the reference a dead thread held on itself, now that no CPU runs
 * on its stack.  Called after sched_lock is released. */
static void reap(void)
{
    struct sched_cpu *sc = this_cpu()->sched;
    struct thread *d = __atomic_exchange_n(&sc->dead, NULL, __ATOMIC_ACQ_REL);
    if (d)
        thread_reap(d);
}

/* First code of a new thread after its first switch. */
void sched_switch_finish(void);
void sched_switch_finish(void)
{
    spin_unlock(&sched_lock);
    reap();
    arch_irq_enable();
}

noreturn void sched_exit_locked(void)
{
    thread_current()->state = THREAD_DEAD;
    schedule_locked();
    panic("sched: a dead thread ran again");
}

void sched_yield(void)
{
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    struct thread *cur = thread_current();
    cur->slice_end = 0;                 /* let equal priorities run */
    if (__builtin_expect(cur->crit_deadline != 0, 0))
        crit_end_locked(cur);           /* even if nobody else runs */
    schedule_locked();
    spin_unlock_irqrestore(&sched_lock, f);
    reap();
}

int sched_block_locked(irqflags_t f)
{
    struct thread *cur = thread_current();
    KASSERT(cur->state == THREAD_BLOCKED);
    schedule_locked();
    int r = cur->wait_result;
    spin_unlock_irqrestore(&sched_lock, f);
    reap();
    return r;
}

/* Run `next` in place of the current thread, which has just blocked:
 * no run queue is touched.  Only when next may run here and nothing
 * queued here is more urgent. */
static bool may_hand_off(struct sched_cpu *sc, struct thread *next, int me)
{
    return next->state == THREAD_BLOCKED &&
           (next->affinity & (1ull << me)) &&
           rq_top_prio(&sc->rq) <= (int)next->prio;
}

int sched_block_handoff(struct thread *next, spinlock_t *held, irqflags_t f,
                        uint64_t deadline)
{
    struct percpu *c = this_cpu();
    struct sched_cpu *sc = c->sched;
    struct thread *cur = c->current;
    spin_lock(&sched_lock);
    spin_unlock(held);
    int abort = sched_wait_abort_locked(cur);
    if (abort) {
        if (next)
            wakeup_locked(next, 0);
        spin_unlock_irqrestore(&sched_lock, f);
        return abort;
    }
    sched_prepare_block_locked(deadline);
    if (__builtin_expect(cur->crit_deadline != 0, 0))
        crit_end_locked(cur);
    if (!next) {
        schedule_locked();
    } else if (may_hand_off(sc, next, (int)c->id)) {
        waitq_remove_locked(next);
        next->wait_result = 0;
        next->deadline = 0;
        next->state = THREAD_RUNNING;
        next->cpu = (int)c->id;
        next->slice_end = cur->slice_end;       /* the slice goes with it */
        if (deadline)
            program_timer(sc, next, 0);
        sc->switches++;
        c->current = next;
        arch_switch_prepare(cur, next);
        arch_context_switch(&cur->arch.ctx_sp, next->arch.ctx_sp);
    } else {
        wakeup_locked(next, 0);
        schedule_locked();
    }
    int r = cur->wait_result;
    spin_unlock_irqrestore(&sched_lock, f);
    reap();
    return r;
}

static void sleeper_insert(struct sched_cpu *sc, struct thread *t)
{
    struct thread **pp = &sc->sleepers;
    while (*pp && (*pp)->deadline <= t->deadline)
        pp = &(*pp)->timer_next;
    t->timer_next = *pp;
    *pp = t;
}

static void sleeper_remove(struct thread *t)
{
    if (t->cpu < 0)
        return;
    struct thread **pp = &sc_of(t->cpu)->sleepers;
    while (*pp && *pp != t)
        pp = &(*pp)->timer_next;
    if (*pp)
        *pp = t->timer_next;
    t->timer_next = NULL;
}

void sched_prepare_block_locked(uint64_t deadline)
{
    struct thread *cur = thread_current();
    cur->state = THREAD_BLOCKED;
    cur->wait_result = 0;
    cur->deadline = deadline;
    if (deadline)
        sleeper_insert(this_cpu()->sched, cur);
}

int sched_sleep_until(uint64_t deadline_ns)
{
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    int abort = sched_wait_abort_locked(thread_current());
    if (abort) {
        spin_unlock_irqrestore(&sched_lock, f);
        return abort;
    }
    sched_prepare_block_locked(deadline_ns);
    return sched_block_locked(f);
}

/* Wake every sleeper whose deadline has passed (sched_lock held). */
static void expire_sleepers(struct sched_cpu *sc)
{
    uint64_t now = clock_ns();
    while (sc->sleepers && sc->sleepers->deadline <= now) {
        struct thread *t = sc->sleepers;
        sc->sleepers = t->timer_next;
        t->timer_next = NULL;
        t->deadline = 0;
        wakeup_locked(t, ERR_TIMED_OUT);
    }
}

void sched_timer_reprogram(void)
{
    struct sched_cpu *sc = this_cpu()->sched;
    if (!sc)
        return;
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    program_timer(sc, thread_current(), 0);
    spin_unlock_irqrestore(&sched_lock, f);
}

void sched_timer_event(void)
{
    ktimer_expire();                    /* before sched_lock: see ktimer.h */
    spin_lock(&sched_lock);
    struct sched_cpu *sc = this_cpu()->sched;
    expire_sleepers(sc);
    struct thread *cur = thread_current();
    uint64_t now = clock_ns();
    if (cur->idle || now >= cur->slice_end || sc->rq.count)
        sc->need_resched = true;
    program_timer(sc, cur, now);
    spin_unlock(&sched_lock);
}

/* The current thread, in a critical section with a budget, would lose
 * its CPU to a preemption that schedule_locked is about to make: may
 * the section hold it off (critical.h)?  sched_lock held.  Out of line,
 * so that the preemption path of threads without a budget stays as
 * short as it was. */
static __noinline __cold bool section_holds(struct percpu *c,
                                            struct thread *cur)
{
    struct sched_cpu *sc = c->sched;
    uint64_t now = clock_ns();
    int top = rq_top_prio(&sc->rq);
    if (cur->state != THREAD_RUNNING || !(cur->affinity & (1ull << c->id)) ||
        top < cur->prio || (top == cur->prio && now < cur->slice_end) ||
        !crit_defer_locked(cur, top, now))
        return false;
    sc->need_resched = false;
    program_timer(sc, cur, now);
    return true;
}

/* Interrupt/syscall exit and the idle loop: switch if asked to
 * (interrupts are off).  Reaping a dead thread can wake the reaper and
 * ask again, so this loops until no switch is wanted: an idle CPU must
 * never halt with a wakeup pending, or nothing would wake it. */
void sched_preempt_check(bool from_user)
{
    struct percpu *c = this_cpu();
    while (c->sched && c->sched->need_resched) {
        if (!from_user && !c->current->idle)
            return;                     /* no kernel preemption */
        spin_lock(&sched_lock);
        struct thread *cur = c->current;
        if (__builtin_expect(cur->crit == NULL, 1) || !section_holds(c, cur))
            schedule_locked();
        spin_unlock(&sched_lock);
        reap();
        c = this_cpu();                 /* we may run elsewhere now */
    }
}

int sched_set_affinity(struct thread *t, uint64_t mask)
{
    uint64_t online = 0;
    for (unsigned i = 0; i < ncpus; i++)
        if (cpus[i]->online)
            online |= 1ull << i;
    if (!(mask & online))
        return ERR_INVALID_ARGS;
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    t->affinity = mask;
    if (t->state == THREAD_READY && !(mask & (1ull << t->cpu))) {
        rq_remove(&sc_of(t->cpu)->rq, &t->rq);
        int cpu = choose_cpu(t);
        enqueue(t, cpu, false);
        kick(cpu, t);
    } else if (t->state == THREAD_RUNNING && !(mask & (1ull << t->cpu))) {
        if (t->cpu == (int)this_cpu()->id)
            sc_of(t->cpu)->need_resched = true;
        else
            arch_send_resched(t->cpu);
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return 0;
}

/* Make `cpu` reschedule at its next chance. */
static void resched(int cpu)
{
    if (cpu == (int)this_cpu()->id)
        sc_of(cpu)->need_resched = true;
    else
        arch_send_resched(cpu);
}

void sched_set_prio_locked(struct thread *t, unsigned prio)
{
    unsigned old = t->prio;
    if (prio == old)
        return;
    t->prio = (uint8_t)prio;
    if (t->state == THREAD_READY) {
        struct runqueue *q = &sc_of(t->cpu)->rq;
        rq_remove(q, &t->rq);
        rq_push_back(q, &t->rq, prio);
        if (prio > old)
            kick(t->cpu, t);
    } else if (t->state == THREAD_RUNNING && prio < old && !t->idle &&
               rq_top_prio(&sc_of(t->cpu)->rq) > (int)prio) {
        resched(t->cpu);
    }
}

/* waitq: lists under sched_lock */
void waitq_remove_locked(struct thread *t)
{
    sleeper_remove(t);
    struct waitq *wq = t->wq;
    if (!wq)
        return;
    struct thread **pp = &wq->head, *prev = NULL;
    while (*pp && *pp != t) {
        prev = *pp;
        pp = &(*pp)->wq_next;
    }
    if (*pp) {
        *pp = t->wq_next;
        if (wq->tail == t)
            wq->tail = prev;
    }
    t->wq = NULL;
    t->wq_next = NULL;
}

int waitq_wait(struct waitq *wq, spinlock_t *held, irqflags_t f,
               uint64_t deadline)
{
    struct thread *cur = thread_current();
    if (!held)
        f = arch_irq_save();
    spin_lock(&sched_lock);
    int abort = sched_wait_abort_locked(cur);
    if (abort) {
        if (held)
            spin_unlock(held);
        spin_unlock_irqrestore(&sched_lock, f);
        return abort;
    }
    cur->wq = wq;
    cur->wq_next = NULL;
    if (wq->tail)
        wq->tail->wq_next = cur;
    else
        wq->head = cur;
    wq->tail = cur;
    /* Only now that we are on the queue: a waker that changed its state
     * under `held` may look at wq->head without sched_lock. */
    if (held)
        spin_unlock(held);
    sched_prepare_block_locked(deadline);
    return sched_block_locked(f);
}

int waitq_wake(struct waitq *wq, int n, int result)
{
    int woken = 0;
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    while (wq->head && (n < 0 || woken < n)) {
        wakeup_locked(wq->head, result);
        woken++;
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return woken;
}

unsigned waitq_count(const struct waitq *wq)
{
    unsigned n = 0;
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    for (struct thread *t = wq->head; t; t = t->wq_next)
        n++;
    spin_unlock_irqrestore(&sched_lock, f);
    return n;
}

/* Kill: a blocked thread is woken with ERR_CANCELED. */
void sched_kill_wake(struct thread *t)
{
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    t->kill_pending = true;
    if (t->state == THREAD_BLOCKED || t->state == THREAD_NEW)
        wakeup_locked(t, ERR_CANCELED);
    else
        sched_poke_locked(t);           /* it exits on its way to user */
    spin_unlock_irqrestore(&sched_lock, f);
}
