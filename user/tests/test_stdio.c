/*
 * test_stdio.c - in-system tests of a process's standard streams on a
 * console channel (process_set_stdio; kernel/core/console_client.c).
 *
 * The suite is the console server itself: it spawns bin/stdioprobe
 * (user/tests/progs/stdioprobe.c), an ordinary musl program, with one
 * end of a channel as its console, and answers on the other end the
 * console protocol calls (idl/console.idl) the kernel makes for the
 * program's read, write and their vector forms.  So it sees exactly
 * what the kernel sends, checked by the generated decoder, and can
 * answer anything, the wrong things too: the kernel must refuse every
 * reply that is not a well-formed one to its call.
 * process_set_stdio's own errors are here as well.
 *
 * init gives this suite the bootfs (`bootfs` capability).  Every wait
 * is for progress, bounded by 60 s to turn a hang into a failure.
 */
#include <stdio.h>
#include <string.h>

#include "bootfs.h"
#include "caps.h"
#include "console.h"
#include "idl.h"
#include "mica.h"
#include "spawn.h"
#include "utest.h"

#define SEC 1000000000ull
#define BOUND (60 * SEC)

static uint64_t now_ns(void)
{
    uint64_t t = 0;
    mica_clock_get(&t);
    return t;
}

/* --- the probe and its console ------------------------------------------ */

static const void *fs;
static size_t fs_len;

static bool map_bootfs(void)
{
    mica_handle_t v = mica_cap("bootfs", 0);
    uint64_t size = 0, addr = 0;
    if (fs)
        return true;
    if (!v || mica_vmo_get_size(v, &size) ||
        mica_vm_map(mica_process_self(), v, 0, size, MICA_VM_READ, &addr))
        return false;
    fs = (const void *)addr;
    fs_len = size;
    return true;
}

/* Start bin/stdioprobe doing `what`, its console the other end of *con. */
static int spawn_probe(const char *what, uint32_t flags, mica_handle_t *proc,
                       mica_handle_t *con)
{
    struct bootfs_entry f;
    mica_handle_t ch[2];
    if (!map_bootfs() || bootfs_find(fs, fs_len, "bin/stdioprobe", &f))
        return ERR_NOT_FOUND;
    int err = mica_channel_create(0, ch);
    if (err)
        return err;
    const char *const argv[] = { "stdioprobe", what, NULL };
    struct mica_spawn_args a = { .stdio = ch[1], .flags = flags };
    err = mica_spawn_with(f.data, f.size, "stdioprobe", argv, &a, proc, NULL);
    if (err)
        mica_handle_close(ch[0]);
    else
        *con = ch[0];
    return err;
}

static int exit_code(mica_handle_t proc)
{
    struct mica_process_info info = { .exit_code = -1000 };
    if (mica_object_wait_one(proc, SIGNAL_TERMINATED, now_ns() + BOUND,
                             NULL) != OK)
        return -2000;
    mica_process_info(proc, &info);
    return info.exit_code;
}

/* One request as the server sees it. */
struct req {
    const struct idl_method *m;     /* write or read; NULL: neither */
    bool good;                      /* it decoded (idl_decode) */
    uint32_t count, flags;          /* write: the bytes; read: asked for */
    char data[CONSOLE_DATA_MAX + 1];    /* write's bytes, NUL added */
    uint32_t nbytes, nhandles;
    uint64_t txid;                  /* the channel's */
    uint64_t itxid;                 /* the protocol's */
};

static void decode(const uint64_t *buf, struct req *r)
{
    struct idl_header h;
    if (idl_decode_header(buf, r->nbytes, false, &h))
        return;
    r->itxid = h.txid;
    r->m = h.method == CONSOLE_WRITE_ID  ? &console_write_method
           : h.method == CONSOLE_READ_ID ? &console_read_method
                                         : NULL;
    if (r->m == &console_write_method) {
        struct console_write_req q;
        r->good = idl_decode(&r->m->request, buf, r->nbytes, NULL, NULL,
                             r->nhandles, &q) == OK;
        if (r->good) {
            r->count = q.data.count;
            memcpy(r->data, q.data.data, q.data.count);
        }
    } else if (r->m) {
        struct console_read_req q;
        r->good = idl_decode(&r->m->request, buf, r->nbytes, NULL, NULL,
                             r->nhandles, &q) == OK;
        r->count = q.count;
        r->flags = q.flags;
    }
}

