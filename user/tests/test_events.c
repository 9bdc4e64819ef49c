/*
 * test_events.c - in-system tests of the packet sources of ports:
 * one-shot signal observers (object_wait_async, object_wait_cancel),
 * events and timers.  Every error of every call, what each delivers and
 * when, what closing or destroying any party does, races between arming,
 * firing, canceling and closing on several CPUs, and that nothing leaks:
 * live counts, free pages and the kernel memory charged to this process
 * come back to where they were.
 *
 * Times are never measured: a timer's packet is checked against its own
 * deadline and count, waits for something that must come have deadlines
 * of many seconds, and waits for something that must not come only say
 * it did not come in a while (on a loaded host that can only make such
 * a test pass when the code is wrong, never fail when it is right).
 * Threads started with mica_thread_start make only system calls.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mica.h"
#include "testchild.h"
#include "utest.h"

#define KERNEL_PTR ((void *)0xFFFFFFFF80100000ull)
#define MS 1000000ull
#define SEC 1000000000ull
#define LONG_WAIT (30 * SEC)            /* for what must come */

static uint64_t now_ns(void)
{
    uint64_t t;
    mica_clock_get(&t);
    return t;
}

/* --- helpers -------------------------------------------------------------------- */

static mica_handle_t stale_handle(void)
{
    mica_handle_t v = 0;
    mica_vmo_create(4096, &v);
    mica_handle_close(v);
    return v;
}

static mica_handle_t with_rights(mica_handle_t h, mica_rights_t rights)
{
    mica_handle_t d = 0;
    mica_handle_duplicate(h, rights, &d);
    return d;
}

static uint64_t kmem_used(void)
{
    struct mica_process_info info = { 0 };
    mica_process_info(mica_process_self(), &info);
    return info.kmem_used;
}

/* A page mapped read-only: the kernel's write of an out-handle faults. */
static void *ro_page(mica_handle_t *vmo)
{
    uint64_t addr = 0;
    if (mica_vmo_create(4096, vmo) ||
        mica_vm_map(mica_process_self(), *vmo, 0, 4096, MICA_VM_READ, &addr))
        return NULL;
    return (void *)addr;
}

static void ro_page_free(void *addr, mica_handle_t vmo)
{
    mica_vm_unmap(mica_process_self(), (uint64_t)addr, 4096);
    mica_handle_close(vmo);
}

/* Every kernel allocation in this process's calls fails (1 in n). */
static int inject(uint32_t n, uint64_t seed)
{
    return mica_debug_fail_inject(n, seed);
}

/* Fill the handle table with duplicates of h: how many were made. */
#define FILL_MAX 4200
static mica_handle_t fill[FILL_MAX];

static int fill_table(mica_handle_t h)
{
    int n = 0;
    while (n < FILL_MAX &&
           mica_handle_duplicate(h, RIGHT_SAME_RIGHTS, &fill[n]) == OK)
        n++;
    return n;
}

static void drain_table(int n)
{
    while (n-- > 0)
        mica_handle_close(fill[n]);
}

/* Stacks for threads, touched before a test reads its counts. */
#define STACK 16384
#define NSTACKS 8
static char stacks[NSTACKS][STACK] __attribute__((aligned(16)));
static unsigned next_stack;

static int start_thread(void (*fn)(uint64_t, uint64_t), uint64_t a0,
                        uint64_t a1, mica_handle_t *t)
{
    char *sp = stacks[next_stack++ % NSTACKS] + STACK - 8;
    int err = mica_thread_create(mica_process_self(), "t", 1, t);
    if (!err)
        err = mica_thread_start(*t, (uint64_t)fn, (uint64_t)sp, a0, a1);
    return err;
}

