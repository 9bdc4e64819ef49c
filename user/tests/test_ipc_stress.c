/*
 * test_ipc_stress.c - many clients and servers calling, closing and dying
 * at random, for a fixed number of operations; afterwards nothing may be
 * left behind.
 *
 * Each round starts server processes (each serves one port with two
 * threads) and client processes (one thread each), all clones of this
 * process.  Every client holds one channel to every server; its server
 * ends are bound to the server's port and live in the server's handle
 * table, so a server's death closes them.  A client gets its channel ends
 * in a first message, then makes a fixed number of operations chosen by
 * its own random stream:
 *
 *   - calls with 0 to 600 bytes, whose replies it checks byte by byte;
 *   - calls carrying handles (a vmo, a fresh channel end), which the
 *     server either sends back in the reply or closes;
 *   - calls with a deadline so near that they often time out, so that
 *     servers answer calls nobody waits for any more;
 *   - messages without reply, which servers drop (queue full is fine);
 *   - rarely, closing one of its channels;
 *   - in about one client of four, once, a call asking the server to die
 *     without answering, which fails every call the server held or had
 *     queued.
 *
 * Meanwhile this process kills one client and one server at a random
 * moment.  A call may end only as OK (with the right reply), PEER_CLOSED
 * (its server died or closed), or TIMED_OUT; a client that sees
 * anything else exits with a code naming what it saw.  Every round must
 * end (a hang fails the boot by its time limit), and after every round
 * the system's counts of processes, channels, ports, vmos and free pages
 * must be what they were before.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mica.h"
#include "utest.h"

#define STACK 16384
#define SEC 1000000000ull

#define ROUNDS 6
#define SERVERS 3
#define CLIENTS 4
#define OPS 150
#define PAYLOAD_MAX 600
#define KILLED 99           /* exit code of processes this test kills */

/* What a client's exit code says. */
enum {
    C_OK = 0, C_BOOTSTRAP = 1, C_BAD_REPLY = 2, C_CALL_ERROR = 3,
    C_WRITE_ERROR = 4, C_HANDLE_ERROR = 5,
};
/* First byte of a request: what the server should do. */
enum { REQ_ECHO = 1, REQ_KEEP = 2, REQ_RETURN = 3, REQ_DIE = 4 };

static uint64_t now_ns(void)
{
    uint64_t t;
    mica_clock_get(&t);
    return t;
}

static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Stacks: each clone runs on its own copy-on-write copy, so clones may
 * share slots; slot 1 is a server's second thread. */
static char stacks[2][STACK] __attribute__((aligned(16)));

static void *stack_top(int i)
{
    return stacks[i] + STACK - 8;       /* entered like a called function */
}

/* A clone of this process running fn(h, arg) on `threads` threads,
 * where h is `give` moved into the clone's table.  (A clone has no handle
 * to itself: its threads are made here.) */
static int start_clone(const char *name, void (*fn)(uint64_t, uint64_t),
                       unsigned threads, mica_handle_t give, uint64_t arg,
                       mica_handle_t *proc)
{
    mica_handle_t t[2], moved;
    unsigned made = 0;
    int err = mica_process_clone(mica_process_self(), name, strlen(name),
                                 proc);
    if (err)
        return err;
    while (!err && made < threads) {
        err = mica_thread_create(*proc, name, strlen(name), &t[made]);
        made += !err;
    }
    if (!err)
        err = mica_handle_transfer(give, *proc, RIGHT_SAME_RIGHTS, &moved);
    for (unsigned i = 0; !err && i < made; i++)
        err = mica_thread_start(t[i], (uint64_t)fn,
                                (uint64_t)stack_top((int)i), moved, arg);
    for (unsigned i = 0; i < made; i++)
        mica_handle_close(t[i]);
    if (err) {
        mica_process_kill(*proc, KILLED);
        mica_handle_close(*proc);
    }
    return err;
}

/* --- servers ----------------------------------------------------------------- */

/* The reply to a request: its bytes, each plus one. */
static void transform(uint8_t *out, const uint8_t *in, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        out[i] = (uint8_t)(in[i] + 1);
}

