/*
 * idl_serve.c - replies: encoded for the dispatch idlc generates, and
 * checked for the client stubs (idl.h).
 *
 * A reply repeats the request's transaction id and method id, and has
 * IDL_FLAG_REPLY.  An error reply is the header alone; an OK reply
 * carries the results.  No system call here: a server sends `out`
 * however it serves (reply_receive, channel_reply_read), and idl_call
 * (idl_mica.c) receives the reply.
 */
#include <string.h>

#include "idl.h"

static void error_reply(uint64_t txid, uint64_t method, int status,
                        struct idl_out *out)
{
    struct idl_header h = { IDL_MAGIC, IDL_FLAG_REPLY, txid, method,
                            status, 0 };
    memcpy(out->bytes, &h, sizeof(h));
    out->len = sizeof(h);
    out->nhandles = 0;
}

int idl_refuse(const struct idl_in *in, int status, struct idl_out *out)
{
    struct idl_header h = { 0 };
    /* Repeat what can be read of the request's header. */
    if (in->nbytes >= sizeof(h) && (uintptr_t)in->bytes % IDL_ALIGN == 0)
        memcpy(&h, in->bytes, sizeof(h));
    if (status == ERR_BAD_FORMAT)
        status = ERR_INVALID_ARGS;
    error_reply(h.txid, h.method, status, out);
    return IDL_REFUSED;
}

int idl_reply(const struct idl_txn *t, int status, const void *results,
              struct idl_out *out)
{
    if (status != OK) {
        error_reply(t->txid, t->method->id, status, out);
        return OK;
    }
    struct idl_header h = { IDL_MAGIC, IDL_FLAG_REPLY, t->txid,
                            t->method->id, OK, 0 };
    if (idl_encode(&t->method->reply, &h, results, out))
        error_reply(t->txid, t->method->id, ERR_INTERNAL, out);
    return OK;
}

int idl_reply_decode(const struct idl_method *m, uint64_t txid,
                     const void *buf, uint32_t len, const mica_handle_t *hs,
                     const struct mica_handle_info *info, uint32_t nh,
                     void *results)
{
    struct idl_header h;
    int err = idl_decode_header(buf, len, true, &h);
    if (err)
        return err;
    if (h.txid != txid || h.method != m->id ||
        !idl_status_allowed(m, h.status))
        return ERR_BAD_FORMAT;
    if (h.status != OK)
        return len == IDL_HEADER_SIZE && nh == 0 ? h.status : ERR_BAD_FORMAT;
    err = idl_decode(&m->reply, buf, len, hs, info, nh, results);
    if (err == ERR_WRONG_TYPE || err == ERR_ACCESS_DENIED)
        err = ERR_BAD_FORMAT;           /* the server's fault, not ours */
    return err;
}
