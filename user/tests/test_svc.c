/*
 * test_svc.c - in-system tests of the name service and of init as
 * supervisor (docs/services.md).
 *
 * The suite is a client like any other: init gives it `svc`, a
 * connection to the manifest's name service, and `init`, a channel of
 * init's protocol (init_proto.h), which tells the state of each program
 * and kills one on request.  The programs it looks at are those of the
 * boot manifest (the disk) and of the test manifest (user/tests/manifest):
 * echo servers of version 2 of the echo protocol (echo-hb with a
 * heartbeat, echo-bo restarted on failure, echo-od on demand), an older
 * client that init starts (echo-sub) and a client of version 1 that it
 * refuses (echo-old).  The echo protocol's versions are
 * tests/idl/echo/vN/echo.idl: the suite calls the servers with version
 * 2's tables (echo.h; its own bounded call_until, not the stubs, which
 * wait for ever) and declares calls of versions 1 and 3 with the ids of
 * echo_ids.h (tools/idlc/idlc.mk).
 *
 * Every wait is for progress, bounded by 60 s to turn a hang into a
 * failure; the tests that measure time (back-off, heartbeats, the idle
 * time) are named timed_ and run in the -icount boot only.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_client.h"
#include "block.h"
#include "blk_pattern.h"
#include "caps.h"
#include "init_proto.h"
#include "mica.h"
#include "echo.h"
#include "echo_ids.h"
#include "svc_client.h"
#include "utest.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define BOUND (60 * SEC)

static uint64_t now_ns(void)
{
    uint64_t t = 0;
    mica_clock_get(&t);
    return t;
}

static mica_handle_t svc(void)
{
    mica_handle_t h = mica_cap("svc", 0);
    if (!h)
        printf("    # no svc capability: is the name service running?\n");
    return h;
}

/* --- init's protocol ------------------------------------------------------- */

static int init_call(const void *q, uint32_t len, const mica_handle_t *hs,
                     uint32_t nh, struct init_reply *r)
{
    struct mica_msg m = { q, hs, len, nh };
    struct mica_msg_buf rb = { .bytes = r, .bytes_cap = sizeof(*r) };
    memset(r, 0, sizeof(*r));
    int err = mica_channel_call(mica_cap("init", 0), &m, &rb, 0);
    if (!err && rb.actual_bytes != sizeof(*r))
        err = ERR_BAD_FORMAT;
    return err ? err : r->status;
}

static int init_op(uint32_t op, const char *name, int code,
                   struct init_reply *r)
{
    struct init_request q = { .op = op, .code = code };
    strncpy(q.name, name, sizeof(q.name) - 1);
    return init_call(&q, sizeof(q), NULL, 0, r);
}

static int status(const char *name, struct init_reply *r)
{
    return init_op(INIT_OP_STATUS, name, 0, r);
}

/* Wait until `name` is running with at least `restarts` restarts. */
static bool wait_running(const char *name, unsigned restarts,
                         struct init_reply *r)
{
    uint64_t end = now_ns() + BOUND;
    while (now_ns() < end) {
        if (status(name, r) == OK && r->state == INIT_STATE_RUNNING &&
            r->restarts >= restarts)
            return true;
        mica_nanosleep(now_ns() + 2 * MS);
    }
    printf("    # %s: state %u, %u restarts, not running with %u\n", name,
           r->state, r->restarts, restarts);
    return false;
}

static bool wait_state(const char *name, uint32_t state,
                       struct init_reply *r)
{
    uint64_t end = now_ns() + BOUND;
    while (now_ns() < end) {
        if (status(name, r) == OK && r->state == state)
            return true;
        mica_nanosleep(now_ns() + 2 * MS);
    }
    printf("    # %s: state %u, wanted %u\n", name, r->state, state);
    return false;
}

/* --- echo -------------------------------------------------------------------- */

static const struct mica_iface_entry echo_v2[] = {
    { ECHO_V2_REVERSE_ID, "echo.reverse" },     /* in any order */
    { ECHO_V2_ECHO_ID, "echo.echo" },
    { ECHO_V2_HANG_ID, "echo.hang" },
};

