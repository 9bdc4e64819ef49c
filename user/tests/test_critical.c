/*
 * test_critical.c - in-system tests of bounded non-preemptible sections
 * (mica/critical.h): a thread with a budget that sets the flag in its
 * critical page is not preempted by a competitor of its CPU, by slice
 * expiry or by a wakeup below the real-time band, until it leaves the
 * section and yields; an overrun is preempted and reported as an
 * exception, and the third revokes the budget; without a budget the
 * flag is ignored; a thread of the real-time band preempts a section at
 * once.  Also: the page is the thread's alone (never inherited by a
 * clone, gone when the thread ends, mapped again after an unmap), every
 * error of the new calls and of the resources behind them, running out
 * of kernel memory, and that nothing leaks.
 *
 * Tests named timed_* depend on time (a budget runs out, or must not):
 * "all" leaves them out, and make test runs them in a boot under QEMU's
 * -icount, where virtual time is the count of executed instructions.
 * The others judge by progress only.  The competing threads are pinned
 * to the last CPU; they are plain C functions on stacks of their own
 * that use only system calls.
 *
 * init gives this suite a copy of the root resource (user/init/suites.c),
 * from which every budget and priority resource here is carved.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mica.h"
#include "utest.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull
#define BOUND (30 * SEC)                /* a hang becomes a failure */
#define TIMED_BOUND (1 * SEC)           /* the same, in virtual time */
#define OVERRUN_EXIT (-(int)MICA_EXC_CRITICAL_OVERRUN - 1)
#define PF_EXIT (-(MICA_EXC_PAGE_FAULT + 1))
#define KERNEL_ADDR 0xffff800000000000ull

static uint64_t now_ns(void)
{
    uint64_t t = 0;
    mica_clock_get(&t);
    return t;
}

static void spin_ns(uint64_t ns)
{
    uint64_t end = now_ns() + ns;
    while (now_ns() < end)
        ;
}

static void sleep_ns(uint64_t ns)
{
    mica_nanosleep(now_ns() + ns);
}

static int last_cpu(void)
{
    struct mica_system_info si;
    mica_system_info(&si);
    return (int)si.cpus_online - 1;
}

static mica_signals_t signals_of(mica_handle_t h)
{
    mica_signals_t seen = 0;
    mica_object_wait_one(h, 0, 1, &seen);
    return seen;
}

/* --- threads ---------------------------------------------------------------- */

#define STACK 16384
#define NSTACKS 6
static char stacks[NSTACKS][STACK] __attribute__((aligned(16)));
static unsigned next_stack;

static uint64_t new_stack(void)
{
    char *s = stacks[next_stack++ % NSTACKS];
    return (uint64_t)(s + STACK - 8);   /* entered like a called function */
}

static volatile uint64_t counters[4];
static volatile int stop_all;

/* How long a wait may last before it counts as a hang: in the -icount
 * boot, time is deterministic and a spinning CPU makes it pass slowly,
 * so the timed tests wait less (begin). */
static uint64_t bound = BOUND;

/* Every thread made here, so that a test that fails half-way does not
 * leave its spinners to the next (begin).  A handle value closed since
 * names nothing: killing and closing it again is harmless. */
#define OWNED 32
static mica_handle_t owned[OWNED];
static unsigned nowned;

static void reap_owned(void)
{
    for (unsigned i = 0; i < OWNED; i++) {
        if (!owned[i])
            continue;
        if (mica_thread_kill(owned[i]) == OK)
            mica_object_wait_one(owned[i], SIGNAL_TERMINATED,
                                 now_ns() + BOUND, NULL);
        mica_handle_close(owned[i]);
        owned[i] = 0;
    }
}

/* A thread of `proc` at `prio` on `cpu` (-1: any), not yet started;
 * priorities above 16 come from the resource `pres`. */
static int make_thread(mica_handle_t proc, unsigned prio, mica_handle_t pres,
                       int cpu, mica_handle_t *t)
{
    int err = mica_thread_create(proc, "crit", 4, t);
    if (err)
        return err;
    owned[nowned++ % OWNED] = *t;
    err = mica_thread_set_priority_granted(*t, prio, pres);
    if (!err && cpu >= 0)
        err = mica_thread_set_affinity(*t, 1ull << cpu);
    if (err)
        mica_handle_close(*t);
    return err;
}

static int start(mica_handle_t t, void (*fn)(uint64_t), uint64_t arg)
{
    return mica_thread_start(t, (uint64_t)fn, new_stack(), arg, 0);
}

static mica_handle_t spawn(void (*fn)(uint64_t), uint64_t arg, unsigned prio,
                           mica_handle_t pres, int cpu)
{
    mica_handle_t t;
    if (make_thread(mica_process_self(), prio, pres, cpu, &t))
        return 0;
    if (start(t, fn, arg)) {
        mica_handle_close(t);
        return 0;
    }
    return t;
}

static int wait_end(mica_handle_t t)
{
    return mica_object_wait_one(t, SIGNAL_TERMINATED, now_ns() + bound, NULL);
}

/* Stop every looping thread and close the handles. */
static void finish(mica_handle_t *t, int n)
{
    stop_all = 1;
    for (int i = 0; i < n; i++) {
        if (!t[i])
            continue;
        if (wait_end(t[i]) != OK)
            mica_thread_kill(t[i]);
        mica_object_wait_one(t[i], SIGNAL_TERMINATED, 0, NULL);
        mica_handle_close(t[i]);
        t[i] = 0;
    }
    stop_all = 0;
}

/* Wait until counters[slot] grows by `by`, for up to `bound`. */
static bool wait_progress(int slot, uint64_t by)
{
    uint64_t from = counters[slot], end = now_ns() + bound;
    while (counters[slot] - from < by && now_ns() < end)
        sleep_ns(MS);
    return counters[slot] - from >= by;
}

/* The competitor: counts until stopped. */
static void spinner(uint64_t slot)
{
    while (!stop_all)
        counters[slot]++;
    mica_thread_exit();
}