static int next_req(mica_handle_t con, struct req *r)
{
    static uint64_t buf[(IDL_HEADER_SIZE + 8 + CONSOLE_DATA_MAX) / 8 + 1];
    struct mica_msg_buf b = { .bytes = buf, .bytes_cap = sizeof(buf) };
    memset(r, 0, sizeof(*r));
    int err = mica_object_wait_one(con, SIGNAL_READABLE | SIGNAL_PEER_CLOSED,
                                   now_ns() + BOUND, NULL);
    if (!err)
        err = mica_channel_read(con, &b);
    if (err)
        return err;
    r->nbytes = b.actual_bytes;
    r->nhandles = b.actual_handles;
    r->txid = b.txid;
    decode(buf, r);
    return OK;
}

/* The reply to r with `status` and, when OK, its results: a write's
 * count, or a read's n bytes of data; into buf (room for a read's
 * largest).  Its length. */
static uint32_t reply_of(const struct req *r, int status, uint32_t count,
                         const void *data, uint32_t n, uint64_t *buf)
{
    struct idl_header h = { IDL_MAGIC, IDL_FLAG_REPLY, r->itxid,
                            r->m ? r->m->id : 0, status, 0 };
    struct console_write_resp w = { count };
    struct console_read_resp rd = { { data, n } };
    struct idl_out o = { .bytes = buf, .cap = IDL_HEADER_SIZE + 8 +
                                              CONSOLE_DATA_MAX };
    if (status || !r->m) {
        memcpy(buf, &h, sizeof(h));
        return sizeof(h);
    }
    bool wr = r->m == &console_write_method;
    return idl_encode(&r->m->reply, &h, wr ? (void *)&w : (void *)&rd, &o)
               ? 0 : o.len;
}

static uint64_t rbuf[(IDL_HEADER_SIZE + 8 + CONSOLE_DATA_MAX) / 8];

static int send(mica_handle_t con, const struct req *r, uint32_t len)
{
    struct mica_msg m = { rbuf, NULL, len, 0 };
    return mica_channel_reply_read(con, r->txid, &m, NULL, 0);
}

/* Answer r: status, and a write's count or a read's n bytes. */
static int answer(mica_handle_t con, const struct req *r, int status,
                  uint32_t count, const void *data, uint32_t n)
{
    return send(con, r, reply_of(r, status, count, data, n, rbuf));
}

/* The next request is a WRITE call of exactly `text`; answered OK. */
static bool expect_write(mica_handle_t con, const char *text)
{
    struct req r;
    size_t n = strlen(text);
    if (next_req(con, &r) != OK)
        return false;
    bool ok = r.txid && r.m == &console_write_method && r.good &&
              r.count == n && r.nhandles == 0 && memcmp(r.data, text, n) == 0;
    if (!ok) {
        for (char *c = r.data; *c; c++)     /* one comment line */
            *c = *c == '\n' ? '|' : *c;
        printf("    # wanted a write of %zu bytes, got %s count %u "
               "'%.60s'\n", n, r.m ? r.m->name : "?", r.count, r.data);
    }
    answer(con, &r, OK, r.count, NULL, 0);
    return ok;
}

/* The next request is a READ call; answered with `text` (NULL: the end
 * of file). */
static bool expect_read(mica_handle_t con, const char *text)
{
    struct req r;
    uint32_t n = text ? (uint32_t)strlen(text) : 0;
    if (next_req(con, &r) != OK)
        return false;
    bool ok = r.txid && r.m == &console_read_method && r.good &&
              r.count >= n && r.count <= 1024 && r.flags == 0 &&
              r.nhandles == 0;
    answer(con, &r, OK, n, text, n);
    return ok;
}