static void join(mica_handle_t t)
{
    mica_object_wait_one(t, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(t);
}

/* The counts and this process's kernel memory, once dying things are
 * gone: until they equal *want or about 3 s have passed. */
struct counts {
    struct mica_system_info si;
    uint64_t kmem;
};

static bool same(const struct counts *a, const struct counts *b)
{
    return a->si.free_pages == b->si.free_pages &&
           a->si.live_events == b->si.live_events &&
           a->si.live_timers == b->si.live_timers &&
           a->si.live_ports == b->si.live_ports &&
           a->si.live_channels == b->si.live_channels &&
           a->si.live_processes == b->si.live_processes &&
           a->si.live_threads == b->si.live_threads && a->kmem == b->kmem;
}

static void settle(struct counts *c, const struct counts *want)
{
    memset(stacks, 0, sizeof(stacks));
    for (int i = 0; i < 150; i++) {
        mica_system_info(&c->si);
        c->kmem = kmem_used();
        if (!want || same(c, want))
            return;
        mica_nanosleep(now_ns() + 20 * MS);
    }
}

#define EXPECT_SETTLED(before)                                         \
    do {                                                               \
        struct counts after_;                                          \
        settle(&after_, &(before));                                    \
        UEXPECT(after_.si.live_events == (before).si.live_events);     \
        UEXPECT(after_.si.live_timers == (before).si.live_timers);     \
        UEXPECT(after_.si.live_ports == (before).si.live_ports);       \
        UEXPECT(after_.si.live_channels == (before).si.live_channels); \
        UEXPECT(after_.si.live_threads == (before).si.live_threads);   \
        UEXPECT(after_.kmem == (before).kmem);                         \
        UEXPECT(after_.si.free_pages == (before).si.free_pages);       \
    } while (0)

/* A packet must come: wait up to LONG_WAIT. */
static int next_packet(mica_handle_t port, struct mica_packet *p)
{
    memset(p, 0, sizeof(*p));
    return mica_port_wait(port, now_ns() + LONG_WAIT, p);
}

/* Nothing may come for `ns`. */
static bool quiet_for(mica_handle_t port, uint64_t ns)
{
    struct mica_packet p;
    return mica_port_wait(port, now_ns() + ns, &p) == ERR_TIMED_OUT;
}

/* --- errors ----------------------------------------------------------------------- */

UTEST(abi_object_wait_async_errors)
{
    mica_handle_t e, port, weak_e, weak_p, stale = stale_handle();
    UASSERT(mica_event_create(0, &e) == OK);
    UASSERT(mica_port_create(0, &port) == OK);
    uint64_t base = kmem_used();
    UEXPECT(mica_object_wait_async(e, port, 1, SIGNAL_USER0, 1) ==
            ERR_INVALID_ARGS);
    UEXPECT(MICA_CALL(MICA_SYS_object_wait_async, e, port, 1, SIGNAL_USER0,
                      1ull << 32, 0) == ERR_INVALID_ARGS);
    UEXPECT(mica_object_wait_async(e, port, 1, 0, 0) == ERR_INVALID_ARGS);
    /* signals are 32 bits: bit 32 alone is no signal at all */
    UEXPECT(MICA_CALL(MICA_SYS_object_wait_async, e, port, 1, 1ull << 32, 0,
                      0) == ERR_INVALID_ARGS);
    UEXPECT(mica_object_wait_async(stale, port, 1, SIGNAL_USER0, 0) ==
            ERR_BAD_HANDLE);
    weak_e = with_rights(e, RIGHTS_IO | RIGHT_SIGNAL | RIGHT_DUPLICATE);
    UEXPECT(mica_object_wait_async(weak_e, port, 1, SIGNAL_USER0, 0) ==
            ERR_ACCESS_DENIED);
    UEXPECT(mica_object_wait_async(e, stale, 1, SIGNAL_USER0, 0) ==
            ERR_BAD_HANDLE);
    UEXPECT(mica_object_wait_async(e, e, 1, SIGNAL_USER0, 0) ==
            ERR_WRONG_TYPE);
    weak_p = with_rights(port, RIGHT_READ | RIGHTS_BASIC);
    UEXPECT(mica_object_wait_async(e, weak_p, 1, SIGNAL_USER0, 0) ==
            ERR_ACCESS_DENIED);
    UEXPECT(kmem_used() == base);
    UASSERT(inject(1, 1) == OK);
    int r = mica_object_wait_async(e, port, 1, SIGNAL_USER0, 0);
    inject(0, 0);
    UEXPECT(r == ERR_NO_MEMORY);
    /* the second allocation failing leaves nothing behind either */
    for (uint64_t seed = 1; seed <= 16; seed++) {
        UASSERT(inject(2, seed) == OK);
        r = mica_object_wait_async(e, port, 1, SIGNAL_USER0, 0);
        inject(0, 0);
        UEXPECT(r == OK || r == ERR_NO_MEMORY);
        if (r == OK)
            UEXPECT(mica_object_wait_cancel(e, port, 1) == OK);
    }
    UEXPECT(kmem_used() == base);
    UEXPECT(quiet_for(port, 1 * MS));
    mica_handle_close(weak_e);
    mica_handle_close(weak_p);
    mica_handle_close(e);
    mica_handle_close(port);
}

UTEST(abi_object_wait_cancel_errors)
{
    mica_handle_t e, port, weak_e, weak_p, stale = stale_handle();
    UASSERT(mica_event_create(0, &e) == OK);
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_object_wait_async(e, port, 7, SIGNAL_USER0, 0) == OK);
    UEXPECT(mica_object_wait_cancel(stale, port, 7) == ERR_BAD_HANDLE);
    weak_e = with_rights(e, RIGHTS_IO | RIGHT_SIGNAL | RIGHT_DUPLICATE);
    UEXPECT(mica_object_wait_cancel(weak_e, port, 7) == ERR_ACCESS_DENIED);
    UEXPECT(mica_object_wait_cancel(e, stale, 7) == ERR_BAD_HANDLE);
    UEXPECT(mica_object_wait_cancel(e, e, 7) == ERR_WRONG_TYPE);
    weak_p = with_rights(port, RIGHT_READ | RIGHTS_BASIC);
    UEXPECT(mica_object_wait_cancel(e, weak_p, 7) == ERR_ACCESS_DENIED);
    UEXPECT(mica_object_wait_cancel(e, port, 8) == ERR_NOT_FOUND);
    UEXPECT(mica_object_wait_cancel(port, port, 7) == ERR_NOT_FOUND);
    UEXPECT(mica_object_wait_cancel(e, port, 7) == OK);
    UEXPECT(mica_object_wait_cancel(e, port, 7) == ERR_NOT_FOUND);
    /* one that fired is gone too */
    UASSERT(mica_object_wait_async(e, port, 9, SIGNAL_USER0, 0) == OK);
    UASSERT(mica_object_signal(e, 0, SIGNAL_USER0) == OK);
    UEXPECT(mica_object_wait_cancel(e, port, 9) == ERR_NOT_FOUND);
    mica_handle_close(weak_e);
    mica_handle_close(weak_p);
    mica_handle_close(e);
    mica_handle_close(port);
}

static uint64_t live_events(void)
{
    struct mica_system_info si = { 0 };
    mica_system_info(&si);
    return si.live_events;
}

