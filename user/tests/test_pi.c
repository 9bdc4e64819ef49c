/*
 * test_pi.c - in-system tests of priority inheritance: a server runs at
 * the priority of the callers it serves and of those queued for it,
 * along chains of calls, and drops back exactly when calls end (reply,
 * timeout, interrupt, the caller's death); a PI futex's owner runs at
 * its waiters' priority (raw FUTEX_LOCK_PI and musl's
 * PTHREAD_PRIO_INHERIT mutexes), with Linux's errors.
 *
 * The inversion tests put a low-priority server (or lock owner), a
 * medium-priority hog and a high-priority client on one CPU, the last
 * one.  The hog spins until the test ends, so the client can finish
 * only if the kernel lends its priority.  Checks count progress or read
 * priorities back (thread_info); deadlines only bound how long a failing
 * test takes.  Threads here run plain C on stacks given by the test, as
 * in test_ipc.c; servers in other processes are clones of this one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mica.h"
#include "utest.h"

#define STACK 16384
#define SEC 1000000000ull
#define LOW 4
#define MID 8
#define HIGH 12
#define WORK 200000                     /* a server's counting per call */

static uint64_t now_ns(void)
{
    uint64_t t;
    mica_clock_get(&t);
    return t;
}

static void sleep_ms(uint64_t ms)
{
    mica_nanosleep(now_ns() + ms * 1000000);
}

/* Stacks, touched before counts are taken (settle) so that using them
 * allocates nothing. */
#define NSTACKS 10
static char stacks[NSTACKS][STACK] __attribute__((aligned(16)));
static unsigned next_stack;

static void *new_stack(void)
{
    return stacks[next_stack++ % NSTACKS] + STACK - 8;
}

static int test_cpu(void)
{
    struct mica_system_info si;
    mica_system_info(&si);
    return (int)si.cpus_online - 1;
}

/* A thread of `proc` (not started) at `prio`, on `cpu` (-1: any). */
static int make_thread(mica_handle_t proc, unsigned prio, int cpu,
                       mica_handle_t *t)
{
    int err = mica_thread_create(proc, "pi", 2, t);
    if (!err)
        err = mica_thread_set_priority(*t, prio);
    if (!err && cpu >= 0)
        err = mica_thread_set_affinity(*t, 1ull << cpu);
    return err;
}

static int start_thread(void (*fn)(uint64_t, uint64_t), uint64_t a0,
                        uint64_t a1, unsigned prio, int cpu,
                        mica_handle_t *t)
{
    int err = make_thread(mica_process_self(), prio, cpu, t);
    if (!err)
        err = mica_thread_start(*t, (uint64_t)fn, (uint64_t)new_stack(),
                                a0, a1);
    return err;
}

/* A clone of this process running fn(h1, h2) on a thread at `prio` on
 * `cpu`, with handles h1 and h2 (0: none) moved into it. */
static int start_clone(void (*fn)(uint64_t, uint64_t), mica_handle_t h1,
                       mica_handle_t h2, unsigned prio, int cpu,
                       mica_handle_t *proc, mica_handle_t *t)
{
    mica_handle_t m1 = 0, m2 = 0;
    int err = mica_process_clone(mica_process_self(), "pi", 2, proc);
    if (err)
        return err;
    err = make_thread(*proc, prio, cpu, t);
    if (!err)
        err = mica_handle_transfer(h1, *proc, RIGHT_SAME_RIGHTS, &m1);
    if (!err && h2)
        err = mica_handle_transfer(h2, *proc, RIGHT_SAME_RIGHTS, &m2);
    if (!err)
        err = mica_thread_start(*t, (uint64_t)fn, (uint64_t)new_stack(), m1,
                                m2);
    return err;
}

static struct mica_thread_info info_of(mica_handle_t t);

/* Until h (a thread or a process; t: a thread of it, to describe) has
 * ended: at most 60 s, after which the test fails saying what the
 * thread was doing, instead of the suite hanging. */
static void ended(mica_handle_t h, mica_handle_t t, const char *what)
{
    uint64_t now;
    mica_clock_get(&now);
    if (mica_object_wait_one(h, SIGNAL_TERMINATED, now + 60 * SEC, NULL) ==
        OK)
        return;
    struct mica_thread_info i = info_of(t);
    printf("    # %s did not end in 60 s: thread %u state %u priority %u "
           "(base %u)\n", what, i.tid, i.state, i.priority,
           i.base_priority);
    utest_fail("ended", __FILE__, __LINE__);
}

static void end_thread(mica_handle_t t)
{
    mica_thread_kill(t);
    ended(t, t, "a killed thread");
    mica_handle_close(t);
}

static void end_process(mica_handle_t p, mica_handle_t t)
{
    mica_process_kill(p, 0);
    ended(p, t, "a killed server process");
    mica_handle_close(p);
    mica_handle_close(t);
}

static int wait_done(mica_handle_t t)
{
    return mica_object_wait_one(t, SIGNAL_TERMINATED, now_ns() + 60 * SEC,
                                NULL);
}

/* The system's counts, once dying processes are gone: until they equal
 * `want` or about 3 s have passed. */
static void settle(struct mica_system_info *info,
                   const struct mica_system_info *want)
{
    memset(stacks, 0, sizeof(stacks));
    for (int i = 0; i < 150; i++) {
        mica_system_info(info);
        if (want && info->live_channels == want->live_channels &&
            info->live_ports == want->live_ports &&
            info->live_threads == want->live_threads &&
            info->live_processes == want->live_processes &&
            info->free_pages == want->free_pages)
            return;
        sleep_ms(20);
    }
}