/* A periodic waker: sleeps, counts, again. */
struct ticker {
    int slot;
    uint64_t period;
};

static void ticker(uint64_t arg)
{
    struct ticker *k = (struct ticker *)arg;
    while (!stop_all) {
        sleep_ns(k->period);
        counters[k->slot]++;
    }
    mica_thread_exit();
}

/* The thread under test: `rounds` sections of `len` ns, `gap` ns apart,
 * each watching counters[watch] (its competitor's progress). */
struct sections {
    struct mica_critical_page *page;
    int watch;
    int rounds;
    uint64_t len, gap;
    /* results */
    volatile int held;          /* sections the competitor did not move in */
    volatile int moved;         /* sections it moved in */
    volatile int pending;       /* sections that ended with a yield */
    volatile int ran_after;     /* of those, the competitor ran at the yield */
    volatile int depth_ok;      /* defer was back at 0 after every section */
    /* the page as the thread left it (it is unmapped when the thread
     * ends) */
    volatile uint64_t deferrals, overruns, budget_ns;
    volatile uint32_t defer;
};

static void snapshot(struct sections *s)
{
    s->deferrals = s->page->deferrals;
    s->overruns = s->page->overruns;
    s->budget_ns = s->page->budget_ns;
    s->defer = s->page->defer;
}

/* Sections that last until the competitor has run inside them (the
 * thread was preempted) or `len` ns have passed. */
static void overrunner(uint64_t arg)
{
    struct sections *s = (struct sections *)arg;
    for (int i = 0; i < s->rounds && !stop_all; i++) {
        mica_crit_enter(s->page);
        uint64_t c0 = counters[s->watch], end = now_ns() + s->len;
        while (counters[s->watch] == c0 && now_ns() < end)
            ;
        bool moved = counters[s->watch] != c0;
        s->pending += mica_crit_leave(s->page);
        s->moved += moved;
        s->held += !moved;
    }
    snapshot(s);
    mica_thread_exit();
}

static void sectioner(uint64_t arg)
{
    struct sections *s = (struct sections *)arg;
    int depth_ok = 1;
    for (int i = 0; i < s->rounds && !stop_all; i++) {
        mica_crit_enter(s->page);
        uint64_t c0 = counters[s->watch];
        spin_ns(s->len);
        uint64_t c1 = counters[s->watch];
        bool pend = mica_crit_leave(s->page);
        uint64_t c2 = counters[s->watch];
        depth_ok &= s->page->defer == 0;
        if (c1 == c0)
            s->held++;
        else
            s->moved++;
        if (pend) {
            s->pending++;
            s->ran_after += c2 != c1;
        }
        spin_ns(s->gap);
    }
    s->depth_ok = depth_ok;
    snapshot(s);
    mica_thread_exit();
}

/* --- resources -------------------------------------------------------------- */

static mica_handle_t budget(uint64_t ns)
{
    mica_handle_t b = 0;
    if (mica_resource_create(mica_resource_handle(), MICA_RESOURCE_CRITICAL, 0,
                             ns, &b) != OK)
        return 0;
    return b;
}

/* Priorities [lo, lo + n). */
static mica_handle_t priorities(unsigned lo, unsigned n)
{
    mica_handle_t p = 0;
    if (mica_resource_create(mica_resource_handle(), MICA_RESOURCE_PRIORITY,
                             lo, n, &p) != OK)
        return 0;
    return p;
}

/* A section thread with a budget (0: none) and its page, not started. */
static int section_thread(mica_handle_t proc, unsigned prio, mica_handle_t b,
                          mica_handle_t *t, struct mica_critical_page **page)
{
    int err = make_thread(proc, prio, 0, last_cpu(), t);
    uint64_t addr = 0;
    if (!err)
        err = mica_thread_critical_page(*t, &addr);
    if (!err && b)
        err = mica_thread_set_critical_budget(*t, b);
    *page = (struct mica_critical_page *)addr;
    return err;
}

/* --- exceptions ------------------------------------------------------------- */

struct exc {
    struct mica_exception info;
    mica_handle_t token, thread;
    uint32_t nbytes, nhandles;
};

static int next_exception(mica_handle_t ch, struct exc *x)
{
    memset(x, 0, sizeof(*x));
    int err = mica_object_wait_one(ch, SIGNAL_READABLE | SIGNAL_PEER_CLOSED,
                                   now_ns() + bound, NULL);
    if (err)
        return err;
    mica_handle_t hs[MICA_EXCEPTION_HANDLES + 1] = { 0 };
    struct mica_msg_buf b = {
        .bytes = &x->info, .bytes_cap = sizeof(x->info),
        .handles = hs, .handles_cap = MICA_EXCEPTION_HANDLES + 1,
    };
    err = mica_channel_read(ch, &b);
    x->nbytes = b.actual_bytes;
    x->nhandles = b.actual_handles;
    x->token = hs[MICA_EXCEPTION_TOKEN];
    x->thread = hs[MICA_EXCEPTION_THREAD];
    return err;
}

static void exc_close(struct exc *x)
{
    mica_handle_close(x->token);
    mica_handle_close(x->thread);
}

static uint32_t tid_of(mica_handle_t t)
{
    struct mica_thread_info i = { 0 };
    mica_thread_info(t, &i);
    return i.tid;
}

static uint32_t my_pid(void)
{
    struct mica_process_info pi = { 0 };
    mica_process_info(mica_process_self(), &pi);
    return pi.pid;
}

/* --- counting --------------------------------------------------------------- */

struct counts {
    struct mica_system_info si;
    uint64_t kmem;
};

static uint64_t kmem_used(void)
{
    struct mica_process_info info = { 0 };
    mica_process_info(mica_process_self(), &info);
    return info.kmem_used;
}

