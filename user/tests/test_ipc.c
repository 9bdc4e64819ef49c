/*
 * test_ipc.c - in-system tests of channels, calls and ports: messages
 * with bytes and handles, every error of every call, queue bounds and
 * signals, calls and replies inside a process and between processes,
 * and what each kind of death does to messages and calls in flight.
 *
 * Servers in other processes are clones of this process (process_clone)
 * running a plain C function on a thread of their own: the clone has
 * this program's code and data, and gets one channel endpoint moved into
 * its handle table.  Such threads, like those started with
 * mica_thread_start here, only make system calls and touch memory: they
 * have no C library thread state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mica.h"
#include "utest.h"

#define STACK 16384
#define SEC 1000000000ull

static uint64_t now_ns(void)
{
    uint64_t t;
    mica_clock_get(&t);
    return t;
}

/* Stacks for threads and clones, touched before any test counts pages
 * (see settle), so that first use allocates nothing. */
#define NSTACKS 4
static char stacks[NSTACKS][STACK] __attribute__((aligned(16)));
static unsigned next_stack;

static void *new_stack(void)
{
    char *s = stacks[next_stack++ % NSTACKS];
    return s + STACK - 8;               /* entered like a called function */
}

static int start_thread(void (*fn)(uint64_t, uint64_t), uint64_t a0,
                        uint64_t a1, mica_handle_t *t)
{
    void *sp = new_stack();
    int err = sp ? mica_thread_create(mica_process_self(), "t", 1, t)
                 : ERR_NO_MEMORY;
    if (!err)
        err = mica_thread_start(*t, (uint64_t)fn, (uint64_t)sp, a0, a1);
    return err;
}

/* A clone of this process running fn(h, arg), where h is `give` moved
 * into the clone's table. */
static int start_clone(void (*fn)(uint64_t, uint64_t), mica_handle_t give,
                       uint64_t arg, mica_handle_t *proc)
{
    void *sp = new_stack();
    mica_handle_t t, moved;
    if (!sp)
        return ERR_NO_MEMORY;
    int err = mica_process_clone(mica_process_self(), "server", 6, proc);
    if (err)
        return err;
    err = mica_thread_create(*proc, "srv", 3, &t);
    if (!err)
        err = mica_handle_transfer(give, *proc, RIGHT_SAME_RIGHTS, &moved);
    if (!err)
        err = mica_thread_start(t, (uint64_t)fn, (uint64_t)sp, moved, arg);
    mica_handle_close(t);
    return err;
}

static void end_process(mica_handle_t p)
{
    mica_process_kill(p, 0);
    mica_object_wait_one(p, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(p);
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
            info->live_vmos == want->live_vmos &&
            info->live_processes == want->live_processes &&
            info->free_pages == want->free_pages)
            return;
        mica_nanosleep(now_ns() + 20000000);
    }
}

static struct mica_msg_buf rbuf(void *bytes, uint32_t cap,
                                mica_handle_t *hs, uint32_t hcap)
{
    struct mica_msg_buf b = {
        .bytes = bytes, .bytes_cap = cap, .handles = hs, .handles_cap = hcap,
    };
    return b;
}

/* --- messages ---------------------------------------------------------------- */

UTEST(channel_message_carries_bytes_and_handles)
{
    mica_handle_t ch[2], v, got[4];
    UASSERT(mica_channel_create(0, ch) == OK);
    UASSERT(mica_vmo_create(8192, &v) == OK);
    UASSERT(mica_channel_write(ch[0], "hello", 5, &v, 1) == OK);
    uint64_t size;
    UEXPECT(mica_vmo_get_size(v, &size) == ERR_BAD_HANDLE);    /* moved */
    mica_signals_t seen = 0;
    UEXPECT(mica_object_wait_one(ch[1], SIGNAL_READABLE, 0, &seen) == OK);
    char buf[16] = { 0 };
    struct mica_msg_buf b = rbuf(buf, sizeof(buf), got, 4);
    UASSERT(mica_channel_read(ch[1], &b) == OK);
    UEXPECT(b.actual_bytes == 5 && b.actual_handles == 1);
    UEXPECT(memcmp(buf, "hello", 5) == 0);
    UEXPECT(b.txid == 0 && b.kind == MICA_RECV_MESSAGE);
    UEXPECT(mica_vmo_get_size(got[0], &size) == OK && size == 8192);
    UEXPECT(mica_channel_read(ch[1], &b) == ERR_SHOULD_WAIT);
    /* both directions */
    UASSERT(mica_channel_write(ch[1], "x", 1, NULL, 0) == OK);
    UEXPECT(mica_channel_read(ch[0], &b) == OK && b.actual_bytes == 1);
    mica_handle_close(got[0]);
    mica_handle_close(ch[0]);
    mica_handle_close(ch[1]);
}

/* A receive that asks (handle_infos) learns each handle's object type and
 * rights, queued or sent straight into a waiting caller; a description
 * that cannot be written fails the receive and keeps the message. */
static void handle_giver(uint64_t a0, uint64_t a1)
{
    (void)a1;
    mica_handle_t ep = (mica_handle_t)a0, e, hs[2];
    struct mica_handle_info infos[2];
    char in[8];
    struct mica_msg_buf b = rbuf(in, sizeof(in), hs, 2);
    b.handle_infos = infos;
    if (mica_channel_reply_read(ep, 0, NULL, &b, 0) != OK ||
        mica_event_create(0, &e) != OK)
        mica_thread_exit();
    /* tell the caller what came with its call, and give it an event */
    struct mica_msg r = { .bytes = infos, .handles = &e,
                          .num_bytes = (uint32_t)sizeof(infos[0]) *
                                       b.actual_handles,
                          .num_handles = 1 };
    mica_channel_reply_read(ep, b.txid, &r, NULL, 0);
    for (uint32_t i = 0; i < b.actual_handles; i++)
        mica_handle_close(hs[i]);
    mica_thread_exit();
}