_Static_assert(ECHO_ECHO_ID == ECHO_V2_ECHO_ID &&
                   ECHO_REVERSE_ID == ECHO_V2_REVERSE_ID &&
                   ECHO_HANG_ID == ECHO_V2_HANG_ID,
               "echo.h is version 2");
/* Version 3 only added shout: a client built against it that calls echo
 * declares the very id version 2's servers serve. */
_Static_assert(ECHO_V3_ECHO_ID == ECHO_V2_ECHO_ID &&
                   ECHO_V3_REVERSE_ID == ECHO_V2_REVERSE_ID,
               "adding a method changes no other id");
_Static_assert(ECHO_V1_ECHO_ID != ECHO_V2_ECHO_ID,
               "a changed signature is another id");

/* Call m on ch with req, its results into resp, as its generated stub
 * does (idl_call) but bounded by `deadline`: a stub waits for ever, and
 * every wait of this suite turns a hang into a failure.  Spans point
 * into rbuf (8-aligned, rcap bytes).  The echo methods move no handles. */
static int call_until(mica_handle_t ch, const struct idl_method *m,
                      const void *req, void *resp, uint64_t deadline,
                      uint64_t *rbuf, uint32_t rcap)
{
    static uint64_t txids;
    uint64_t q[(IDL_HEADER_SIZE + 8 + ECHO_MAX) / 8];
    struct idl_out o = { .bytes = q, .cap = sizeof(q) };
    struct idl_header h = { IDL_MAGIC, 0,
                            __atomic_add_fetch(&txids, 1, __ATOMIC_RELAXED),
                            m->id, OK, 0 };
    int err = idl_encode(&m->request, &h, req, &o);
    if (err)
        return err;
    struct mica_msg msg = { o.bytes, NULL, o.len, 0 };
    struct mica_msg_buf b = { .bytes = rbuf, .bytes_cap = rcap };
    err = mica_channel_call(ch, &msg, &b, deadline);
    if (err)
        return err;
    return idl_reply_decode(m, h.txid, rbuf, b.actual_bytes, NULL, NULL,
                            b.actual_handles, resp);
}

/* One echo.echo (reverse: echo.reverse) call of "hello" through ch: OK
 * when it came back right. */
static int echo(mica_handle_t ch, bool reverse)
{
    uint64_t r[(IDL_HEADER_SIZE + 8 + ECHO_MAX) / 8];
    struct idl_span got = { NULL, 0 };
    int err;
    if (reverse) {
        struct echo_reverse_req q = { { "hello", 5 } };
        struct echo_reverse_resp p = { { NULL, 0 } };
        err = call_until(ch, &echo_reverse_method, &q, &p, now_ns() + BOUND,
                         r, sizeof(r));
        got = p.reversed;
    } else {
        struct echo_echo_req q = { { "hello", 5 } };
        struct echo_echo_resp p = { { NULL, 0 } };
        err = call_until(ch, &echo_echo_method, &q, &p, now_ns() + BOUND, r,
                         sizeof(r));
        got = p.echoed;
    }
    if (err)
        return err;
    return got.count == 5 &&
                   memcmp(got.data, reverse ? "olleh" : "hello", 5) == 0
               ? OK
               : ERR_BAD_FORMAT;
}

static int connect_echo(const char *name, mica_handle_t *ch)
{
    return svc_connect(svc(), name, echo_v2, 3, ch, NULL, 0);
}

/* --- the name service ---------------------------------------------------------- */

/* A client that calls part of what its server serves works, and so
 * does one that calls all of it. */
UTEST(svc_connect_older_client_to_newer_server)
{
    mica_handle_t ch;
    char missing[64] = "x";
    UASSERT(svc() != 0);
    UEXPECT(svc_connect(svc(), "echo-bo", &echo_v2[1], 1, &ch, missing,
                        sizeof(missing)) == OK);
    UEXPECT(missing[0] == 0);
    UEXPECT(echo(ch, false) == OK);
    mica_handle_close(ch);
    UEXPECT(connect_echo("echo-bo", &ch) == OK);
    UEXPECT(echo(ch, true) == OK);
    mica_handle_close(ch);
    UEXPECT(svc_connect(svc(), "echo-bo", NULL, 0, &ch, NULL, 0) == OK);
    mica_handle_close(ch);
}