/* One server thread: serve the port (a0) until it fails. */
static void serve(uint64_t a0, uint64_t a1)
{
    (void)a1;
    mica_handle_t port = (mica_handle_t)a0;
    uint8_t in[PAYLOAD_MAX], out[PAYLOAD_MAX];
    mica_handle_t hs[4];
    struct mica_msg_buf b = {
        .bytes = in, .bytes_cap = sizeof(in), .handles = hs, .handles_cap = 4,
    };
    int err = mica_port_receive(port, &b, 0);
    while (err == OK) {
        struct mica_msg r = { .bytes = out };
        uint64_t tx = b.txid;
        uint8_t req = b.actual_bytes ? in[0] : REQ_ECHO;
        if (req == REQ_DIE)
            mica_process_exit(0);
        transform(out, in, b.actual_bytes);
        r.num_bytes = b.actual_bytes;
        if (req == REQ_RETURN && tx) {
            r.handles = hs;             /* moved back with the reply */
            r.num_handles = b.actual_handles;
        } else {
            for (uint32_t i = 0; i < b.actual_handles; i++)
                mica_handle_close(hs[i]);
        }
        if (!tx) {
            err = mica_port_receive(port, &b, 0);
            continue;
        }
        err = mica_reply_receive(port, tx, &r, &b, 0);
        if (err == OK && b.reply_status != OK && r.num_handles) {
            /* the caller is gone: the handles stayed with us */
            for (uint32_t i = 0; i < r.num_handles; i++)
                mica_handle_close(hs[i]);
        }
    }
    mica_process_exit(0);
}

/* --- clients ----------------------------------------------------------------- */

/* What a client did, sent to the test before it exits. */
struct stats {
    uint32_t ok, peer_closed, timed_out, handles_back, writes, closes;
};

struct client {
    uint64_t seed;
    struct stats st;
    mica_handle_t ch[SERVERS];
    bool live[SERVERS];
    unsigned nlive;
    uint8_t req[PAYLOAD_MAX], reply[PAYLOAD_MAX];
};

static void drop(struct client *c, unsigned i, bool closed)
{
    if (closed)
        c->st.peer_closed++;
    mica_handle_close(c->ch[i]);
    c->live[i] = false;
    c->nlive--;
}

/* Handles to carry with a request: a vmo or a channel end, or both. */
static unsigned make_handles(struct client *c, mica_handle_t hs[2])
{
    unsigned n = 0;
    mica_handle_t pair[2];
    if (rnd(&c->seed) & 1) {
        if (mica_vmo_create(4096, &hs[n]) == OK)
            n++;
    }
    if (mica_channel_create(0, pair) == OK) {
        mica_handle_close(pair[1]);     /* the carried end sees PEER_CLOSED */
        hs[n++] = pair[0];
    }
    return n;
}

/* One call on channel i; returns a client exit code or C_OK. */
static int one_call(struct client *c, unsigned i, uint8_t req,
                    bool with_handles, bool short_deadline)
{
    uint32_t n = 1 + (uint32_t)(rnd(&c->seed) % PAYLOAD_MAX);
    c->req[0] = req;
    for (uint32_t k = 1; k < n; k++)
        c->req[k] = (uint8_t)rnd(&c->seed);
    mica_handle_t hs[2], back[4];
    unsigned nh = with_handles ? make_handles(c, hs) : 0;
    struct mica_msg m = { .bytes = c->req, .num_bytes = n, .handles = hs,
                          .num_handles = nh };
    struct mica_msg_buf b = {
        .bytes = c->reply, .bytes_cap = PAYLOAD_MAX, .handles = back,
        .handles_cap = 4,
    };
    uint64_t deadline = short_deadline ? now_ns() + 20000 : 0;
    int err = mica_channel_call(c->ch[i], &m, &b, deadline);
    if (err == ERR_PEER_CLOSED) {
        drop(c, i, true);
        return C_OK;
    }
    if (err == ERR_TIMED_OUT && short_deadline) {
        c->st.timed_out++;
        return C_OK;                    /* the handles went with the call */
    }
    if (err != OK)
        return C_CALL_ERROR;
    if (b.actual_bytes != n || b.actual_handles != (req == REQ_RETURN ? nh : 0))
        return C_BAD_REPLY;
    for (uint32_t k = 0; k < n; k++)
        if (c->reply[k] != (uint8_t)(c->req[k] + 1))
            return C_BAD_REPLY;
    for (uint32_t k = 0; k < b.actual_handles; k++)
        if (mica_handle_close(back[k]) != OK)
            return C_HANDLE_ERROR;
    c->st.ok++;
    c->st.handles_back += b.actual_handles;
    return C_OK;
}

