/*
 * services.c - init starting the servers and drivers of the boot
 * manifest, and supervising them.
 *
 * The manifest (`manifest` in the bootfs, and on a test boot
 * `test-manifest` after it; docs/services.md) is parsed whole first: an
 * error anywhere starts nothing and is printed with its line.  Then
 * every program's interface note is read and checked (verify.c): a
 * program that calls a method nothing serves is refused, the rest
 * start.  Lines start in order and init waits until each is ready
 * before the next, so a server is up before the programs that connect
 * to it.  A line with serve=NAME gets a listening channel made here and
 * published in the name service under NAME, with the methods its note
 * says it serves; init keeps a handle to the listening end, so the
 * name, and the connections queued in it, outlive the program.
 *
 * Then one thread (the main one on a normal boot, a second one beside
 * the test suites on a test boot) supervises, on one port:
 *  - each program's end (an observer for TERMINATED): per its restart=
 *    policy it is started again, at once the first time, then after
 *    BACKOFF_BASE_NS, doubling up to BACKOFF_MAX_NS, the series starting
 *    over once an instance has run STABLE_NS;
 *  - each program's startup channel: "ready", "alive" (the answer to
 *    the heartbeat init sends every heartbeat= period; a program that
 *    has not answered by the next one is hung: killed, and restarted as
 *    a crash), "busy" and "idle" (its clients come and go);
 *  - the listening endpoints of on-demand lines that are not running:
 *    a connection request arriving there starts the program; one that
 *    has said "idle" for its idle= time with nothing queued is killed,
 *    which gives back all its memory;
 *  - the channels of init's protocol (init_proto.h), given to suites.
 * Packet keys carry the program's index, what is observed and the
 * instance's generation, so a late packet of a dead instance is
 * recognized and dropped.  A lock guards the table: the suites' thread
 * asks for connections and checks on the programs while this runs.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bootfs.h"
#include "caps.h"
#include "init_proto.h"
#include "mica.h"
#include "service.h"
#include "services.h"
#include "svc_client.h"
#include "verify.h"

#define MS 1000000ull
#define READY_TIMEOUT_NS (60000 * MS)       /* a safety net */
#define BACKOFF_BASE_NS (200 * MS)
#define BACKOFF_MAX_NS (12800 * MS)
#define STABLE_NS (30000 * MS)
#define MAX_CONTROL 8

enum { K_PROC = 1, K_CHAN, K_LISTEN, K_CONTROL };

struct prog {
    const struct manifest_entry *e;
    struct verdict v;
    uint32_t state;                 /* INIT_STATE_* */
    uint32_t gen;                   /* instances started */
    mica_handle_t listen[MANIFEST_MAX_CAPS];   /* serve=: init's handle */
    unsigned restarts, streak, missed;
    int last_exit;
    uint64_t started_at, ready_at, ended_at, restart_at, hb_next;
    uint64_t idle_since;
    bool hb_waiting, idle, stopping, hung;
};

static struct manifest manifest;
static struct verdict verdicts[MANIFEST_MAX_ENTRIES];
static struct prog progs[MANIFEST_MAX_ENTRIES];
static struct service svcs[MANIFEST_MAX_ENTRIES];   /* running: entry set */
static unsigned nprogs;
static const void *bootfs;
static size_t bootfs_len;
static mica_handle_t port, init_svc;
static mica_handle_t control[MAX_CONTROL];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now_ns(void)
{
    uint64_t t;
    mica_clock_get(&t);
    return t;
}

static uint64_t key_of(unsigned i, unsigned kind, uint32_t gen)
{
    return (uint64_t)gen << 32 | (uint64_t)i << 8 | kind;
}

static int pid_of(mica_handle_t p, int *exit_code)
{
    struct mica_process_info info = { 0 };
    mica_process_info(p, &info);
    if (exit_code)
        *exit_code = info.exit_code;
    return (int)info.pid;
}

/* --- starting ------------------------------------------------------------ */

static mica_handle_t listen_for(const struct manifest_entry *e, unsigned cap)
{
    mica_handle_t h = 0;
    struct prog *p = &progs[e - manifest.e];
    if (p->listen[cap])
        mica_handle_duplicate(p->listen[cap], RIGHT_SAME_RIGHTS, &h);
    return h;
}

