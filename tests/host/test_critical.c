/*
 * test_critical.c - host tests of bounded critical sections
 * (kernel/core/critical.c): when a preemption is held off and for how
 * long, what ends the stretch, overruns and the strikes that revoke a
 * budget, attaching budgets, the report and its verdicts, and that a
 * thread's page and budget go with it.
 *
 * Threads, processes and budgets are bare structures; the page is a
 * page of fake physical memory; address spaces, exception channels and
 * the log are stubs that record what they were asked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <mica/device.h>
#include <mica/errors.h>

#include "critical.h"
#include "exception.h"
#include "host_support.h"
#include "log.h"
#include "physmem.h"
#include "process.h"
#include "resource.h"
#include "sched.h"
#include "slab.h"
#include "vm.h"

spinlock_t sched_lock = SPINLOCK_INIT;

/* --- stand-ins ---------------------------------------------------------- */

static long blocks_out;

void *kmalloc(size_t size)
{
    blocks_out++;
    return malloc(size);
}

void *kzalloc(size_t size)
{
    blocks_out++;
    return calloc(1, size);
}

void kfree(void *p)
{
    if (p)
        blocks_out--;
    free(p);
}

void observers_object_gone(struct object *o)
{
    (void)o;
}

void kprintf(const char *fmt, ...)
{
    (void)fmt;
}

/* Pages of fake physical memory, one per vmo made. */
#define NPAGES 16
static void *phys;
static unsigned next_page;
static int vmos_live;

static void vmo_destroy(struct object *o)
{
    vmos_live--;
    kfree(container_of(o, struct vmo, obj));
}

static const struct object_ops vmo_ops = { .name = "vmo",
                                           .destroy = vmo_destroy };

int vmo_create_contiguous(uint64_t size, struct kmem_account *acct,
                          struct vmo **out)
{
    (void)acct;
    assert_int_equal(size, PAGE_SIZE);
    if (next_page == NPAGES)
        return ERR_NO_MEMORY;
    struct vmo *v = kzalloc(sizeof(*v));
    object_init(&v->obj, OBJ_VMO, &vmo_ops);
    v->kind = VMO_CONTIG;
    v->size = PAGE_SIZE;
    v->phys = (paddr_t)next_page++ * PAGE_SIZE;
    vmos_live++;
    *out = v;
    return 0;
}

/* One mapping at most, of one vmo, as a real address space would. */
static struct vmo *mapped_vmo;
static vaddr_t mapped_at_va;
static int maps, unmaps;

int aspace_map(struct aspace *as, struct vmo *v, uint64_t off, uint64_t len,
               vaddr_t hint, uint32_t flags, vaddr_t *out)
{
    (void)as, (void)off, (void)len, (void)hint;
    assert_int_equal(flags, VM_READ | VM_WRITE);
    maps++;
    mapped_vmo = v;
    mapped_at_va = 0x200000000ull + (vaddr_t)maps * PAGE_SIZE;
    *out = mapped_at_va;
    return 0;
}

int aspace_vmo_at(struct aspace *as, vaddr_t va, struct vmo **v,
                  uint64_t *off)
{
    (void)as;
    if (!mapped_vmo || va != mapped_at_va)
        return ERR_FAULT;
    object_ref(&mapped_vmo->obj);
    *v = mapped_vmo;
    *off = 0;
    return 0;
}

void aspace_unmap_vmo(struct aspace *as, struct vmo *v)
{
    (void)as;
    unmaps++;
    if (v == mapped_vmo)
        mapped_vmo = NULL;
}

void aspace_put(struct aspace *as)
{
    __atomic_sub_fetch(&as->refs, 1, __ATOMIC_ACQ_REL);
}

static struct mica_exception raised;
static int nraised;
static enum exception_outcome verdict;
static int killed_code, kills;

enum exception_outcome exception_raise(const struct mica_exception *info)
{
    raised = *info;
    nraised++;
    return verdict;
}

void process_kill(struct process *p, int code)
{
    (void)p;
    killed_code = code;
    kills++;
}

