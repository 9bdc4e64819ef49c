/*
 * fuzz_idl.c - libFuzzer target: the IDL's decoding of untrusted bytes.
 *
 * An input is two bytes, then a message.  The first byte says which
 * handles came with it (how many, of which type and rights), the second
 * which method the reply half decodes as.  Each input is decoded as a
 * request by the generated demo dispatch (whose handlers read every
 * byte of every span they are given), as a reply to each demo method,
 * and the whole input as an ELF image by the interface note reader.
 * The message sits in a buffer of exactly its size, so AddressSanitizer
 * sees any read past it.  make fuzz runs it long; make host-test for a
 * fixed number of runs from the seeds fuzz_seeds.c writes.
 */
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "fuzz_common.h"
#include "iface_note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void touch(const struct idl_span *s, uint32_t es)
{
    const uint8_t *p = s->data;
    for (uint64_t i = 0; i < (uint64_t)s->count * es; i++)
        sink += p[i];
}

static int h_paint(void *c, const struct idl_txn *t,
                   const struct demo_paint_req *q, struct demo_paint_resp *r)
{
    (void)c; (void)t;
    touch(&q->name, 1);
    r->old = q->p;
    return OK;
}

static int h_store(void *c, const struct idl_txn *t,
                   const struct demo_store_req *q, struct demo_store_resp *r)
{
    (void)c; (void)t;
    touch(&q->data, 1);
    r->n = q->data.count;
    return OK;
}

static int h_mix(void *c, const struct idl_txn *t,
                 const struct demo_mix_req *q)
{
    (void)c; (void)t;
    touch(&q->flags, 1);
    touch(&q->colors, 1);
    touch(&q->blob, 1);
    return OK;
}

static const struct demo_server server = {
    .paint = h_paint, .store = h_store, .mix = h_mix,
};

static const struct idl_method *const methods[] = {
    &demo_ping_method, &demo_add_method, &demo_paint_method,
    &demo_store_method, &demo_samples_method, &demo_give_method,
    &demo_mix_method,
};

static void as_reply(const struct idl_method *m, const uint8_t *msg,
                     uint32_t n, const mica_handle_t *hs,
                     const struct mica_handle_info *info, uint32_t nh)
{
    uint64_t results[64];
    struct idl_header h;
    if (n >= sizeof(h))
        memcpy(&h, msg, sizeof(h));
    else
        h.txid = 0;
    if (idl_reply_decode(m, h.txid, msg, n, hs, info, nh, results) != OK)
        return;
    for (uint32_t i = 0; i < m->reply.count; i++) {
        const struct idl_field *f = &m->reply.fields[i];
        if (f->type->kind >= IDL_BYTES && f->type->kind <= IDL_ARRAY) {
            struct idl_span s;
            memcpy(&s, (uint8_t *)results + f->native, sizeof(s));
            touch(&s, f->type->kind == IDL_ARRAY ? f->type->elem->size : 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint64_t reply[MICA_MSG_MAX_BYTES / 8];
    static struct idl_out out;
    mica_handle_t hs[3];
    struct mica_handle_info info[3];
    if (size < 2 || size - 2 > MICA_MSG_MAX_BYTES)
        return 0;
    uint32_t nh = fuzz_handles(data[0], hs, info);
    uint32_t n = (uint32_t)(size - 2);
    uint8_t *msg = malloc(n ? n : 1);   /* 16-aligned, exactly n bytes */
    memcpy(msg, data + 2, n);
    struct idl_in in = { msg, n, nh, hs, info };
    out = (struct idl_out){ .bytes = reply, .cap = sizeof(reply) };
    demo_dispatch(&server, NULL, &in, &out);
    as_reply(methods[data[1] % 7], msg, n, hs, info, nh);
    free(msg);

    struct iface_note note;
    if (iface_note_read(data, size, &note) == OK) {
        struct mica_iface_entry e;
        for (uint32_t i = 0; i < note.serves.n; i++)
            iface_note_entry(&note.serves, i, &e);
        for (uint32_t i = 0; i < note.calls.n; i++)
            iface_note_entry(&note.calls, i, &e);
        sink += iface_note_has(&note.calls, e.id);
    }
    return 0;
}