static void expect_no_leak(const struct mica_system_info *before)
{
    struct mica_system_info after;
    settle(&after, before);
    UEXPECT(after.live_channels == before->live_channels);
    UEXPECT(after.live_ports == before->live_ports);
    UEXPECT(after.live_threads == before->live_threads);
    UEXPECT(after.live_processes == before->live_processes);
    UEXPECT(after.free_pages == before->free_pages);
}

static struct mica_thread_info info_of(mica_handle_t t)
{
    struct mica_thread_info i = { 0 };
    mica_thread_info(t, &i);
    return i;
}

static unsigned prio_of(mica_handle_t t)
{
    return info_of(t).priority;
}

/* Until t's effective priority is `want` (about 20 s at most). */
static int prio_becomes(mica_handle_t t, unsigned want)
{
    for (int i = 0; i < 20000 && prio_of(t) != want; i++)
        sleep_ms(1);
    return prio_of(t) == want;
}

/* Until t blocks (in a call, a receive, a futex). */
static int blocks(mica_handle_t t)
{
    for (int i = 0; i < 20000; i++) {
        if (info_of(t).state == MICA_THREAD_STATE_BLOCKED)
            return 1;
        sleep_ms(1);
    }
    return 0;
}

static int flag_becomes(volatile int *f, int want)
{
    for (int i = 0; i < 20000 && *f != want; i++)
        sleep_ms(1);
    return *f == want;
}

static void work(uint64_t n)
{
    for (volatile uint64_t i = 0; i < n; i++)
        ;
}

static struct mica_msg_buf rbuf(void *bytes, uint32_t cap)
{
    struct mica_msg_buf b = { .bytes = bytes, .bytes_cap = cap };
    return b;
}

/* --- the hog ------------------------------------------------------------------- */

static volatile uint64_t hog_count;
static volatile int hog_stop;

static void hog(uint64_t a0, uint64_t a1)
{
    (void)a0;
    (void)a1;
    while (!hog_stop)
        hog_count++;
    mica_thread_exit();
}

/* Until hog_count grows by `by` (about 20 s at most). */
static int hog_runs(uint64_t by)
{
    uint64_t start = hog_count;
    for (int i = 0; i < 20000 && hog_count - start < by; i++)
        sleep_ms(1);
    return hog_count - start >= by;
}

static int hog_start(int cpu, mica_handle_t *t)
{
    hog_stop = 0;
    int err = start_thread(hog, 0, 0, MID, cpu, t);
    return err ? err : hog_runs(1) ? OK : ERR_TIMED_OUT;
}

static void hog_end(mica_handle_t t)
{
    hog_stop = 1;
    ended(t, t, "the hog");
    mica_handle_close(t);
}

/* --- servers and clients ---------------------------------------------------------- */

/* How long a server counts for each call (read by clones, which have
 * this program's data as it was when they were made). */
static uint64_t server_work;

/* Serve the channel it was given (a0) through a port of its own,
 * counting server_work times for every call before answering "ok". */
static void port_server(uint64_t a0, uint64_t a1)
{
    (void)a1;
    mica_handle_t port;
    if (mica_port_create(0, &port) || mica_channel_bind(a0, port, 1))
        mica_process_exit(3);
    char in[16];
    struct mica_msg_buf b = rbuf(in, sizeof(in));
    int err = mica_port_receive(port, &b, 0);
    while (err == OK) {
        work(server_work);
        struct mica_msg r = { .bytes = "ok", .num_bytes = 2 };
        uint64_t tx = b.txid;
        b = rbuf(in, sizeof(in));
        err = mica_reply_receive(port, tx, &r, &b, 0);
    }
    mica_process_exit(0);
}

/* Serve the channel a0 by calling on through a1 and answering with
 * the answer, in an ordinary loop. */
static void relay_server(uint64_t a0, uint64_t a1)
{
    char in[16], out[16];
    struct mica_msg_buf b = rbuf(in, sizeof(in));
    int err = mica_channel_reply_read(a0, 0, NULL, &b, 0);
    while (err == OK) {
        struct mica_msg m = { .bytes = in, .num_bytes = b.actual_bytes };
        struct mica_msg_buf rb = rbuf(out, sizeof(out));
        int e = mica_channel_call(a1, &m, &rb, 0);
        struct mica_msg r = { .bytes = e ? "no" : out,
                              .num_bytes = e ? 2 : rb.actual_bytes };
        uint64_t tx = b.txid;
        b = rbuf(in, sizeof(in));
        err = mica_channel_reply_read(a0, tx, &r, &b, 0);
    }
    mica_thread_exit();
}

static int call(mica_handle_t ch, const char *what, uint64_t deadline)
{
    char reply[16];
    struct mica_msg m = { .bytes = what, .num_bytes = 1 };
    struct mica_msg_buf b = rbuf(reply, sizeof(reply));
    return mica_channel_call(ch, &m, &b, deadline);
}

struct client {
    mica_handle_t ch;
    const char *what;
    uint64_t deadline;
    volatile int result;
    volatile int done;
};

static void client(uint64_t a0, uint64_t a1)
{
    (void)a1;
    struct client *c = (struct client *)a0;
    c->result = call(c->ch, c->what, c->deadline);
    c->done = 1;
    mica_thread_exit();
}

static void client_init(struct client *c, mica_handle_t ch, const char *what,
                        uint64_t deadline)
{
    c->ch = ch;
    c->what = what;
    c->deadline = deadline;
    c->result = 1;
    c->done = 0;
}

