/*
 * thread.c - creating, starting and ending threads.
 *
 * A thread object holds one reference on itself from creation until it
 * has exited and left its stack (the scheduler drops it then), so a
 * thread never disappears while it runs, whatever handles are closed.
 * Its kernel stack and FPU area go with the object.
 */
#include "arch.h"
#include "critical.h"
#include "fpu.h"
#include "idle.h"
#include "kmem.h"
#include "lib.h"
#include "log.h"
#include "mica/errors.h"
#include "panic.h"
#include "percpu.h"
#include "pmm.h"
#include "printf.h"
#include "physmem.h"
#include "pi.h"
#include "sched.h"
#include "slab.h"
#include "thread.h"
#include "process.h"
#include "waitq.h"
#include "linux_abi.h"
#include "syscall.h"
#include "uaccess.h"

#define KSTACK_ORDER 2                  /* 16 KiB */

static uint32_t next_tid = 1;

static void thread_destroy(struct object *o)
{
    struct thread *t = container_of(o, struct thread, obj);
    KASSERT(t->state == THREAD_DEAD || t->state == THREAD_NEW);
    KASSERT(!t->exc_channel);
    if (t->kstack)
        pmm_free(virt_to_phys(t->kstack), KSTACK_ORDER);
    if (t->arch.fpu)
        fpu_area_free(t->arch.fpu);
    crit_free(t);
    if (t->proc && t->charged)
        kmem_uncharge(&t->proc->acct, THREAD_KMEM);
    if (t->proc)
        object_unref(&t->proc->obj);
    kfree(t);
}

/* A thread never started whose last handle is gone can never run: let
 * it end (it exits before reaching user mode). */
static void thread_last_handle(struct object *o)
{
    struct thread *t = container_of(o, struct thread, obj);
    if (t->proc && !t->started)
        thread_kill(t);
}

static const struct object_ops thread_ops = {
    .name = "thread",
    .destroy = thread_destroy,
    .last_handle = thread_last_handle,
};

static uint32_t alloc_tid(void)
{
    uint32_t tid;
    do {
        tid = __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED) & TID_MAX;
    } while (tid == 0);
    return tid;
}

struct thread *thread_alloc(const char *name, unsigned prio)
{
    struct thread *t = kmem_should_fail() ? NULL : kzalloc(sizeof(*t));
    paddr_t stack = t ? pmm_alloc(KSTACK_ORDER) : 0;
    if (!t || !stack) {
        kfree(t);
        if (stack)
            pmm_free(stack, KSTACK_ORDER);
        return NULL;
    }
    object_init(&t->obj, OBJ_THREAD, &thread_ops);
    object_ref(&t->obj);                /* the thread's own reference */
    t->tid = alloc_tid();
    size_t n = 0;
    while (name && name[n] && n + 1 < THREAD_NAME_MAX) {
        t->name[n] = name[n];
        n++;
    }
    t->state = THREAD_NEW;
    t->base_prio = t->prio = (uint8_t)(prio > PRIO_MAX ? PRIO_MAX : prio);
    t->cpu = -1;
    t->affinity = ~0ull;
    t->kstack = phys_to_virt(stack);
    return t;
}

int thread_create_kernel(const char *name, void (*fn)(void *), void *arg,
                         unsigned prio, struct thread **out)
{
    struct thread *t = thread_alloc(name, prio);
    if (!t)
        return ERR_NO_MEMORY;
    arch_thread_init_kernel(t, fn, arg);
    *out = t;
    return 0;
}

void thread_start(struct thread *t)
{
    KASSERT(t->state == THREAD_NEW);
    sched_wakeup(t, 0);
}

/* User threads by id, for PI futexes, whose words name their owners by
 * id.  A thread is listed from creation until the reaper has seen it
 * dead, while it still holds its own reference, so a thread found here
 * can always take another. */
#define TID_BUCKETS 256
static spinlock_t tid_lock = SPINLOCK_INIT;
static struct thread *tid_table[TID_BUCKETS];

void thread_tid_publish(struct thread *t)
{
    irqflags_t f = spin_lock_irqsave(&tid_lock);
    struct thread **b = &tid_table[t->tid % TID_BUCKETS];
    t->tid_next = *b;
    *b = t;
    spin_unlock_irqrestore(&tid_lock, f);
}

void thread_tid_withdraw(struct thread *t)
{
    irqflags_t f = spin_lock_irqsave(&tid_lock);
    struct thread **pp = &tid_table[t->tid % TID_BUCKETS];
    while (*pp && *pp != t)
        pp = &(*pp)->tid_next;
    if (*pp)
        *pp = t->tid_next;
    t->tid_next = NULL;
    spin_unlock_irqrestore(&tid_lock, f);
}

struct thread *thread_by_tid(uint32_t tid)
{
    irqflags_t f = spin_lock_irqsave(&tid_lock);
    struct thread *t = tid_table[tid % TID_BUCKETS];
    while (t && t->tid != tid)
        t = t->tid_next;
    if (t)
        object_ref(&t->obj);
    spin_unlock_irqrestore(&tid_lock, f);
    return t;
}