/* One operation, chosen at random; at op `die_at` the request is that
 * the server die. */
static int one_op(struct client *c, bool die)
{
    unsigned i = (unsigned)(rnd(&c->seed) % SERVERS);
    while (!c->live[i])
        i = (i + 1) % SERVERS;
    unsigned op = (unsigned)(rnd(&c->seed) % 1000);
    if (die)
        return one_call(c, i, REQ_DIE, false, false);
    if (op < 550)
        return one_call(c, i, REQ_ECHO, false, false);
    if (op < 700)
        return one_call(c, i, REQ_RETURN, true, false);
    if (op < 780)
        return one_call(c, i, REQ_KEEP, true, false);
    if (op < 880)
        return one_call(c, i, REQ_ECHO, false, true);
    if (op < 995) {
        int err = mica_channel_write(c->ch[i], "\1async", 6, NULL, 0);
        if (err == ERR_PEER_CLOSED)
            drop(c, i, true);
        else if (err != OK && err != ERR_SHOULD_WAIT)
            return C_WRITE_ERROR;
        c->st.writes += err == OK;
        return C_OK;
    }
    drop(c, i, false);
    c->st.closes++;
    return C_OK;
}

/* A client process: its channel ends come in the first message on a0,
 * its statistics go back there at the end. */
static void client_main(uint64_t a0, uint64_t seed)
{
    static struct client c;
    mica_handle_t boot = (mica_handle_t)a0;
    c.seed = seed | 1;
    struct mica_msg_buf b = { .handles = c.ch, .handles_cap = SERVERS };
    if (mica_object_wait_one(boot, SIGNAL_READABLE, 0, NULL) ||
        mica_channel_read(boot, &b) || b.actual_handles != SERVERS)
        mica_process_exit(C_BOOTSTRAP);
    for (unsigned i = 0; i < SERVERS; i++)
        c.live[i] = true;
    c.nlive = SERVERS;
    /* about one client in four asks a server to die, once */
    unsigned die_at = (unsigned)(rnd(&c.seed) % (4 * OPS));
    for (unsigned n = 0; n < OPS && c.nlive; n++) {
        int code = one_op(&c, n == die_at);
        if (code != C_OK)
            mica_process_exit(code);
    }
    mica_channel_write(boot, &c.st, sizeof(c.st), NULL, 0);
    mica_process_exit(C_OK);
}

/* --- the test ---------------------------------------------------------------- */

static bool same_counts(const struct mica_system_info *a,
                        const struct mica_system_info *b, bool pages)
{
    return a->live_processes == b->live_processes &&
           a->live_threads == b->live_threads &&
           a->live_channels == b->live_channels &&
           a->live_ports == b->live_ports && a->live_vmos == b->live_vmos &&
           (!pages || a->free_pages == b->free_pages);
}

/* The counts once dying processes are gone: until they equal `want` or
 * 30 s have passed (the reaper may be slow on a loaded machine). */
static void settle(struct mica_system_info *info,
                   const struct mica_system_info *want, bool pages)
{
    memset(stacks, 0, sizeof(stacks));
    uint64_t end = now_ns() + 30 * SEC;
    do {
        mica_system_info(info);
        if (want && same_counts(info, want, pages))
            return;
        mica_nanosleep(now_ns() + 20000000);
    } while (want && now_ns() < end);
}