/* A client of another signature, or newer than its server, is refused
 * on connect, and told which method. */
UTEST(svc_connect_refuses_unserved_methods)
{
    static const struct mica_iface_entry v1[] = {
        { ECHO_V1_ECHO_ID, "echo.echo" },
    };
    static const struct mica_iface_entry v3[] = {
        { ECHO_V3_ECHO_ID, "echo.echo" }, { ECHO_V3_SHOUT_ID, "echo.shout" },
    };
    static const struct mica_iface_entry old_blk[] = {
        { 0x2c4dae1f506b7282ull, "block.read" },  /* an older read */
        { BLOCK_INFO_ID, "block.info" },
    };
    mica_handle_t ch = 77;
    char missing[64];
    UASSERT(svc() != 0);
    UEXPECT(svc_connect(svc(), "echo-bo", v1, 1, &ch, missing,
                        sizeof(missing)) == ERR_NOT_SUPPORTED);
    UEXPECT(strcmp(missing, "echo.echo") == 0);
    UEXPECT(ch == 0);
    UEXPECT(svc_connect(svc(), "echo-bo", v3, 2, &ch, missing,
                        sizeof(missing)) == ERR_NOT_SUPPORTED);
    UEXPECT(strcmp(missing, "echo.shout") == 0);
    UEXPECT(svc_connect(svc(), "disk", old_blk, 2, &ch, missing,
                        sizeof(missing)) == ERR_NOT_SUPPORTED);
    UEXPECT(strcmp(missing, "block.read") == 0);
    printf("    # refused: %s\n", missing);
    UEXPECT(svc_connect(svc(), "disk", v1, 1, &ch, missing, 4) ==
            ERR_NOT_SUPPORTED);
    UEXPECT(strcmp(missing, "ech") == 0);       /* cut to the buffer */
}

/* A request as bytes; its status. */
static int raw(const void *q, uint32_t len, const mica_handle_t *hs,
               uint32_t nh)
{
    struct svc_reply r;
    mica_handle_t h;
    int err = svc_call(svc(), q, len, hs, nh, &r, &h);
    if (h)
        mica_handle_close(h);
    return err;
}

struct req1 {
    struct svc_request q;
    struct mica_iface_entry e[2];
};

static struct req1 req(uint32_t op, const char *name, uint32_t count)
{
    struct req1 r = { .q = { .op = op, .count = count },
                      .e = { { ECHO_V2_ECHO_ID, "echo.echo" },
                             { ECHO_V2_HANG_ID, "echo.hang" } } };
    strncpy(r.q.name, name, sizeof(r.q.name) - 1);
    return r;
}

static mica_handle_t chan_end(mica_handle_t *other)
{
    mica_handle_t ch[2] = { 0, 0 };
    mica_channel_create(0, ch);
    *other = ch[1];
    return ch[0];
}

/* Every malformed request is refused with ERR_INVALID_ARGS, and an
 * unknown operation with ERR_NOT_SUPPORTED; what came is closed. */