/* --- inversion through calls --------------------------------------------------------- */

/* Low server in another process, medium hog, high client, one CPU. */
UTEST(pi_call_outruns_a_hog)
{
    struct mica_system_info before;
    settle(&before, NULL);
    int cpu = test_cpu();
    static struct client c;
    mica_handle_t ch[2], sp, st, hog_t, ct;
    server_work = WORK;
    UASSERT(mica_channel_create(0, ch) == OK);
    UASSERT(start_clone(port_server, ch[1], 0, LOW, cpu, &sp, &st) == OK);
    /* answered, the server waits in port_receive: a call goes to it */
    UASSERT(call(ch[0], "p", now_ns() + 60 * SEC) == OK);
    UEXPECT(prio_of(st) == LOW);        /* the ping's loan is over */
    UASSERT(hog_start(cpu, &hog_t) == OK);
    client_init(&c, ch[0], "h", now_ns() + 30 * SEC);
    UASSERT(start_thread(client, (uint64_t)&c, 0, HIGH, cpu, &ct) == OK);
    UEXPECT(wait_done(ct) == OK);
    UEXPECT(c.result == OK);
    UEXPECT(hog_runs(1000));            /* runnable all along, and after */
    UEXPECT(prio_of(st) == LOW && info_of(st).base_priority == LOW);
    mica_handle_close(ct);
    hog_end(hog_t);
    end_process(sp, st);
    mica_handle_close(ch[0]);
    expect_no_leak(&before);
}

/* High client -> low server A -> low server B, each in its own process,
 * medium hog, one CPU: B serves at the client's priority. */
UTEST(pi_chain_outruns_a_hog)
{
    struct mica_system_info before;
    settle(&before, NULL);
    int cpu = test_cpu();
    static struct client c;
    mica_handle_t a[2], b[2], ap, at, bp, bt, hog_t, ct;
    server_work = WORK;
    UASSERT(mica_channel_create(0, a) == OK);
    UASSERT(mica_channel_create(0, b) == OK);
    UASSERT(start_clone(port_server, b[1], 0, LOW, cpu, &bp, &bt) == OK);
    UASSERT(start_clone(relay_server, a[1], b[0], LOW, cpu, &ap, &at) == OK);
    UASSERT(call(a[0], "p", now_ns() + 60 * SEC) == OK);
    UASSERT(hog_start(cpu, &hog_t) == OK);
    client_init(&c, a[0], "h", now_ns() + 30 * SEC);
    UASSERT(start_thread(client, (uint64_t)&c, 0, HIGH, cpu, &ct) == OK);
    UEXPECT(wait_done(ct) == OK);
    UEXPECT(c.result == OK);
    UEXPECT(hog_runs(1000));
    UEXPECT(prio_of(at) == LOW && prio_of(bt) == LOW);
    mica_handle_close(ct);
    hog_end(hog_t);
    end_process(ap, at);
    end_process(bp, bt);
    mica_handle_close(a[0]);
    expect_no_leak(&before);
}

static volatile int gate;

/* Serve the channel a0: each call waits, spinning, for the gate. */
static void gated_server(uint64_t a0, uint64_t a1)
{
    (void)a1;
    char in[16];
    struct mica_msg_buf b = rbuf(in, sizeof(in));
    int err = mica_channel_reply_read(a0, 0, NULL, &b, 0);
    while (err == OK) {
        while (!gate)
            ;
        struct mica_msg r = { .bytes = "ok", .num_bytes = 2 };
        uint64_t tx = b.txid;
        b = rbuf(in, sizeof(in));
        err = mica_channel_reply_read(a0, tx, &r, &b, 0);
    }
    mica_thread_exit();
}

/* A low caller's request is in B, behind A, when a high call queues at
 * A: the loan walks from A's queue to A, along A's call to B, and B
 * outruns the hog that was starving it. */
UTEST(pi_chain_raised_while_blocked)
{
    int cpu = test_cpu();
    static struct client lo, hi;
    mica_handle_t a[2], b[2], at, bt, lt, ht, hog_t;
    gate = 0;
    UASSERT(mica_channel_create(0, a) == OK);
    UASSERT(mica_channel_create(0, b) == OK);
    UASSERT(start_thread(gated_server, b[1], 0, LOW, cpu, &bt) == OK);
    UASSERT(start_thread(relay_server, a[1], b[0], LOW, cpu, &at) == OK);
    client_init(&lo, a[0], "l", now_ns() + 60 * SEC);
    UASSERT(start_thread(client, (uint64_t)&lo, 0, 6, cpu, &lt) == OK);
    UASSERT(prio_becomes(bt, 6));       /* through A to B */
    UEXPECT(prio_of(at) == 6);
    UASSERT(hog_start(cpu, &hog_t) == OK);      /* B starves now */
    client_init(&hi, a[0], "h", now_ns() + 30 * SEC);
    UASSERT(start_thread(client, (uint64_t)&hi, 0, HIGH, cpu, &ht) == OK);
    UASSERT(blocks(ht));                /* queued at A, busy calling B */
    UEXPECT(prio_becomes(at, HIGH));
    UEXPECT(prio_becomes(bt, HIGH));
    gate = 1;
    UEXPECT(wait_done(ht) == OK);
    UEXPECT(hi.result == OK);
    UEXPECT(hog_runs(1000));
    UEXPECT(prio_of(at) == LOW && prio_of(bt) == LOW);
    hog_end(hog_t);
    UEXPECT(wait_done(lt) == OK && lo.result == OK);
    mica_handle_close(a[0]);            /* A sees PEER_CLOSED and ends */
    UEXPECT(wait_done(at) == OK);
    mica_handle_close(b[0]);            /* and so does B */
    UEXPECT(wait_done(bt) == OK);
    mica_handle_close(a[1]);
    mica_handle_close(b[1]);
    mica_handle_close(lt);
    mica_handle_close(ht);
    mica_handle_close(at);
    mica_handle_close(bt);
}