noreturn void thread_exit_current(void)
{
    arch_irq_disable();
    spin_lock(&sched_lock);
    sched_exit_locked();
}

void thread_kill(struct thread *t)
{
    sched_kill_wake(t);
}

bool thread_should_exit(void)
{
    return thread_current()->kill_pending;
}

/* The per-CPU scheduler state; the running context becomes a thread
 * (the boot CPU's "boot" thread, or an AP's idle thread), and the boot
 * CPU gets a separate idle thread. */
static void idle_loop(void *arg)
{
    (void)arg;
    for (;;) {
        arch_irq_disable();
        sched_preempt_check(false);
        cpu_idle_wait();
    }
}

void sched_init_cpu(void)
{
    struct percpu *c = this_cpu();
    struct sched_cpu *sc = kzalloc(sizeof(*sc));
    struct thread *self = kzalloc(sizeof(*self));
    if (!sc || !self)
        panic("sched: out of memory on CPU %u", c->id);
    rq_init(&sc->rq);
    object_init(&self->obj, OBJ_THREAD, &thread_ops);
    self->tid = alloc_tid();
    self->state = THREAD_RUNNING;
    self->cpu = (int)c->id;
    self->affinity = 1ull << c->id;
    self->slice_end = ~0ull;
    c->current = self;
    c->sched = sc;
    if (c->id != 0) {
        ksnprintf(self->name, sizeof(self->name), "idle/%u", c->id);
        self->idle = true;
        sc->idle = self;
        return;
    }
    ksnprintf(self->name, sizeof(self->name), "boot");
    self->base_prio = self->prio = PRIO_DEFAULT;
    struct thread *idle = thread_alloc("idle/0", 0);
    if (!idle)
        panic("sched: no idle thread");
    arch_thread_init_kernel(idle, idle_loop, NULL);
    idle->idle = true;
    idle->state = THREAD_RUNNING;       /* never queued */
    idle->affinity = 1;
    idle->cpu = 0;
    sc->idle = idle;
}

/* The reaper: user threads' last rites run in a thread of their own, so
 * closing handles and tearing down address spaces never happens in the
 * scheduler's or an interrupt's context. */
static spinlock_t reap_lock = SPINLOCK_INIT;
static struct thread *reap_list;
static struct waitq reap_wq = WAITQ_INIT;

void thread_reap(struct thread *t)
{
    if (!t->proc) {
        object_unref(&t->obj);
        return;
    }
    irqflags_t f = spin_lock_irqsave(&reap_lock);
    t->wq_next = reap_list;
    reap_list = t;
    spin_unlock_irqrestore(&reap_lock, f);
    waitq_wake(&reap_wq, 1, 0);
}

static void reaper_loop(void *arg)
{
    (void)arg;
    for (;;) {
        irqflags_t f = spin_lock_irqsave(&reap_lock);
        struct thread *t = reap_list;
        if (!t) {
            waitq_wait(&reap_wq, &reap_lock, f, 0);
            continue;
        }
        reap_list = t->wq_next;
        t->wq_next = NULL;
        spin_unlock_irqrestore(&reap_lock, f);
        process_thread_gone(t);
        object_unref(&t->obj);
    }
}

void thread_reaper_start(void)
{
    struct thread *t;
    if (thread_create_kernel("reaper", reaper_loop, NULL, PRIO_MAX - 1, &t))
        panic("thread: cannot start the reaper");
    thread_start(t);
    object_unref(&t->obj);
}

/* A user thread's way out: clear and wake its Linux child-tid word (what
 * pthread_join waits on), let go of what it served and owned (pi.h),
 * then exit.  Interrupts are turned on for the
 * user access. */
static noreturn void thread_exit_user(struct thread *t)
{
    arch_irq_enable();
    if (t->clear_child_tid && t->proc && t->proc->aspace) {
        uint32_t zero = 0;
        if (!copy_to_user(t->clear_child_tid, &zero, sizeof(zero)))
            linux_clear_child_tid_wake(t->proc->aspace, t->clear_child_tid);
    }
    pi_thread_exit(t);                  /* lends and inherits no more */
    thread_exit_current();
}

/* syscall_dispatch checks the same conditions before calling this:
 * keep the two in step. */
void user_return_work(struct trap_frame *tf)
{
    (void)tf;
    struct thread *t = thread_current();
    for (;;) {
        if (t->kill_pending)
            thread_exit_user(t);
        if (__builtin_expect(t->suspend_count != 0, 0)) {
            thread_park(t);             /* until resumed or killed */
            continue;
        }
        if (__builtin_expect(t->crit_report != 0, 0))
            crit_report(t);             /* preempted for an overrun */
        struct sched_cpu *sc = this_cpu()->sched;
        if (!sc || !sc->need_resched)
            return;
        sched_preempt_check(true);
    }
}