static uint64_t live_timers(void)
{
    struct mica_system_info si = { 0 };
    mica_system_info(&si);
    return si.live_timers;
}

/* The errors of event_create and timer_create, which are the same. */
static void create_errors(int (*create)(uint32_t, mica_handle_t *),
                          uint64_t nr, uint64_t (*live)(void))
{
    mica_handle_t h = 0, ro_vmo;
    UEXPECT(create(1, &h) == ERR_INVALID_ARGS);
    UEXPECT(MICA_CALL(nr, 1ull << 32, &h, 0, 0, 0, 0) == ERR_INVALID_ARGS);
    UEXPECT(create(0, KERNEL_PTR) == ERR_FAULT);
    void *ro = ro_page(&ro_vmo);
    UASSERT(ro != NULL);
    uint64_t before = live();
    UEXPECT(create(0, ro) == ERR_FAULT);
    UEXPECT(live() == before);                  /* destroyed again */
    ro_page_free(ro, ro_vmo);
    UASSERT(inject(1, 1) == OK);
    int r = create(0, &h);
    inject(0, 0);
    UEXPECT(r == ERR_NO_MEMORY);
    int n = fill_table(mica_process_self());
    r = create(0, &h);
    drain_table(n);
    UEXPECT(r == ERR_NO_RESOURCES);
    UEXPECT(live() == before);
}

UTEST(abi_event_create_errors)
{
    create_errors(mica_event_create, MICA_SYS_event_create, live_events);
}

UTEST(abi_timer_create_errors)
{
    create_errors(mica_timer_create, MICA_SYS_timer_create, live_timers);
}

/* A timer, a handle to it without RIGHT_WRITE, and an event. */
struct timer_handles {
    mica_handle_t t, weak, e, stale;
};

static int timer_handles(struct timer_handles *h)
{
    int err = mica_timer_create(0, &h->t);
    if (!err)
        err = mica_event_create(0, &h->e);
    h->weak = with_rights(h->t, RIGHT_READ | RIGHTS_BASIC);
    h->stale = stale_handle();
    return err;
}

static void timer_handles_close(struct timer_handles *h)
{
    mica_handle_close(h->t);
    mica_handle_close(h->weak);
    mica_handle_close(h->e);
}

UTEST(abi_timer_set_errors)
{
    struct timer_handles h;
    UASSERT(timer_handles(&h) == OK);
    UEXPECT(mica_timer_set(h.t, 0, 1) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_timer_set(h.t, 0, MICA_TIMER_PERIOD_MIN - 1) ==
            ERR_OUT_OF_RANGE);
    UEXPECT(mica_timer_set(h.stale, 0, 0) == ERR_BAD_HANDLE);
    UEXPECT(mica_timer_set(h.e, 0, 0) == ERR_WRONG_TYPE);
    UEXPECT(mica_timer_set(h.weak, 0, 0) == ERR_ACCESS_DENIED);
    uint64_t far = now_ns() + 3600 * SEC;
    UEXPECT(mica_timer_set(h.t, far, MICA_TIMER_PERIOD_MIN) == OK);
    UEXPECT(mica_timer_set(h.t, far, 0) == OK);
    timer_handles_close(&h);
}

UTEST(abi_timer_cancel_errors)
{
    struct timer_handles h;
    UASSERT(timer_handles(&h) == OK);
    UEXPECT(mica_timer_cancel(h.stale) == ERR_BAD_HANDLE);
    UEXPECT(mica_timer_cancel(h.e) == ERR_WRONG_TYPE);
    UEXPECT(mica_timer_cancel(h.weak) == ERR_ACCESS_DENIED);
    UEXPECT(mica_timer_cancel(h.t) == OK);      /* not armed: fine */
    timer_handles_close(&h);
}

UTEST(abi_timer_set_port_errors)
{
    struct timer_handles h;
    mica_handle_t port, weak_p;
    UASSERT(timer_handles(&h) == OK);
    UASSERT(mica_port_create(0, &port) == OK);
    UEXPECT(mica_timer_set_port(h.stale, port, 1) == ERR_BAD_HANDLE);
    UEXPECT(mica_timer_set_port(h.e, port, 1) == ERR_WRONG_TYPE);
    UEXPECT(mica_timer_set_port(h.weak, port, 1) == ERR_ACCESS_DENIED);
    UEXPECT(mica_timer_set_port(h.t, h.stale, 1) == ERR_BAD_HANDLE);
    UEXPECT(mica_timer_set_port(h.t, h.e, 1) == ERR_WRONG_TYPE);
    weak_p = with_rights(port, RIGHT_READ | RIGHTS_BASIC);
    UEXPECT(mica_timer_set_port(h.t, weak_p, 1) == ERR_ACCESS_DENIED);
    UEXPECT(mica_timer_set_port(h.t, port, 1) == OK);
    UEXPECT(mica_timer_set_port(h.t, HANDLE_INVALID, 0) == OK);
    UEXPECT(mica_timer_set_port(h.t, HANDLE_INVALID, 0) == OK);
    mica_handle_close(weak_p);
    mica_handle_close(port);
    timer_handles_close(&h);
}

/* --- events ------------------------------------------------------------------------- */