UTEST(channel_receive_describes_handles)
{
    mica_handle_t ch[2], v, e, weak, got[4], t;
    struct mica_handle_info infos[4], hi;
    struct mica_system_info before, after;
    settle(&before, NULL);
    UASSERT(mica_channel_create(0, ch) == OK);
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UASSERT(mica_event_create(0, &e) == OK);
    UASSERT(mica_handle_duplicate(e, RIGHTS_BASIC | RIGHT_WAIT, &weak) == OK);
    mica_handle_close(e);
    mica_handle_t send[2] = { v, weak };
    UASSERT(mica_channel_write(ch[0], "x", 1, send, 2) == OK);
    char buf[8];
    struct mica_msg_buf b = rbuf(buf, sizeof(buf), got, 4);
    /* descriptions that cannot be written: the message stays */
    b.handle_infos = (struct mica_handle_info *)8;
    UEXPECT(mica_channel_read(ch[1], &b) == ERR_FAULT);
    b.handle_infos = (struct mica_handle_info *)0xffff800000000000ull;
    UEXPECT(mica_channel_read(ch[1], &b) == ERR_FAULT);
    /* queued */
    memset(infos, 0xff, sizeof(infos));
    b.handle_infos = infos;
    UASSERT(mica_channel_read(ch[1], &b) == OK && b.actual_handles == 2);
    for (int i = 0; i < 2; i++) {
        UEXPECT(mica_handle_info(got[i], &hi) == OK);
        UEXPECT(infos[i].type == hi.type && infos[i].rights == hi.rights);
    }
    UEXPECT(infos[0].type == OBJ_VMO);
    UEXPECT(infos[1].type == OBJ_EVENT &&
            infos[1].rights == (RIGHTS_BASIC | RIGHT_WAIT));
    UEXPECT(infos[2].type == 0xffffffffu);      /* past the count: untouched */
    mica_handle_close(got[0]);
    /* straight into a caller blocked for its reply, and into a server */
    UASSERT(start_thread(handle_giver, ch[1], 0, &t) == OK);
    struct mica_handle_info seen[2];
    struct mica_msg m = { .bytes = "q", .handles = &got[1], .num_bytes = 1,
                          .num_handles = 1 };
    b = rbuf(seen, sizeof(seen), got + 2, 2);
    b.handle_infos = infos;
    memset(infos, 0, sizeof(infos));
    UASSERT(mica_channel_call(ch[0], &m, &b, 0) == OK);
    UEXPECT(b.actual_bytes == sizeof(seen[0]) && b.actual_handles == 1);
    UEXPECT(seen[0].type == OBJ_EVENT &&
            seen[0].rights == (RIGHTS_BASIC | RIGHT_WAIT));
    UEXPECT(mica_handle_info(got[2], &hi) == OK);
    UEXPECT(infos[0].type == OBJ_EVENT && infos[0].rights == hi.rights);
    mica_handle_close(got[2]);
    UEXPECT(mica_object_wait_one(t, SIGNAL_TERMINATED, now_ns() + 10 * SEC,
                                 NULL) == OK);
    mica_handle_close(t);
    mica_handle_close(ch[0]);
    mica_handle_close(ch[1]);
    settle(&after, &before);
    UEXPECT(after.live_vmos == before.live_vmos &&
            after.live_channels == before.live_channels);
}

UTEST(channel_too_small_buffer_keeps_message)
{
    mica_handle_t ch[2], v, got[2];
    UASSERT(mica_channel_create(0, ch) == OK);
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UASSERT(mica_channel_write(ch[0], "0123456789", 10, &v, 1) == OK);
    char buf[16];
    struct mica_msg_buf b = rbuf(buf, 4, got, 2);
    UEXPECT(mica_channel_read(ch[1], &b) == ERR_BUFFER_TOO_SMALL);
    UEXPECT(b.actual_bytes == 10 && b.actual_handles == 1);
    b = rbuf(buf, 16, got, 0);
    UEXPECT(mica_channel_read(ch[1], &b) == ERR_BUFFER_TOO_SMALL);
    UEXPECT(b.actual_handles == 1);
    /* a bad buffer: the message stays too */
    b = rbuf((void *)0xFFFFFFFF80100000ull, 16, got, 2);
    UEXPECT(mica_channel_read(ch[1], &b) == ERR_FAULT);
    b = rbuf(buf, 16, (void *)0x10, 2);
    UEXPECT(mica_channel_read(ch[1], &b) == ERR_FAULT);
    b = rbuf(buf, 16, got, 2);
    UEXPECT(mica_channel_read(ch[1], &b) == OK && b.actual_bytes == 10);
    UEXPECT(memcmp(buf, "0123456789", 10) == 0);
    mica_handle_close(got[0]);
    mica_handle_close(ch[0]);
    mica_handle_close(ch[1]);
}

