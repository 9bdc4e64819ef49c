/*
 * critical.c - bounded non-preemptible sections in user mode.
 *
 * The page.  Each thread that asks gets one page of its own: a
 * one-page contiguous vmo, charged to its process, that nothing can
 * replace (no copy-on-write, never paged, never inherited by
 * process_clone) and that no handle names.  The kernel reads `defer`
 * and writes its figures through the direct map, never through the user
 * mapping, so a thread that unmaps or protects its page only loses its
 * own view (thread_critical_page maps it again).  When the thread ends,
 * every mapping of its page goes (crit_thread_gone), so a process that
 * makes many threads does not collect their pages; the page itself
 * goes with the thread object.
 *
 * The deferral.  When the preemption path (sched_preempt_check) is
 * about to let schedule_locked preempt a running thread that has a
 * budget, crit_defer_locked decides.  The first
 * preemption it holds off starts the clock: crit_deadline = now +
 * budget, which also becomes the end of the thread's slice, so the
 * scheduler's own slice timer enforces it; preempt_pending is set in
 * the page.  Later preemptions before the deadline are held off too.
 * Whenever the thread gives up the CPU (it yields on leaving its
 * section, blocks, or is preempted anyway) crit_end_locked clears both:
 * a budget is per stretch of CPU time in which preemption was held off,
 * so a thread that leaves one section without yielding and enters
 * another gets no fresh budget.  A thread of the real-time band about
 * to run is never held off.  At the deadline, a thread still in a section (or in a new
 * one) has overrun: it is preempted, the overrun is charged to the
 * budget resource (the MICA_CRITICAL_STRIKES-th revokes it) and
 * reported at the thread's next return to user mode, where interrupts
 * can be on and locks taken: as an exception (MICA_EXC_CRITICAL_OVERRUN)
 * on the thread's or process's exception channel, whose handler sees
 * the thread stopped, as for a fault.  Unlike a fault it is not fatal:
 * with no channel, or no verdict, the thread goes on and the kernel log
 * says what happened; only the verdict kill ends the process.
 *
 * Locking: crit_deadline, crit_report, the budget pointer and the
 * counters are under sched_lock.  t->crit is set once (cmpxchg) and
 * freed with the thread.  A budget's reference is dropped outside
 * sched_lock (object_unref may take ipc_lock).
 */
#include "arch.h"
#include "critical.h"
#include "exception.h"
#include "lib.h"
#include "log.h"
#include "mica/device.h"
#include "mica/errors.h"
#include "physmem.h"
#include "process.h"
#include "resource.h"
#include "sched.h"
#include "vm.h"

#define CRIT_GONE 1                     /* uaddr once the thread has ended */

static void crit_destroy(struct crit *c)
{
    if (c->budget)
        object_unref(&c->budget->obj);
    object_unref(&c->vmo->obj);
    kobj_free(c->acct, c, sizeof(*c));
}