/* The server's end sees the program's go (its death closes it). */
static bool console_closed(mica_handle_t con)
{
    mica_signals_t s = 0;
    mica_object_wait_one(con, SIGNAL_PEER_CLOSED, now_ns() + BOUND, &s);
    return s & SIGNAL_PEER_CLOSED;
}

/* --- what a program writes and reads -------------------------------------- */

/* printf, write(2) and write(0) all reach the console, even for a
 * process that also holds the log capability; printf's line arrives in
 * one call though musl hands it over in two iovecs. */
UTEST(stdio_writes_reach_the_console)
{
    mica_handle_t p, con;
    UASSERT(spawn_probe("hello", MICA_SPAWN_LOG, &p, &con) == OK);
    UEXPECT(expect_write(con, "hello 42\n"));
    UEXPECT(expect_write(con, "err\n"));
    UEXPECT(expect_write(con, "in\n"));
    UEXPECT(exit_code(p) == 0);
    UEXPECT(console_closed(con));
    mica_handle_close(p);
    mica_handle_close(con);
}

/* fgets reads what the server gives, line by line; an empty answer is
 * the end of file. */
UTEST(stdio_reads_come_from_the_console)
{
    mica_handle_t p, con;
    UASSERT(spawn_probe("echo", 0, &p, &con) == OK);
    UEXPECT(expect_read(con, "line one\n"));
    UEXPECT(expect_write(con, "got:line one\n"));
    UEXPECT(expect_read(con, "tw"));            /* a line in two reads */
    UEXPECT(expect_read(con, "o\n"));
    UEXPECT(expect_write(con, "got:two\n"));
    UEXPECT(expect_read(con, NULL));
    UEXPECT(expect_write(con, "eof\n"));
    UEXPECT(exit_code(p) == 0);
    mica_handle_close(p);
    mica_handle_close(con);
}

/* The probe's report of step `step`. */
static bool expect_report(mica_handle_t con, int step, const char *result)
{
    char line[96];
    snprintf(line, sizeof(line), "%d:%s\n", step, result);
    return expect_write(con, line);
}

/* Answer the next request, which must be a good one of method m. */
static bool answer_next(mica_handle_t con, const struct idl_method *m,
                        int status, uint32_t count, const void *data,
                        uint32_t n, struct req *r)
{
    if (next_req(con, r) != OK || r->m != m || !r->good)
        return false;
    return answer(con, r, status, count, data, n) == OK;
}

/* Answer the next request, a good one of method m, OK but spoilt: byte
 * `at` of the reply XORed with x, or (at 0) its length grown by 8. */
static bool spoil_next(mica_handle_t con, const struct idl_method *m,
                       uint32_t at, uint8_t x, uint32_t count,
                       const char *data)
{
    struct req r;
    uint32_t n = data ? (uint32_t)strlen(data) : 0;
    if (next_req(con, &r) != OK || r.m != m || !r.good)
        return false;
    uint32_t len = reply_of(&r, OK, count, data, n, rbuf);
    if (at)
        ((uint8_t *)rbuf)[at] ^= x;
    else
        memset((uint8_t *)rbuf + len, 0, 8), len += 8;
    return len && send(con, &r, len) == OK;
}

/* What the server answers wrongly, and what the program cannot do, reach
 * the program as Linux errors; nothing reaches the server that the
 * kernel can refuse alone.  Every reply that is not a well-formed one
 * to the kernel's call (docs/idl.md) is EIO, and leaves the kernel as
 * it was. */
