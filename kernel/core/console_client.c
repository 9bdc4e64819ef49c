/*
 * console_client.c - a process's standard streams on a console channel
 * (console_client.h).
 *
 * Until a personality server answers a process's Linux calls (DESIGN.md
 * section 8), the kernel connects fds 0, 1 and 2 of a process that was
 * given a console channel to the console server at its other end, and
 * speaks the console protocol (idl/console.idl) itself: a write becomes
 * write calls, a read one read call.  The calls are made on the calling
 * thread (channel_call_kernel), which blocks in them, lends the server
 * its priority and is killed out of them like any caller.  Requests are
 * charged to the process.
 *
 * Messages are in the IDL's wire format, encoded and checked by the
 * user runtime's encoder and validating decoder (user/lib/idl/idl.c and
 * idl_serve.c, which make no system call) with the tables idlc
 * generates for the protocol, compiled into the kernel with
 * IDL_TABLES_ONLY.  A write's bytes are copied from the caller once,
 * straight to where their block lies in the message.  A reply is
 * trusted for nothing: it must be a well-formed reply to that call and
 * method, with a status the method may give, and no more bytes than
 * were asked for or sent; anything else is ERR_IO.
 *
 * The endpoint is the kernel's, as an exception channel's is
 * (exception.c): a reference and a handle count in p->stdio, under p's
 * object lock, kernel_held so that nothing but replies can arrive at it.
 * When the process dies the binding goes, and the server sees its end
 * closed.
 */
#include "channel.h"
#include "console.h"            /* generated from idl/console.idl */
#include "console_client.h"
#include "handle.h"
#include "idl.h"
#include "lib.h"
#include "mica/errors.h"
#include "process.h"
#include "signal_wait.h"
#include "slab.h"
#include "uaccess.h"

_Static_assert(CONSOLE_CLIENT_READ_MAX <= CONSOLE_DATA_MAX,
               "a read asks for what the protocol allows");

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

/* The transaction id of the next call (the protocol's, which the
 * reply must repeat; not the channel's). */
static uint64_t next_txid(void)
{
    static uint64_t last;
    return __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
}

/* One call of m through ep, waiting while the server's queue is full;
 * m is consumed.  *nb: the reply's length in reply[0..cap). */
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

/* The reply to call txid of method m, checked whole (idl_reply_decode:
 * the header, the method, the status, the results' encoding; no handle
 * can come); its results in `results`.  OK, the server's status, or
 * ERR_IO for anything malformed. */
static int check_reply(const struct idl_method *m, uint64_t txid,
                       const void *buf, uint32_t nb, void *results)
{
    int err = idl_reply_decode(m, txid, buf, nb, NULL, NULL, 0, results);
    return err == ERR_BAD_FORMAT ? ERR_IO : err;
}

/* The next call's bytes: len from the spans into p, starting `skip`
 * bytes into span *i; *i and *skip move past them. */
static int fill(uint8_t *p, const struct console_span *s, unsigned n,
                unsigned *i, uint64_t *skip, uint32_t len)
{
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

/* One write call of len bytes from the spans; *took: what was taken.
 * The bytes are gathered where their block goes, and encoded in place. */
static int write_call(struct channel *ep, const struct console_span *s,
                      unsigned n, unsigned *i, uint64_t *skip, uint32_t len,
                      uint32_t *took)
{
    const struct idl_message *req = &console_write_method.request;
    uint32_t at = req->inline_end, size = at + ALIGN_UP(len, 8);
    uint64_t reply[(IDL_HEADER_SIZE + 8) / 8];
    struct idl_header h = { IDL_MAGIC, 0, next_txid(), CONSOLE_WRITE_ID,
                            OK, 0 };
    struct console_write_resp r;
    struct msg *m;
    uint32_t nb;
    *took = 0;
    int err = msg_create_kernel_raw(&process_current()->acct, size, &m);
    if (err)
        return err;
    struct console_write_req q = { { m->data + at, len } };
    struct idl_out o = { .bytes = m->data, .cap = size };
    if ((err = fill(m->data + at, s, n, i, skip, len)) ||
        (err = idl_encode(req, &h, &q, &o))) {
        msg_destroy(m);
        return err;
    }
    if ((err = call(ep, m, reply, sizeof(reply), &nb)) ||
        (err = check_reply(&console_write_method, h.txid, reply, nb, &r)))
        return err;
    if (r.count > len)
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
        uint32_t len = (uint32_t)MIN(total - *done, CONSOLE_DATA_MAX);
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
    const struct idl_method *rd = &console_read_method;
    uint64_t qb[(IDL_HEADER_SIZE + 8) / 8];
    struct console_read_req q = { MIN(len, CONSOLE_CLIENT_READ_MAX), 0 };
    struct idl_header h = { IDL_MAGIC, 0, next_txid(), CONSOLE_READ_ID,
                            OK, 0 };
    struct idl_out o = { .bytes = qb, .cap = sizeof(qb) };
    struct console_read_resp r;
    struct msg *m;
    *got = 0;
    /* room for the reply of q.count bytes: exactly, so a longer one is
     * refused by the channel */
    uint32_t cap = rd->reply.inline_end + ALIGN_UP(q.count, 8), nb;
    void *reply = kmalloc(cap);
    if (!reply)
        return ERR_NO_MEMORY;
    int err = idl_encode(&rd->request, &h, &q, &o);
    if (!err)
        err = msg_create_kernel(&process_current()->acct, qb, o.len, NULL,
                                NULL, 0, &m);
    if (!err)
        err = call(ep, m, reply, cap, &nb);
    if (!err && !(err = check_reply(rd, h.txid, reply, nb, &r))) {
        if (r.data.count > q.count)
            err = ERR_IO;
        else if (!(err = out(ctx, r.data.data, r.data.count)))
            *got = r.data.count;
    }
    kfree(reply);
    return err == ERR_PEER_CLOSED ? 0 : err;    /* the server is gone: EOF */
}