UTEST(event_signals_and_rights)
{
    mica_handle_t e, d, v, t;
    mica_signals_t seen = 0xFFFFFFFF;
    UASSERT(mica_event_create(0, &e) == OK);
    UEXPECT(mica_object_wait_one(e, ~0u, 1, &seen) == ERR_TIMED_OUT &&
            seen == 0);
    /* created with read, write, wait, signal, duplicate, transfer */
    UEXPECT(mica_handle_duplicate(e, RIGHTS_IO | RIGHTS_BASIC | RIGHT_SIGNAL,
                                  &d) == OK);
    mica_handle_close(d);
    UEXPECT(mica_handle_duplicate(e, RIGHT_MANAGE, &d) == ERR_INVALID_ARGS);
    UEXPECT(mica_handle_duplicate(e, RIGHT_MAP, &d) == ERR_INVALID_ARGS);
    UEXPECT(mica_object_signal(e, 0, SIGNAL_SIGNALED | SIGNAL_USER0) == OK);
    UEXPECT(mica_object_wait_one(e, SIGNAL_SIGNALED, 0, &seen) == OK &&
            seen == (SIGNAL_SIGNALED | SIGNAL_USER0));
    UEXPECT(mica_object_signal(e, SIGNAL_SIGNALED, SIGNAL_USER0 << 7) == OK);
    UEXPECT(mica_object_wait_one(e, ~0u, 0, &seen) == OK &&
            seen == (SIGNAL_USER0 | (SIGNAL_USER0 << 7)));
    /* no other bit, on an event or anything else */
    UEXPECT(mica_object_signal(e, 0, SIGNAL_READABLE) == ERR_INVALID_ARGS);
    UEXPECT(mica_object_signal(e, SIGNAL_PEER_CLOSED, 0) == ERR_INVALID_ARGS);
    UEXPECT(mica_object_signal(e, 0, 1u << 24) == ERR_INVALID_ARGS);
    d = with_rights(e, RIGHTS_BASIC);
    UEXPECT(mica_object_signal(d, 0, SIGNAL_SIGNALED) == ERR_ACCESS_DENIED);
    mica_handle_close(d);
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_object_signal(v, 0, SIGNAL_SIGNALED) == ERR_ACCESS_DENIED);
    UASSERT(mica_timer_create(0, &t) == OK);
    UEXPECT(mica_object_signal(t, 0, SIGNAL_SIGNALED) == ERR_ACCESS_DENIED);
    mica_handle_close(t);
    mica_handle_close(v);
    mica_handle_close(e);
}

struct setter {
    mica_handle_t e;
    volatile int go;
};

static void set_when_told(uint64_t a0, uint64_t a1)
{
    struct setter *s = (struct setter *)a0;
    while (!s->go)
        mica_thread_yield();
    mica_object_signal(s->e, 0, (mica_signals_t)a1);
    mica_thread_exit();
}

UTEST(event_wakes_a_waiting_thread)
{
    static struct setter s;
    mica_handle_t t;
    mica_signals_t seen = 0;
    UASSERT(mica_event_create(0, &s.e) == OK);
    s.go = 0;
    UASSERT(start_thread(set_when_told, (uint64_t)&s, SIGNAL_SIGNALED, &t) ==
            OK);
    s.go = 1;
    UEXPECT(mica_object_wait_one(s.e, SIGNAL_SIGNALED, now_ns() + LONG_WAIT,
                                 &seen) == OK);
    UEXPECT(seen == SIGNAL_SIGNALED);
    join(t);
    mica_handle_close(s.e);
}

/* --- observers ----------------------------------------------------------------------- */

UTEST(observer_fires_once_with_the_signals_seen)
{
    struct counts before;
    mica_handle_t e, port;
    struct mica_packet p;
    UASSERT(mica_event_create(0, &e) == OK);
    UASSERT(mica_port_create(0, &port) == OK);
    settle(&before, NULL);
    UASSERT(mica_object_signal(e, 0, SIGNAL_USER0 << 1) == OK);
    UASSERT(mica_object_wait_async(e, port, 42, SIGNAL_USER0 | SIGNAL_SIGNALED,
                                   0) == OK);
    UEXPECT(kmem_used() > before.kmem);         /* charged to us */
    UEXPECT(quiet_for(port, 1 * MS));           /* USER1 is not wanted */
    UASSERT(mica_object_signal(e, 0, SIGNAL_USER0) == OK);
    UEXPECT(next_packet(port, &p) == OK);
    UEXPECT(p.key == 42 && p.type == MICA_PACKET_SIGNAL && p.status == 0);
    UEXPECT(p.signals == (SIGNAL_USER0 | SIGNAL_USER0 << 1));
    /* one-shot: later changes queue nothing */
    UASSERT(mica_object_signal(e, SIGNAL_USER0, 0) == OK);
    UASSERT(mica_object_signal(e, 0, SIGNAL_USER0 | SIGNAL_SIGNALED) == OK);
    UEXPECT(quiet_for(port, 5 * MS));
    UEXPECT(kmem_used() == before.kmem);        /* delivered and freed */
    /* already asserted: at once, through port_receive too */
    UASSERT(mica_object_wait_async(e, port, 43, SIGNAL_SIGNALED, 0) == OK);
    struct mica_msg_buf b = { 0 };
    UEXPECT(mica_port_receive(port, &b, now_ns() + LONG_WAIT) == OK);
    UEXPECT(b.kind == MICA_RECV_PACKET && b.key == 43 &&
            b.packet.type == MICA_PACKET_SIGNAL &&
            b.packet.signals ==
                (SIGNAL_SIGNALED | SIGNAL_USER0 | SIGNAL_USER0 << 1));
    mica_handle_close(e);
    mica_handle_close(port);
}

