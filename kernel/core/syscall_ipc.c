/*
 * syscall_ipc.c - the system calls of channels and ports.
 *
 * Each reads its argument structures (mica/ipc.h), looks up its handles
 * with the rights it needs, calls into channel.c or port.c and writes
 * the results back.  Deadlines are clock_get times, 0 for none.  A
 * receive writes the output half of its struct mica_msg_buf on success
 * and on ERR_BUFFER_TOO_SMALL (the sizes needed) -- the packet field only
 * when a packet came; reply_receive and channel_reply_read also report
 * what became of the reply there.
 */
#include "channel.h"
#include "grant.h"
#include "lib.h"
#include "mica/errors.h"
#include "port.h"
#include "process.h"
#include "sched.h"
#include "syscall_impl.h"
#include "uaccess.h"

/* The part of struct mica_msg_buf the kernel writes. */
#define MSGBUF_OUT offsetof(struct mica_msg_buf, actual_bytes)

static int msg_in(uint64_t umsg, struct umsg *um)
{
    struct mica_msg m;
    if (copy_from_user(&m, umsg, sizeof(m)))
        return ERR_FAULT;
    um->bytes = (uint64_t)(uintptr_t)m.bytes;
    um->handles = (uint64_t)(uintptr_t)m.handles;
    um->nbytes = m.num_bytes;
    um->nhandles = m.num_handles;
    if (m.num_bytes > MICA_MSG_MAX_BYTES || m.num_handles > MICA_MSG_MAX_HANDLES)
        return ERR_OUT_OF_RANGE;
    return 0;
}

static int buf_in(uint64_t ubuf, struct ubuf *b)
{
    struct mica_msg_buf mb;
    if (!user_range_ok(ubuf, sizeof(mb)) ||
        copy_from_user(&mb, ubuf, MSGBUF_OUT))
        return ERR_FAULT;
    b->bytes = (uint64_t)(uintptr_t)mb.bytes;
    b->handles = (uint64_t)(uintptr_t)mb.handles;
    b->bytes_cap = mb.bytes_cap;
    b->handles_cap = mb.handles_cap;
    b->infos = (uint64_t)(uintptr_t)mb.handle_infos;
    return 0;
}

/* The out fields of struct mica_msg_buf, packet excepted. */
struct msgbuf_out {
    uint32_t actual_bytes, actual_handles;
    uint64_t key, txid;
    uint32_t kind;
    int32_t reply_status;
};
_Static_assert(sizeof(struct msgbuf_out) ==
               offsetof(struct mica_msg_buf, packet) - MSGBUF_OUT &&
               offsetof(struct mica_msg_buf, key) - MSGBUF_OUT ==
               offsetof(struct msgbuf_out, key) &&
               offsetof(struct mica_msg_buf, kind) - MSGBUF_OUT ==
               offsetof(struct msgbuf_out, kind),
               "struct msgbuf_out mirrors struct mica_msg_buf");

/* Only what the receive filled: a message's results, and the packet
 * after them for a packet. */
static int buf_out(uint64_t ubuf, const struct recv_out *o, int reply_status)
{
    struct msgbuf_out mb = {
        .actual_bytes = o->actual_bytes,
        .actual_handles = o->actual_handles,
        .key = o->key,
        .txid = o->txid,
        .kind = o->kind,
        .reply_status = reply_status,
    };
    if (copy_to_user(ubuf + MSGBUF_OUT, &mb, sizeof(mb)))
        return ERR_FAULT;
    if (o->kind == MICA_RECV_PACKET &&
        copy_to_user(ubuf + offsetof(struct mica_msg_buf, packet), &o->pkt,
                     sizeof(o->pkt)))
        return ERR_FAULT;
    return 0;
}

/* The status of a receive, once its results are written. */
static int finish_receive(int err, uint64_t ubuf, const struct recv_out *o,
                          int reply_status)
{
    if ((err == 0 || err == ERR_BUFFER_TOO_SMALL) &&
        buf_out(ubuf, o, reply_status))
        return ERR_FAULT;
    return err;
}