/* t's struct crit, made on first use. */
static int crit_get(struct thread *t, struct crit **out)
{
    if (!t->proc || t->state == THREAD_DEAD)
        return ERR_BAD_STATE;
    struct crit *c = __atomic_load_n(&t->crit, __ATOMIC_ACQUIRE);
    if (c) {
        *out = c;
        return 0;
    }
    struct kmem_account *acct = &t->proc->acct;
    c = kobj_alloc(acct, sizeof(*c));
    if (!c)
        return ERR_NO_MEMORY;
    if (vmo_create_contiguous(PAGE_SIZE, acct, &c->vmo)) {
        kobj_free(acct, c, sizeof(*c));
        return ERR_NO_MEMORY;
    }
    c->vmo->no_clone = true;
    c->page = phys_to_virt(c->vmo->phys);
    c->acct = acct;
    struct crit *none = NULL;
    if (!__atomic_compare_exchange_n(&t->crit, &none, c, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        crit_destroy(c);                /* another call was first */
        c = none;
    }
    *out = c;
    return 0;
}

void crit_free(struct thread *t)
{
    if (t->crit)
        crit_destroy(t->crit);
}

/* A reference to p's address space, or NULL once it has died. */
static struct aspace *aspace_of(struct process *p)
{
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    struct aspace *as = p->aspace;
    if (as)
        __atomic_add_fetch(&as->refs, 1, __ATOMIC_ACQ_REL);
    spin_unlock_irqrestore(&p->obj.lock, f);
    return as;
}

/* Is c's page still mapped at va in as? */
static bool mapped_at(struct aspace *as, vaddr_t va, const struct crit *c)
{
    struct vmo *v;
    uint64_t off;
    if (!va || aspace_vmo_at(as, va, &v, &off))
        return false;
    bool same = v == c->vmo && off == 0 && (va & PAGE_MASK) == 0;
    object_unref(&v->obj);
    return same;
}

/* Map c's page into as; once the thread has ended (uaddr CRIT_GONE)
 * it must not stay mapped. */
static int map_page(struct aspace *as, struct crit *c, vaddr_t *out)
{
    vaddr_t was = __atomic_load_n(&c->uaddr, __ATOMIC_ACQUIRE), va;
    if (was == CRIT_GONE)
        return ERR_BAD_STATE;
    if (mapped_at(as, was, c)) {
        *out = was;
        return 0;
    }
    int err = aspace_map(as, c->vmo, 0, PAGE_SIZE, 0, VM_READ | VM_WRITE,
                         &va);
    if (err)
        return err;
    while (!__atomic_compare_exchange_n(&c->uaddr, &was, va, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        if (was == CRIT_GONE) {         /* it ended meanwhile */
            aspace_unmap_vmo(as, c->vmo);
            return ERR_BAD_STATE;
        }
    }
    *out = va;
    return 0;
}

int crit_map(struct thread *t, vaddr_t *addr)
{
    struct crit *c;
    int err = crit_get(t, &c);
    if (err)
        return err;
    struct aspace *as = aspace_of(t->proc);
    if (!as)
        return ERR_BAD_STATE;
    err = map_page(as, c, addr);
    aspace_put(as);
    return err;
}

void crit_thread_gone(struct thread *t)
{
    struct crit *c = __atomic_load_n(&t->crit, __ATOMIC_ACQUIRE);
    if (!c)
        return;
    __atomic_store_n(&c->uaddr, CRIT_GONE, __ATOMIC_RELEASE);
    struct aspace *as = aspace_of(t->proc);
    if (as) {
        aspace_unmap_vmo(as, c->vmo);
        aspace_put(as);
    }
}

int crit_set_budget(struct thread *t, struct resource *r)
{
    if (r && r->kind != MICA_RESOURCE_CRITICAL)
        return ERR_ACCESS_DENIED;
    if (r && resource_revoked(r))
        return ERR_BAD_STATE;
    if (!t->proc || t->state == THREAD_DEAD)
        return ERR_BAD_STATE;
    if (!r && !__atomic_load_n(&t->crit, __ATOMIC_ACQUIRE))
        return 0;                       /* nothing to take away */
    struct crit *c;
    int err = crit_get(t, &c);
    if (err)
        return err;
    if (r)
        object_ref(&r->obj);
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    struct resource *old = c->budget;
    c->budget = r;
    c->page->budget_ns = r ? r->size : 0;
    spin_unlock_irqrestore(&sched_lock, f);
    if (old)
        object_unref(&old->obj);
    return 0;
}

/* t ran past its deadline in a section: charge the budget. */
static void overrun(struct thread *t, struct crit *c, struct resource *r)
{
    c->page->overruns = ++c->overruns;
    uint32_t n = __atomic_add_fetch(&r->strikes, 1, __ATOMIC_ACQ_REL);
    if (n >= MICA_CRITICAL_STRIKES) {
        __atomic_store_n(&r->revoked, true, __ATOMIC_RELEASE);
        c->page->budget_ns = 0;
    }
    t->crit_report = n;
}

bool crit_defer_locked(struct thread *t, int top, uint64_t now)
{
    struct crit *c = t->crit;
    struct resource *r = c->budget;
    if (!r || top >= (int)MICA_PRIO_REALTIME)
        return false;
    if (resource_revoked(r)) {
        c->page->budget_ns = 0;         /* by another thread's overrun */
        return false;
    }
    if (!c->page->defer)
        return false;
    if (!t->crit_deadline) {
        t->crit_deadline = t->slice_end = now + r->size;
        c->page->preempt_pending = 1;
        c->page->deferrals = ++c->deferrals;
        return true;
    }
    if (now < t->crit_deadline)
        return true;
    overrun(t, c, r);
    return false;
}

void crit_end_locked(struct thread *t)
{
    t->crit_deadline = 0;
    t->crit->page->preempt_pending = 0;
}

void crit_report(struct thread *t)
{
    struct process *p = t->proc;
    uint32_t n = t->crit_report;
    t->crit_report = 0;
    struct mica_exception info = {
        .vector = MICA_EXC_CRITICAL_OVERRUN,
        .pid = p->pid,
        .tid = t->tid,
        .error_code = n,
    };
    arch_current_user_state(&info.regs);
    arch_irq_enable();
    kprintf("critical: thread %u '%s' of process %u '%s' overran its "
            "budget (overrun %u of %u%s)\n", t->tid, t->name, p->pid,
            p->name, n, MICA_CRITICAL_STRIKES,
            n >= MICA_CRITICAL_STRIKES ? ": budget revoked" : "");
    enum exception_outcome o = exception_raise(&info);
    if (o == EXCEPTION_KILLED) {
        kprintf("critical: process %u '%s' killed by its exception "
                "handler\n", p->pid, p->name);
        process_kill(p, -(int)MICA_EXC_CRITICAL_OVERRUN - 1);
    }
    arch_irq_disable();
}