UTEST(observer_cancel_takes_only_its_key)
{
    mica_handle_t e, port, other;
    struct mica_packet p;
    UASSERT(mica_event_create(0, &e) == OK);
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_port_create(0, &other) == OK);
    uint64_t base = kmem_used();
    UASSERT(mica_object_wait_async(e, port, 1, SIGNAL_USER0, 0) == OK);
    UASSERT(mica_object_wait_async(e, port, 1, SIGNAL_SIGNALED, 0) == OK);
    UASSERT(mica_object_wait_async(e, port, 2, SIGNAL_USER0, 0) == OK);
    UASSERT(mica_object_wait_async(e, other, 1, SIGNAL_USER0, 0) == OK);
    UEXPECT(mica_object_wait_cancel(e, port, 1) == OK);     /* both */
    UEXPECT(mica_object_wait_cancel(e, port, 1) == ERR_NOT_FOUND);
    UASSERT(mica_object_signal(e, 0, SIGNAL_USER0 | SIGNAL_SIGNALED) == OK);
    UEXPECT(next_packet(port, &p) == OK && p.key == 2);
    UEXPECT(next_packet(other, &p) == OK && p.key == 1);
    UEXPECT(quiet_for(port, 2 * MS));
    UEXPECT(kmem_used() == base);
    mica_handle_close(e);
    mica_handle_close(port);
    mica_handle_close(other);
}

UTEST(observer_dropped_when_its_port_closes)
{
    struct counts before;
    mica_handle_t e, port;
    UASSERT(mica_event_create(0, &e) == OK);
    settle(&before, NULL);
    UASSERT(mica_port_create(0, &port) == OK);
    for (int i = 0; i < 100; i++)
        UASSERT(mica_object_wait_async(e, port, (uint64_t)i, SIGNAL_USER0,
                                       0) == OK);
    UASSERT(mica_handle_close(port) == OK);
    EXPECT_SETTLED(before);                 /* the port and 100 observers */
    UEXPECT(mica_object_signal(e, 0, SIGNAL_USER0) == OK);  /* no one left */
    mica_handle_close(e);
}

UTEST(observer_dropped_when_the_object_goes)
{
    struct counts before;
    mica_handle_t e, port, ch[2];
    UASSERT(mica_port_create(0, &port) == OK);
    settle(&before, NULL);
    UASSERT(mica_event_create(0, &e) == OK);
    UASSERT(mica_channel_create(0, ch) == OK);
    for (int i = 0; i < 50; i++) {
        UASSERT(mica_object_wait_async(e, port, 1, SIGNAL_USER0, 0) == OK);
        UASSERT(mica_object_wait_async(ch[0], port, 2, SIGNAL_READABLE, 0) ==
                OK);
    }
    UASSERT(mica_handle_close(e) == OK);
    /* closing ch[1] first would fire them with PEER_CLOSED: not wanted */
    UASSERT(mica_handle_close(ch[0]) == OK);
    UASSERT(mica_handle_close(ch[1]) == OK);
    EXPECT_SETTLED(before);
    UEXPECT(quiet_for(port, 2 * MS));
    mica_handle_close(port);
}

/* A server watching its clients' channels through one port learns that
 * a client is gone, whether it closed its end or died. */
static const uint8_t code_spin[] = { 0xEB, 0xFE };     /* jmp . */

UTEST(observer_tells_a_server_its_client_closed)
{
    struct counts before;
    mica_handle_t port, a[2], b[2], proc, moved;
    struct mica_packet p;
    char buf[8];
    settle(&before, NULL);
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_channel_create(0, a) == OK);
    UASSERT(mica_channel_create(0, b) == OK);
    /* messages and deaths through the same port */
    UASSERT(mica_channel_bind(a[1], port, 10) == OK);
    UASSERT(mica_object_wait_async(a[1], port, 11, SIGNAL_PEER_CLOSED, 0) ==
            OK);
    UASSERT(mica_object_wait_async(b[1], port, 21, SIGNAL_PEER_CLOSED, 0) ==
            OK);
    /* client a writes, then closes its end */
    UASSERT(mica_channel_write(a[0], "bye", 3, NULL, 0) == OK);
    UASSERT(mica_handle_close(a[0]) == OK);
    struct mica_msg_buf mb = { .bytes = buf, .bytes_cap = sizeof(buf) };
    UEXPECT(mica_port_receive(port, &mb, now_ns() + LONG_WAIT) == OK);
    UEXPECT(mb.kind == MICA_RECV_MESSAGE && mb.key == 10 &&
            mb.actual_bytes == 3);
    mb = (struct mica_msg_buf){ .bytes = buf, .bytes_cap = sizeof(buf) };
    UEXPECT(mica_port_receive(port, &mb, now_ns() + LONG_WAIT) == OK);
    UEXPECT(mb.kind == MICA_RECV_PACKET && mb.packet.key == 11 &&
            mb.packet.type == MICA_PACKET_SIGNAL &&
            (mb.packet.signals & SIGNAL_PEER_CLOSED));
    /* client b lives in another process, which dies */
    UASSERT(child_spawn(code_spin, sizeof(code_spin), 0, &proc, NULL) == OK);
    UASSERT(mica_handle_transfer(b[0], proc, RIGHT_SAME_RIGHTS, &moved) == OK);
    UEXPECT(quiet_for(port, 2 * MS));
    UASSERT(mica_process_kill(proc, 0) == OK);
    UEXPECT(next_packet(port, &p) == OK);
    UEXPECT(p.key == 21 && p.type == MICA_PACKET_SIGNAL &&
            p.signals == SIGNAL_PEER_CLOSED);
    mica_object_wait_one(proc, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(proc);
    mica_handle_close(a[1]);
    mica_handle_close(b[1]);
    mica_handle_close(port);
    EXPECT_SETTLED(before);
}