int64_t sys_channel_create(uint64_t flags, uint64_t uout, uint64_t a2,
                           uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    if (flags)
        return ERR_INVALID_ARGS;
    if (!user_range_ok(uout, 2 * sizeof(mica_handle_t)))
        return ERR_FAULT;
    struct channel *a, *b;
    int err = channel_create(&process_current()->acct, &a, &b);
    if (err)
        return err;
    mica_handle_t h[2];
    mica_rights_t rights = RIGHTS_IO | RIGHTS_BASIC;
    err = handle_add(my_handles(), &a->obj, rights, &h[0]);
    if (err) {
        object_unref(&a->obj);
        object_unref(&b->obj);
        return err;
    }
    err = handle_add(my_handles(), &b->obj, rights, &h[1]);
    if (err) {
        object_unref(&b->obj);
        handle_close(my_handles(), h[0]);
        return err;
    }
    if (copy_to_user(uout, h, sizeof(h))) {
        handle_close(my_handles(), h[0]);
        handle_close(my_handles(), h[1]);
        return ERR_FAULT;
    }
    return 0;
}

static int get_channel(uint64_t h, mica_rights_t need, struct channel **ep)
{
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_CHANNEL, need, &o);
    *ep = err ? NULL : container_of(o, struct channel, obj);
    return err;
}

static int get_port(uint64_t h, mica_rights_t need, struct port **p)
{
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_PORT, need, &o);
    *p = err ? NULL : container_of(o, struct port, obj);
    return err;
}

int64_t sys_channel_write(uint64_t h, uint64_t bytes, uint64_t nbytes,
                          uint64_t handles, uint64_t nhandles, uint64_t a5)
{
    UNUSED_ARGS(a5);
    if (nbytes > MICA_MSG_MAX_BYTES || nhandles > MICA_MSG_MAX_HANDLES)
        return ERR_OUT_OF_RANGE;
    struct umsg um = { bytes, handles, (uint32_t)nbytes, (uint32_t)nhandles };
    struct channel *ep;
    int err = get_channel(h, RIGHT_WRITE, &ep);
    if (err)
        return err;
    err = channel_write(ep, &um);
    object_unref(&ep->obj);
    return err;
}

int64_t sys_channel_read(uint64_t h, uint64_t ubuf, uint64_t a2, uint64_t a3,
                         uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct ubuf b;
    struct recv_out o;
    struct channel *ep;
    int err = buf_in(ubuf, &b);
    if (err || (err = get_channel(h, RIGHT_READ, &ep)))
        return err;
    err = channel_receive(ep, &b, true, 0, NULL, &o);
    object_unref(&ep->obj);
    return finish_receive(err, ubuf, &o, 0);
}

int64_t sys_channel_call(uint64_t h, uint64_t umsg, uint64_t ubuf,
                         uint64_t deadline, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    struct umsg um;
    struct ubuf b;
    struct channel *ep;
    int err = msg_in(umsg, &um);
    if (err || (err = buf_in(ubuf, &b)) ||
        (err = get_channel(h, RIGHTS_IO, &ep)))
        return err;
    struct recv_out o = { .kind = MICA_RECV_MESSAGE };
    err = channel_call(ep, &um, &b, deadline, &o.actual_bytes,
                       &o.actual_handles);
    object_unref(&ep->obj);
    return finish_receive(err, ubuf, &o, 0);
}

/* Reply (if umsg) to txid through ep or port, then receive (if ubuf). */
static int reply_then_receive(struct channel *ep, struct port *port,
                              uint64_t txid, uint64_t umsg, uint64_t ubuf,
                              uint64_t deadline)
{
    struct umsg um;
    struct ubuf b;
    int err;
    if ((umsg && (err = msg_in(umsg, &um))) || (ubuf && (err = buf_in(ubuf, &b))))
        return err;
    if (!umsg && !ubuf)
        return ERR_INVALID_ARGS;
    struct thread *wake = NULL;
    int reply_status = umsg ? channel_reply(ep, port, txid, &um, &wake) : 0;
    if (!ubuf) {
        if (wake)
            sched_wakeup(wake, 0);
        return reply_status;
    }
    struct recv_out o;
    if (port)
        err = port_receive(port, &b, false, false, deadline, wake, &o);
    else
        err = channel_receive(ep, &b, false, deadline, wake, &o);
    return finish_receive(err, ubuf, &o, reply_status);
}

int64_t sys_channel_reply_read(uint64_t h, uint64_t txid, uint64_t umsg,
                               uint64_t ubuf, uint64_t deadline, uint64_t a5)
{
    UNUSED_ARGS(a5);
    struct channel *ep;
    int err = get_channel(h, RIGHTS_IO, &ep);
    if (err)
        return err;
    err = reply_then_receive(ep, NULL, txid, umsg, ubuf, deadline);
    object_unref(&ep->obj);
    return err;
}