static void print_started(const struct prog *p)
{
    const struct manifest_entry *e = p->e;
    const struct service *s = &svcs[p - progs];
    printf("init: started %s (%s, pid %d)%s", e->name, e->program,
           pid_of(s->proc, NULL), e->log || e->stdio[0] || e->ncaps ? ":"
                                                                  : "");
    if (e->log)
        printf(" log");
    if (e->stdio[0])
        printf(" stdio=%s", e->stdio);
    for (unsigned i = 0; i < e->ncaps; i++)
        printf(" %s", e->caps[i].token);
    printf("\n");
}

/* Observe the running instance of p: its end and its startup channel. */
static void observe(struct prog *p)
{
    unsigned i = (unsigned)(p - progs);
    mica_object_wait_async(svcs[i].proc, port, key_of(i, K_PROC, p->gen),
                           SIGNAL_TERMINATED, 0);
    mica_object_wait_async(svcs[i].chan, port, key_of(i, K_CHAN, p->gen),
                           SIGNAL_READABLE, 0);
}

/* On-demand and not running: wait for a connection request. */
static void await_connect(struct prog *p)
{
    unsigned i = (unsigned)(p - progs);
    p->state = INIT_STATE_STOPPED;
    for (unsigned k = 0; k < MANIFEST_MAX_CAPS; k++)
        if (p->listen[k])
            mica_object_wait_async(p->listen[k], port,
                                   key_of(i, K_LISTEN, p->gen),
                                   SIGNAL_READABLE, 0);
}

static void stop_awaiting(struct prog *p)
{
    unsigned i = (unsigned)(p - progs);
    for (unsigned k = 0; k < MANIFEST_MAX_CAPS; k++)
        if (p->listen[k])
            mica_object_wait_cancel(p->listen[k], port,
                                    key_of(i, K_LISTEN, p->gen));
}

/* Start p's program; the caller waits for it to be ready, or not. */
static int launch(struct prog *p)
{
    unsigned i = (unsigned)(p - progs);
    const char *why = "";
    struct service_set set = { svcs, nprogs, listen_for };
    stop_awaiting(p);
    p->gen++;
    p->started_at = now_ns();
    p->hb_waiting = p->stopping = p->hung = false;
    p->idle = true;
    p->idle_since = p->started_at;
    int err = service_start(p->e, bootfs, bootfs_len,
                            mica_resource_handle(), &set, &svcs[i], &why);
    if (err) {
        printf("init: cannot start %s (%s): %s: %s\n", p->e->name,
               p->e->program, why, mica_status_str(err));
        p->state = INIT_STATE_FAILED;
        return err;
    }
    p->state = INIT_STATE_STARTING;
    return OK;
}

static void became_ready(struct prog *p)
{
    p->state = INIT_STATE_RUNNING;
    p->ready_at = now_ns();
    p->idle_since = p->ready_at;
    p->hb_next = p->ready_at + p->e->heartbeat_ns;
}

/* --- the listening endpoints --------------------------------------------- */

/* Make p's listening channels and publish them, with the methods its
 * note serves, under their names. */
static void publish(struct prog *p)
{
    const struct manifest_entry *e = p->e;
    static struct mica_iface_entry m[SVC_METHODS_MAX];
    unsigned n = p->v.note.serves.n;
    if (n > SVC_METHODS_MAX)
        n = SVC_METHODS_MAX;
    for (unsigned k = 0; k < n; k++)
        iface_note_entry(&p->v.note.serves, k, &m[k]);
    for (unsigned k = 0; k < e->ncaps; k++) {
        mica_handle_t ch[2];
        if (e->caps[k].kind != CAP_SERVE)
            continue;
        const char *name = manifest_serve_name(&e->caps[k]);
        int err = mica_channel_create(0, ch);
        if (!err) {
            p->listen[k] = ch[1];
            err = init_svc ? svc_publish(init_svc, name, m, n, ch[0])
                           : ERR_NOT_FOUND;
        }
        if (err)
            printf("init: cannot publish %s for %s: %s\n", name, e->name,
                   mica_status_str(err));
    }
}

/* --- the start at boot ----------------------------------------------------- */