UTEST(observer_sees_threads_park_and_end)
{
    mica_handle_t port, t;
    struct mica_packet p;
    static struct setter s;
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_event_create(0, &s.e) == OK);
    s.go = 0;
    UASSERT(start_thread(set_when_told, (uint64_t)&s, SIGNAL_USER0, &t) == OK);
    UASSERT(mica_object_wait_async(t, port, 1, SIGNAL_SUSPENDED, 0) == OK);
    UASSERT(mica_object_wait_async(t, port, 2, SIGNAL_TERMINATED, 0) == OK);
    UASSERT(mica_thread_suspend(t) == OK);      /* parks in its yield */
    UEXPECT(next_packet(port, &p) == OK && p.key == 1 &&
            (p.signals & SIGNAL_SUSPENDED));
    UASSERT(mica_thread_resume(t) == OK);
    s.go = 1;
    UEXPECT(next_packet(port, &p) == OK && p.key == 2 &&
            (p.signals & SIGNAL_TERMINATED));
    UEXPECT(mica_object_wait_one(s.e, SIGNAL_USER0, 0, NULL) == OK);
    join(t);
    mica_handle_close(s.e);
    mica_handle_close(port);
}

/* Threads arm observers on one event while another toggles it and a
 * third cancels: every observer ends exactly once, as a packet or as a
 * successful cancel. */
#define RACERS 3
#define ARMS 300

struct race {
    mica_handle_t e, port;
    volatile int stop;
    volatile int canceled[RACERS];
    volatile int armed[RACERS];
};

static void arm_and_cancel(uint64_t a0, uint64_t id)
{
    struct race *r = (struct race *)a0;
    for (int i = 0; i < ARMS; i++) {
        uint64_t key = id << 32 | (uint64_t)i;
        if (mica_object_wait_async(r->e, r->port, key, SIGNAL_USER0, 0) != OK)
            break;
        r->armed[id]++;
        if (i % 3 == 0 && mica_object_wait_cancel(r->e, r->port, key) == OK)
            r->canceled[id]++;
        if (i % 16 == 0)
            mica_thread_yield();
    }
    mica_thread_exit();
}

static void toggle(uint64_t a0, uint64_t a1)
{
    (void)a1;
    struct race *r = (struct race *)a0;
    while (!r->stop) {
        mica_object_signal(r->e, 0, SIGNAL_USER0);
        mica_object_signal(r->e, SIGNAL_USER0, 0);
    }
    mica_object_signal(r->e, 0, SIGNAL_USER0);  /* the last ones fire */
    mica_thread_exit();
}

UTEST(observer_races_on_every_cpu)
{
    static struct race r;
    struct counts before;
    mica_handle_t ts[RACERS], tt;
    settle(&before, NULL);
    memset((void *)&r, 0, sizeof(r));
    UASSERT(mica_event_create(0, &r.e) == OK);
    UASSERT(mica_port_create(0, &r.port) == OK);
    UASSERT(start_thread(toggle, (uint64_t)&r, 0, &tt) == OK);
    for (uint64_t i = 0; i < RACERS; i++)
        UASSERT(start_thread(arm_and_cancel, (uint64_t)&r, i, &ts[i]) == OK);
    for (int i = 0; i < RACERS; i++)
        join(ts[i]);
    r.stop = 1;
    join(tt);
    int got[RACERS] = { 0 }, bad = 0;
    struct mica_packet p;
    while (mica_port_wait(r.port, now_ns() + 200 * MS, &p) == OK) {
        uint64_t id = p.key >> 32;
        if (id < RACERS && p.type == MICA_PACKET_SIGNAL &&
            (p.signals & SIGNAL_USER0))
            got[id]++;
        else
            bad++;
    }
    UEXPECT(bad == 0);
    for (int i = 0; i < RACERS; i++) {
        UEXPECT(r.armed[i] == ARMS);
        UEXPECT(got[i] + r.canceled[i] == r.armed[i]);
    }
    mica_handle_close(r.e);
    mica_handle_close(r.port);
    EXPECT_SETTLED(before);
}

/* Observers fire while their port closes and their object goes, on
 * other CPUs: nothing is lost or left behind. */
static void arm_forever(uint64_t a0, uint64_t a1)
{
    struct race *r = (struct race *)a0;
    (void)a1;
    while (!r->stop)
        mica_object_wait_async(r->e, r->port, 1, SIGNAL_USER0, 0);
    mica_thread_exit();
}

UTEST(observer_close_races_leave_nothing)
{
    static struct race r;
    struct counts before;
    settle(&before, NULL);
    for (int round = 0; round < 20; round++) {
        mica_handle_t t1, t2;
        memset((void *)&r, 0, sizeof(r));
        UASSERT(mica_event_create(0, &r.e) == OK);
        UASSERT(mica_port_create(0, &r.port) == OK);
        UASSERT(start_thread(arm_forever, (uint64_t)&r, 0, &t1) == OK);
        UASSERT(start_thread(toggle, (uint64_t)&r, 0, &t2) == OK);
        mica_nanosleep(now_ns() + 2 * MS);
        mica_handle_close(round % 2 ? r.port : r.e);
        mica_nanosleep(now_ns() + 1 * MS);
        mica_handle_close(round % 2 ? r.e : r.port);
        r.stop = 1;
        join(t1);
        join(t2);
    }
    EXPECT_SETTLED(before);
}

/* --- timers ------------------------------------------------------------------------------ */