int64_t sys_channel_bind(uint64_t h, uint64_t ph, uint64_t key, uint64_t a3,
                         uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    struct channel *ep;
    struct port *p;
    int err = get_channel(h, RIGHT_READ, &ep);
    if (err)
        return err;
    err = get_port(ph, RIGHT_WRITE, &p);
    if (!err) {
        err = channel_bind(ep, p, key);
        object_unref(&p->obj);
    }
    object_unref(&ep->obj);
    return err;
}

int64_t sys_port_create(uint64_t flags, uint64_t uout, uint64_t a2,
                        uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    if (flags)
        return ERR_INVALID_ARGS;
    if (!user_range_ok(uout, sizeof(mica_handle_t)))
        return ERR_FAULT;
    struct port *p;
    int err = port_create(&process_current()->acct, &p);
    if (err)
        return err;
    return give(&p->obj, RIGHTS_IO | RIGHTS_BASIC, uout);
}

int64_t sys_port_receive(uint64_t ph, uint64_t ubuf, uint64_t deadline,
                         uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    struct ubuf b;
    struct port *p;
    int err = buf_in(ubuf, &b);
    if (err || (err = get_port(ph, RIGHT_READ, &p)))
        return err;
    struct recv_out o;
    err = port_receive(p, &b, false, false, deadline, NULL, &o);
    object_unref(&p->obj);
    return finish_receive(err, ubuf, &o, 0);
}

int64_t sys_reply_receive(uint64_t ph, uint64_t txid, uint64_t umsg,
                          uint64_t ubuf, uint64_t deadline, uint64_t a5)
{
    UNUSED_ARGS(a5);
    struct port *p;
    int err = get_port(ph, RIGHT_READ, &p);
    if (err)
        return err;
    err = reply_then_receive(NULL, p, txid, umsg, ubuf, deadline);
    object_unref(&p->obj);
    return err;
}

int64_t sys_port_wait(uint64_t ph, uint64_t deadline, uint64_t upkt,
                      uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    if (!user_range_ok(upkt, sizeof(struct mica_packet)))
        return ERR_FAULT;
    struct port *p;
    int err = get_port(ph, RIGHT_READ, &p);
    if (err)
        return err;
    struct ubuf none = { 0 };
    struct recv_out o;
    err = port_receive(p, &none, true, false, deadline, NULL, &o);
    object_unref(&p->obj);
    if (!err && copy_to_user(upkt, &o.pkt, sizeof(o.pkt)))
        return ERR_FAULT;
    return err;
}

int64_t sys_port_queue(uint64_t ph, uint64_t upkt, uint64_t a2, uint64_t a3,
                       uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct mica_packet pkt;
    if (copy_from_user(&pkt, upkt, sizeof(pkt)))
        return ERR_FAULT;
    struct port *p;
    int err = get_port(ph, RIGHT_WRITE, &p);
    if (err)
        return err;
    err = port_queue(p, &pkt, &process_current()->acct);
    object_unref(&p->obj);
    return err;
}

int64_t sys_grant_create(uint64_t addr, uint64_t len, uint64_t rights,
                         uint64_t uout, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    if (rights == 0 || (rights & ~(uint64_t)RIGHTS_IO) || len == 0)
        return ERR_INVALID_ARGS;
    if (!user_range_ok(addr, len))
        return ERR_OUT_OF_RANGE;
    if (!user_range_ok(uout, sizeof(mica_handle_t)))
        return ERR_FAULT;
    struct process *p = process_current();
    struct grant *g;
    int err = grant_create(p->aspace, addr, len, &p->acct, &g);
    if (err)
        return err;
    return give(&g->obj, (mica_rights_t)rights | RIGHT_DUPLICATE |
                             RIGHT_TRANSFER, uout);
}

static int64_t grant_rw(uint64_t h, uint64_t off, uint64_t ubuf,
                        uint64_t len, bool write)
{
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_GRANT,
                  write ? RIGHT_WRITE : RIGHT_READ, &o);
    if (err)
        return err;
    err = grant_copy(container_of(o, struct grant, obj), off, ubuf, len,
                     write);
    object_unref(o);
    return err;
}

int64_t sys_grant_read(uint64_t h, uint64_t off, uint64_t ubuf, uint64_t len,
                       uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    return grant_rw(h, off, ubuf, len, false);
}

int64_t sys_grant_write(uint64_t h, uint64_t off, uint64_t ubuf,
                        uint64_t len, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    return grant_rw(h, off, ubuf, len, true);
}