static bool same(const struct counts *a, const struct counts *b)
{
    return a->si.free_pages == b->si.free_pages &&
           a->si.live_processes == b->si.live_processes &&
           a->si.live_threads == b->si.live_threads &&
           a->si.live_vmos == b->si.live_vmos &&
           a->si.live_channels == b->si.live_channels &&
           a->si.live_exceptions == b->si.live_exceptions &&
           a->kmem == b->kmem;
}

static void exit_at_once(uint64_t arg)
{
    (void)arg;
    mica_thread_exit();
}

/* Make what a test's first critical page costs for good (the page
 * tables where pages are mapped) before anything is counted. */
static void warm_up(void)
{
    static mica_handle_t dup[64];
    memset(stacks, 0, sizeof(stacks));
    for (int i = 0; i < 64; i++)
        mica_handle_duplicate(mica_process_self(), RIGHT_SAME_RIGHTS,
                              &dup[i]);
    for (int i = 0; i < 64; i++)
        mica_handle_close(dup[i]);
    mica_handle_t t;
    uint64_t addr = 0;
    if (mica_thread_create(mica_process_self(), "warm", 4, &t) != OK)
        return;
    if (mica_thread_critical_page(t, &addr) == OK)
        *(volatile uint32_t *)addr = 0;
    if (start(t, exit_at_once, 0) == OK)
        mica_object_wait_one(t, SIGNAL_TERMINATED, now_ns() + bound, NULL);
    mica_handle_close(t);
}

/* The counts once dying threads are gone: until they equal *want, for
 * up to `bound`.  The first call (want NULL) touches the stacks, grows
 * the handle table and maps a page where critical pages go, so that
 * nothing here allocates on first use. */
static void settle(struct counts *c, const struct counts *want)
{
    if (!want)
        warm_up();
    uint64_t end = now_ns() + bound;
    for (;;) {
        mica_system_info(&c->si);
        c->kmem = kmem_used();
        if (!want || same(c, want) || now_ns() > end)
            return;
        sleep_ns(10 * MS);
    }
}

#define EXPECT_SETTLED(before)                                              \
    do {                                                                    \
        struct counts after_;                                               \
        settle(&after_, &(before));                                         \
        UEXPECT(after_.si.live_processes == (before).si.live_processes);    \
        UEXPECT(after_.si.live_threads == (before).si.live_threads);        \
        UEXPECT(after_.si.live_vmos == (before).si.live_vmos);              \
        UEXPECT(after_.si.live_channels == (before).si.live_channels);      \
        UEXPECT(after_.si.live_exceptions == (before).si.live_exceptions);  \
        UEXPECT(after_.kmem == (before).kmem);                              \
        UEXPECT(after_.si.free_pages == (before).si.free_pages);            \
    } while (0)

/* Every test starts here: the counts to compare with at its end, and
 * the bound on its waits. */
static void begin(struct counts *before, bool timed)
{
    reap_owned();
    stop_all = 0;
    bound = timed ? TIMED_BOUND : BOUND;
    settle(before, NULL);
}

/* --- progress tests (every boot) ----------------------------------------------- */

/* Without a budget the flag is ignored: a competitor of the same
 * priority on the same CPU makes progress while it is set, and the
 * kernel never marks a preemption pending.  A budget attached and taken
 * away again is no budget either. */
static void defer_forever(uint64_t arg)
{
    struct mica_critical_page *p = (struct mica_critical_page *)arg;
    p->defer = 1;
    while (!stop_all)
        counters[1]++;
    mica_thread_exit();
}

UTEST(crit_no_budget_flag_ignored)
{
    struct counts before;
    begin(&before, false);
    mica_handle_t b = budget(2 * MS);
    UASSERT(b != 0);
    for (int round = 0; round < 2; round++) {
        mica_handle_t t[2] = { 0, 0 };
        struct mica_critical_page *page;
        UASSERT(section_thread(mica_process_self(), 16, 0, &t[0], &page) ==
                OK);
        if (round == 1) {               /* attached, then taken away */
            UEXPECT(mica_thread_set_critical_budget(t[0], b) == OK);
            UEXPECT(page->budget_ns == 2 * MS);
            UEXPECT(mica_thread_set_critical_budget(t[0], 0) == OK);
        }
        UEXPECT(page->budget_ns == 0);
        counters[0] = counters[1] = 0;
        UASSERT(start(t[0], defer_forever, (uint64_t)page) == OK);
        UASSERT(wait_progress(1, 1));   /* running, flag set */
        t[1] = spawn(spinner, 0, 16, 0, last_cpu());
        UASSERT(t[1] != 0);
        /* both keep going, the flagged thread's slices notwithstanding */
        for (int i = 0; i < 3; i++) {
            UEXPECT(wait_progress(0, 1000));
            UEXPECT(wait_progress(1, 1000));
        }
        UEXPECT(page->defer == 1);
        UEXPECT(page->preempt_pending == 0);
        UEXPECT(page->deferrals == 0 && page->overruns == 0);
        finish(t, 2);
    }
    mica_handle_close(b);
    EXPECT_SETTLED(before);
}

/* The page: the same address while it stays mapped; mapped again after
 * an unmap, with what the kernel wrote still there; the kernel's view
 * is its own (unmapping loses nothing); gone when the thread ends. */
static void wait_stop(uint64_t arg)
{
    (void)arg;
    while (!stop_all)
        sleep_ns(MS);
    mica_thread_exit();
}

