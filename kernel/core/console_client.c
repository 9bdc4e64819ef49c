/*
 * console_client.c - a process's standard streams on a console channel
 * (console_client.h).
 *
 * Until a personality server answers a process's Linux calls (DESIGN.md
 * section 8), the kernel connects fds 0, 1 and 2 of a process that was
 * given a console channel to the console server at its other end, and
 * speaks the console protocol (mica/console.h) itself: a write becomes
 * MICA_CONSOLE_WRITE calls, a read one MICA_CONSOLE_READ call.  The
 * calls are made on the calling thread (channel_call_kernel), which
 * blocks in them, lends the server its priority and is killed out of
 * them like any caller.  Requests are charged to the process.
 *
 * The endpoint is the kernel's, as an exception channel's is
 * (exception.c): a reference and a handle count in p->stdio, under p's
 * object lock, kernel_held so that nothing but replies can arrive at it.
 * When the process dies the binding goes, and the server sees its end
 * closed.  A reply that breaks the protocol is ERR_IO: the kernel never
 * trusts the server's counts.
 */
#include "channel.h"
#include "console_client.h"
#include "handle.h"
#include "lib.h"
#include "mica/console.h"
#include "mica/errors.h"
#include "process.h"
#include "signal_wait.h"
#include "slab.h"
#include "uaccess.h"

/* The kernel's hold on an endpoint ends: the server sees it close. */
static void release(struct channel *ep)
{
    if (ep)
        handle_discard(&ep->obj);
}

int console_client_bind(struct process *p, struct channel *ep)
{
    int err = ep ? channel_kernel_hold(ep, true) : 0;
    if (err)
        return err;
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    struct channel *old = NULL;
    if (ep && p->stdio_closed) {
        err = ERR_BAD_STATE;
    } else {
        old = p->stdio;
        p->stdio = ep;
    }
    spin_unlock_irqrestore(&p->obj.lock, f);
    if (err)
        channel_kernel_hold(ep, false);
    release(old);
    return err;
}

void console_client_gone(struct process *p)
{
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    struct channel *ep = p->stdio;
    p->stdio = NULL;
    p->stdio_closed = true;
    spin_unlock_irqrestore(&p->obj.lock, f);
    release(ep);
}

struct channel *console_client_get(void)
{
    struct process *p = process_current();
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    struct channel *ep = p->stdio;
    if (ep)
        object_ref(&ep->obj);
    spin_unlock_irqrestore(&p->obj.lock, f);
    return ep;
}

/* One call of m through ep, waiting while the server's queue is full;
 * m is consumed. */
static int call(struct channel *ep, struct msg *m, void *reply,
                uint32_t cap, uint32_t *nb)
{
    for (;;) {
        bool queued;
        int err = channel_call_kernel(ep, m, reply, cap, 0, nb, &queued);
        if (queued)                     /* a reply that did not fit: */
            return err == ERR_BUFFER_TOO_SMALL ? ERR_IO : err;
        if (err != ERR_SHOULD_WAIT) {
            msg_destroy(m);
            return err;
        }
        mica_signals_t seen;
        err = object_wait_signals(&ep->obj,
                                  SIGNAL_WRITABLE | SIGNAL_PEER_CLOSED, 0,
                                  &seen);
        if (err) {
            msg_destroy(m);
            return err;
        }
    }
}

/* A reply to op: its header, checked.  The server's status, or ERR_IO. */
static int reply_status(const struct mica_console_msg *r, uint32_t nb,
                        uint32_t op)
{
    if (nb < sizeof(*r) || r->op != op || r->status > 0)
        return ERR_IO;
    return r->status;
}

/* The next call's bytes: up to MICA_CONSOLE_DATA_MAX from the spans,
 * starting `skip` bytes into span *i; *i and *skip move past them. */
static int fill(struct msg *m, const struct console_span *s, unsigned n,
                unsigned *i, uint64_t *skip, uint32_t len)
{
    uint8_t *p = m->data + sizeof(struct mica_console_msg);
    while (len) {
        uint64_t k = MIN(s[*i].len - *skip, (uint64_t)len);
        if (copy_from_user(p, s[*i].addr + *skip, k))
            return ERR_FAULT;
        p += k;
        len -= (uint32_t)k;
        *skip += k;
        if (*skip == s[*i].len && *i + 1 < n) {
            ++*i;
            *skip = 0;
        }
    }
    return 0;
}

/* One WRITE call of len bytes from the spans; *took: what was taken. */
static int write_call(struct channel *ep, const struct console_span *s,
                      unsigned n, unsigned *i, uint64_t *skip, uint32_t len,
                      uint32_t *took)
{
    struct mica_console_msg q = { .op = MICA_CONSOLE_WRITE, .count = len };
    struct mica_console_msg r;
    struct msg *m;
    uint32_t nb;
    *took = 0;
    int err = msg_create_kernel_raw(&process_current()->acct,
                                    sizeof(q) + len, &m);
    if (err)
        return err;
    memcpy(m->data, &q, sizeof(q));
    if ((err = fill(m, s, n, i, skip, len))) {
        msg_destroy(m);
        return err;
    }
    if ((err = call(ep, m, &r, sizeof(r), &nb)) ||
        (err = reply_status(&r, nb, MICA_CONSOLE_WRITE)))
        return err;
    if (nb != sizeof(r) || r.count > len)
        return ERR_IO;
    *took = r.count;
    return 0;
}

int console_client_write(struct channel *ep, const struct console_span *s,
                         unsigned n, uint64_t *done)
{
    uint64_t total = 0, skip = 0;
    unsigned i = 0;
    for (unsigned k = 0; k < n; k++)
        total += s[k].len;
    *done = 0;
    while (*done < total) {
        uint32_t len = (uint32_t)MIN(total - *done, MICA_CONSOLE_DATA_MAX);
        uint32_t took;
        int err = write_call(ep, s, n, &i, &skip, len, &took);
        *done += took;
        if (err)
            return err;
        if (took < len)
            break;                      /* a short write ends the call */
    }
    return 0;
}

int console_client_read(struct channel *ep, uint32_t len,
                        int (*out)(void *ctx, const void *data, uint32_t n),
                        void *ctx, uint32_t *got)
{
    struct mica_console_msg q = {
        .op = MICA_CONSOLE_READ, .count = MIN(len, CONSOLE_CLIENT_READ_MAX),
    };
    *got = 0;
    uint32_t cap = sizeof(q) + q.count, nb;
    struct mica_console_msg *r = kmalloc(cap);
    struct msg *m;
    if (!r)
        return ERR_NO_MEMORY;
    int err = msg_create_kernel(&process_current()->acct, &q, sizeof(q),
                                NULL, NULL, 0, &m);
    if (!err)
        err = call(ep, m, r, cap, &nb);
    if (!err && !(err = reply_status(r, nb, MICA_CONSOLE_READ))) {
        if (r->count > q.count || nb != sizeof(*r) + r->count)
            err = ERR_IO;
        else if (!(err = out(ctx, r + 1, r->count)))
            *got = r->count;
    }
    kfree(r);
    return err == ERR_PEER_CLOSED ? 0 : err;    /* the server is gone: EOF */
}