UTEST(svc_bad_requests)
{
    mica_handle_t l, c, two[2];
    UASSERT(svc() != 0);
    struct req1 r = req(SVC_OP_CONNECT, "echo-bo", 1);
    const uint32_t one = sizeof(r.q) + sizeof(r.e[0]);
    UEXPECT(raw(&r, one, NULL, 0) == OK);               /* the good one */
    UEXPECT(raw(&r, 0, NULL, 0) == ERR_INVALID_ARGS);
    UEXPECT(raw(&r, sizeof(r.q) - 1, NULL, 0) == ERR_INVALID_ARGS);
    UEXPECT(raw(&r, one - 1, NULL, 0) == ERR_INVALID_ARGS);
    UEXPECT(raw(&r, one + 64, NULL, 0) == ERR_INVALID_ARGS);
    r.q.count = SVC_METHODS_MAX + 1;
    UEXPECT(raw(&r, one, NULL, 0) == ERR_INVALID_ARGS);
    r = req(SVC_OP_CONNECT, "", 0);
    UEXPECT(raw(&r, sizeof(r.q), NULL, 0) == ERR_INVALID_ARGS);
    memset(r.q.name, 'n', sizeof(r.q.name));            /* no NUL */
    UEXPECT(raw(&r, sizeof(r.q), NULL, 0) == ERR_INVALID_ARGS);
    r = req(SVC_OP_CONNECT, "echo-bo", 1);
    r.e[0].name[0] = 0;
    UEXPECT(raw(&r, one, NULL, 0) == ERR_INVALID_ARGS);
    memset(r.e[0].name, 'm', sizeof(r.e[0].name));
    UEXPECT(raw(&r, one, NULL, 0) == ERR_INVALID_ARGS);
    r = req(SVC_OP_CONNECT, "echo-bo", 0);              /* with a handle */
    two[0] = chan_end(&two[1]);
    UEXPECT(raw(&r, sizeof(r.q), two, 1) == ERR_INVALID_ARGS);
    mica_handle_close(two[1]);
    r = req(SVC_OP_PUBLISH, "t-bad", 2);                /* no handle */
    UEXPECT(raw(&r, sizeof(r), NULL, 0) == ERR_INVALID_ARGS);
    two[0] = chan_end(&l);
    two[1] = chan_end(&c);
    UEXPECT(raw(&r, sizeof(r), two, 2) == ERR_INVALID_ARGS);    /* two */
    r.e[1].id = 1;                                      /* not increasing */
    two[0] = chan_end(&l);
    UEXPECT(raw(&r, sizeof(r), two, 1) == ERR_INVALID_ARGS);
    /* the handles that came were closed: the listening ends see it */
    UEXPECT(mica_object_wait_one(l, SIGNAL_PEER_CLOSED, now_ns() + BOUND,
                                 NULL) == OK);
    mica_handle_close(l);
    mica_handle_close(c);
    r = req(99, "echo-bo", 0);
    UEXPECT(raw(&r, sizeof(r.q), NULL, 0) == ERR_NOT_SUPPORTED);
    /* a message that is not a call is dropped, handles and all */
    two[0] = chan_end(&l);
    UEXPECT(mica_channel_write(svc(), &r, sizeof(r.q), two, 1) == OK);
    UEXPECT(mica_object_wait_one(l, SIGNAL_PEER_CLOSED, now_ns() + BOUND,
                                 NULL) == OK);
    mica_handle_close(l);
    UEXPECT(raw(&r, sizeof(r.q), NULL, 0) == ERR_NOT_SUPPORTED);
}

/* A service of the suite's own: published, connected to (the
 * connection arrives at the listening end with the name), taken names
 * refused, a dead endpoint refused and its name freed, a full queue. */