UTEST(crit_page_mapping)
{
    struct counts before;
    begin(&before, false);
    mica_handle_t b = budget(5 * US), t;
    UASSERT(b != 0);
    UASSERT(make_thread(mica_process_self(), 16, 0, -1, &t) == OK);
    uint64_t a1 = 0, a2 = 0, a3 = 0;
    UASSERT(mica_thread_critical_page(t, &a1) == OK);
    UEXPECT(a1 != 0 && (a1 & 4095) == 0);
    UEXPECT(mica_thread_critical_page(t, &a2) == OK && a2 == a1);
    struct mica_critical_page *p = (struct mica_critical_page *)a1;
    UEXPECT(p->defer == 0 && p->preempt_pending == 0 && p->budget_ns == 0);
    UEXPECT(mica_thread_set_critical_budget(t, b) == OK);
    UEXPECT(p->budget_ns == 5 * US);
    p->defer = 7;                       /* the thread's to write */
    /* a second thread has a page of its own */
    mica_handle_t t2;
    UASSERT(make_thread(mica_process_self(), 16, 0, -1, &t2) == OK);
    UEXPECT(mica_thread_critical_page(t2, &a3) == OK && a3 != a1);
    mica_handle_close(t2);
    /* unmapped: the kernel's copy stays and is mapped again */
    UASSERT(mica_vm_unmap(mica_process_self(), a1, 4096) == OK);
    UEXPECT(mica_thread_critical_page(t, &a2) == OK && a2 != 0);
    p = (struct mica_critical_page *)a2;
    UEXPECT(p->defer == 7 && p->budget_ns == 5 * US);
    p->defer = 0;
    /* a started thread's page goes when it ends, and not before */
    UASSERT(start(t, wait_stop, 0) == OK);
    UEXPECT(mica_thread_critical_page(t, &a3) == OK && a3 == a2);
    uint64_t v;
    UEXPECT(mica_process_read_memory(mica_process_self(), a2, &v,
                                     sizeof(v)) == OK);
    stop_all = 1;
    UEXPECT(wait_end(t) == OK);
    stop_all = 0;
    UEXPECT(mica_process_read_memory(mica_process_self(), a2, &v,
                                     sizeof(v)) == ERR_FAULT);
    UEXPECT(mica_thread_critical_page(t, &a3) == ERR_BAD_STATE);
    UEXPECT(mica_thread_set_critical_budget(t, b) == ERR_BAD_STATE);
    mica_handle_close(t);
    mica_handle_close(b);
    EXPECT_SETTLED(before);
}

/* Clone code: read the word at a0 and exit with it. */
static void read_and_exit(uint64_t a0)
{
    uint64_t v = *(volatile uint64_t *)a0;
    mica_process_exit((int)v);
    for (;;)
        ;
}

static int exit_code_of(mica_handle_t p)
{
    struct mica_process_info info = { .exit_code = 12345 };
    if (mica_object_wait_one(p, SIGNAL_TERMINATED, now_ns() + bound, NULL))
        mica_process_kill(p, 1);
    mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL);
    mica_process_info(p, &info);
    return info.exit_code;
}

/* A clone does not inherit a thread's page (it would be sharing it with
 * the original): where the page was, the clone has nothing.  A thread
 * of the clone has a page of its own, mapped in the clone, where the
 * budget the kernel wrote can be read. */
UTEST(crit_page_not_inherited_by_clone)
{
    struct counts before;
    begin(&before, false);
    mica_handle_t b = budget(4321), t, proc, ct;
    UASSERT(b != 0);
    UASSERT(make_thread(mica_process_self(), 16, 0, -1, &t) == OK);
    uint64_t here = 0, there = 0;
    UASSERT(mica_thread_critical_page(t, &here) == OK);
    UEXPECT(mica_thread_set_critical_budget(t, b) == OK);
    /* the page, not inherited */
    UASSERT(mica_process_clone(mica_process_self(), "clone", 5, &proc) == OK);
    UASSERT(mica_thread_create(proc, "main", 4, &ct) == OK);
    UASSERT(start(ct, read_and_exit, here + 8) == OK);
    UEXPECT(exit_code_of(proc) == PF_EXIT);
    mica_handle_close(ct);
    mica_handle_close(proc);
    /* the clone's own thread's page, in the clone */
    UASSERT(mica_process_clone(mica_process_self(), "clone", 5, &proc) == OK);
    UASSERT(mica_thread_create(proc, "main", 4, &ct) == OK);
    UASSERT(mica_thread_critical_page(ct, &there) == OK);
    UEXPECT(mica_thread_set_critical_budget(ct, b) == OK);
    UASSERT(start(ct, read_and_exit,
                  there + offsetof(struct mica_critical_page, budget_ns)) ==
            OK);
    UEXPECT(exit_code_of(proc) == 4321);
    mica_handle_close(ct);
    mica_handle_close(proc);
    mica_handle_close(t);
    mica_handle_close(b);
    EXPECT_SETTLED(before);
}

/* Every error of thread_critical_page and thread_set_critical_budget,
 * in the order the kernel checks them. */
static mica_handle_t stale_handle(void)
{
    mica_handle_t h;
    if (mica_event_create(0, &h) != OK)
        return 0;
    mica_handle_close(h);
    return h;
}

UTEST(crit_page_errors)
{
    struct counts before;
    begin(&before, false);
    mica_handle_t t, weak, ended;
    uint64_t addr = 0;
    static const uint64_t ro = 0;       /* read-only data */
    UASSERT(make_thread(mica_process_self(), 16, 0, -1, &t) == OK);
    UEXPECT(mica_thread_critical_page(t, NULL) == ERR_FAULT);
    UEXPECT(mica_thread_critical_page(t, (uint64_t *)KERNEL_ADDR) ==
            ERR_FAULT);
    UEXPECT(mica_thread_critical_page(stale_handle(), NULL) == ERR_FAULT);
    UEXPECT(mica_thread_critical_page(0, &addr) == ERR_BAD_HANDLE);
    UEXPECT(mica_thread_critical_page(stale_handle(), &addr) ==
            ERR_BAD_HANDLE);
    UEXPECT(mica_thread_critical_page(mica_process_self(), &addr) ==
            ERR_WRONG_TYPE);
    UASSERT(mica_handle_duplicate(t, RIGHTS_BASIC | RIGHT_READ |
                                  RIGHT_WRITE, &weak) == OK);
    UEXPECT(mica_thread_critical_page(weak, &addr) == ERR_ACCESS_DENIED);
    UASSERT(make_thread(mica_process_self(), 16, 0, -1, &ended) == OK);
    UASSERT(start(ended, exit_at_once, 0) == OK);
    UASSERT(wait_end(ended) == OK);
    UEXPECT(mica_thread_critical_page(ended, &addr) == ERR_BAD_STATE);
    UEXPECT(addr == 0);
    /* an unwritable out-pointer: the page is mapped all the same */
    UEXPECT(mica_thread_critical_page(t, (uint64_t *)&ro) == ERR_FAULT);
    UEXPECT(ro == 0);
    UEXPECT(mica_thread_critical_page(t, &addr) == OK && addr != 0);
    mica_handle_close(weak);
    mica_handle_close(ended);
    mica_handle_close(t);
    EXPECT_SETTLED(before);
}