/* Start one entry and wait until it is ready; 0 or 1 (a problem). */
static int start_one(struct prog *p)
{
    unsigned i = (unsigned)(p - progs);
    if (launch(p))
        return 1;
    int err = service_wait_ready(&svcs[i], now_ns() + READY_TIMEOUT_NS);
    if (err == ERR_PEER_CLOSED) {
        int code;
        mica_object_wait_one(svcs[i].proc, SIGNAL_TERMINATED, 0, NULL);
        pid_of(svcs[i].proc, &code);
        printf("init: %s (%s) ended before it was ready: status %d\n",
               p->e->name, p->e->program, code);
        service_stop(&svcs[i]);
        p->state = INIT_STATE_FAILED;
        p->last_exit = code;
        return 1;
    }
    print_started(p);
    observe(p);
    if (err) {
        printf("init: %s is not ready after %llu s; going on\n", p->e->name,
               READY_TIMEOUT_NS / 1000000000ull);
        return 1;
    }
    became_ready(p);
    return 0;
}

static int read_manifests(const void *fs, size_t len, bool testing)
{
    struct bootfs_entry f;
    char err[160];
    if (bootfs_find(fs, len, "manifest", &f)) {
        printf("init: no manifest in the bootfs: nothing started\n");
        return 1;
    }
    if (manifest_parse(f.data, f.size, &manifest, err, sizeof(err))) {
        printf("init: %s: nothing started\n", err);
        return 1;
    }
    if (testing && bootfs_find(fs, len, "test-manifest", &f) == 0 &&
        manifest_append(f.data, f.size, "test-manifest", &manifest, err,
                        sizeof(err))) {
        printf("init: %s: nothing started\n", err);
        manifest.n = 0;
        return 1;
    }
    return 0;
}

static int failed_count(void)
{
    int n = 0;
    for (unsigned i = 0; i < nprogs; i++)
        n += progs[i].state == INIT_STATE_FAILED;
    return n;
}

/* Refusals of the boot manifest are problems; those of the test
 * manifest are what its suites look for. */
static int refusals(void)
{
    int n = 0;
    for (unsigned i = 0; i < nprogs; i++)
        n += progs[i].v.refused && progs[i].e->part == 0;
    return n;
}

int services_start(const void *fs, size_t len, bool testing)
{
    bootfs = fs;
    bootfs_len = len;
    if (read_manifests(fs, len, testing))
        return 1;
    if (mica_port_create(0, &port)) {
        printf("init: no port to supervise from: nothing started\n");
        return 1;
    }
    verify_manifest(&manifest, fs, len, verdicts);
    nprogs = manifest.n;
    int problems = refusals(), running = 0;
    for (unsigned i = 0; i < nprogs; i++) {
        struct prog *p = &progs[i];
        p->e = &manifest.e[i];
        p->v = verdicts[i];
        if (p->v.refused) {
            p->state = INIT_STATE_REFUSED;
            continue;
        }
        publish(p);
        if (p->e->on_demand) {
            await_connect(p);
            continue;
        }
        problems += start_one(p);
        running += svcs[i].proc != 0;
        if (strcmp(p->e->name, MANIFEST_SVC_SERVER) == 0 && svcs[i].proc)
            service_connect(&svcs[i], "svc", &init_svc);
    }
    int on_demand = 0;
    for (unsigned i = 0; i < nprogs; i++)
        on_demand += progs[i].state == INIT_STATE_STOPPED;
    printf("init: %d of %u programs of the manifest running, %d on demand, "
           "%d refused\n", running, nprogs, on_demand,
           (int)(nprogs - (unsigned)running - (unsigned)on_demand) -
               failed_count());
    fflush(stdout);
    return problems;
}

/* --- supervising ------------------------------------------------------------ */

/* How long after an end p starts again, counting the end in its streak. */
static uint64_t backoff(struct prog *p, uint64_t ran)
{
    if (ran >= STABLE_NS)
        p->streak = 0;
    uint64_t d = 0;
    if (p->streak > 0) {
        d = BACKOFF_BASE_NS;
        for (unsigned k = 1; k < p->streak && d < BACKOFF_MAX_NS; k++)
            d *= 2;
        d = d < BACKOFF_MAX_NS ? d : BACKOFF_MAX_NS;
    }
    p->streak++;
    return d;
}

static bool wants_restart(const struct prog *p, int code)
{
    return p->e->restart == RESTART_ALWAYS ||
           (p->e->restart == RESTART_ON_FAILURE && (code != 0 || p->hung));
}