UTEST(svc_publish_and_connect)
{
    static const struct mica_iface_entry m[] = { { 1, "t.A" }, { 2, "t.B" } };
    mica_handle_t l, c, ch, hs[2];
    char name[16];
    UASSERT(svc() != 0);
    UEXPECT(svc_connect(svc(), "t-mine", NULL, 0, &ch, NULL, 0) ==
            ERR_NOT_FOUND);
    c = chan_end(&l);
    UASSERT(svc_publish(svc(), "t-mine", m, 2, c) == OK);
    c = chan_end(&ch);
    mica_handle_close(ch);
    UEXPECT(svc_publish(svc(), "t-mine", m, 2, c) == ERR_ALREADY_EXISTS);
    c = chan_end(&ch);
    mica_handle_close(ch);
    UEXPECT(svc_publish(svc(), "echo-bo", m, 2, c) == ERR_ALREADY_EXISTS);
    UEXPECT(svc_connect(svc(), "t-mine", &m[1], 1, &ch, NULL, 0) == OK);
    struct mica_msg_buf in = { .bytes = name, .bytes_cap = sizeof(name),
                               .handles = hs, .handles_cap = 2 };
    UEXPECT(mica_channel_read(l, &in) == OK);
    UEXPECT(in.actual_bytes == 7 && strcmp(name, "t-mine") == 0);
    UEXPECT(in.actual_handles == 1);
    UEXPECT(mica_channel_write(ch, "x", 1, NULL, 0) == OK);
    UEXPECT(mica_object_wait_one(hs[0], SIGNAL_READABLE, 1, NULL) == OK);
    mica_handle_close(hs[0]);
    mica_handle_close(ch);
    /* a listening channel nobody reads fills up */
    unsigned n = 0;
    int err;
    mica_handle_t conns[MICA_CHANNEL_MAX_QUEUED];
    while ((err = svc_connect(svc(), "t-mine", NULL, 0, &ch, NULL, 0)) ==
               OK &&
           n < MICA_CHANNEL_MAX_QUEUED)
        conns[n++] = ch;
    UEXPECT(err == ERR_SHOULD_WAIT);
    UEXPECT(n == MICA_CHANNEL_MAX_QUEUED);
    /* the listening end goes: its queued connections close, and the
     * name is refused, then free */
    mica_handle_close(l);
    for (unsigned i = 0; i < n; i++) {
        UEXPECT(mica_object_wait_one(conns[i], SIGNAL_PEER_CLOSED, 1,
                                     NULL) == OK);
        mica_handle_close(conns[i]);
    }
    UEXPECT(svc_connect(svc(), "t-mine", NULL, 0, &ch, NULL, 0) ==
            ERR_PEER_CLOSED);
    UEXPECT(svc_connect(svc(), "t-mine", NULL, 0, &ch, NULL, 0) ==
            ERR_NOT_FOUND);
    c = chan_end(&l);
    UEXPECT(svc_publish(svc(), "t-mine", m, 2, c) == OK);
    mica_handle_close(l);                   /* dead: PUBLISH takes it over */
    c = chan_end(&l);
    UEXPECT(svc_publish(svc(), "t-mine", m, 2, c) == OK);
    mica_handle_close(l);
    /* a handle that is not a channel: the connect finds it unusable */
    UASSERT(mica_event_create(0, &c) == OK);
    UEXPECT(svc_publish(svc(), "t-event", m, 2, c) == OK);
    UEXPECT(svc_connect(svc(), "t-event", NULL, 0, &ch, NULL, 0) ==
            ERR_PEER_CLOSED);
}

/* The table is full at REGISTRY_MAX (64) names; dead ones make room. */
UTEST(svc_table_full)
{
    static const struct mica_iface_entry m[] = { { 1, "t.A" } };
    mica_handle_t l[64], c;
    unsigned n = 0;
    int err = OK;
    char name[16];
    UASSERT(svc() != 0);
    while (n < 64) {
        snprintf(name, sizeof(name), "t-full%u", n);
        c = chan_end(&l[n]);
        if ((err = svc_publish(svc(), name, m, 1, c)) != OK)
            break;
        n++;
    }
    UEXPECT(err == ERR_NO_RESOURCES);
    mica_handle_close(l[n]);
    UEXPECT(n > 50);
    mica_handle_close(l[0]);                /* one dies: room for one */
    c = chan_end(&l[0]);
    UEXPECT(svc_publish(svc(), "t-again", m, 1, c) == OK);
    for (unsigned i = 0; i < n; i++)
        mica_handle_close(l[i]);
    c = chan_end(&l[0]);
    UEXPECT(svc_publish(svc(), "t-after", m, 1, c) == OK);
    mica_handle_close(l[0]);
}

/* --- init -------------------------------------------------------------------------- */