UTEST(channel_errors)
{
    mica_handle_t ch[2], v, ro, nt;
    char big[8];
    UEXPECT(mica_channel_create(1, ch) == ERR_INVALID_ARGS);
    UEXPECT(mica_channel_create(0, (void *)0xFFFFFFFF80100000ull) ==
            ERR_FAULT);
    UASSERT(mica_channel_create(0, ch) == OK);
    UASSERT(mica_vmo_create(4096, &v) == OK);
    struct mica_msg_buf b = rbuf(big, sizeof(big), NULL, 0);
    UEXPECT(mica_channel_write(0x12345, "x", 1, NULL, 0) == ERR_BAD_HANDLE);
    UEXPECT(mica_channel_write(v, "x", 1, NULL, 0) == ERR_WRONG_TYPE);
    UEXPECT(mica_channel_read(v, &b) == ERR_WRONG_TYPE);
    UASSERT(mica_handle_duplicate(ch[0], RIGHT_READ, &ro) == OK);
    UEXPECT(mica_channel_write(ro, "x", 1, NULL, 0) == ERR_ACCESS_DENIED);
    UASSERT(mica_handle_duplicate(ch[1], RIGHT_WRITE, &nt) == OK);
    UEXPECT(mica_channel_read(nt, &b) == ERR_ACCESS_DENIED);
    UEXPECT(mica_channel_write(ch[0], "x", MICA_MSG_MAX_BYTES + 1, NULL, 0) ==
            ERR_OUT_OF_RANGE);
    mica_handle_t many[MICA_MSG_MAX_HANDLES + 1] = { 0 };
    UEXPECT(mica_channel_write(ch[0], NULL, 0, many,
                               MICA_MSG_MAX_HANDLES + 1) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_channel_write(ch[0], (void *)0xFFFFFFFF80100000ull, 4, NULL,
                               0) == ERR_FAULT);
    UEXPECT(mica_channel_write(ch[0], NULL, 0, (void *)0x10, 1) == ERR_FAULT);
    UEXPECT(mica_channel_read(ch[1], (void *)0xFFFFFFFF80100000ull) ==
            ERR_FAULT);
    /* a channel cannot carry its own endpoint, nor its peer */
    UEXPECT(mica_channel_write(ch[0], NULL, 0, &ch[0], 1) == ERR_INVALID_ARGS);
    UEXPECT(mica_channel_write(ch[0], NULL, 0, &ch[1], 1) == ERR_INVALID_ARGS);
    /* a failed write moves nothing: a bad handle among good ones */
    mica_handle_t mixed[3] = { v, 0x12345, ro };
    UEXPECT(mica_channel_write(ch[1], NULL, 0, mixed, 3) == ERR_BAD_HANDLE);
    mica_handle_t twice[2] = { v, v };
    UEXPECT(mica_channel_write(ch[1], NULL, 0, twice, 2) == ERR_BAD_HANDLE);
    uint64_t size;
    UEXPECT(mica_vmo_get_size(v, &size) == OK);
    /* without RIGHT_TRANSFER a handle cannot go */
    mica_handle_t stay;
    UASSERT(mica_handle_duplicate(v, RIGHT_READ, &stay) == OK);
    UEXPECT(mica_channel_write(ch[1], NULL, 0, &stay, 1) == ERR_ACCESS_DENIED);
    UEXPECT(mica_vmo_get_size(stay, &size) == OK);
    UEXPECT(mica_channel_read(ch[0], &b) == ERR_SHOULD_WAIT);   /* nothing sent */
    /* calls: bad descriptors */
    UEXPECT(mica_channel_call(ch[0], (void *)0x10, &b, 0) == ERR_FAULT);
    struct mica_msg m = { .bytes = "x", .num_bytes = 1 };
    UEXPECT(mica_channel_call(ch[0], &m, (void *)0x10, 0) == ERR_FAULT);
    m.num_bytes = MICA_MSG_MAX_BYTES + 1;
    UEXPECT(mica_channel_call(ch[0], &m, &b, 0) == ERR_OUT_OF_RANGE);
    m.num_bytes = 1;
    UEXPECT(mica_channel_call(ro, &m, &b, 0) == ERR_ACCESS_DENIED);
    UEXPECT(mica_channel_call(v, &m, &b, 0) == ERR_WRONG_TYPE);
    /* a deadline already passed: the request is sent, the call times out */
    UEXPECT(mica_channel_call(ch[0], &m, &b, 1) == ERR_TIMED_OUT);
    UEXPECT(mica_channel_read(ch[1], &b) == OK && b.txid != 0);
    /* replies to transactions that do not exist */
    UEXPECT(mica_channel_reply_read(ch[1], b.txid, &m, NULL, 0) ==
            ERR_NOT_FOUND);
    UEXPECT(mica_channel_reply_read(ch[1], 0, &m, NULL, 0) == ERR_NOT_FOUND);
    UEXPECT(mica_channel_reply_read(ch[1], 1, NULL, NULL, 0) ==
            ERR_INVALID_ARGS);
    mica_handle_close(stay);
    mica_handle_close(ro);
    mica_handle_close(nt);
    mica_handle_close(v);
    mica_handle_close(ch[0]);
    mica_handle_close(ch[1]);
}

UTEST(channel_queue_is_bounded)
{
    mica_handle_t ch[2];
    UASSERT(mica_channel_create(0, ch) == OK);
    mica_signals_t seen = 0;
    unsigned n = 0;
    while (mica_channel_write(ch[0], &n, 4, NULL, 0) == OK)
        n++;
    UEXPECT(n == MICA_CHANNEL_MAX_QUEUED);
    UEXPECT(mica_channel_write(ch[0], &n, 4, NULL, 0) == ERR_SHOULD_WAIT);
    UEXPECT(mica_object_wait_one(ch[0], SIGNAL_WRITABLE, 1, &seen) ==
            ERR_TIMED_OUT);
    UEXPECT(!(seen & SIGNAL_WRITABLE));
    unsigned got = 99;
    struct mica_msg_buf b = rbuf(&got, 4, NULL, 0);
    UEXPECT(mica_channel_read(ch[1], &b) == OK && got == 0);  /* in order */
    UEXPECT(mica_object_wait_one(ch[0], SIGNAL_WRITABLE, 1, &seen) == OK);
    UEXPECT(mica_channel_write(ch[0], &n, 4, NULL, 0) == OK);
    mica_handle_close(ch[0]);
    mica_handle_close(ch[1]);
}

UTEST(channel_peer_closed_drains_then_fails)
{
    mica_handle_t ch[2];
    UASSERT(mica_channel_create(0, ch) == OK);
    UASSERT(mica_channel_write(ch[0], "a", 1, NULL, 0) == OK);
    UASSERT(mica_channel_write(ch[0], "b", 1, NULL, 0) == OK);
    UASSERT(mica_handle_close(ch[0]) == OK);
    mica_signals_t seen = 0;
    UEXPECT(mica_object_wait_one(ch[1], SIGNAL_PEER_CLOSED, 0, &seen) == OK);
    UEXPECT(seen & SIGNAL_READABLE);
    UEXPECT(mica_channel_write(ch[1], "c", 1, NULL, 0) == ERR_PEER_CLOSED);
    char c = 0;
    struct mica_msg_buf b = rbuf(&c, 1, NULL, 0);
    UEXPECT(mica_channel_read(ch[1], &b) == OK && c == 'a');
    UEXPECT(mica_channel_read(ch[1], &b) == OK && c == 'b');
    UEXPECT(mica_channel_read(ch[1], &b) == ERR_PEER_CLOSED);
    struct mica_msg m = { .bytes = "x", .num_bytes = 1 };
    UEXPECT(mica_channel_call(ch[1], &m, &b, 0) == ERR_PEER_CLOSED);
    mica_handle_close(ch[1]);
}