UTEST(timer_fires_once_and_asserts_signaled)
{
    mica_handle_t t, d;
    mica_signals_t seen = 0;
    UASSERT(mica_timer_create(0, &t) == OK);
    UEXPECT(mica_handle_duplicate(t, RIGHTS_IO | RIGHTS_BASIC, &d) == OK);
    mica_handle_close(d);
    UEXPECT(mica_handle_duplicate(t, RIGHT_SIGNAL, &d) == ERR_INVALID_ARGS);
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, 1, &seen) ==
            ERR_TIMED_OUT && seen == 0);
    uint64_t deadline = now_ns() + 5 * MS;
    UASSERT(mica_timer_set(t, deadline, 0) == OK);
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, now_ns() + LONG_WAIT,
                                 &seen) == OK);
    UEXPECT(seen == SIGNAL_SIGNALED && now_ns() >= deadline);
    /* setting again clears it; a deadline passed (0 too) fires at once */
    UASSERT(mica_timer_set(t, now_ns() + 3600 * SEC, 0) == OK);
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, 1, &seen) ==
            ERR_TIMED_OUT && seen == 0);
    UASSERT(mica_timer_set(t, 0, 0) == OK);
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, now_ns() + LONG_WAIT,
                                 NULL) == OK);
    UASSERT(mica_timer_cancel(t) == OK);
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, 1, &seen) ==
            ERR_TIMED_OUT && seen == 0);
    mica_handle_close(t);
}

UTEST(timer_packet_carries_its_deadline)
{
    mica_handle_t t, port;
    struct mica_packet p;
    UASSERT(mica_timer_create(0, &t) == OK);
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_timer_set_port(t, port, 5) == OK);
    uint64_t deadline = now_ns() + 5 * MS;
    UASSERT(mica_timer_set(t, deadline, 0) == OK);
    UEXPECT(next_packet(port, &p) == OK);
    UEXPECT(now_ns() >= deadline);
    UEXPECT(p.key == 5 && p.type == MICA_PACKET_TIMER && p.status == 0);
    UEXPECT(p.data[0] == deadline && p.data[1] == 1);
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, 0, NULL) == OK);
    UEXPECT(quiet_for(port, 10 * MS));          /* one-shot */
    mica_handle_close(t);
    mica_handle_close(port);
}

/* The packets of a periodic timer: deadlines on its grid, increasing,
 * each count the number of periods since the one before. */
static void check_periodic(mica_handle_t port, uint64_t first, uint64_t period,
                           int packets, uint64_t key)
{
    uint64_t last = 0, total = 0;
    for (int i = 0; i < packets; i++) {
        struct mica_packet p;
        UASSERT(next_packet(port, &p) == OK);
        UEXPECT(p.key == key && p.type == MICA_PACKET_TIMER);
        UEXPECT(p.data[0] >= first && (p.data[0] - first) % period == 0);
        UEXPECT(p.data[1] >= 1);
        if (i > 0)
            UEXPECT(p.data[0] == last + p.data[1] * period);
        else
            UEXPECT(p.data[0] == first + (p.data[1] - 1) * period);
        UEXPECT(now_ns() >= p.data[0]);
        last = p.data[0];
        total += p.data[1];
    }
    UEXPECT(total == (last - first) / period + 1);
}

UTEST(timer_periodic_delivers_increasing_deadlines)
{
    struct counts before;
    mica_handle_t t, port;
    settle(&before, NULL);
    UASSERT(mica_timer_create(0, &t) == OK);
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_timer_set_port(t, port, 9) == OK);
    uint64_t period = 5 * MS, first = now_ns() + period;
    UASSERT(mica_timer_set(t, first, period) == OK);
    check_periodic(port, first, period, 6, 9);
    /* it coalesces while nobody reads: one packet for many expiries */
    mica_nanosleep(now_ns() + 8 * period);
    struct mica_packet p;
    UEXPECT(next_packet(port, &p) == OK && p.data[1] >= 2);
    UASSERT(mica_timer_cancel(t) == OK);
    UEXPECT(quiet_for(port, 20 * MS));          /* withdrawn, disarmed */
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, 1, NULL) ==
            ERR_TIMED_OUT);
    mica_handle_close(t);
    mica_handle_close(port);
    EXPECT_SETTLED(before);
}

UTEST(timer_canceled_delivers_nothing)
{
    mica_handle_t t, port;
    UASSERT(mica_timer_create(0, &t) == OK);
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_timer_set_port(t, port, 1) == OK);
    UASSERT(mica_object_wait_async(t, port, 2, SIGNAL_SIGNALED, 0) == OK);
    UASSERT(mica_timer_set(t, now_ns() + 20 * MS, 0) == OK);
    UASSERT(mica_timer_cancel(t) == OK);
    UEXPECT(quiet_for(port, 100 * MS));
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, 1, NULL) ==
            ERR_TIMED_OUT);
    /* re-armed after a cancel it works again */
    UASSERT(mica_timer_set(t, now_ns() + 1 * MS, 0) == OK);
    struct mica_packet p1, p2;
    UEXPECT(next_packet(port, &p1) == OK && next_packet(port, &p2) == OK);
    UEXPECT(p1.key + p2.key == 3 && p1.type != p2.type);
    /* a cancel takes back the packet of an expiry nobody received */
    UASSERT(mica_timer_set(t, 0, 0) == OK);
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, now_ns() + LONG_WAIT,
                                 NULL) == OK);
    UASSERT(mica_timer_cancel(t) == OK);
    UEXPECT(quiet_for(port, 1 * MS));
    mica_handle_close(t);
    mica_handle_close(port);
}