/* What init says of the programs, and every error of its protocol. */
UTEST(init_status_and_errors)
{
    struct init_reply r;
    UASSERT(mica_cap("init", 0) != 0);
    UEXPECT(status("disk", &r) == OK);
    UEXPECT(r.state == INIT_STATE_RUNNING && r.pid != 0);
    UEXPECT(status("echo-old", &r) == OK);
    UEXPECT(r.state == INIT_STATE_REFUSED && r.pid == 0);
    UEXPECT(strcmp(r.detail, "echo.echo") == 0);
    UEXPECT(status("echo-sub", &r) == OK);      /* the older client runs */
    UEXPECT(r.state == INIT_STATE_RUNNING);
    UEXPECT(status("nosuch", &r) == ERR_NOT_FOUND);
    UEXPECT(init_op(INIT_OP_KILL, "echo-old", 1, &r) == ERR_BAD_STATE);
    UEXPECT(init_op(99, "disk", 0, &r) == ERR_NOT_SUPPORTED);
    struct init_request q = { .op = INIT_OP_STATUS, .name = "disk" };
    UEXPECT(init_call(&q, sizeof(q) - 1, NULL, 0, &r) == ERR_INVALID_ARGS);
    UEXPECT(init_call(&q, sizeof(q) + 1, NULL, 0, &r) == ERR_INVALID_ARGS);
    memset(q.name, 'd', sizeof(q.name));
    UEXPECT(init_call(&q, sizeof(q), NULL, 0, &r) == ERR_INVALID_ARGS);
    mica_handle_t l, c = chan_end(&l);
    strcpy(q.name, "disk");
    UEXPECT(init_call(&q, sizeof(q), &c, 1, &r) == ERR_INVALID_ARGS);
    UEXPECT(mica_object_wait_one(l, SIGNAL_PEER_CLOSED, now_ns() + BOUND,
                                 NULL) == OK);
    mica_handle_close(l);
}

/* A malformed note refuses its program, with no method to name. */
UTEST(init_refuses_malformed_note)
{
    struct init_reply r;
    UASSERT(mica_cap("init", 0) != 0);
    UEXPECT(status("echo-bad", &r) == OK);
    UEXPECT(r.state == INIT_STATE_REFUSED && r.detail[0] == 0);
}

/* restart=on-failure leaves a program that ended with status 0 ended;
 * the default, never, leaves one ended whatever its status. */
UTEST(init_restart_policies)
{
    struct init_reply r;
    UASSERT(mica_cap("init", 0) != 0);
    UASSERT(wait_running("echo-once", 0, &r));
    UEXPECT(init_op(INIT_OP_KILL, "echo-once", 0, &r) == OK);
    UEXPECT(wait_state("echo-once", INIT_STATE_FAILED, &r));
    UEXPECT(r.restarts == 0 && r.last_exit == 0 && r.pid == 0);
    UASSERT(wait_running("echo-never", 0, &r));
    UEXPECT(init_op(INIT_OP_KILL, "echo-never", 7, &r) == OK);
    UEXPECT(wait_state("echo-never", INIT_STATE_FAILED, &r));
    UEXPECT(r.restarts == 0 && r.last_exit == 7);
    UEXPECT(init_op(INIT_OP_KILL, "echo-never", 7, &r) == ERR_BAD_STATE);
}

/* An on-demand service starts when a client connects. */
UTEST(svc_on_demand_starts_on_connect)
{
    mica_handle_t ch;
    struct init_reply r;
    UASSERT(svc() != 0 && mica_cap("init", 0) != 0);
    UEXPECT(status("echo-od", &r) == OK);
    UEXPECT(r.state == INIT_STATE_STOPPED || r.state == INIT_STATE_RUNNING ||
            r.state == INIT_STATE_STARTING);
    UASSERT(connect_echo("echo-od", &ch) == OK);
    UEXPECT(echo(ch, false) == OK);      /* waits for the start */
    UEXPECT(status("echo-od", &r) == OK && r.state == INIT_STATE_RUNNING);
    mica_handle_close(ch);
}

/* --- the disk killed under a reader ---------------------------------------------------- */

static const struct mica_iface_entry blk_calls[] = {
    { BLOCK_INFO_ID, "block.info" }, { BLOCK_READ_ID, "block.read" },
};

static volatile int reads, bad, reconnects, stop_reading;
static volatile int last_err;