/* p's instance ended with `code`. */
static void ended(struct prog *p, int code)
{
    unsigned i = (unsigned)(p - progs);
    uint64_t now = now_ns();
    p->ended_at = now;
    p->last_exit = code;
    service_stop(&svcs[i]);
    if (p->stopping || (p->e->on_demand && !wants_restart(p, code))) {
        printf("init: %s (%s) stopped%s: status %d; started again on the "
               "next connection\n", p->e->name, p->e->program,
               p->stopping ? " after its idle time" : "", code);
        await_connect(p);
    } else if (!wants_restart(p, code)) {
        printf("init: %s (%s) ended: status %d\n", p->e->name,
               p->e->program, code);
        p->state = INIT_STATE_FAILED;
    } else {
        uint64_t d = backoff(p, now - p->started_at);
        p->restart_at = now + d;
        p->state = INIT_STATE_WAITING;
        printf("init: %s (%s) ended: status %d; restart %u in %llu ms\n",
               p->e->name, p->e->program, code, p->restarts + 1,
               (unsigned long long)(d / MS));
    }
    fflush(stdout);
}

static void kill_prog(struct prog *p, int code)
{
    mica_process_kill(svcs[p - progs].proc, code);
}

/* Messages on p's startup channel: at most a queue's worth at a time,
 * so that a program writing without end cannot keep init from the
 * others (the observer brings init back for the rest). */
static void startup_message(struct prog *p)
{
    unsigned i = (unsigned)(p - progs);
    char buf[16];
    mica_handle_t hs[4];
    for (unsigned left = MICA_CHANNEL_MAX_QUEUED; left > 0; left--) {
        struct mica_msg_buf m = { .bytes = buf, .bytes_cap = sizeof(buf),
                                  .handles = hs, .handles_cap = 4 };
        int err = mica_channel_read(svcs[i].chan, &m);
        if (err == ERR_BUFFER_TOO_SMALL) {
            static char big[MICA_MSG_MAX_BYTES];
            static mica_handle_t hb[MICA_MSG_MAX_HANDLES];
            struct mica_msg_buf all = { .bytes = big,
                                        .bytes_cap = sizeof(big),
                                        .handles = hb,
                                        .handles_cap = MICA_MSG_MAX_HANDLES };
            if (mica_channel_read(svcs[i].chan, &all) == OK)
                for (uint32_t k = 0; k < all.actual_handles; k++)
                    mica_handle_close(hb[k]);
            continue;
        }
        if (err)
            break;
        for (uint32_t k = 0; k < m.actual_handles; k++)
            mica_handle_close(hs[k]);
        size_t n = m.actual_bytes;
#define IS(s) (n == sizeof(s) - 1 && memcmp(buf, s, n) == 0)
        if (IS(MICA_READY_MSG) && p->state == INIT_STATE_STARTING) {
            print_started(p);
            became_ready(p);
        } else if (IS(MICA_ALIVE_MSG)) {
            p->hb_waiting = false;
        } else if (IS(MICA_BUSY_MSG)) {
            p->idle = false;
        } else if (IS(MICA_IDLE_MSG)) {
            p->idle = true;
            p->idle_since = now_ns();
        }
#undef IS
    }
    mica_object_wait_async(svcs[i].chan, port, key_of(i, K_CHAN, p->gen),
                           SIGNAL_READABLE, 0);
}

static bool queued(mica_handle_t h)
{
    return mica_object_wait_one(h, SIGNAL_READABLE, 1, NULL) == OK;
}

/* Nothing waits for p: no connection request at its listening
 * endpoints, no report ("busy") on its startup channel. */
static bool nothing_queued(const struct prog *p)
{
    if (queued(svcs[p - progs].chan))
        return false;
    for (unsigned k = 0; k < MANIFEST_MAX_CAPS; k++)
        if (p->listen[k] && queued(p->listen[k]))
            return false;
    return true;
}

/* Waiting to restart: start it when its time comes.  The next
 * deadline, or 0. */
static uint64_t tick_waiting(struct prog *p, uint64_t now)
{
    if (now < p->restart_at)
        return p->restart_at;
    p->restarts++;
    if (launch(p) == OK) {
        observe(p);
        return 0;
    }
    p->state = INIT_STATE_WAITING;      /* could not start: try again */
    p->restart_at = now + backoff(p, 0);
    return p->restart_at;
}