UTEST(crit_budget_errors)
{
    struct counts before;
    begin(&before, false);
    mica_handle_t t, weak, ended, b, weak_b, irq, ev, p;
    UASSERT((b = budget(MS)) != 0);
    UASSERT(make_thread(mica_process_self(), 16, 0, -1, &t) == OK);
    /* the thread */
    UEXPECT(mica_thread_set_critical_budget(0, b) == ERR_BAD_HANDLE);
    UEXPECT(mica_thread_set_critical_budget(stale_handle(), b) ==
            ERR_BAD_HANDLE);
    UEXPECT(mica_thread_set_critical_budget(mica_process_self(), b) ==
            ERR_WRONG_TYPE);
    UASSERT(mica_handle_duplicate(t, RIGHTS_BASIC | RIGHT_READ |
                                  RIGHT_WRITE, &weak) == OK);
    UEXPECT(mica_thread_set_critical_budget(weak, b) == ERR_ACCESS_DENIED);
    /* the budget */
    UEXPECT(mica_thread_set_critical_budget(t, stale_handle()) ==
            ERR_BAD_HANDLE);
    UASSERT(mica_event_create(0, &ev) == OK);
    UEXPECT(mica_thread_set_critical_budget(t, ev) == ERR_WRONG_TYPE);
    UASSERT(mica_handle_duplicate(b, RIGHTS_BASIC, &weak_b) == OK);
    UEXPECT(mica_thread_set_critical_budget(t, weak_b) == ERR_ACCESS_DENIED);
    UASSERT(mica_resource_create(mica_resource_handle(), MICA_RESOURCE_IRQ,
                                 20, 1, &irq) == OK);
    UEXPECT(mica_thread_set_critical_budget(t, irq) == ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_set_critical_budget(t, mica_resource_handle()) ==
            ERR_ACCESS_DENIED);         /* the root grants no number */
    UASSERT((p = priorities(0, 4)) != 0);
    UEXPECT(mica_thread_set_critical_budget(t, p) == ERR_ACCESS_DENIED);
    /* an ended thread; detaching where nothing is attached */
    UASSERT(make_thread(mica_process_self(), 16, 0, -1, &ended) == OK);
    UEXPECT(mica_thread_set_critical_budget(ended, 0) == OK);
    UASSERT(start(ended, exit_at_once, 0) == OK);
    UASSERT(wait_end(ended) == OK);
    UEXPECT(mica_thread_set_critical_budget(ended, b) == ERR_BAD_STATE);
    UEXPECT(mica_thread_set_critical_budget(ended, 0) == ERR_BAD_STATE);
    UEXPECT(mica_thread_set_critical_budget(t, 0) == OK);
    UEXPECT(mica_thread_set_critical_budget(t, b) == OK);
    UEXPECT(mica_thread_set_critical_budget(t, b) == OK);   /* again */
    mica_handle_t all[] = { weak, ended, weak_b, irq, ev, p, t, b };
    for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        mica_handle_close(all[i]);
    EXPECT_SETTLED(before);
}

/* Budgets and priorities are resources: carved from the root or from a
 * resource of their kind, narrower only, within their limits. */
UTEST(crit_budget_and_priority_resources)
{
    struct counts before;
    begin(&before, false);
    mica_handle_t root = mica_resource_handle(), b, h, p;
    uint64_t max = MICA_CRITICAL_BUDGET_MAX;
    UEXPECT(mica_resource_create(root, MICA_RESOURCE_CRITICAL, 1, 10, &h) ==
            ERR_INVALID_ARGS);          /* a budget starts at 0 */
    UEXPECT(mica_resource_create(root, MICA_RESOURCE_CRITICAL, 0, max + 1,
                                 &h) == ERR_INVALID_ARGS);
    UEXPECT(mica_resource_create(root, MICA_RESOURCE_CRITICAL, 0, 0, &h) ==
            ERR_INVALID_ARGS);
    UASSERT(mica_resource_create(root, MICA_RESOURCE_CRITICAL, 0, max, &b) ==
            OK);
    UEXPECT(mica_resource_create(b, MICA_RESOURCE_CRITICAL, 0, MS, &h) ==
            OK);                        /* a smaller budget */
    mica_handle_close(h);
    mica_handle_t small;
    UASSERT(mica_resource_create(b, MICA_RESOURCE_CRITICAL, 0, MS, &small) ==
            OK);
    UEXPECT(mica_resource_create(small, MICA_RESOURCE_CRITICAL, 0, MS + 1,
                                 &h) == ERR_ACCESS_DENIED);
    UEXPECT(mica_resource_create(small, MICA_RESOURCE_IRQ, 0, 1, &h) ==
            ERR_ACCESS_DENIED);
    mica_handle_close(small);
    /* priorities */
    UEXPECT(mica_resource_create(root, MICA_RESOURCE_PRIORITY, 30, 3, &h) ==
            ERR_INVALID_ARGS);          /* past 31 */
    UEXPECT(mica_resource_create(root, MICA_RESOURCE_PRIORITY, 32, 1, &h) ==
            ERR_INVALID_ARGS);
    UASSERT(mica_resource_create(root, MICA_RESOURCE_PRIORITY, 24, 8, &p) ==
            OK);
    UEXPECT(mica_resource_create(p, MICA_RESOURCE_PRIORITY, 28, 4, &h) ==
            OK);
    mica_handle_close(h);
    UEXPECT(mica_resource_create(p, MICA_RESOURCE_PRIORITY, 20, 8, &h) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_resource_create(p, 7, 24, 1, &h) == ERR_INVALID_ARGS);
    mica_handle_close(b);
    mica_handle_close(p);
    EXPECT_SETTLED(before);
}