UTEST(channel_unread_messages_close_their_handles)
{
    struct mica_system_info before, after;
    settle(&before, NULL);
    mica_handle_t ch[2];
    UASSERT(mica_channel_create(0, ch) == OK);
    for (int i = 0; i < 10; i++) {
        mica_handle_t v, inner[2];
        UASSERT(mica_vmo_create(4096, &v) == OK);
        UASSERT(mica_vmo_write(v, "z", 0, 1) == OK);     /* a page in it */
        UASSERT(mica_channel_create(0, inner) == OK);
        mica_handle_t hs[3] = { v, inner[0], inner[1] };
        UASSERT(mica_channel_write(ch[0], "m", 1, hs, 3) == OK);
    }
    mica_system_info(&after);
    UEXPECT(after.live_vmos == before.live_vmos + 10);
    UEXPECT(after.live_channels == before.live_channels + 22);
    mica_handle_close(ch[1]);          /* the reader: its queue goes */
    mica_handle_close(ch[0]);
    settle(&after, &before);
    UEXPECT(after.live_vmos == before.live_vmos);
    UEXPECT(after.live_channels == before.live_channels);
    UEXPECT(after.free_pages == before.free_pages);
}

UTEST(channel_cycles_through_queues_are_collected)
{
    struct mica_system_info before, after;
    settle(&before, NULL);
    for (int round = 0; round < 3; round++) {
        mica_handle_t a[2], b[2], c[2], v;
        UASSERT(mica_channel_create(0, a) == OK);
        UASSERT(mica_channel_create(0, b) == OK);
        UASSERT(mica_vmo_create(4096, &v) == OK);
        /* a1 waits in b1's queue, b1 in a1's: a two-endpoint cycle */
        mica_handle_t hs[2] = { b[1], v };
        UASSERT(mica_channel_write(a[0], "x", 1, hs, 2) == OK);
        UASSERT(mica_channel_write(b[0], "y", 1, &a[1], 1) == OK);
        if (round == 2) {
            /* and a longer one through a third channel */
            UASSERT(mica_channel_create(0, c) == OK);
            UASSERT(mica_channel_write(a[0], "z", 1, &c[1], 1) == OK);
            UASSERT(mica_channel_write(c[0], "w", 1, &b[0], 1) == OK);
            mica_handle_close(c[0]);
        } else {
            mica_handle_close(b[0]);
        }
        mica_handle_close(a[0]);
    }
    settle(&after, &before);
    UEXPECT(after.live_channels == before.live_channels);
    UEXPECT(after.live_vmos == before.live_vmos);
    UEXPECT(after.free_pages == before.free_pages);
    /* an endpoint only in flight but readable by someone stays */
    mica_handle_t a[2], b[2], got;
    UASSERT(mica_channel_create(0, a) == OK);
    UASSERT(mica_channel_create(0, b) == OK);
    UASSERT(mica_channel_write(a[0], NULL, 0, &b[1], 1) == OK);
    mica_handle_close(b[0]);                /* a close runs the collector */
    struct mica_msg_buf rb = rbuf(NULL, 0, &got, 1);
    UEXPECT(mica_channel_read(a[1], &rb) == OK);
    mica_signals_t seen = 0;
    UEXPECT(mica_object_wait_one(got, SIGNAL_PEER_CLOSED, 0, &seen) == OK);
    mica_handle_close(got);
    mica_handle_close(a[0]);
    mica_handle_close(a[1]);
}

/* --- calls within a process --------------------------------------------------- */

struct server_arg {
    mica_handle_t ep;
    volatile int served;
};

/* Answer every call on one channel with its bytes reversed, until the
 * peer closes. */
static void echo_server(uint64_t a0, uint64_t a1)
{
    (void)a1;
    struct server_arg *s = (struct server_arg *)a0;
    char in[256], out[256];
    struct mica_msg_buf b = rbuf(in, sizeof(in), NULL, 0);
    int err = mica_channel_reply_read(s->ep, 0, NULL, &b, 0);
    while (err == OK) {
        for (uint32_t i = 0; i < b.actual_bytes; i++)
            out[i] = in[b.actual_bytes - 1 - i];
        struct mica_msg r = { .bytes = out, .num_bytes = b.actual_bytes };
        s->served++;
        uint64_t tx = b.txid;
        b = rbuf(in, sizeof(in), NULL, 0);
        err = mica_channel_reply_read(s->ep, tx, &r, &b, 0);
    }
    mica_thread_exit();
}

UTEST(call_and_reply_on_one_channel)
{
    static struct server_arg s;
    mica_handle_t ch[2], t;
    UASSERT(mica_channel_create(0, ch) == OK);
    s.ep = ch[1];
    s.served = 0;
    UASSERT(start_thread(echo_server, (uint64_t)&s, 0, &t) == OK);
    uint64_t last_tx = 0;
    for (int i = 0; i < 100; i++) {
        char msg[8] = "abcdefg", reply[8] = { 0 };
        msg[0] = (char)('0' + i % 10);
        struct mica_msg m = { .bytes = msg, .num_bytes = 7 };
        struct mica_msg_buf b = rbuf(reply, sizeof(reply), NULL, 0);
        UASSERT(mica_channel_call(ch[0], &m, &b, 0) == OK);
        UEXPECT(b.actual_bytes == 7 && reply[0] == 'g' && reply[6] == msg[0]);
        UEXPECT(b.txid == 0 || b.txid > last_tx);
        last_tx = b.txid;
    }
    UEXPECT(s.served == 100);
    /* a reply buffer too small: the call fails, the server goes on */
    char tiny[2];
    struct mica_msg m = { .bytes = "abcd", .num_bytes = 4 };
    struct mica_msg_buf b = rbuf(tiny, sizeof(tiny), NULL, 0);
    UEXPECT(mica_channel_call(ch[0], &m, &b, 0) == ERR_BUFFER_TOO_SMALL);
    UEXPECT(b.actual_bytes == 4);
    char ok[4];
    b = rbuf(ok, sizeof(ok), NULL, 0);
    UEXPECT(mica_channel_call(ch[0], &m, &b, 0) == OK && ok[0] == 'd');
    mica_handle_close(ch[0]);           /* the server sees PEER_CLOSED */
    UEXPECT(mica_object_wait_one(t, SIGNAL_TERMINATED, now_ns() + 10 * SEC,
                                 NULL) == OK);
    mica_handle_close(t);
    mica_handle_close(ch[1]);
}