/* Started, not ready: killed as hung after READY_TIMEOUT_NS. */
static uint64_t tick_starting(struct prog *p, uint64_t now)
{
    uint64_t due = p->started_at + READY_TIMEOUT_NS;
    if (now < due || p->hung)
        return p->hung ? 0 : due;
    printf("init: %s was not ready in %llu s: killed\n", p->e->name,
           READY_TIMEOUT_NS / 1000000000ull);
    p->hung = true;
    kill_prog(p, -1);
    return 0;
}

/* The heartbeat of a running program: send one, or find the last
 * unanswered and kill it as hung. */
static uint64_t tick_heartbeat(struct prog *p, uint64_t now)
{
    if (now < p->hb_next)
        return p->hb_next;
    if (p->hb_waiting) {
        printf("init: %s did not answer its heartbeat in %llu ms: killed\n",
               p->e->name, (unsigned long long)(p->e->heartbeat_ns / MS));
        p->missed++;
        p->hung = true;
        kill_prog(p, -1);
        return 0;
    }
    mica_channel_write(svcs[p - progs].chan, MICA_HEARTBEAT_MSG,
                       sizeof(MICA_HEARTBEAT_MSG) - 1, NULL, 0);
    p->hb_waiting = true;
    p->hb_next = now + p->e->heartbeat_ns;
    return p->hb_next;
}

/* An idle on-demand program: stopped after its idle time, unless a
 * request or a report is on its way, when it is looked at again soon. */