void arch_current_user_state(struct mica_thread_state *s)
{
    memset(s, 0, sizeof(*s));
    s->rip = 0x401000;
}

/* --- fixtures ------------------------------------------------------------- */

static struct aspace as;
static struct process proc;
static struct thread th[3];
static int resources_live;

static void resource_free(struct object *o)
{
    resources_live--;
    kfree(container_of(o, struct resource, obj));
}

static const struct object_ops res_ops = { .name = "resource",
                                           .destroy = resource_free };

static struct resource *budget(uint64_t ns)
{
    struct resource *r = kzalloc(sizeof(*r));
    object_init(&r->obj, OBJ_RESOURCE, &res_ops);
    r->kind = MICA_RESOURCE_CRITICAL;
    r->size = ns;
    resources_live++;
    return r;
}

static int setup(void **state)
{
    (void)state;
    phys = fake_phys_init(NPAGES * PAGE_SIZE);
    next_page = 0;
    memset(&as, 0, sizeof(as));
    as.refs = 1;
    memset(&proc, 0, sizeof(proc));
    kmem_account_init(&proc.acct, 1 << 20);
    proc.aspace = &as;
    proc.pid = 7;
    strcpy(proc.name, "driver");
    memset(th, 0, sizeof(th));
    for (int i = 0; i < 3; i++) {
        th[i].proc = &proc;
        th[i].tid = 7 + (uint32_t)i;
        th[i].state = THREAD_RUNNING;
        th[i].prio = th[i].base_prio = 16;
        th[i].slice_end = 1000;
    }
    mapped_vmo = NULL;
    maps = unmaps = nraised = kills = 0;
    killed_code = 0;
    verdict = EXCEPTION_UNHANDLED;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        crit_free(&th[i]);
    assert_int_equal(vmos_live, 0);
    assert_int_equal(resources_live, 0);
    assert_int_equal(blocks_out, 0);
    assert_int_equal(as.refs, 1);
    fake_phys_free(phys);
    return 0;
}

/* th[i] with budget r (the caller's reference stays the caller's) and
 * its page, flag set. */
static struct mica_critical_page *in_section(int i, struct resource *r)
{
    assert_int_equal(crit_set_budget(&th[i], r), 0);
    th[i].crit->page->defer = 1;
    return th[i].crit->page;
}

/* --- tests ------------------------------------------------------------------ */

/* The flag alone holds nothing off; nor does a budget taken away, nor a
 * budget with the flag clear. */
static void test_no_budget_no_flag(void **state)
{
    (void)state;
    struct thread *t = &th[0];
    assert_int_equal(crit_set_budget(t, NULL), 0);
    assert_null(t->crit);                       /* nothing made */
    struct resource *r = budget(1000);
    struct mica_critical_page *p = in_section(0, r);
    assert_int_equal(p->budget_ns, 1000);
    assert_int_equal(crit_set_budget(t, NULL), 0);
    assert_int_equal(p->budget_ns, 0);
    assert_false(crit_defer_locked(t, 16, 5000));
    assert_int_equal(crit_set_budget(t, r), 0);
    p->defer = 0;
    assert_false(crit_defer_locked(t, 16, 5000));
    assert_int_equal(t->crit_deadline, 0);
    assert_int_equal(p->preempt_pending, 0);
    assert_int_equal(p->deferrals, 0);
    object_unref(&r->obj);
}

/* Held off from the first preemption until the budget is spent; the
 * slice ends with the budget; then an overrun. */
static void test_held_until_deadline_then_overrun(void **state)
{
    (void)state;
    struct thread *t = &th[0];
    struct resource *r = budget(1000);
    struct mica_critical_page *p = in_section(0, r);
    assert_true(crit_defer_locked(t, 17, 5000));
    assert_int_equal(t->crit_deadline, 6000);
    assert_int_equal(t->slice_end, 6000);
    assert_int_equal(p->preempt_pending, 1);
    assert_int_equal(p->deferrals, 1);
    assert_true(crit_defer_locked(t, 16, 5999));    /* the same stretch */
    assert_int_equal(p->deferrals, 1);
    assert_int_equal(t->crit_deadline, 6000);
    assert_false(crit_defer_locked(t, 16, 6000));
    assert_int_equal(p->overruns, 1);
    assert_int_equal(t->crit_report, 1);
    assert_int_equal(r->strikes, 1);
    assert_false(r->revoked);
    assert_int_equal(p->budget_ns, 1000);
    crit_end_locked(t);                             /* preempted */
    assert_int_equal(t->crit_deadline, 0);
    assert_int_equal(p->preempt_pending, 0);
    object_unref(&r->obj);
}