UTEST(timer_observed_through_a_port)
{
    mica_handle_t t, port;
    struct mica_packet p;
    UASSERT(mica_timer_create(0, &t) == OK);
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_object_wait_async(t, port, 77, SIGNAL_SIGNALED, 0) == OK);
    UASSERT(mica_timer_set(t, now_ns() + 3 * MS, 0) == OK);
    UEXPECT(next_packet(port, &p) == OK);
    UEXPECT(p.key == 77 && p.type == MICA_PACKET_SIGNAL &&
            p.signals == SIGNAL_SIGNALED);
    mica_handle_close(t);
    mica_handle_close(port);
}

UTEST(timer_moves_between_ports)
{
    mica_handle_t t, a, b;
    struct mica_packet p;
    UASSERT(mica_timer_create(0, &t) == OK);
    UASSERT(mica_port_create(0, &a) == OK);
    UASSERT(mica_port_create(0, &b) == OK);
    UASSERT(mica_timer_set_port(t, a, 1) == OK);
    UASSERT(mica_timer_set(t, 0, 0) == OK);
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, now_ns() + LONG_WAIT,
                                 NULL) == OK);
    /* its packet waits on a; moving the timer takes it back */
    UASSERT(mica_timer_set_port(t, b, 2) == OK);
    UEXPECT(quiet_for(a, 1 * MS));
    UASSERT(mica_timer_set(t, 0, 0) == OK);
    UEXPECT(next_packet(b, &p) == OK && p.key == 2 && p.data[1] == 1);
    UASSERT(mica_timer_set_port(t, HANDLE_INVALID, 0) == OK);
    UASSERT(mica_timer_set(t, 0, 0) == OK);
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, now_ns() + LONG_WAIT,
                                 NULL) == OK);
    UEXPECT(quiet_for(b, 1 * MS) && quiet_for(a, 1 * MS));
    mica_handle_close(t);
    mica_handle_close(a);
    mica_handle_close(b);
}

UTEST(timer_closing_either_side_lets_go)
{
    struct counts before;
    mica_handle_t t, port;
    struct mica_packet p;
    settle(&before, NULL);
    /* the port closes under a periodic timer: the port goes, the timer
     * goes on signaling */
    UASSERT(mica_timer_create(0, &t) == OK);
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_timer_set_port(t, port, 1) == OK);
    UASSERT(mica_timer_set(t, now_ns() + 1 * MS, 5 * MS) == OK);
    UEXPECT(next_packet(port, &p) == OK);
    mica_handle_close(port);
    struct counts mid;
    settle(&mid, NULL);
    UEXPECT(mid.si.live_ports == before.si.live_ports);
    UASSERT(mica_timer_cancel(t) == OK);
    UASSERT(mica_timer_set(t, 0, 0) == OK);
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, now_ns() + LONG_WAIT,
                                 NULL) == OK);
    mica_handle_close(t);
    /* the timer closes while armed with a packet queued: the packet is
     * withdrawn and nothing fires any more */
    UASSERT(mica_timer_create(0, &t) == OK);
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_timer_set_port(t, port, 1) == OK);
    UASSERT(mica_timer_set(t, 0, 5 * MS) == OK);
    UEXPECT(mica_object_wait_one(t, SIGNAL_SIGNALED, now_ns() + LONG_WAIT,
                                 NULL) == OK);
    mica_handle_close(t);
    UEXPECT(quiet_for(port, 5 * MS));
    mica_handle_close(port);
    EXPECT_SETTLED(before);
}

/* Timers armed from every CPU into one port, closed while firing. */
struct timer_job {
    mica_handle_t port, done;           /* done: an event */
    uint64_t key;
};

static void run_timer(uint64_t a0, uint64_t a1)
{
    struct timer_job *j = (struct timer_job *)a0;
    mica_handle_t t = 0;
    (void)a1;
    if (mica_timer_create(0, &t) == OK &&
        mica_timer_set_port(t, j->port, j->key) == OK &&
        mica_timer_set(t, 0, 10 * MS) == OK)
        mica_object_wait_one(j->done, SIGNAL_SIGNALED, 0, NULL);
    mica_handle_close(t);
    mica_thread_exit();
}

UTEST(timer_many_cpus_one_port)
{
    static struct timer_job jobs[4];
    struct counts before;
    mica_handle_t port, done, ts[4];
    settle(&before, NULL);
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_event_create(0, &done) == OK);
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct timer_job){ port, done, (uint64_t)i };
        UASSERT(start_thread(run_timer, (uint64_t)&jobs[i], 0, &ts[i]) == OK);
        mica_thread_set_affinity(ts[i], 1ull << i);     /* where there is one */
    }
    uint64_t seen[4] = { 0 }, last[4] = { 0 };
    int bad = 0, all = 0;
    while (all < 4) {
        struct mica_packet p;
        if (next_packet(port, &p) != OK || p.key >= 4 ||
            p.type != MICA_PACKET_TIMER || p.data[0] <= last[p.key] ||
            p.data[1] == 0) {
            bad++;
            break;
        }
        last[p.key] = p.data[0];
        all += ++seen[p.key] == 5;
    }
    UEXPECT(bad == 0 && all == 4);
    UASSERT(mica_object_signal(done, 0, SIGNAL_SIGNALED) == OK);
    for (int i = 0; i < 4; i++)
        join(ts[i]);
    mica_handle_close(done);
    mica_handle_close(port);
    EXPECT_SETTLED(before);
}