UTEST(stdio_errors_reach_the_program)
{
    const struct idl_method *wr = &console_write_method;
    const struct idl_method *rd = &console_read_method;
    mica_handle_t p, con, ev;
    struct req r;
    UASSERT(spawn_probe("errors", 0, &p, &con) == OK);
    /* 1: the server's error, as errno */
    UEXPECT(answer_next(con, wr, ERR_INVALID_ARGS, 0, NULL, 0, &r));
    UEXPECT(expect_report(con, 1, "-22"));              /* EINVAL */
    /* 2, 3: a count above what was sent, a reply shorter than a header */
    UEXPECT(answer_next(con, wr, OK, 3, NULL, 0, &r));
    UEXPECT(expect_report(con, 2, "-5"));               /* EIO */
    UASSERT(next_req(con, &r) == OK);
    UEXPECT(send(con, &r, 4) == OK);
    UEXPECT(expect_report(con, 3, "-5"));
    /* 4: bytes read; 5: a count that is not the bytes given */
    UEXPECT(answer_next(con, rd, OK, 0, "abc", 3, &r));
    UEXPECT(expect_report(con, 4, "3"));
    UEXPECT(spoil_next(con, rd, IDL_HEADER_SIZE + 4, 9 ^ 2, 0, "ab"));
    UEXPECT(expect_report(con, 5, "-5"));
    /* 6: the program's buffer is bad: EFAULT once the bytes come */
    UEXPECT(answer_next(con, rd, OK, 0, "abc", 3, &r));
    UEXPECT(expect_report(con, 6, "-14"));
    /* 7: read of 0, fd 3 both ways, TIOCGWINSZ (80 columns), another
     * ioctl, too many iovecs, iovecs that cannot be read: no call at
     * all; 8: a bad buffer to write */
    UEXPECT(expect_report(con, 7, "0,-9,-9,0/80,-25,-22,-14"));
    UEXPECT(expect_report(con, 8, "-14"));
    /* 9: a big read asks for 1024 bytes at most */
    UASSERT(next_req(con, &r) == OK);
    UEXPECT(r.m == rd && r.good && r.count == 1024);
    answer(con, &r, OK, 0, "q", 1);
    UEXPECT(expect_report(con, 9, "1"));
    /* 10: 10000 bytes in three calls; 11: a short answer ends a write */
    uint32_t sizes[3] = { 4096, 4096, 1808 };
    for (int i = 0; i < 3; i++) {
        UASSERT(next_req(con, &r) == OK);
        UEXPECT(r.m == wr && r.good && r.count == sizes[i] &&
                r.data[0] == 'b' && r.data[sizes[i] - 1] == 'b');
        answer(con, &r, OK, r.count, NULL, 0);
    }
    UEXPECT(expect_report(con, 10, "10000"));
    UEXPECT(answer_next(con, wr, OK, 100, NULL, 0, &r));
    UEXPECT(expect_report(con, 11, "100"));
    /* 12: a reply with a handle does not fit: EIO, the handle stays */
    UASSERT(next_req(con, &r) == OK);
    UASSERT(mica_event_create(0, &ev) == OK);
    uint32_t len = reply_of(&r, OK, 1, NULL, 0, rbuf);
    struct mica_msg with = { rbuf, &ev, len, 1 };
    UEXPECT(mica_channel_reply_read(con, r.txid, &with, NULL, 0) ==
            ERR_BUFFER_TOO_SMALL);
    UEXPECT(mica_handle_close(ev) == OK);
    UEXPECT(expect_report(con, 12, "-5"));
    /* 13-17: a write's reply with another transaction id, another
     * method's id, a bad magic, no reply flag, an error the method does
     * not declare */
    UEXPECT(spoil_next(con, wr, 8, 1, 1, NULL));
    UEXPECT(expect_report(con, 13, "-5"));
    UEXPECT(spoil_next(con, wr, 16, 1, 1, NULL));
    UEXPECT(expect_report(con, 14, "-5"));
    UEXPECT(spoil_next(con, wr, 0 + 1, 1, 1, NULL));
    UEXPECT(expect_report(con, 15, "-5"));
    UEXPECT(spoil_next(con, wr, 4, IDL_FLAG_REPLY, 1, NULL));
    UEXPECT(expect_report(con, 16, "-5"));
    UEXPECT(answer_next(con, wr, ERR_NO_RESOURCES, 0, NULL, 0, &r));
    UEXPECT(expect_report(con, 17, "-5"));
    /* 18, 19: bytes after a read's results (within the reply's room);
     * a read's padding not zero */
    UEXPECT(spoil_next(con, rd, 0, 0, 0, "abc"));
    UEXPECT(expect_report(con, 18, "-5"));
    UEXPECT(spoil_next(con, rd, IDL_HEADER_SIZE + 8 + 5, 1, 0, "abc"));
    UEXPECT(expect_report(con, 19, "-5"));
    /* 20: more bytes than the read asked for (2), within the reply's
     * room; 21: more than its room */
    UASSERT(next_req(con, &r) == OK);
    UEXPECT(r.m == rd && r.good && r.count == 2);
    UEXPECT(answer(con, &r, OK, 0, "abcdefgh", 8) == OK);
    UEXPECT(expect_report(con, 20, "-5"));
    UASSERT(next_req(con, &r) == OK);
    UEXPECT(answer(con, &r, OK, 0, "abcdefghi", 9) == ERR_BUFFER_TOO_SMALL);
    UEXPECT(expect_report(con, 21, "-5"));
    /* 22: the end of file */
    UEXPECT(expect_read(con, NULL));
    UEXPECT(expect_report(con, 22, "0"));
    UEXPECT(exit_code(p) == 0);
    mica_handle_close(p);
    mica_handle_close(con);
}