/* Serve calls from every channel bound to the port (handle a0), with
 * replies "key:bytes"; a message "quit" ends it. */
static void port_server(uint64_t a0, uint64_t a1)
{
    (void)a1;
    mica_handle_t port = (mica_handle_t)a0;
    char in[64], out[80];
    struct mica_msg_buf b = rbuf(in, sizeof(in), NULL, 0);
    int err = mica_port_receive(port, &b, 0);
    while (err == OK) {
        if (b.kind == MICA_RECV_MESSAGE && b.actual_bytes == 4 &&
            memcmp(in, "quit", 4) == 0)
            break;
        out[0] = (char)('0' + b.key);
        out[1] = ':';
        memcpy(out + 2, in, b.actual_bytes);
        struct mica_msg r = { .bytes = out, .num_bytes = b.actual_bytes + 2 };
        uint64_t tx = b.txid;
        b = rbuf(in, sizeof(in), NULL, 0);
        err = tx ? mica_reply_receive(port, tx, &r, &b, 0)
                 : mica_port_receive(port, &b, 0);
    }
    mica_thread_exit();
}

UTEST(port_serves_many_channels)
{
    mica_handle_t port, a[2], b[2], t;
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_channel_create(0, a) == OK);
    UASSERT(mica_channel_create(0, b) == OK);
    UASSERT(mica_channel_bind(a[1], port, 1) == OK);
    UASSERT(mica_channel_bind(b[1], port, 2) == OK);
    UEXPECT(mica_channel_bind(b[1], port, 3) == ERR_ALREADY_EXISTS);
    struct mica_msg_buf rb;
    char buf[16];
    rb = rbuf(buf, sizeof(buf), NULL, 0);
    UEXPECT(mica_channel_read(a[1], &rb) == ERR_BAD_STATE);   /* bound */
    UASSERT(start_thread(port_server, port, 0, &t) == OK);
    for (int i = 0; i < 50; i++) {
        char r[16] = { 0 };
        struct mica_msg m = { .bytes = "hi", .num_bytes = 2 };
        rb = rbuf(r, sizeof(r), NULL, 0);
        mica_handle_t via = i % 2 ? a[0] : b[0];
        UASSERT(mica_channel_call(via, &m, &rb, 0) == OK);
        UEXPECT(rb.actual_bytes == 4 && r[0] == (i % 2 ? '1' : '2') &&
                r[2] == 'h');
    }
    UASSERT(mica_channel_write(a[0], "quit", 4, NULL, 0) == OK);
    UEXPECT(mica_object_wait_one(t, SIGNAL_TERMINATED, now_ns() + 10 * SEC,
                                 NULL) == OK);
    mica_handle_close(t);
    mica_handle_close(a[0]);
    mica_handle_close(a[1]);
    mica_handle_close(b[0]);
    mica_handle_close(b[1]);
    mica_handle_close(port);
}

UTEST(port_packets_and_deadlines)
{
    mica_handle_t port, ro;
    UASSERT(mica_port_create(0, &port) == OK);
    UEXPECT(mica_port_create(5, &ro) == ERR_INVALID_ARGS);
    struct mica_packet p = { .key = 7, .data = { 1, 2, 3, 4 } }, got;
    UEXPECT(mica_port_wait(port, now_ns() + 1000000, &got) == ERR_TIMED_OUT);
    UEXPECT(mica_port_wait(port, 1, &got) == ERR_TIMED_OUT);
    UASSERT(mica_port_queue(port, &p) == OK);
    memset(&got, 0, sizeof(got));
    UEXPECT(mica_port_wait(port, 0, &got) == OK && got.key == 7 &&
            got.type == MICA_PACKET_USER && got.data[3] == 4);
    unsigned n = 0;
    while (mica_port_queue(port, &p) == OK)
        n++;
    UEXPECT(n == MICA_PORT_MAX_PACKETS);
    UEXPECT(mica_port_queue(port, &p) == ERR_SHOULD_WAIT);
    char buf[4];
    struct mica_msg_buf b = rbuf(buf, sizeof(buf), NULL, 0);
    UEXPECT(mica_port_receive(port, &b, 0) == OK &&
            b.kind == MICA_RECV_PACKET && b.packet.key == 7);
    UEXPECT(mica_port_queue(port, (void *)0x10) == ERR_FAULT);
    UEXPECT(mica_port_wait(port, 0, (void *)0x10) == ERR_FAULT);
    UEXPECT(mica_port_receive(port, (void *)0x10, 0) == ERR_FAULT);
    UASSERT(mica_handle_duplicate(port, RIGHT_WAIT, &ro) == OK);
    UEXPECT(mica_port_queue(ro, &p) == ERR_ACCESS_DENIED);
    UEXPECT(mica_port_wait(ro, 0, &got) == ERR_ACCESS_DENIED);
    mica_handle_t ch[2];
    UASSERT(mica_channel_create(0, ch) == OK);
    UEXPECT(mica_channel_bind(ch[1], ro, 1) == ERR_ACCESS_DENIED);
    UEXPECT(mica_channel_bind(ch[1], ch[0], 1) == ERR_WRONG_TYPE);
    UEXPECT(mica_port_wait(ch[0], 0, &got) == ERR_WRONG_TYPE);
    mica_handle_close(ch[0]);
    mica_handle_close(ch[1]);
    mica_handle_close(ro);
    mica_handle_close(port);
}

/* --- calls between processes, and death ------------------------------------------ */

/* Serve calls on the channel it was given (a0) through a port of its
 * own; arg 1: answer each with "ok"; arg 2: take one call, tell the
 * caller through a second message... and never answer. */