/* Read pattern A's sectors (below pattern B's) in a loop through a
 * connection made with svc; on ERR_PEER_CLOSED, connect again. */
static void *reader(void *arg)
{
    (void)arg;
    static uint8_t buf[16 * 512], want[16 * 512];
    uint64_t x = 0x2545f4914f6cdd1dull;
    mica_handle_t ch = 0;
    uint64_t end = now_ns() + 4 * BOUND;
    while (!stop_reading && now_ns() < end) {
        if (!ch && svc_connect(svc(), "disk", blk_calls, 2, &ch, NULL, 0)) {
            ch = 0;
            mica_nanosleep(now_ns() + MS);
            continue;
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t count = 1 + (uint32_t)(x % 16);
        uint64_t s = (x >> 8) % (BLK_PAT_B_FIRST - 16);
        int err = blk_read(ch, s, count, buf);
        if (err == ERR_PEER_CLOSED) {
            mica_handle_close(ch);
            ch = 0;
            reconnects++;
            continue;
        }
        if (err) {
            last_err = err;
            bad++;
            continue;
        }
        blk_pattern(BLK_PAT_SEED_A, s, count, want);
        bad += memcmp(buf, want, count * 512) != 0;
        reads++;
    }
    if (ch)
        mica_handle_close(ch);
    return NULL;
}

static bool wait_reads(int at_least)
{
    uint64_t end = now_ns() + BOUND;
    while (reads < at_least && now_ns() < end)
        mica_nanosleep(now_ns() + MS);
    return reads >= at_least;
}

/* Kill the disk driver while a client reads in a loop: init starts it
 * again, the client reconnects through svc to the same name and every
 * read returns the right data. */
UTEST(svc_disk_killed_while_client_reads)
{
    pthread_t t;
    struct init_reply r0, r;
    UASSERT(svc() != 0 && mica_cap("init", 0) != 0);
    UASSERT(status("disk", &r0) == OK && r0.state == INIT_STATE_RUNNING);
    UASSERT(pthread_create(&t, NULL, reader, NULL) == 0);
    UEXPECT(wait_reads(50));
    for (int round = 0; round < 2; round++) {
        UEXPECT(init_op(INIT_OP_KILL, "disk", -9, &r) == OK);
        UEXPECT(wait_running("disk", r0.restarts + 1 + round, &r));
        UEXPECT(r.last_exit == -9);
        int before = reads;
        UEXPECT(wait_reads(before + 50));
    }
    stop_reading = 1;
    pthread_join(t, NULL);
    printf("    # %d reads, %d reconnections, %u restarts\n", reads,
           reconnects, r.restarts);
    UEXPECT(bad == 0);
    if (bad)
        printf("    # last error %s\n", mica_status_str(last_err));
    UEXPECT(reconnects >= 1);
    UEXPECT(r.restarts == r0.restarts + 2);
}

/* --- timed: back-off, heartbeats, idle time ----------------------------------------------- */

/* A program that keeps failing is started again at once, then after
 * 200 ms, 400 ms, 800 ms. */
UTEST(timed_backoff_doubles)
{
    static const uint64_t want[] = { 0, 200 * MS, 400 * MS, 800 * MS };
    struct init_reply r;
    UASSERT(mica_cap("init", 0) != 0);
    UASSERT(wait_running("echo-bo", 0, &r));
    unsigned r0 = r.restarts;
    for (unsigned k = 0; k < 4; k++) {
        UASSERT(init_op(INIT_OP_KILL, "echo-bo", 3, &r) == OK);
        UASSERT(wait_running("echo-bo", r0 + k + 1, &r));
        uint64_t d = r.started_at - r.ended_at;
        printf("    # restart %u after %llu ms\n", k + 1,
               (unsigned long long)(d / MS));
        UEXPECT(d >= want[k] && d < want[k] + 50 * MS);
        UEXPECT(r.last_exit == 3);
    }
}

/* A program that answers its heartbeats is left alone; one that hangs
 * is killed within two periods and started again. */
UTEST(timed_heartbeat_restarts_hung)
{
    const uint64_t period = 1 * SEC;
    struct init_reply r, r1;
    mica_handle_t ch;
    UASSERT(svc() != 0 && mica_cap("init", 0) != 0);
    UASSERT(wait_running("echo-hb", 0, &r));
    mica_nanosleep(now_ns() + 4 * period);
    UEXPECT(status("echo-hb", &r1) == OK);
    UEXPECT(r1.restarts == r.restarts && r1.missed == r.missed);
    UASSERT(connect_echo("echo-hb", &ch) == OK);
    UEXPECT(echo(ch, false) == OK);
    uint64_t rb[IDL_HEADER_SIZE / 8];
    uint64_t hung_at = now_ns();
    UEXPECT(call_until(ch, &echo_hang_method, NULL, NULL, hung_at + 50 * MS,
                       rb, sizeof(rb)) == ERR_TIMED_OUT);
    UEXPECT(wait_running("echo-hb", r.restarts + 1, &r1));
    UEXPECT(r1.missed == r.missed + 1);
    uint64_t took = r1.ended_at - hung_at;
    printf("    # killed %llu ms after it hung\n",
           (unsigned long long)(took / MS));
    UEXPECT(took >= period && took < 2 * period + 50 * MS);
    UEXPECT(r1.started_at - r1.ended_at < 50 * MS);     /* at once */
    UEXPECT(mica_object_wait_one(ch, SIGNAL_PEER_CLOSED, 1, NULL) == OK);
    mica_handle_close(ch);
    UEXPECT(connect_echo("echo-hb", &ch) == OK);        /* the new one */
    UEXPECT(echo(ch, false) == OK);
    mica_handle_close(ch);
}

static bool pages_back(uint64_t before, uint64_t *now)
{
    struct mica_system_info i;
    uint64_t end = now_ns() + BOUND;
    do {
        mica_system_info(&i);
        *now = i.free_pages;
        if (i.free_pages >= before)
            return true;
        mica_nanosleep(now_ns() + 10 * MS);
    } while (now_ns() < end);
    return false;
}

/* An on-demand service: started on connect, stopped once it has had no
 * client for its idle time (1 s), every page it took given back, and
 * started again by the next connect.  The first round warms up what the
 * system keeps once made (slab pages of kernel objects, init's heap);
 * the two after it must give back every page. */
UTEST(timed_on_demand_stops_when_idle)
{
    const uint64_t idle = 1 * SEC;
    struct init_reply r;
    struct mica_system_info i;
    mica_handle_t ch, warm;
    uint64_t after;
    UASSERT(svc() != 0 && mica_cap("init", 0) != 0);
    UASSERT(connect_echo("echo-bo", &warm) == OK);  /* this suite's heap */
    mica_handle_close(warm);
    UASSERT(wait_state("echo-od", INIT_STATE_STOPPED, &r));
    for (int round = 0; round < 3; round++) {
        mica_system_info(&i);
        uint64_t before = i.free_pages;
        UASSERT(connect_echo("echo-od", &ch) == OK);
        UEXPECT(echo(ch, false) == OK);
        UEXPECT(status("echo-od", &r) == OK && r.state == INIT_STATE_RUNNING);
        mica_system_info(&i);
        printf("    # free pages %llu before, %llu while it runs\n",
               (unsigned long long)before, (unsigned long long)i.free_pages);
        UEXPECT(i.free_pages < before);
        mica_nanosleep(now_ns() + idle + idle / 2);     /* a client stays */
        UEXPECT(status("echo-od", &r) == OK && r.state == INIT_STATE_RUNNING);
        uint64_t closed = now_ns();
        mica_handle_close(ch);
        UASSERT(wait_state("echo-od", INIT_STATE_STOPPED, &r));
        uint64_t took = r.ended_at - closed;
        printf("    # stopped %llu ms after its last client left\n",
               (unsigned long long)(took / MS));
        UEXPECT(took >= idle && took < idle + 100 * MS);
        bool back = pages_back(before, &after);
        UEXPECT(round == 0 || back);
        printf("    # free pages %llu after\n", (unsigned long long)after);
    }
}