/* --- death on either side -------------------------------------------------- */

static bool no_more(const struct mica_system_info *now,
                    const struct mica_system_info *before)
{
    return now->free_pages >= before->free_pages &&
           now->live_processes <= before->live_processes &&
           now->live_threads <= before->live_threads &&
           now->live_vmos <= before->live_vmos &&
           now->live_channels <= before->live_channels;
}

/* The counts once what the test ended is gone (teardown may finish on
 * another CPU after TERMINATED), for up to BOUND. */
static void settle(struct mica_system_info *now,
                   const struct mica_system_info *before)
{
    uint64_t end = now_ns() + BOUND;
    for (;;) {
        mica_system_info(now);
        if (no_more(now, before) || now_ns() > end)
            return;
        mica_nanosleep(now_ns() + 10000000);
    }
}

/* A program killed in a read: its call is abandoned (the late answer
 * finds nothing), the server's end sees it go, nothing is left. */
static void killed_in_read(void)
{
    mica_handle_t p, con;
    struct req r;
    UASSERT(spawn_probe("block", 0, &p, &con) == OK);
    UASSERT(next_req(con, &r) == OK);
    UEXPECT(r.m == &console_read_method && r.good);
    UEXPECT(mica_process_kill(p, 7) == OK);
    UEXPECT(exit_code(p) == 7);
    UEXPECT(console_closed(con));
    UEXPECT(answer(con, &r, OK, 1, "x", 1) == ERR_NOT_FOUND);
    mica_handle_close(p);
    mica_handle_close(con);
}

UTEST(stdio_program_killed_in_a_read)
{
    struct mica_system_info before, after;
    killed_in_read();                   /* the first may grow our memory */
    mica_system_info(&before);
    killed_in_read();
    settle(&after, &before);
    UEXPECT(no_more(&after, &before));
}

/* The server goes while the program waits in a read: the read ends
 * with the end of file, and writes fail with EIO; the program goes on
 * to exit normally. */
UTEST(stdio_server_gone)
{
    mica_handle_t p, con;
    struct req r;
    UASSERT(spawn_probe("echo", 0, &p, &con) == OK);
    UASSERT(next_req(con, &r) == OK);
    UEXPECT(r.m == &console_read_method && r.good);
    mica_handle_close(con);
    UEXPECT(exit_code(p) == 0);
    mica_handle_close(p);
}

/* --- process_set_stdio ------------------------------------------------------ */

static bool peer_closed(mica_handle_t h)
{
    mica_signals_t s = 0;
    mica_object_wait_one(h, SIGNAL_PEER_CLOSED, 1, &s);
    return s & SIGNAL_PEER_CLOSED;
}