static void clone_server(uint64_t a0, uint64_t a1)
{
    mica_handle_t ep = (mica_handle_t)a0, port;
    if (mica_port_create(0, &port) || mica_channel_bind(ep, port, 5))
        mica_process_exit(3);
    char in[64];
    struct mica_msg_buf b = rbuf(in, sizeof(in), NULL, 0);
    int err = mica_port_receive(port, &b, 0);
    while (err == OK) {
        if (a1 == 2) {
            for (;;)
                mica_nanosleep(now_ns() + SEC);
        }
        struct mica_msg r = { .bytes = in, .num_bytes = b.actual_bytes };
        uint64_t tx = b.txid;
        b = rbuf(in, sizeof(in), NULL, 0);
        err = mica_reply_receive(port, tx, &r, &b, 0);
    }
    mica_process_exit(0);
}

UTEST(call_between_processes)
{
    struct mica_system_info before, after;
    settle(&before, NULL);
    mica_handle_t ch[2], p;
    UASSERT(mica_channel_create(0, ch) == OK);
    UASSERT(start_clone(clone_server, ch[1], 1, &p) == OK);
    for (int i = 0; i < 200; i++) {
        char msg[64], reply[64];
        memset(msg, 'a' + i % 26, sizeof(msg));
        struct mica_msg m = { .bytes = msg, .num_bytes = 1 + i % 64 };
        struct mica_msg_buf b = rbuf(reply, sizeof(reply), NULL, 0);
        UASSERT(mica_channel_call(ch[0], &m, &b, 0) == OK);
        UEXPECT(b.actual_bytes == m.num_bytes && reply[0] == msg[0] &&
                reply[b.actual_bytes - 1] == msg[0]);
    }
    end_process(p);
    mica_handle_close(ch[0]);
    settle(&after, &before);
    UEXPECT(after.live_channels == before.live_channels);
    UEXPECT(after.live_ports == before.live_ports);
    UEXPECT(after.live_processes == before.live_processes);
}

struct killer {
    mica_handle_t proc;
    volatile int go;
};

static void kill_when_told(uint64_t a0, uint64_t a1)
{
    (void)a1;
    struct killer *k = (struct killer *)a0;
    while (!k->go)
        mica_thread_yield();
    mica_nanosleep(now_ns() + 20000000);    /* let the call reach it */
    mica_process_kill(k->proc, 9);
    mica_thread_exit();
}