/* --- undoing ------------------------------------------------------------------------- */

struct stepper {
    mica_handle_t port;
    volatile int step;
    int calls;                          /* to receive before step 1 */
    uint64_t tx[2];
    char who[2];
    volatile int reply_status[2];
};

/* Receive s->calls calls, then answer them one at a time as told:
 * step 1 when all are in; step 2 answers the one from 'h' first (or the
 * only one), step 3 when done; step 4 the other, step 5. */
static void stepped_server(uint64_t a0, uint64_t a1)
{
    (void)a1;
    struct stepper *s = (struct stepper *)a0;
    for (int i = 0; i < s->calls; i++) {
        char in[4];
        struct mica_msg_buf b = rbuf(in, sizeof(in));
        if (mica_port_receive(s->port, &b, 0) != OK) {
            s->step = -1;
            mica_thread_exit();
        }
        s->tx[i] = b.txid;
        s->who[i] = in[0];
    }
    s->step = 1;
    for (int i = 0; i < s->calls; i++) {
        while (s->step != 2 + 2 * i)
            sleep_ms(1);
        int j = (s->who[0] == 'h') == (i == 0) ? 0 : 1;
        if (s->calls == 1)
            j = 0;
        struct mica_msg r = { .bytes = "ok", .num_bytes = 2 };
        s->reply_status[i] = mica_reply_receive(s->port, s->tx[j], &r, NULL,
                                                0);
        s->step = 3 + 2 * i;
    }
    mica_thread_exit();
}

/* A port with one channel, and a stepped server for it at LOW. */
static int stepper_start(struct stepper *s, int calls, mica_handle_t ch[2],
                         mica_handle_t *st)
{
    memset(s, 0, sizeof(*s));
    s->calls = calls;
    int err = mica_port_create(0, &s->port);
    if (!err)
        err = mica_channel_create(0, ch);
    if (!err)
        err = mica_channel_bind(ch[1], s->port, 1);
    if (!err)
        err = start_thread(stepped_server, (uint64_t)s, 0, LOW, -1, st);
    return err;
}

static void stepper_end(struct stepper *s, mica_handle_t ch[2],
                        mica_handle_t st)
{
    ended(st, st, "the stepped server");
    mica_handle_close(st);
    mica_handle_close(ch[0]);
    mica_handle_close(ch[1]);
    mica_handle_close(s->port);
}

/* Serving callers of 10 and 13, the server drops to 10 when the 13 is
 * answered, then to its base. */
UTEST(pi_server_drops_to_the_next_caller)
{
    static struct stepper s;
    static struct client ca, cb;
    mica_handle_t ch[2], st, at, bt;
    UASSERT(stepper_start(&s, 2, ch, &st) == OK);
    client_init(&ca, ch[0], "l", now_ns() + 60 * SEC);
    client_init(&cb, ch[0], "h", now_ns() + 60 * SEC);
    UASSERT(start_thread(client, (uint64_t)&ca, 0, 10, -1, &at) == OK);
    UASSERT(start_thread(client, (uint64_t)&cb, 0, 13, -1, &bt) == OK);
    UASSERT(flag_becomes(&s.step, 1));
    UEXPECT(prio_of(st) == 13);
    s.step = 2;
    UASSERT(flag_becomes(&s.step, 3));
    UEXPECT(prio_of(st) == 10);
    UEXPECT(wait_done(bt) == OK && cb.result == OK);
    s.step = 4;
    UASSERT(flag_becomes(&s.step, 5));
    UEXPECT(prio_of(st) == LOW);
    UEXPECT(wait_done(at) == OK && ca.result == OK);
    UEXPECT(s.reply_status[0] == OK && s.reply_status[1] == OK);
    mica_handle_close(at);
    mica_handle_close(bt);
    stepper_end(&s, ch, st);
}

/* A call queued at the port raises the thread serving it; withdrawn
 * (interrupted, timed out, killed), it stops. */
UTEST(pi_queued_calls_raise_until_withdrawn)
{
    static struct stepper s;
    static struct client ca, cb;
    mica_handle_t ch[2], st, at, bt;
    UASSERT(stepper_start(&s, 1, ch, &st) == OK);
    client_init(&ca, ch[0], "l", now_ns() + 60 * SEC);
    UASSERT(start_thread(client, (uint64_t)&ca, 0, 10, -1, &at) == OK);
    UASSERT(flag_becomes(&s.step, 1));
    UEXPECT(prio_of(st) == 10);
    /* interrupted */
    client_init(&cb, ch[0], "h", now_ns() + 60 * SEC);
    UASSERT(start_thread(client, (uint64_t)&cb, 0, 13, -1, &bt) == OK);
    UASSERT(blocks(bt));
    UEXPECT(prio_becomes(st, 13));
    UEXPECT(mica_thread_interrupt(bt) == OK);
    UEXPECT(wait_done(bt) == OK && cb.result == ERR_INTERRUPTED);
    UEXPECT(prio_of(st) == 10);
    mica_handle_close(bt);
    /* killed */
    client_init(&cb, ch[0], "h", now_ns() + 60 * SEC);
    UASSERT(start_thread(client, (uint64_t)&cb, 0, 13, -1, &bt) == OK);
    UASSERT(blocks(bt));
    UEXPECT(prio_becomes(st, 13));
    UEXPECT(mica_thread_kill(bt) == OK);
    UEXPECT(wait_done(bt) == OK);
    UEXPECT(prio_of(st) == 10);
    mica_handle_close(bt);
    /* timed out */
    client_init(&cb, ch[0], "h", now_ns() + 100000000);
    UASSERT(start_thread(client, (uint64_t)&cb, 0, 13, -1, &bt) == OK);
    UEXPECT(wait_done(bt) == OK && cb.result == ERR_TIMED_OUT);
    UEXPECT(prio_of(st) == 10);
    mica_handle_close(bt);
    s.step = 2;
    UASSERT(flag_becomes(&s.step, 3));
    UEXPECT(s.reply_status[0] == OK);
    UEXPECT(prio_of(st) == LOW);
    UEXPECT(wait_done(at) == OK && ca.result == OK);
    mica_handle_close(at);
    stepper_end(&s, ch, st);
}