UTEST(abi_process_set_stdio_errors)
{
    mica_handle_t p, weak, a[2], b[2], dup, ev, narrow, dead;
    UASSERT(mica_process_create("stdio", 5, &p) == OK);
    UASSERT(mica_channel_create(0, a) == OK);
    UASSERT(mica_event_create(0, &ev) == OK);
    /* the process: handle errors (process, RIGHT_MANAGE) */
    UEXPECT(mica_process_set_stdio(0, a[1]) == ERR_BAD_HANDLE);
    UEXPECT(mica_process_set_stdio(ev, a[1]) == ERR_WRONG_TYPE);
    UASSERT(mica_handle_duplicate(p, RIGHTS_BASIC | RIGHT_READ, &weak) == OK);
    UEXPECT(mica_process_set_stdio(weak, a[1]) == ERR_ACCESS_DENIED);
    /* the channel: handle errors (channel, READ, WRITE and TRANSFER) */
    UEXPECT(mica_process_set_stdio(p, 12345) == ERR_BAD_HANDLE);
    UEXPECT(mica_process_set_stdio(p, ev) == ERR_WRONG_TYPE);
    UASSERT(mica_handle_duplicate(a[1], RIGHT_DUPLICATE | RIGHT_WAIT |
                                  RIGHTS_IO, &narrow) == OK);
    UEXPECT(mica_process_set_stdio(p, narrow) == ERR_ACCESS_DENIED);
    mica_handle_close(narrow);                  /* no TRANSFER, then no READ */
    UASSERT(mica_handle_duplicate(a[1], RIGHTS_BASIC | RIGHT_WRITE,
                                  &narrow) == OK);
    UEXPECT(mica_process_set_stdio(p, narrow) == ERR_ACCESS_DENIED);
    /* a second handle to the end, and an end whose peer is gone */
    UEXPECT(mica_process_set_stdio(p, a[1]) == ERR_BAD_STATE);
    mica_handle_close(narrow);
    UASSERT(mica_channel_create(0, b) == OK);
    mica_handle_close(b[0]);
    UEXPECT(mica_process_set_stdio(p, b[1]) == ERR_PEER_CLOSED);
    mica_handle_close(b[1]);
    /* bound: the handle has left the caller; replaced or unbound, the
     * server's end sees it close */
    UEXPECT(mica_process_set_stdio(p, a[1]) == OK);
    UEXPECT(mica_handle_close(a[1]) == ERR_BAD_HANDLE);
    UEXPECT(!peer_closed(a[0]));
    UASSERT(mica_channel_create(0, b) == OK);
    UEXPECT(mica_process_set_stdio(p, b[1]) == OK);
    UEXPECT(peer_closed(a[0]));
    UEXPECT(mica_process_set_stdio(p, 0) == OK);
    UEXPECT(peer_closed(b[0]));
    UEXPECT(mica_process_set_stdio(p, 0) == OK);        /* none: fine */
    /* an end whose peer the kernel holds: nobody could answer */
    UASSERT(mica_channel_create(0, b) == OK);
    UASSERT(mica_handle_duplicate(b[0], RIGHT_SAME_RIGHTS, &dup) == OK);
    mica_handle_close(dup);
    UEXPECT(mica_process_set_stdio(p, b[0]) == OK);
    UEXPECT(mica_process_set_stdio(p, b[1]) == ERR_BAD_STATE);
    mica_handle_close(b[1]);
    /* a process that has died */
    UASSERT(mica_process_create("dead", 4, &dead) == OK);
    UASSERT(mica_process_kill(dead, 1) == OK);
    UASSERT(mica_object_wait_one(dead, SIGNAL_TERMINATED, 0, NULL) == OK);
    UASSERT(mica_channel_create(0, b) == OK);
    UEXPECT(mica_process_set_stdio(dead, b[1]) == ERR_BAD_STATE);
    UEXPECT(mica_handle_close(b[1]) == OK);             /* still ours */
    mica_handle_close(b[0]);
    mica_handle_close(a[0]);
    mica_handle_close(ev);
    mica_handle_close(weak);
    mica_handle_close(dead);
    mica_handle_close(p);
}