/* thread_set_priority above the caller's own base priority (16) needs
 * a resource that covers the new one. */
UTEST(crit_priority_resource_errors)
{
    struct counts before;
    begin(&before, false);
    mica_handle_t t, p, weak, irq, ev;
    UASSERT(make_thread(mica_process_self(), 16, 0, -1, &t) == OK);
    UASSERT((p = priorities(24, 4)) != 0);
    UEXPECT(mica_thread_set_priority_granted(t, 32, p) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_thread_set_priority_granted(t, 24, 0) == ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_set_priority_granted(t, 24, stale_handle()) ==
            ERR_BAD_HANDLE);
    UASSERT(mica_event_create(0, &ev) == OK);
    UEXPECT(mica_thread_set_priority_granted(t, 24, ev) == ERR_WRONG_TYPE);
    UASSERT(mica_handle_duplicate(p, RIGHTS_BASIC, &weak) == OK);
    UEXPECT(mica_thread_set_priority_granted(t, 24, weak) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_set_priority_granted(t, 28, p) == ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_set_priority_granted(t, 20, p) == ERR_ACCESS_DENIED);
    UASSERT(mica_resource_create(mica_resource_handle(), MICA_RESOURCE_IRQ,
                                 24, 1, &irq) == OK);
    UEXPECT(mica_thread_set_priority_granted(t, 24, irq) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_thread_set_priority_granted(stale_handle(), 24, p) ==
            ERR_BAD_HANDLE);
    /* granted; at or below the caller's own, the resource is not needed */
    UEXPECT(mica_thread_set_priority_granted(t, 27, p) == OK);
    struct mica_thread_info i = { 0 };
    UEXPECT(mica_thread_info(t, &i) == OK && i.base_priority == 27);
    UEXPECT(mica_thread_set_priority_granted(t, 12, p) == OK);
    UEXPECT(mica_thread_set_priority_granted(t, 31,
                                             mica_resource_handle()) == OK);
    mica_handle_t all[] = { t, p, weak, irq, ev };
    for (unsigned k = 0; k < sizeof(all) / sizeof(all[0]); k++)
        mica_handle_close(all[k]);
    EXPECT_SETTLED(before);
}

/* With one kernel allocation in three failing, making pages and
 * attaching budgets succeeds or fails with ERR_NO_MEMORY, and every
 * page and object comes back. */
UTEST(crit_out_of_memory_fails_cleanly)
{
    struct counts before;
    begin(&before, false);
    mica_handle_t b = budget(MS);
    UASSERT(b != 0);
    int bad = 0, nomem = 0;
    UASSERT(mica_debug_fail_inject(3, 0xc417) == OK);
    for (int i = 0; i < 60; i++) {
        mica_handle_t t = 0;
        uint64_t addr = 0;
        int r = mica_thread_create(mica_process_self(), "oom", 3, &t);
        if (r == OK) {
            int r1 = mica_thread_critical_page(t, &addr);
            int r2 = mica_thread_set_critical_budget(t, b);
            bad += r1 != OK && r1 != ERR_NO_MEMORY;
            bad += r2 != OK && r2 != ERR_NO_MEMORY;
            nomem += (r1 == ERR_NO_MEMORY) + (r2 == ERR_NO_MEMORY);
            if (r1 == OK)
                bad += mica_vm_unmap(mica_process_self(), addr, 4096) != OK;
            mica_handle_close(t);
        }
        bad += r != OK && r != ERR_NO_MEMORY;
    }
    UEXPECT(mica_debug_fail_inject(0, 0) == OK);
    UEXPECT(bad == 0);
    UEXPECT(nomem > 0);
    mica_handle_close(b);
    EXPECT_SETTLED(before);
}

/* --- timed tests (the -icount boot) -------------------------------------------- */

/* Slice expiry: a thread that spends nearly all its time in sections
 * of 2 ms (budget 4 ms) beside a spinner of the same priority on its
 * CPU: the spinner never runs inside a section; each section in which
 * the slice ended is extended, ends with preempt_pending set, and the
 * yield that leaving makes lets the spinner run. */
UTEST(timed_crit_slice_expiry_held_off)
{
    struct counts before;
    begin(&before, true);
    mica_handle_t b = budget(4 * MS), t[2] = { 0, 0 };
    UASSERT(b != 0);
    static struct sections s;
    memset((void *)&s, 0, sizeof(s));
    UASSERT(section_thread(mica_process_self(), 16, b, &t[0], &s.page) == OK);
    s.watch = 0;
    s.rounds = 40;
    s.len = 2 * MS;
    s.gap = 20 * US;
    counters[0] = 0;
    t[1] = spawn(spinner, 0, 16, 0, last_cpu());
    UASSERT(t[1] != 0);
    UASSERT(start(t[0], sectioner, (uint64_t)&s) == OK);
    UEXPECT(wait_end(t[0]) == OK);
    UEXPECT(s.held == s.rounds && s.moved == 0);
    UEXPECT(s.pending >= 3);            /* 80 ms in 10 ms slices */
    UEXPECT(s.ran_after == s.pending);
    UEXPECT(s.depth_ok);
    UEXPECT(s.deferrals == (uint64_t)s.pending);
    UEXPECT(s.overruns == 0 && s.budget_ns == 4 * MS);
    finish(t, 2);
    mica_handle_close(b);
    EXPECT_SETTLED(before);
}

/* Wakeups below the real-time band: a thread of priority 16 that wakes
 * every 300 us on the CPU of a section thread of priority 15 does not
 * run inside its sections of 1 ms, and runs at the yield after each. */