/* The real-time band always preempts; one below it is held off. */
static void test_realtime_band(void **state)
{
    (void)state;
    struct thread *t = &th[0];
    struct resource *r = budget(1000);
    struct mica_critical_page *p = in_section(0, r);
    assert_false(crit_defer_locked(t, MICA_PRIO_REALTIME, 5000));
    assert_false(crit_defer_locked(t, 31, 5000));
    assert_int_equal(t->crit_deadline, 0);
    assert_int_equal(p->deferrals, 0);
    assert_true(crit_defer_locked(t, MICA_PRIO_REALTIME - 1, 5000));
    /* once held off, the band still preempts, and that is no overrun */
    assert_false(crit_defer_locked(t, MICA_PRIO_REALTIME, 5500));
    assert_int_equal(p->overruns, 0);
    assert_int_equal(t->crit_report, 0);
    object_unref(&r->obj);
}

/* Giving up the CPU ends the stretch: the next one has a full budget.
 * Leaving the section without yielding does not: a new section keeps
 * the old deadline. */
static void test_what_ends_a_stretch(void **state)
{
    (void)state;
    struct thread *t = &th[0];
    struct resource *r = budget(1000);
    struct mica_critical_page *p = in_section(0, r);
    assert_true(crit_defer_locked(t, 16, 5000));
    crit_end_locked(t);                             /* it yielded */
    assert_true(crit_defer_locked(t, 16, 5900));
    assert_int_equal(t->crit_deadline, 6900);
    assert_int_equal(p->deferrals, 2);
    p->defer = 0;                                   /* left, no yield */
    assert_false(crit_defer_locked(t, 16, 6000));   /* preempted normally */
    p->defer = 1;                                   /* still running: */
    assert_true(crit_defer_locked(t, 16, 6100));    /* a new section */
    assert_int_equal(t->crit_deadline, 6900);       /* the old deadline */
    assert_int_equal(p->deferrals, 2);
    assert_false(crit_defer_locked(t, 16, 6900));
    assert_int_equal(p->overruns, 1);
    object_unref(&r->obj);
}

/* The third overrun charged to a budget revokes it for every thread it
 * is attached to; nothing can be attached or carved any more. */
static void test_third_strike_revokes(void **state)
{
    (void)state;
    struct resource *r = budget(1000);
    struct mica_critical_page *p0 = in_section(0, r);
    struct mica_critical_page *p1 = in_section(1, r);
    for (int i = 0; i < 2; i++) {
        assert_true(crit_defer_locked(&th[0], 16, 10000));
        assert_false(crit_defer_locked(&th[0], 16, 11000));
        crit_end_locked(&th[0]);
    }
    assert_true(crit_defer_locked(&th[1], 16, 20000));
    assert_false(crit_defer_locked(&th[1], 16, 21000));
    crit_end_locked(&th[1]);
    assert_int_equal(th[1].crit_report, MICA_CRITICAL_STRIKES);
    assert_true(resource_revoked(r));
    assert_int_equal(p1->budget_ns, 0);
    assert_int_equal(p0->budget_ns, 1000);          /* not yet told */
    assert_int_equal(p0->overruns, 2);
    assert_int_equal(p1->overruns, 1);
    assert_false(crit_defer_locked(&th[0], 16, 30000));
    assert_int_equal(p0->budget_ns, 0);
    assert_int_equal(p0->deferrals, 2);
    assert_int_equal(crit_set_budget(&th[2], r), ERR_BAD_STATE);
    assert_false(resource_covers(r, MICA_RESOURCE_CRITICAL, 0, 1));
    struct resource *c;
    assert_int_equal(resource_create(r, MICA_RESOURCE_CRITICAL, 0, 10,
                                     &proc.acct, &c), ERR_ACCESS_DENIED);
    object_unref(&r->obj);
}