UTEST(ipc_stress_calls_closes_and_deaths)
{
    struct mica_system_info before, after;
    settle(&before, NULL, false);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    struct stats total = { 0 };
    for (unsigned round = 0; round < ROUNDS; round++) {
        mica_handle_t port[SERVERS], server[SERVERS], client[CLIENTS];
        mica_handle_t boot[CLIENTS][2], srv_end[SERVERS][CLIENTS];
        mica_handle_t cli_end[CLIENTS][SERVERS];
        for (unsigned s = 0; s < SERVERS; s++) {
            UASSERT(mica_port_create(0, &port[s]) == OK);
            for (unsigned k = 0; k < CLIENTS; k++) {
                mica_handle_t pair[2];
                UASSERT(mica_channel_create(0, pair) == OK);
                UASSERT(mica_channel_bind(pair[1], port[s], k) == OK);
                cli_end[k][s] = pair[0];
                srv_end[s][k] = pair[1];
            }
        }
        /* servers: the port moves in, then the bound ends follow */
        for (unsigned s = 0; s < SERVERS; s++) {
            UASSERT(start_clone("server", serve, 2, port[s], 0,
                                &server[s]) == OK);
            for (unsigned k = 0; k < CLIENTS; k++) {
                mica_handle_t moved;
                int err = mica_handle_transfer(srv_end[s][k], server[s],
                                               RIGHT_SAME_RIGHTS, &moved);
                if (err) {
                    struct mica_process_info pi = { 0 };
                    mica_process_info(server[s], &pi);
                    printf("    # round %u server %u: transfer %d, state %u exit %d\n", round, s, err, pi.state, pi.exit_code);
                }
                UASSERT(err == OK);
            }
        }
        for (unsigned k = 0; k < CLIENTS; k++) {
            UASSERT(mica_channel_create(0, boot[k]) == OK);
            UASSERT(mica_channel_write(boot[k][0], NULL, 0, cli_end[k],
                                       SERVERS) == OK);
            UASSERT(start_clone("client", client_main, 1, boot[k][1],
                                rnd(&seed), &client[k]) == OK);
        }
        /* one client and one server die at a random moment */
        unsigned victim_c = (unsigned)(rnd(&seed) % CLIENTS);
        unsigned victim_s = (unsigned)(rnd(&seed) % SERVERS);
        mica_nanosleep(now_ns() + rnd(&seed) % 20000000);
        mica_process_kill(client[victim_c], KILLED);
        mica_nanosleep(now_ns() + rnd(&seed) % 20000000);
        mica_process_kill(server[victim_s], KILLED);

        for (unsigned k = 0; k < CLIENTS; k++) {
            UASSERT(mica_object_wait_one(client[k], SIGNAL_TERMINATED,
                                         now_ns() + 120 * SEC, NULL) == OK);
            struct mica_process_info pi;
            UASSERT(mica_process_info(client[k], &pi) == OK);
            if (pi.exit_code != C_OK && pi.exit_code != KILLED)
                printf("    # round %u: client %u exited with %d\n",
                       round, k, pi.exit_code);
            UEXPECT(pi.exit_code == C_OK || pi.exit_code == KILLED);
            mica_handle_close(client[k]);
            struct stats st;
            struct mica_msg_buf b = { .bytes = &st, .bytes_cap = sizeof(st) };
            if (mica_channel_read(boot[k][0], &b) == OK &&
                b.actual_bytes == sizeof(st)) {
                total.ok += st.ok;
                total.peer_closed += st.peer_closed;
                total.timed_out += st.timed_out;
                total.handles_back += st.handles_back;
                total.writes += st.writes;
                total.closes += st.closes;
            }
            mica_handle_close(boot[k][0]);
        }
        for (unsigned s = 0; s < SERVERS; s++) {
            mica_process_kill(server[s], KILLED);
            UASSERT(mica_object_wait_one(server[s], SIGNAL_TERMINATED,
                                         now_ns() + 60 * SEC, NULL) == OK);
            struct mica_process_info pi;
            UASSERT(mica_process_info(server[s], &pi) == OK);
            if (pi.exit_code != 0 && pi.exit_code != KILLED)
                printf("    # round %u: server %u exited with %d\n",
                       round, s, pi.exit_code);
            UEXPECT(pi.exit_code == 0 || pi.exit_code == KILLED);
            mica_handle_close(server[s]);
        }
        /* the first round may grow this process's handle table and the
         * kernel's caches for good: it sets the baseline of free pages */
        settle(&after, &before, round > 0);
        if (round == 0)
            before.free_pages = after.free_pages;
        if (!same_counts(&after, &before, true))
            printf("    # round %u: processes %lu/%lu threads %lu/%lu "
                   "channels %lu/%lu ports %lu/%lu vmos %lu/%lu "
                   "free pages %lu/%lu\n", round, after.live_processes, before.live_processes,
                   after.live_threads, before.live_threads,
                   after.live_channels, before.live_channels,
                   after.live_ports, before.live_ports, after.live_vmos,
                   before.live_vmos, after.free_pages, before.free_pages);
        UASSERT(same_counts(&after, &before, true));
    }
    printf("    # %u calls answered (%u handles came back), %u timed out, "
           "%u channels found closed, %u closed, %u messages\n", total.ok,
           total.handles_back, total.timed_out, total.peer_closed,
           total.closes, total.writes);
    UEXPECT(total.ok > ROUNDS * OPS);   /* the clients really worked */
}