UTEST(timed_crit_wakeup_held_off)
{
    struct counts before;
    begin(&before, true);
    mica_handle_t b = budget(3 * MS), t[2] = { 0, 0 };
    UASSERT(b != 0);
    static struct sections s;
    static struct ticker k;
    memset((void *)&s, 0, sizeof(s));
    UASSERT(section_thread(mica_process_self(), 15, b, &t[0], &s.page) == OK);
    s.watch = 1;
    s.rounds = 30;
    s.len = MS;
    s.gap = 20 * US;
    k.slot = 1;
    k.period = 300 * US;
    counters[1] = 0;
    t[1] = spawn(ticker, (uint64_t)&k, 16, 0, last_cpu());
    UASSERT(t[1] != 0);
    UASSERT(wait_progress(1, 2));
    UASSERT(start(t[0], sectioner, (uint64_t)&s) == OK);
    UEXPECT(wait_end(t[0]) == OK);
    UEXPECT(s.held == s.rounds && s.moved == 0);
    UEXPECT(s.pending == s.rounds);     /* every section saw a wakeup */
    UEXPECT(s.ran_after == s.pending);
    UEXPECT(s.deferrals == (uint64_t)s.rounds);
    UEXPECT(s.overruns == 0);
    finish(t, 2);
    mica_handle_close(b);
    EXPECT_SETTLED(before);
}

/* Nested sections: the yield comes when the outermost ends. */
static void nested(uint64_t arg)
{
    struct sections *s = (struct sections *)arg;
    for (int i = 0; i < s->rounds; i++) {
        mica_crit_enter(s->page);
        uint64_t c0 = counters[s->watch];
        spin_ns(s->len / 2);
        mica_crit_enter(s->page);
        spin_ns(s->len / 2);
        bool inner = mica_crit_leave(s->page);  /* never yields */
        bool still = !inner && s->page->defer == 1 &&
                     s->page->preempt_pending == 1;
        uint64_t c1 = counters[s->watch];
        bool outer = mica_crit_leave(s->page);
        uint64_t c2 = counters[s->watch];
        s->held += c1 == c0 && still;
        s->pending += outer;
        s->ran_after += outer && c2 != c1;
    }
    snapshot(s);
    mica_thread_exit();
}

UTEST(timed_crit_nested_sections_yield_once)
{
    struct counts before;
    begin(&before, true);
    mica_handle_t b = budget(3 * MS), t[2] = { 0, 0 };
    UASSERT(b != 0);
    static struct sections s;
    static struct ticker k;
    memset((void *)&s, 0, sizeof(s));
    UASSERT(section_thread(mica_process_self(), 15, b, &t[0], &s.page) == OK);
    s.watch = 1;
    s.rounds = 10;
    s.len = MS;
    k.slot = 1;
    k.period = 200 * US;
    t[1] = spawn(ticker, (uint64_t)&k, 16, 0, last_cpu());
    UASSERT(t[1] != 0);
    UASSERT(start(t[0], nested, (uint64_t)&s) == OK);
    UEXPECT(wait_end(t[0]) == OK);
    UEXPECT(s.held == s.rounds);
    UEXPECT(s.pending == s.rounds && s.ran_after == s.rounds);
    UEXPECT(s.overruns == 0 && s.defer == 0);
    finish(t, 2);
    mica_handle_close(b);
    EXPECT_SETTLED(before);
}

/* An overrun: a section of 30 ms with a budget of 1 ms beside a spinner
 * is preempted (the spinner runs inside it), and reported on the
 * thread's exception channel while the thread waits, registers
 * readable; the verdict resume lets it finish.  preempt_pending is
 * clear after the preemption. */
UTEST(timed_crit_overrun_preempted_and_reported)
{
    struct counts before;
    begin(&before, true);
    mica_handle_t b = budget(MS), t[2] = { 0, 0 }, pair[2];
    UASSERT(b != 0);
    static struct sections s;
    memset((void *)&s, 0, sizeof(s));
    UASSERT(section_thread(mica_process_self(), 16, b, &t[0], &s.page) == OK);
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_thread_set_exception_channel(t[0], pair[0]) == OK);
    s.watch = 0;
    s.rounds = 1;
    s.len = 60 * MS;
    t[1] = spawn(spinner, 0, 16, 0, last_cpu());
    UASSERT(t[1] != 0);
    UASSERT(start(t[0], overrunner, (uint64_t)&s) == OK);
    struct exc x;
    UASSERT(next_exception(pair[1], &x) == OK);
    UEXPECT(x.nbytes == sizeof(struct mica_exception) &&
            x.nhandles == MICA_EXCEPTION_HANDLES);
    UEXPECT(x.info.vector == MICA_EXC_CRITICAL_OVERRUN);
    UEXPECT(x.info.error_code == 1 && x.info.fault_addr == 0);
    UEXPECT(x.info.pid == my_pid() && x.info.tid == tid_of(t[0]));
    struct mica_thread_state st;
    UEXPECT(mica_thread_read_state(x.thread, &st) == OK);
    UEXPECT(st.rip == x.info.regs.rip && st.rip < MICA_USER_TOP);
    UEXPECT(s.page->defer == 1 && s.page->overruns == 1);
    UEXPECT(s.page->preempt_pending == 0);
    UEXPECT(mica_exception_resume(x.token) == OK);
    exc_close(&x);
    UEXPECT(wait_end(t[0]) == OK);
    UEXPECT(s.moved == 1 && s.held == 0);
    UEXPECT(s.pending == 0);
    UEXPECT(s.overruns == 1 && s.deferrals == 1);
    UEXPECT(s.budget_ns == MS);         /* one strike is not revocation */
    finish(t, 2);
    mica_handle_close(pair[1]);
    mica_handle_close(b);
    EXPECT_SETTLED(before);
}

/* Repeat offenders: with no exception channel an overrun is only
 * logged and the thread goes on; the third overrun charged to a budget
 * revokes it, for every thread it is attached to: no more deferrals,
 * no more overruns, no attaching it again, nothing carved from it. */
