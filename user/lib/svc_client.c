/*
 * svc_client.c - publishing and connecting through the name service
 * (svc_client.h).
 *
 * A request is built in the heap: the header and up to
 * SVC_METHODS_MAX entries (16 KiB at most), more than a thread may
 * have on its stack.
 */
#include <stdlib.h>
#include <string.h>

#include "svc_client.h"

int svc_call(mica_handle_t svc, const void *bytes, uint32_t len,
             const mica_handle_t *handles, uint32_t nhandles,
             struct svc_reply *r, mica_handle_t *h)
{
    mica_handle_t got[2] = { 0, 0 };
    struct mica_msg m = { bytes, handles, len, nhandles };
    struct mica_msg_buf rb = { .bytes = r, .bytes_cap = sizeof(*r),
                               .handles = got, .handles_cap = 2 };
    memset(r, 0, sizeof(*r));
    *h = 0;
    int err = mica_channel_call(svc, &m, &rb, 0);
    if (err)
        return err;
    if (rb.actual_bytes != sizeof(*r) || rb.actual_handles > 1) {
        for (uint32_t i = 0; i < rb.actual_handles; i++)
            mica_handle_close(got[i]);
        return ERR_BAD_FORMAT;
    }
    *h = got[0];
    return r->status;
}

static int request(mica_handle_t svc, uint32_t op, const char *name,
                   const struct mica_iface_entry *m, unsigned n,
                   mica_handle_t give, struct svc_reply *r,
                   mica_handle_t *out)
{
    size_t len = sizeof(struct svc_request) + n * sizeof(*m);
    struct svc_request *q = NULL;
    memset(r, 0, sizeof(*r));
    *out = 0;
    int err = n > SVC_METHODS_MAX || strlen(name) >= SVC_NAME_MAX
                  ? ERR_INVALID_ARGS
              : !(q = calloc(1, len)) ? ERR_NO_MEMORY
                                      : OK;
    if (err) {
        if (give)
            mica_handle_close(give);
        return err;
    }
    q->op = op;
    q->count = n;
    strcpy(q->name, name);
    memcpy(q + 1, m, n * sizeof(*m));
    err = svc_call(svc, q, (uint32_t)len, give ? &give : NULL,
                       give ? 1 : 0, r, out);
    free(q);
    return err;
}

int svc_publish(mica_handle_t svc, const char *name,
                const struct mica_iface_entry *m, unsigned n,
                mica_handle_t connect)
{
    struct svc_reply r;
    mica_handle_t h;
    int err = request(svc, SVC_OP_PUBLISH, name, m, n, connect, &r, &h);
    if (h)
        mica_handle_close(h);
    return err;
}

int svc_connect(mica_handle_t svc, const char *name,
                const struct mica_iface_entry *m, unsigned n,
                mica_handle_t *out, char *missing, size_t len)
{
    struct svc_reply r;
    mica_handle_t h;
    int err = request(svc, SVC_OP_CONNECT, name, m, n, 0, &r, &h);
    if (missing && len) {
        size_t ml = strnlen(r.method, sizeof(r.method) - 1);
        ml = ml < len - 1 ? ml : len - 1;
        memcpy(missing, r.method, ml);
        missing[ml] = 0;
        if (err != ERR_NOT_SUPPORTED)
            missing[0] = 0;
    }
    if (err == OK && !h)
        err = ERR_BAD_FORMAT;
    if (err && h)
        mica_handle_close(h);
    *out = err ? 0 : h;
    return err;
}