/* A client in another process: call through the channel it was given,
 * forever. */
static void clone_client(uint64_t a0, uint64_t a1)
{
    (void)a1;
    while (call(a0, "c", 0) == OK)
        ;
    mica_process_exit(1);
}

/* The caller dies mid-call (its process killed, or its thread): the
 * server drops back, and its late reply finds nothing. */
UTEST(pi_undone_when_the_caller_dies)
{
    struct mica_system_info before;
    settle(&before, NULL);
    static struct stepper s;
    static struct client c;
    mica_handle_t ch[2], st, cp, ct;
    UASSERT(stepper_start(&s, 1, ch, &st) == OK);
    UASSERT(start_clone(clone_client, ch[0], 0, HIGH, -1, &cp, &ct) == OK);
    UASSERT(flag_becomes(&s.step, 1));
    UEXPECT(prio_of(st) == HIGH);
    end_process(cp, ct);
    UEXPECT(prio_of(st) == LOW);
    s.step = 2;
    UASSERT(flag_becomes(&s.step, 3));
    UEXPECT(s.reply_status[0] == ERR_NOT_FOUND);
    mica_handle_close(s.port);
    mica_handle_close(ch[1]);
    UEXPECT(wait_done(st) == OK);
    mica_handle_close(st);
    /* a thread of this process */
    UASSERT(stepper_start(&s, 1, ch, &st) == OK);
    client_init(&c, ch[0], "h", 0);
    UASSERT(start_thread(client, (uint64_t)&c, 0, HIGH, -1, &ct) == OK);
    UASSERT(flag_becomes(&s.step, 1));
    UEXPECT(prio_of(st) == HIGH);
    UEXPECT(mica_thread_kill(ct) == OK);
    UEXPECT(wait_done(ct) == OK);
    UEXPECT(prio_of(st) == LOW);
    mica_handle_close(ct);
    s.step = 2;
    UASSERT(flag_becomes(&s.step, 3));
    UEXPECT(s.reply_status[0] == ERR_NOT_FOUND);
    stepper_end(&s, ch, st);
    expect_no_leak(&before);
}

/* Base priorities change under a loan: the server's own, and its
 * caller's, whose new priority reaches the server. */
UTEST(pi_follows_priority_changes)
{
    static struct stepper s;
    static struct client c;
    mica_handle_t ch[2], st, ct;
    UASSERT(stepper_start(&s, 1, ch, &st) == OK);
    client_init(&c, ch[0], "h", now_ns() + 60 * SEC);
    UASSERT(start_thread(client, (uint64_t)&c, 0, HIGH, -1, &ct) == OK);
    UASSERT(flag_becomes(&s.step, 1));
    UEXPECT(prio_of(st) == HIGH);
    UEXPECT(mica_thread_set_priority(st, 14) == OK);
    UEXPECT(prio_of(st) == 14 && info_of(st).base_priority == 14);
    UEXPECT(mica_thread_set_priority(st, LOW) == OK);
    UEXPECT(prio_of(st) == HIGH && info_of(st).base_priority == LOW);
    UEXPECT(mica_thread_set_priority(ct, 6) == OK);
    UEXPECT(prio_of(st) == 6);
    UEXPECT(mica_thread_set_priority(ct, 13) == OK);
    UEXPECT(prio_of(st) == 13);
    s.step = 2;
    UASSERT(flag_becomes(&s.step, 3));
    UEXPECT(prio_of(st) == LOW);
    UEXPECT(wait_done(ct) == OK && c.result == OK);
    mica_handle_close(ct);
    stepper_end(&s, ch, st);
}

/* --- PI futexes ------------------------------------------------------------------------ */

#define FUTEX_WAKE 1
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_PRIVATE 128
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK 0x3fffffffu

static uint32_t my_tid(void)
{
    return (uint32_t)mica_syscall6(186, 0, 0, 0, 0, 0, 0);     /* gettid */
}

/* futex(w, op) with an absolute deadline (0: none): 0 or -errno. */
static long futex_op(volatile uint32_t *w, int op, uint64_t deadline)
{
    struct timespec ts = { (time_t)(deadline / SEC), (long)(deadline % SEC) };
    return mica_syscall6(202, (long)w, op, 0, deadline ? (long)&ts : 0, 0,
                         0);
}

/* A PI mutex as musl builds one: the free word is taken in user space,
 * a held one through the kernel. */