UTEST(timed_crit_third_overrun_revokes_budget)
{
    struct counts before;
    begin(&before, true);
    mica_handle_t b = budget(MS), t[3] = { 0, 0, 0 }, h;
    UASSERT(b != 0);
    static struct sections s, s2;
    memset((void *)&s, 0, sizeof(s));
    memset((void *)&s2, 0, sizeof(s2));
    UASSERT(section_thread(mica_process_self(), 16, b, &t[0], &s.page) == OK);
    UASSERT(section_thread(mica_process_self(), 16, b, &t[2], &s2.page) ==
            OK);
    s.watch = s2.watch = 0;
    s.rounds = 4;
    s.len = 60 * MS;
    s2.rounds = 2;
    s2.len = 60 * MS;
    t[1] = spawn(spinner, 0, 16, 0, last_cpu());
    UASSERT(t[1] != 0);
    UASSERT(start(t[0], overrunner, (uint64_t)&s) == OK);
    UEXPECT(wait_end(t[0]) == OK);
    UEXPECT(s.moved == 4);              /* each section was preempted */
    UEXPECT(s.overruns == MICA_CRITICAL_STRIKES);
    UEXPECT(s.deferrals == MICA_CRITICAL_STRIKES);
    UEXPECT(s.budget_ns == 0);
    UEXPECT(mica_thread_set_critical_budget(t[0], b) == ERR_BAD_STATE);
    UEXPECT(mica_thread_set_critical_budget(t[2], b) == ERR_BAD_STATE);
    UEXPECT(mica_resource_create(b, MICA_RESOURCE_CRITICAL, 0, US, &h) ==
            ERR_ACCESS_DENIED);
    /* the other thread the budget was attached to has lost it too */
    UEXPECT(s2.page->budget_ns == MS);  /* not yet told */
    UASSERT(start(t[2], overrunner, (uint64_t)&s2) == OK);
    UEXPECT(wait_end(t[2]) == OK);
    UEXPECT(s2.moved == 2);
    UEXPECT(s2.deferrals == 0 && s2.overruns == 0);
    UEXPECT(s2.budget_ns == 0);
    UEXPECT(signals_of(t[0]) & SIGNAL_TERMINATED);
    finish(t, 3);
    mica_handle_close(b);
    EXPECT_SETTLED(before);
}

/* The verdict kill ends the overrunning thread's process, with exit
 * code -(MICA_EXC_CRITICAL_OVERRUN + 1). */
static void section_forever(uint64_t arg)
{
    struct mica_critical_page *p = (struct mica_critical_page *)arg;
    mica_crit_enter(p);
    for (;;)
        ;
}

UTEST(timed_crit_overrun_verdict_kill)
{
    struct counts before;
    begin(&before, true);
    mica_handle_t b = budget(MS), proc, ct, spin = 0, pair[2];
    UASSERT(b != 0);
    UASSERT(mica_process_clone(mica_process_self(), "clone", 5, &proc) == OK);
    struct mica_critical_page *page;
    UASSERT(section_thread(proc, 16, b, &ct, &page) == OK);
    UASSERT(mica_channel_create(0, pair) == OK);
    UASSERT(mica_thread_set_exception_channel(ct, pair[0]) == OK);
    spin = spawn(spinner, 0, 16, 0, last_cpu());
    UASSERT(spin != 0);
    UASSERT(start(ct, section_forever, (uint64_t)page) == OK);
    struct exc x;
    UASSERT(next_exception(pair[1], &x) == OK);
    UEXPECT(x.info.vector == MICA_EXC_CRITICAL_OVERRUN &&
            x.info.error_code == 1);
    UEXPECT(mica_exception_kill(x.token) == OK);
    UEXPECT(exit_code_of(proc) == OVERRUN_EXIT);
    exc_close(&x);
    finish(&spin, 1);
    mica_handle_close(ct);
    mica_handle_close(proc);
    mica_handle_close(pair[1]);
    mica_handle_close(b);
    EXPECT_SETTLED(before);
}

/* The real-time band: a thread of priority MICA_PRIO_REALTIME waking
 * every 300 us runs inside every section of 2 ms (budget 4 ms), which
 * holds nothing off; one priority lower it never does. */
UTEST(timed_crit_realtime_band_preempts)
{
    struct counts before;
    begin(&before, true);
    mica_handle_t b = budget(4 * MS);
    mica_handle_t pres = priorities(MICA_PRIO_REALTIME - 1, 2);
    UASSERT(b != 0 && pres != 0);
    for (unsigned prio = MICA_PRIO_REALTIME; prio >= MICA_PRIO_REALTIME - 1;
         prio--) {
        static struct sections s;
        static struct ticker k;
        mica_handle_t t[2] = { 0, 0 };
        memset((void *)&s, 0, sizeof(s));
        UASSERT(section_thread(mica_process_self(), 16, b, &t[0], &s.page) ==
                OK);
        s.watch = 2;
        s.rounds = 10;
        s.len = 2 * MS;
        s.gap = 20 * US;
        k.slot = 2;
        k.period = 300 * US;
        counters[2] = 0;
        t[1] = spawn(ticker, (uint64_t)&k, prio, pres, last_cpu());
        UASSERT(t[1] != 0);
        UASSERT(wait_progress(2, 2));
        UASSERT(start(t[0], sectioner, (uint64_t)&s) == OK);
        UEXPECT(wait_end(t[0]) == OK);
        if (prio >= MICA_PRIO_REALTIME) {
            UEXPECT(s.moved == s.rounds && s.pending == 0);
            UEXPECT(s.deferrals == 0);
        } else {
            UEXPECT(s.held == s.rounds && s.pending == s.rounds);
            UEXPECT(s.ran_after == s.rounds);
        }
        UEXPECT(s.overruns == 0);
        finish(t, 2);
    }
    mica_handle_close(pres);
    mica_handle_close(b);
    EXPECT_SETTLED(before);
}