/* Attaching: only budgets; not to kernel or ended threads; a new one
 * replaces the old, whose reference goes. */
static void test_attach(void **state)
{
    (void)state;
    struct resource *r1 = budget(1000), *r2 = budget(2000);
    struct resource *irq = budget(1);
    irq->kind = MICA_RESOURCE_IRQ;
    assert_int_equal(crit_set_budget(&th[0], irq), ERR_ACCESS_DENIED);
    struct thread kthread = { .state = THREAD_RUNNING };
    assert_int_equal(crit_set_budget(&kthread, r1), ERR_BAD_STATE);
    assert_int_equal(crit_set_budget(&kthread, NULL), ERR_BAD_STATE);
    th[1].state = THREAD_DEAD;
    assert_int_equal(crit_set_budget(&th[1], r1), ERR_BAD_STATE);
    assert_int_equal(crit_set_budget(&th[1], NULL), ERR_BAD_STATE);
    assert_int_equal(crit_set_budget(&th[0], r1), 0);
    assert_int_equal(r1->obj.refs, 2);
    assert_int_equal(crit_set_budget(&th[0], r2), 0);
    assert_int_equal(r1->obj.refs, 1);
    assert_int_equal(th[0].crit->page->budget_ns, 2000);
    object_unref(&r1->obj);
    object_unref(&r2->obj);
    object_unref(&irq->obj);
    assert_int_equal(resources_live, 1);            /* th[0] holds r2 */
}

/* The page: mapped once, again after an unmap, never after the end. */
static void test_page_mapping(void **state)
{
    (void)state;
    vaddr_t a = 0, b = 0;
    assert_int_equal(crit_map(&th[0], &a), 0);
    assert_int_equal(crit_map(&th[0], &b), 0);
    assert_int_equal(a, b);
    assert_int_equal(maps, 1);
    mapped_vmo = NULL;                              /* the user unmapped it */
    assert_int_equal(crit_map(&th[0], &b), 0);
    assert_int_equal(maps, 2);
    assert_true(b != a);
    crit_thread_gone(&th[0]);
    assert_int_equal(unmaps, 1);
    assert_int_equal(crit_map(&th[0], &b), ERR_BAD_STATE);
    proc.aspace = NULL;                             /* the process died */
    assert_int_equal(crit_map(&th[1], &b), ERR_BAD_STATE);
    proc.aspace = &as;
}

/* The report: what it says, and what each verdict does. */
static void test_report(void **state)
{
    (void)state;
    struct thread *t = &th[0];
    struct resource *r = budget(1000);
    in_section(0, r);
    static const enum exception_outcome outcomes[] = {
        EXCEPTION_UNHANDLED, EXCEPTION_DROPPED, EXCEPTION_RESUMED,
        EXCEPTION_ENDED, EXCEPTION_KILLED,
    };
    for (unsigned i = 0; i < 5; i++) {
        t->crit_report = i + 1;
        verdict = outcomes[i];
        crit_report(t);
        assert_int_equal(t->crit_report, 0);
        assert_int_equal(raised.vector, MICA_EXC_CRITICAL_OVERRUN);
        assert_int_equal(raised.error_code, i + 1);
        assert_int_equal(raised.pid, 7);
        assert_int_equal(raised.tid, 7);
        assert_int_equal(raised.fault_addr, 0);
        assert_int_equal(raised.regs.rip, 0x401000);
        assert_int_equal(kills, outcomes[i] == EXCEPTION_KILLED);
    }
    assert_int_equal(killed_code, -(int)MICA_EXC_CRITICAL_OVERRUN - 1);
    assert_int_equal(nraised, 5);
    object_unref(&r->obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_budget_no_flag, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_held_until_deadline_then_overrun,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_realtime_band, setup, teardown),
        cmocka_unit_test_setup_teardown(test_what_ends_a_stretch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_third_strike_revokes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_attach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
