/*
 * idl_mica.c - the IDL runtime's system calls: a client's call, and
 * what a receiver learns of the handles it was sent (idl.h).
 *
 * idl_call is the whole client side of a method: encode, channel_call,
 * then idl_reply_decode (idl_serve.c), which checks the reply as
 * strictly as a server checks a request.  A reply's handles are closed
 * unless they reach the caller.
 */
#include "idl.h"
#include "mica.h"

void idl_close(mica_handle_t h)
{
    if (h != HANDLE_INVALID)
        mica_handle_close(h);
}

static void close_all(const mica_handle_t *hs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        idl_close(hs[i]);
}

int idl_handle_infos(const mica_handle_t *hs, uint32_t n,
                     struct mica_handle_info *info)
{
    for (uint32_t i = 0; i < n; i++) {
        struct mica_handle_info hi;
        int err = mica_handle_info(hs[i], &hi);
        if (err)
            return err;
        info[i] = (struct mica_handle_info){ hi.type, hi.rights };
    }
    return OK;
}

static uint64_t next_txid(void)
{
    static uint64_t last;
    return __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
}

int idl_call(mica_handle_t ch, const struct idl_method *m, const void *req,
             void *resp, void *qbuf, uint32_t qcap, void *rbuf,
             uint32_t rcap)
{
    struct idl_out q = { .bytes = qbuf, .cap = qcap };
    struct idl_header h = { IDL_MAGIC, 0, next_txid(), m->id, OK, 0 };
    int err = idl_encode(&m->request, &h, req, &q);
    if (err) {
        close_all(q.handles, idl_handles_of(&m->request, req, q.handles));
        return err;
    }
    mica_handle_t hs[MICA_MSG_MAX_HANDLES];
    struct mica_handle_info info[MICA_MSG_MAX_HANDLES];
    struct mica_msg msg = { q.bytes, q.handles, q.len, q.nhandles };
    struct mica_msg_buf b = { .bytes = rbuf, .bytes_cap = rcap,
                              .handles = hs,
                              .handles_cap = MICA_MSG_MAX_HANDLES,
                              .handle_infos = info };
    err = mica_channel_call(ch, &msg, &b, 0);
    if (err) {
        close_all(q.handles, q.nhandles);   /* still ours, or stale */
        return err;
    }
    err = idl_reply_decode(m, h.txid, rbuf, b.actual_bytes, hs, info,
                           b.actual_handles, resp);
    if (err)
        close_all(hs, b.actual_handles);
    return err;
}