static long pi_lock(volatile uint32_t *w, uint64_t deadline)
{
    uint32_t zero = 0;
    if (__atomic_compare_exchange_n(w, &zero, my_tid(), false,
                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return 0;
    return futex_op(w, FUTEX_LOCK_PI | FUTEX_PRIVATE, deadline);
}

static long pi_unlock(volatile uint32_t *w)
{
    uint32_t me = my_tid();
    if (__atomic_compare_exchange_n(w, &me, 0, false, __ATOMIC_RELEASE,
                                    __ATOMIC_RELAXED))
        return 0;
    return futex_op(w, FUTEX_UNLOCK_PI | FUTEX_PRIVATE, 0);
}

struct locker {
    volatile uint32_t *word;
    uint64_t deadline;                  /* for lock_waiter */
    volatile int locked, go, done;
    volatile long result;
    volatile uint32_t seen;             /* the word, once locked */
    volatile int order;                 /* lock_waiter: 1 first, ... */
};

static int acquired;                    /* lock_waiters that got the lock */

static void locker_init(struct locker *s, volatile uint32_t *word,
                        uint64_t deadline)
{
    memset((void *)s, 0, sizeof(*s));
    s->word = word;
    s->deadline = deadline;
}

/* Take the lock, wait for `go`, count, release -- or, with go == 2,
 * exit holding it. */
static void lock_owner(uint64_t a0, uint64_t a1)
{
    (void)a1;
    struct locker *s = (struct locker *)a0;
    if (pi_lock(s->word, 0) != 0)
        mica_thread_exit();
    s->locked = 1;
    while (!s->go)
        sleep_ms(1);
    if (s->go == 2)
        mica_thread_exit();
    work(WORK);
    s->result = pi_unlock(s->word);
    s->done = 1;
    mica_thread_exit();
}

/* Take the lock (by s->deadline), note the word, release it. */
static void lock_waiter(uint64_t a0, uint64_t a1)
{
    (void)a1;
    struct locker *s = (struct locker *)a0;
    long r = pi_lock(s->word, s->deadline);
    s->seen = *s->word;
    if (r == 0) {
        s->order = __atomic_add_fetch(&acquired, 1, __ATOMIC_RELAXED);
        pi_unlock(s->word);
    }
    s->result = r;
    s->done = 1;
    mica_thread_exit();
}

/* Low owner, medium hog, high waiter, one CPU. */
UTEST(pi_futex_outruns_a_hog)
{
    struct mica_system_info before;
    settle(&before, NULL);
    int cpu = test_cpu();
    static volatile uint32_t word;
    static struct locker o, w;
    mica_handle_t ot, wt, hog_t;
    word = 0;
    locker_init(&o, &word, 0);
    locker_init(&w, &word, now_ns() + 30 * SEC);
    UASSERT(start_thread(lock_owner, (uint64_t)&o, 0, LOW, cpu, &ot) == OK);
    UASSERT(flag_becomes(&o.locked, 1));
    UASSERT(hog_start(cpu, &hog_t) == OK);
    o.go = 1;                           /* the owner starves, holding it */
    UASSERT(start_thread(lock_waiter, (uint64_t)&w, 0, HIGH, cpu, &wt) == OK);
    UEXPECT(wait_done(wt) == OK);
    UEXPECT(w.result == 0);
    UEXPECT((w.seen & FUTEX_TID_MASK) == info_of(wt).tid);
    UEXPECT(hog_runs(1000));
    UEXPECT(prio_of(ot) == LOW);        /* back behind the hog */
    hog_end(hog_t);
    UEXPECT(wait_done(ot) == OK);
    UEXPECT(o.done && o.result == 0 && word == 0);
    mica_handle_close(ot);
    mica_handle_close(wt);
    expect_no_leak(&before);
}

/* Waiters lend until they stop waiting: interrupted, timed out, killed. */
UTEST(pi_futex_undone_when_waits_end)
{
    static volatile uint32_t word;
    static struct locker o, w;
    mica_handle_t ot, wt;
    word = 0;
    locker_init(&o, &word, 0);
    UASSERT(start_thread(lock_owner, (uint64_t)&o, 0, LOW, -1, &ot) == OK);
    UASSERT(flag_becomes(&o.locked, 1));
    locker_init(&w, &word, now_ns() + 60 * SEC);
    UASSERT(start_thread(lock_waiter, (uint64_t)&w, 0, HIGH, -1, &wt) == OK);
    UASSERT(blocks(wt));
    UEXPECT(prio_becomes(ot, HIGH));
    UEXPECT(mica_thread_interrupt(wt) == OK);
    UEXPECT(wait_done(wt) == OK && w.result == -EINTR);
    UEXPECT(prio_of(ot) == LOW);
    mica_handle_close(wt);
    locker_init(&w, &word, now_ns() + 100000000);
    UASSERT(start_thread(lock_waiter, (uint64_t)&w, 0, HIGH, -1, &wt) == OK);
    UEXPECT(wait_done(wt) == OK && w.result == -ETIMEDOUT);
    UEXPECT(prio_of(ot) == LOW);
    mica_handle_close(wt);
    locker_init(&w, &word, now_ns() + 60 * SEC);
    UASSERT(start_thread(lock_waiter, (uint64_t)&w, 0, HIGH, -1, &wt) == OK);
    UASSERT(blocks(wt));
    UEXPECT(prio_becomes(ot, HIGH));
    end_thread(wt);
    UEXPECT(prio_of(ot) == LOW);
    UEXPECT(word == (info_of(ot).tid | FUTEX_WAITERS));
    o.go = 1;
    UEXPECT(wait_done(ot) == OK && o.result == 0 && word == 0);
    mica_handle_close(ot);
}

/* The lock goes to the highest waiter, not the first. */
UTEST(pi_futex_goes_to_the_highest_waiter)
{
    static volatile uint32_t word;
    static struct locker o, w1, w2;
    mica_handle_t ot, t1, t2;
    word = 0;
    acquired = 0;
    locker_init(&o, &word, 0);
    UASSERT(start_thread(lock_owner, (uint64_t)&o, 0, LOW, -1, &ot) == OK);
    UASSERT(flag_becomes(&o.locked, 1));
    locker_init(&w1, &word, now_ns() + 60 * SEC);
    locker_init(&w2, &word, now_ns() + 60 * SEC);
    UASSERT(start_thread(lock_waiter, (uint64_t)&w1, 0, 10, -1, &t1) == OK);
    UASSERT(blocks(t1));
    UASSERT(start_thread(lock_waiter, (uint64_t)&w2, 0, 13, -1, &t2) == OK);
    UASSERT(blocks(t2));
    UEXPECT(prio_becomes(ot, 13));
    o.go = 1;
    UEXPECT(wait_done(t1) == OK && wait_done(t2) == OK);
    UEXPECT(w1.result == 0 && w2.result == 0);
    UEXPECT(w2.order == 1 && w1.order == 2);
    UEXPECT(w2.seen == (info_of(t2).tid | FUTEX_WAITERS));  /* w1 waited */
    UEXPECT(w1.seen == info_of(t1).tid);
    UEXPECT(wait_done(ot) == OK && o.result == 0 && word == 0);
    UEXPECT(prio_of(ot) == LOW);
    mica_handle_close(ot);
    mica_handle_close(t1);
    mica_handle_close(t2);
}

/* An owner exits holding the lock: its waiter takes it over, told so by
 * FUTEX_OWNER_DIED; with nobody waiting, a later lock finds no owner. */
UTEST(pi_futex_owner_dies)
{
    static volatile uint32_t word;
    static struct locker o, w;
    mica_handle_t ot, wt;
    word = 0;
    locker_init(&o, &word, 0);
    UASSERT(start_thread(lock_owner, (uint64_t)&o, 0, LOW, -1, &ot) == OK);
    UASSERT(flag_becomes(&o.locked, 1));
    locker_init(&w, &word, now_ns() + 60 * SEC);
    UASSERT(start_thread(lock_waiter, (uint64_t)&w, 0, HIGH, -1, &wt) == OK);
    UASSERT(blocks(wt));
    UEXPECT(prio_becomes(ot, HIGH));
    end_thread(ot);
    UEXPECT(wait_done(wt) == OK && w.result == 0);
    UEXPECT(w.seen == (info_of(wt).tid | FUTEX_OWNER_DIED));
    UEXPECT(word == 0);
    mica_handle_close(wt);
    locker_init(&o, &word, 0);
    UASSERT(start_thread(lock_owner, (uint64_t)&o, 0, LOW, -1, &ot) == OK);
    UASSERT(flag_becomes(&o.locked, 1));
    o.go = 2;                           /* it exits holding the lock */
    UEXPECT(wait_done(ot) == OK);
    UEXPECT(futex_op(&word, FUTEX_LOCK_PI | FUTEX_PRIVATE, 0) == -ESRCH);
    mica_handle_close(ot);
}

static volatile int sleeper_stop;

/* A live thread whose id words can name. */
static void sleeper(uint64_t a0, uint64_t a1)
{
    (void)a0;
    (void)a1;
    while (!sleeper_stop)
        sleep_ms(1);
    mica_thread_exit();
}

#define FUTEX(w, op, ts) mica_syscall6(202, (long)(w), (op), 1, (long)(ts), 0, 0)
#define PRIV FUTEX_PRIVATE
#define UNMAPPED 0x7e0000000000ull

/* EDEADLK, EPERM, EAGAIN, ETIMEDOUT, ESRCH, EINVAL, EFAULT. */
UTEST(pi_futex_errors)
{
    static volatile uint32_t w[2];
    mica_handle_t st;
    sleeper_stop = 0;
    UASSERT(start_thread(sleeper, 0, 0, LOW, -1, &st) == OK);
    uint32_t other = info_of(st).tid;
    /* one's own lock */
    w[0] = 0;
    UEXPECT(FUTEX(&w[0], FUTEX_LOCK_PI | PRIV, 0) == 0 && w[0] == my_tid());
    UEXPECT(FUTEX(&w[0], FUTEX_LOCK_PI | PRIV, 0) == -EDEADLK);
    UEXPECT(FUTEX(&w[0], FUTEX_TRYLOCK_PI | PRIV, 0) == -EDEADLK);
    UEXPECT(FUTEX(&w[0], FUTEX_UNLOCK_PI | PRIV, 0) == 0 && w[0] == 0);
    UEXPECT(FUTEX(&w[0], FUTEX_TRYLOCK_PI | PRIV, 0) == 0 &&
            w[0] == my_tid());
    UEXPECT(FUTEX(&w[0], FUTEX_UNLOCK_PI, 0) == 0 && w[0] == 0);  /* shared */
    /* someone else's */
    UEXPECT(FUTEX(&w[0], FUTEX_UNLOCK_PI | PRIV, 0) == -EPERM);
    w[0] = other;
    UEXPECT(FUTEX(&w[0], FUTEX_UNLOCK_PI | PRIV, 0) == -EPERM);
    UEXPECT(FUTEX(&w[0], FUTEX_TRYLOCK_PI | PRIV, 0) == -EAGAIN);
    UEXPECT(futex_op(&w[0], FUTEX_LOCK_PI | PRIV, now_ns() + 10000000) ==
            -ETIMEDOUT);
    UEXPECT(w[0] == (other | FUTEX_WAITERS));
    UEXPECT(prio_of(st) == LOW);
    struct timespec bad = { 0, 1000000000 };
    UEXPECT(FUTEX(&w[0], FUTEX_LOCK_PI | PRIV, &bad) == -EINVAL);
    UEXPECT(FUTEX(&w[0], FUTEX_LOCK_PI | PRIV, 0x10) == -EFAULT);
    /* no such owner, or not in this process */
    w[0] = 0x3ffffff0;
    UEXPECT(FUTEX(&w[0], FUTEX_LOCK_PI | PRIV, 0) == -ESRCH);
    w[0] = 1;                           /* the kernel's first thread */
    UEXPECT(FUTEX(&w[0], FUTEX_LOCK_PI | PRIV, 0) == -ESRCH);
    /* bad words */
    w[0] = 0;
    UEXPECT(FUTEX((char *)&w[0] + 1, FUTEX_LOCK_PI | PRIV, 0) == -EINVAL);
    UEXPECT(FUTEX((char *)&w[0] + 2, FUTEX_UNLOCK_PI | PRIV, 0) == -EINVAL);
    UEXPECT(FUTEX((char *)&w[0] + 2, FUTEX_TRYLOCK_PI, 0) == -EINVAL);
    UEXPECT(FUTEX(UNMAPPED, FUTEX_LOCK_PI | PRIV, 0) == -EFAULT);
    UEXPECT(FUTEX(UNMAPPED, FUTEX_UNLOCK_PI | PRIV, 0) == -EFAULT);
    UEXPECT(FUTEX(UNMAPPED, FUTEX_LOCK_PI, 0) == -EFAULT);
    mica_handle_t v;
    uint64_t ro = 0;
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UASSERT(mica_vm_map(mica_process_self(), v, 0, 4096, MICA_VM_READ,
                        &ro) == OK);
    UEXPECT(FUTEX(ro, FUTEX_LOCK_PI | PRIV, 0) == -EFAULT);     /* read-only */
    mica_vm_unmap(mica_process_self(), ro, 4096);
    mica_handle_close(v);
    /* a word that disagrees with its waiter's owner; no plain wakes */
    static struct locker lw;
    mica_handle_t wt;
    w[1] = other;
    locker_init(&lw, &w[1], now_ns() + 60 * SEC);
    UASSERT(start_thread(lock_waiter, (uint64_t)&lw, 0, 10, -1, &wt) == OK);
    UASSERT(blocks(wt));
    UEXPECT(prio_becomes(st, 10));
    UEXPECT(FUTEX(&w[1], FUTEX_WAKE | PRIV, 0) == -EINVAL);
    uint32_t held = w[1];
    w[1] = 0;
    UEXPECT(FUTEX(&w[1], FUTEX_LOCK_PI | PRIV, 0) == -EINVAL);
    w[1] = 0x3ffffff0 | FUTEX_WAITERS;
    UEXPECT(FUTEX(&w[1], FUTEX_LOCK_PI | PRIV, 0) == -EINVAL);
    w[1] = held;
    UEXPECT(mica_thread_interrupt(wt) == OK);
    UEXPECT(wait_done(wt) == OK && lw.result == -EINTR);
    UEXPECT(prio_of(st) == LOW);
    mica_handle_close(wt);
    sleeper_stop = 1;
    UEXPECT(wait_done(st) == OK);
    mica_handle_close(st);
}

/* --- musl's PTHREAD_PRIO_INHERIT mutexes ------------------------------------------- */

static pthread_mutex_t pim;
static long pim_count;

static void *pim_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&pim);
        pim_count++;
        pthread_mutex_unlock(&pim);
    }
    return NULL;
}