UTEST(server_killed_mid_call_fails_the_call)
{
    struct mica_system_info before, after;
    settle(&before, NULL);
    static struct killer k;
    mica_handle_t ch[2], t;
    UASSERT(mica_channel_create(0, ch) == OK);
    UASSERT(start_clone(clone_server, ch[1], 2, &k.proc) == OK);
    k.go = 0;
    UASSERT(start_thread(kill_when_told, (uint64_t)&k, 0, &t) == OK);
    char reply[8];
    struct mica_msg m = { .bytes = "hang", .num_bytes = 4 };
    struct mica_msg_buf b = rbuf(reply, sizeof(reply), NULL, 0);
    k.go = 1;
    UEXPECT(mica_channel_call(ch[0], &m, &b, now_ns() + 60 * SEC) ==
            ERR_PEER_CLOSED);
    mica_object_wait_one(t, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(t);
    mica_object_wait_one(k.proc, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(k.proc);
    mica_handle_close(ch[0]);
    settle(&after, &before);
    UEXPECT(after.live_channels == before.live_channels);
    UEXPECT(after.live_ports == before.live_ports);
    UEXPECT(after.free_pages == before.free_pages);
}

/* A client in another process: call through the channel it was given,
 * forever. */
static void clone_client(uint64_t a0, uint64_t a1)
{
    (void)a1;
    char reply[8];
    struct mica_msg m = { .bytes = "call", .num_bytes = 4 };
    for (;;) {
        struct mica_msg_buf b = rbuf(reply, sizeof(reply), NULL, 0);
        if (mica_channel_call((mica_handle_t)a0, &m, &b, 0) != OK)
            mica_process_exit(1);
    }
}

UTEST(client_killed_mid_call_reply_fails_cleanly)
{
    struct mica_system_info before, after;
    settle(&before, NULL);
    mica_handle_t ch[2], p, port;
    UASSERT(mica_port_create(0, &port) == OK);
    UASSERT(mica_channel_create(0, ch) == OK);
    UASSERT(mica_channel_bind(ch[1], port, 9) == OK);
    UASSERT(start_clone(clone_client, ch[0], 0, &p) == OK);
    char in[8];
    struct mica_msg_buf b = rbuf(in, sizeof(in), NULL, 0);
    UASSERT(mica_port_receive(port, &b, 0) == OK);
    UEXPECT(b.key == 9 && b.txid != 0 && b.actual_bytes == 4);
    end_process(p);
    struct mica_msg r = { .bytes = "late", .num_bytes = 4 };
    UEXPECT(mica_reply_receive(port, b.txid, &r, NULL, 0) == ERR_NOT_FOUND);
    mica_signals_t seen;
    UEXPECT(mica_object_wait_one(ch[1], SIGNAL_PEER_CLOSED, 0, &seen) == OK);
    mica_handle_close(ch[1]);
    mica_handle_close(port);
    settle(&after, &before);
    UEXPECT(after.live_channels == before.live_channels);
    UEXPECT(after.live_ports == before.live_ports);
    UEXPECT(after.live_processes == before.live_processes);
    UEXPECT(after.free_pages == before.free_pages);
}

UTEST(late_reply_never_reaches_a_later_call)
{
    mica_handle_t ch[2];
    UASSERT(mica_channel_create(0, ch) == OK);
    char reply[8] = { 0 }, in[8];
    struct mica_msg m = { .bytes = "one", .num_bytes = 3 };
    struct mica_msg_buf b = rbuf(reply, sizeof(reply), NULL, 0);
    UEXPECT(mica_channel_call(ch[0], &m, &b, now_ns() + 1000000) ==
            ERR_TIMED_OUT);
    struct mica_msg_buf rb = rbuf(in, sizeof(in), NULL, 0);
    UASSERT(mica_channel_read(ch[1], &rb) == OK);
    uint64_t first = rb.txid;
    struct mica_msg late = { .bytes = "late", .num_bytes = 4 };
    UEXPECT(mica_channel_reply_read(ch[1], first, &late, NULL, 0) ==
            ERR_NOT_FOUND);
    /* the next call gets its own reply only */
    static struct server_arg s;
    mica_handle_t t;
    s.ep = ch[1];
    s.served = 0;
    UASSERT(start_thread(echo_server, (uint64_t)&s, 0, &t) == OK);
    m.bytes = "two";
    b = rbuf(reply, sizeof(reply), NULL, 0);
    int e = mica_channel_call(ch[0], &m, &b, now_ns() + 20 * SEC);
    UEXPECT(e == OK && memcmp(reply, "owt", 3) == 0);
    if (e) utest_fail(mica_status_str(e), __FILE__, __LINE__);
    mica_handle_close(ch[0]);
    UEXPECT(mica_object_wait_one(t, SIGNAL_TERMINATED, now_ns() + 20 * SEC, NULL) == OK);
    mica_handle_close(t);
    mica_handle_close(ch[1]);
}

struct closer {
    mica_handle_t h;
    volatile int go;
};

static void close_when_told(uint64_t a0, uint64_t a1)
{
    (void)a1;
    struct closer *c = (struct closer *)a0;
    while (!c->go)
        mica_thread_yield();
    mica_nanosleep(now_ns() + 20000000);
    mica_handle_close(c->h);
    mica_thread_exit();
}

UTEST(call_canceled_when_its_handle_is_closed)
{
    static struct closer c;
    mica_handle_t ch[2], t;
    UASSERT(mica_channel_create(0, ch) == OK);
    c.h = ch[0];
    c.go = 0;
    UASSERT(start_thread(close_when_told, (uint64_t)&c, 0, &t) == OK);
    char reply[8];
    struct mica_msg m = { .bytes = "x", .num_bytes = 1 };
    struct mica_msg_buf b = rbuf(reply, sizeof(reply), NULL, 0);
    c.go = 1;
    UEXPECT(mica_channel_call(ch[0], &m, &b, now_ns() + 60 * SEC) ==
            ERR_CANCELED);
    mica_object_wait_one(t, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(t);
    /* the request stays queued for the server, whose reply finds nothing */
    char in[4];
    b = rbuf(in, sizeof(in), NULL, 0);
    UEXPECT(mica_channel_read(ch[1], &b) == OK && b.txid != 0);
    UEXPECT(mica_channel_reply_read(ch[1], b.txid, &m, NULL, 0) ==
            ERR_NOT_FOUND);
    UEXPECT(mica_channel_read(ch[1], &b) == ERR_PEER_CLOSED);
    mica_handle_close(ch[1]);
}

/* The receiver's buffer goes away while messages are copied into it. */
struct flipper {
    uint64_t addr;
    mica_handle_t vmo;
    volatile int stop;
};

static void flip_mapping(uint64_t a0, uint64_t a1)
{
    (void)a1;
    struct flipper *f = (struct flipper *)a0;
    while (!f->stop) {
        mica_vm_unmap(mica_process_self(), f->addr, 65536);
        mica_thread_yield();
        uint64_t at = f->addr;
        mica_vm_map(mica_process_self(), f->vmo, 0, 65536,
                    MICA_VM_READ | MICA_VM_WRITE | MICA_VM_FIXED, &at);
        mica_thread_yield();
    }
    mica_thread_exit();
}

UTEST(unmapped_buffer_mid_copy_is_an_error_not_a_crash)
{
    static struct flipper f;
    mica_handle_t ch[2], t;
    UASSERT(mica_channel_create(0, ch) == OK);
    UASSERT(mica_vmo_create(65536, &f.vmo) == OK);
    f.addr = 0;
    UASSERT(mica_vm_map(mica_process_self(), f.vmo, 0, 65536,
                        MICA_VM_READ | MICA_VM_WRITE, &f.addr) == OK);
    f.stop = 0;
    UASSERT(start_thread(flip_mapping, (uint64_t)&f, 0, &t) == OK);
    static char src[65536];
    int ok = 0, fault = 0, other = 0;
    for (int i = 0; i < 100; i++) {
        /* write from the flipping buffer, read into it */
        int e = mica_channel_write(ch[0], (void *)f.addr, 65536, NULL, 0);
        ok += e == OK;
        fault += e == ERR_FAULT;
        other += e != OK && e != ERR_FAULT;
        UEXPECT(mica_channel_write(ch[0], src, 65536, NULL, 0) == OK);
        for (int j = 0; j < 2; j++) {
            struct mica_msg_buf b = rbuf((void *)f.addr, 65536, NULL, 0);
            e = mica_channel_read(ch[1], &b);
            if (e == ERR_FAULT)
                e = mica_channel_read(ch[1], &(struct mica_msg_buf){
                                          .bytes = src, .bytes_cap = 65536 });
            other += e != OK && e != ERR_SHOULD_WAIT;
        }
    }
    f.stop = 1;
    mica_object_wait_one(t, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(t);
    UEXPECT(other == 0);
    UEXPECT(ok + fault == 100);
    mica_handle_close(f.vmo);
    mica_handle_close(ch[0]);
    mica_handle_close(ch[1]);
}

/* --- grants ------------------------------------------------------------------- */

#define GRANT_LEN (256u * 1024)
static char grant_src[GRANT_LEN], grant_peek[8];

/* For each call: with a grant, read its first 8 bytes, fill it from
 * grant_src, try one byte past its end, and keep it; without, use the
 * grant kept from an earlier call.  Replies with the statuses. */
static void grant_server(uint64_t ep, uint64_t a1)
{
    (void)a1;
    mica_handle_t hs[2], kept = 0;
    uint32_t len;
    struct mica_msg_buf b = rbuf(&len, sizeof(len), hs, 2);
    int err = mica_channel_reply_read((mica_handle_t)ep, 0, NULL, &b, 0);
    while (err == OK) {
        int r[3];
        if (b.actual_handles == 1) {
            kept = hs[0];
            r[0] = mica_grant_read(kept, 0, grant_peek, 8);
            r[1] = mica_grant_write(kept, 0, grant_src, len);
            r[2] = mica_grant_write(kept, len, grant_src, 1);
        } else {
            r[0] = mica_grant_write(kept, 0, grant_src, 1);
            r[1] = mica_grant_read(kept, 0, grant_peek, 1);
            r[2] = OK;
        }
        struct mica_msg m = { .bytes = r, .num_bytes = sizeof(r) };
        uint64_t tx = b.txid;
        b = rbuf(&len, sizeof(len), hs, 2);
        err = mica_channel_reply_read((mica_handle_t)ep, tx, &m, &b, 0);
    }
    mica_thread_exit();
}

UTEST(grant_works_during_its_call_only)
{
    static char dst[GRANT_LEN];
    mica_handle_t ch[2], t, g;
    for (unsigned i = 0; i < GRANT_LEN; i++)
        grant_src[i] = (char)(i * 7 + 1);
    memcpy(dst, "request!", 8);
    UASSERT(mica_channel_create(0, ch) == OK);
    UASSERT(start_thread(grant_server, ch[1], 0, &t) == OK);
    UASSERT(mica_grant_create(dst, GRANT_LEN, RIGHT_READ | RIGHT_WRITE,
                              &g) == OK);
    uint32_t len = GRANT_LEN;
    int r[3] = { 1, 1, 1 };
    struct mica_msg m = { .bytes = &len, .num_bytes = 4, .handles = &g,
                          .num_handles = 1 };
    struct mica_msg_buf b = rbuf(r, sizeof(r), NULL, 0);
    UASSERT(mica_channel_call(ch[0], &m, &b, now_ns() + 60 * SEC) == OK);
    UEXPECT(r[0] == OK && memcmp(grant_peek, "request!", 8) == 0);
    UEXPECT(r[1] == OK && memcmp(dst, grant_src, GRANT_LEN) == 0);
    UEXPECT(r[2] == ERR_OUT_OF_RANGE);
    /* the call is over: the server's grant is dead */
    m.num_handles = 0;
    b = rbuf(r, sizeof(r), NULL, 0);
    dst[0] = 'k';
    UASSERT(mica_channel_call(ch[0], &m, &b, now_ns() + 60 * SEC) == OK);
    UEXPECT(r[0] == ERR_BAD_STATE && r[1] == ERR_BAD_STATE);
    UEXPECT(dst[0] == 'k');
    mica_handle_close(ch[0]);
    mica_object_wait_one(t, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(t);
    mica_handle_close(ch[1]);
}

UTEST(grant_errors)
{
    static char mem[4096];
    mica_handle_t g, ro, v;
    UEXPECT(mica_grant_create(mem, 16, 0, &g) == ERR_INVALID_ARGS);
    UEXPECT(mica_grant_create(mem, 16, RIGHT_EXECUTE, &g) ==
            ERR_INVALID_ARGS);
    UEXPECT(mica_grant_create(mem, 0, RIGHT_READ, &g) == ERR_INVALID_ARGS);
    UEXPECT(mica_grant_create((void *)0xFFFFFFFF80100000ull, 16, RIGHT_READ,
                              &g) == ERR_OUT_OF_RANGE);
    UEXPECT(mica_grant_create(mem, 16, RIGHT_READ, (void *)0x10) ==
            ERR_FAULT);
    UASSERT(mica_grant_create(mem, 16, RIGHT_READ, &g) == OK);
    char buf[16];
    UEXPECT(mica_grant_read(g, 0, buf, 16) == ERR_BAD_STATE);  /* no call */
    UEXPECT(mica_grant_write(g, 0, buf, 16) == ERR_ACCESS_DENIED);
    UEXPECT(mica_grant_read(0x12345, 0, buf, 16) == ERR_BAD_HANDLE);
    UASSERT(mica_vmo_create(4096, &v) == OK);
    UEXPECT(mica_grant_read(v, 0, buf, 16) == ERR_WRONG_TYPE);
    UASSERT(mica_handle_duplicate(g, RIGHT_TRANSFER, &ro) == OK);
    UEXPECT(mica_grant_read(ro, 0, buf, 16) == ERR_ACCESS_DENIED);
    mica_handle_close(ro);
    mica_handle_close(v);
    mica_handle_close(g);
}

/* Range and fault errors need a live grant: a server thread that runs
 * one script per call, given the grant. */
static void grant_checker(uint64_t ep, uint64_t a1)
{
    (void)a1;
    mica_handle_t hs[1];
    char in[4], buf[32];
    struct mica_msg_buf b = rbuf(in, sizeof(in), hs, 1);
    if (mica_channel_reply_read((mica_handle_t)ep, 0, NULL, &b, 0) == OK) {
        int r[4];
        r[0] = mica_grant_read(hs[0], 8, buf, 9);           /* 8 + 9 > 16 */
        r[1] = mica_grant_read(hs[0], 17, buf, 0);
        r[2] = mica_grant_read(hs[0], 0, (void *)0x10, 4);  /* ours bad */
        r[3] = mica_grant_read(hs[0], 0, buf, 16);          /* theirs bad */
        struct mica_msg m = { .bytes = r, .num_bytes = sizeof(r) };
        mica_channel_reply_read((mica_handle_t)ep, b.txid, &m, NULL, 0);
    }
    mica_thread_exit();
}

UTEST(grant_bounds_and_faults)
{
    mica_handle_t ch[2], t, g;
    UASSERT(mica_channel_create(0, ch) == OK);
    UASSERT(start_thread(grant_checker, ch[1], 0, &t) == OK);
    /* 16 bytes at an address nothing is mapped at */
    UASSERT(mica_grant_create((void *)0x7e0000000000ull, 16, RIGHT_READ,
                              &g) == OK);
    int r[4] = { 1, 1, 1, 1 };
    for (int i = 0; i < 10; i++)
        mica_thread_yield();            /* let it block: the direct path */
    struct mica_msg m = { .bytes = NULL, .num_bytes = 0, .handles = &g,
                          .num_handles = 1 };
    struct mica_msg_buf b = rbuf(r, sizeof(r), NULL, 0);
    UASSERT(mica_channel_call(ch[0], &m, &b, now_ns() + 60 * SEC) == OK);
    UEXPECT(r[0] == ERR_OUT_OF_RANGE);
    UEXPECT(r[1] == ERR_OUT_OF_RANGE);
    UEXPECT(r[2] == ERR_FAULT);
    UEXPECT(r[3] == ERR_FAULT);
    mica_object_wait_one(t, SIGNAL_TERMINATED, 0, NULL);
    mica_handle_close(t);
    mica_handle_close(ch[0]);
    mica_handle_close(ch[1]);
}