static uint64_t tick_idle(struct prog *p, uint64_t now)
{
    uint64_t at = p->idle_since + p->e->idle_ns;
    if (now < at)
        return at;
    if (!nothing_queued(p))
        return now + 10 * MS;
    p->stopping = true;
    kill_prog(p, 0);
    return 0;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

/* What is due at `now` for p; its next deadline into *next. */
static void tick_one(struct prog *p, uint64_t now, uint64_t *next)
{
    uint64_t due = 0;
    if (p->state == INIT_STATE_WAITING) {
        due = tick_waiting(p, now);
    } else if (p->state == INIT_STATE_STARTING) {
        due = tick_starting(p, now);
    } else if (p->state == INIT_STATE_RUNNING && !p->stopping && !p->hung) {
        if (p->e->heartbeat_ns)
            due = tick_heartbeat(p, now);
        if (p->e->on_demand && p->idle && !p->hung)
            due = earliest(due, tick_idle(p, now));
    }
    *next = earliest(*next, due);
}

static uint64_t tick(void)
{
    uint64_t now = now_ns(), next = 0;
    for (unsigned i = 0; i < nprogs; i++)
        tick_one(&progs[i], now, &next);
    fflush(stdout);
    return next;
}

/* --- init's protocol ---------------------------------------------------------- */

static struct prog *find_prog(const char *name)
{
    for (unsigned i = 0; i < nprogs; i++)
        if (strcmp(progs[i].e->name, name) == 0)
            return &progs[i];
    return NULL;
}

static int control_request(const struct mica_msg_buf *in,
                           struct init_reply *r)
{
    struct init_request q;
    if (in->actual_bytes != sizeof(q) || in->actual_handles)
        return ERR_INVALID_ARGS;
    memcpy(&q, in->bytes, sizeof(q));
    if (!memchr(q.name, 0, sizeof(q.name)))
        return ERR_INVALID_ARGS;
    if (q.op != INIT_OP_STATUS && q.op != INIT_OP_KILL)
        return ERR_NOT_SUPPORTED;
    struct prog *p = find_prog(q.name);
    if (!p)
        return ERR_NOT_FOUND;
    struct service *s = &svcs[p - progs];
    if (q.op == INIT_OP_KILL) {
        if (!s->proc)
            return ERR_BAD_STATE;
        printf("init: killing %s (%s) as asked: status %d\n", p->e->name,
               p->e->program, q.code);
        kill_prog(p, q.code);
    }
    *r = (struct init_reply){
        .state = p->state, .pid = s->proc ? (uint32_t)pid_of(s->proc, NULL)
                                          : 0,
        .restarts = p->restarts, .last_exit = p->last_exit,
        .missed = p->missed, .started_at = p->started_at,
        .ready_at = p->ready_at, .ended_at = p->ended_at,
        .restart_at = p->restart_at,
    };
    memcpy(r->detail, p->v.method, sizeof(r->detail));
    return OK;
}

static void control_message(const struct mica_msg_buf *in)
{
    struct init_reply r = { 0 };
    for (uint32_t k = 0; k < in->actual_handles; k++)
        mica_handle_close(in->handles[k]);
    if (!in->txid)
        return;
    int err = control_request(in, &r);
    if (err)
        r = (struct init_reply){ .status = err };
    struct mica_msg m = { &r, NULL, sizeof(r), 0 };
    mica_reply_receive(port, in->txid, &m, NULL, 0);
}

int services_control(mica_handle_t *client)
{
    mica_handle_t ch[2];
    int err = mica_channel_create(0, ch);
    if (err)
        return err;
    pthread_mutex_lock(&lock);
    unsigned j = 0;
    while (j < MAX_CONTROL && control[j])
        j++;
    err = j == MAX_CONTROL ? ERR_NO_RESOURCES
                           : mica_channel_bind(ch[1], port,
                                               key_of(0, K_CONTROL, j));
    if (!err)
        err = mica_object_wait_async(ch[1], port, key_of(0, K_CONTROL, j),
                                     SIGNAL_PEER_CLOSED, 0);
    if (!err)
        control[j] = ch[1];
    pthread_mutex_unlock(&lock);
    if (err) {
        mica_handle_close(ch[0]);
        mica_handle_close(ch[1]);
        return err;
    }
    *client = ch[0];
    return OK;
}

/* --- the loop --------------------------------------------------------------------- */

static void packet(const struct mica_packet *pk)
{
    unsigned i = (unsigned)(pk->key >> 8 & 0xff), kind = pk->key & 0xff;
    uint32_t gen = (uint32_t)(pk->key >> 32);
    if (kind == K_CONTROL) {
        if (gen < MAX_CONTROL && control[gen] &&
            (pk->signals & SIGNAL_PEER_CLOSED)) {
            mica_handle_close(control[gen]);
            control[gen] = 0;
        }
        return;
    }
    if (i >= nprogs || gen != progs[i].gen)
        return;                             /* a past instance's */
    struct prog *p = &progs[i];
    if (kind == K_PROC && svcs[i].proc) {
        int code;
        pid_of(svcs[i].proc, &code);
        ended(p, code);
    } else if (kind == K_CHAN && svcs[i].proc) {
        startup_message(p);
    } else if (kind == K_LISTEN && p->state == INIT_STATE_STOPPED) {
        printf("init: a connection to %s: starting it\n", p->e->name);
        if (launch(p) == OK)
            observe(p);
    }
}

static void *supervise(void *arg)
{
    (void)arg;
    static char bytes[MICA_MSG_MAX_BYTES];     /* any message fits */
    static mica_handle_t hs[MICA_MSG_MAX_HANDLES];
    uint64_t next = 0;
    for (;;) {
        struct mica_msg_buf in = { .bytes = bytes, .bytes_cap = sizeof(bytes),
                                   .handles = hs,
                                   .handles_cap = MICA_MSG_MAX_HANDLES };
        int err = mica_port_receive(port, &in, next);
        pthread_mutex_lock(&lock);
        if (err == OK && in.kind == MICA_RECV_PACKET)
            packet(&in.packet);
        else if (err == OK)
            control_message(&in);
        next = tick();
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

void services_supervise(void)
{
    static pthread_t t;
    if (pthread_create(&t, NULL, supervise, NULL) != 0)
        printf("init: cannot start supervising\n");
}

void services_watch(void)
{
    supervise(NULL);
}

/* --- for the suites ------------------------------------------------------------------ */

int services_check(void)
{
    int dead = 0;
    pthread_mutex_lock(&lock);
    for (unsigned i = 0; i < nprogs; i++) {
        const struct prog *p = &progs[i];
        if (p->state == INIT_STATE_FAILED && p->e->part == 0) {
            printf("init: %s does not run: status %d\n", p->e->name,
                   p->last_exit);
            dead++;
        }
    }
    pthread_mutex_unlock(&lock);
    return dead;
}

int services_connect(const char *name, const char *token,
                     mica_handle_t *client)
{
    pthread_mutex_lock(&lock);
    struct service_set set = { svcs, nprogs, NULL };
    struct service *s = service_find(&set, name);
    int err = s ? service_connect(s, token, client) : ERR_NOT_FOUND;
    pthread_mutex_unlock(&lock);
    return err;
}