/* While the main thread holds pim: try, unlock, time out. */
static void *pim_other(void *arg)
{
    int *r = arg;
    struct timespec ts;
    r[0] = pthread_mutex_trylock(&pim);
    r[1] = pthread_mutex_unlock(&pim);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    r[2] = pthread_mutex_timedlock(&pim, &ts);
    return NULL;
}

UTEST(pi_pthread_mutex_prio_inherit)
{
    pthread_mutexattr_t a;
    pthread_t t[4];
    pthread_mutexattr_init(&a);
    UASSERT(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT) == 0);
    UASSERT(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK) == 0);
    UASSERT(pthread_mutex_init(&pim, &a) == 0);
    pim_count = 0;
    for (int i = 0; i < 4; i++)
        UASSERT(pthread_create(&t[i], NULL, pim_worker, NULL) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    UEXPECT(pim_count == 8000);
    UASSERT(pthread_mutex_lock(&pim) == 0);
    UEXPECT(pthread_mutex_lock(&pim) == EDEADLK);       /* from the kernel */
    int r[3] = { -1, -1, -1 };
    UASSERT(pthread_create(&t[0], NULL, pim_other, r) == 0);
    pthread_join(t[0], NULL);
    UEXPECT(r[0] == EBUSY && r[1] == EPERM && r[2] == ETIMEDOUT);
    UEXPECT(pthread_mutex_unlock(&pim) == 0);
    UEXPECT(pthread_mutex_destroy(&pim) == 0);
    pthread_mutexattr_destroy(&a);
}
