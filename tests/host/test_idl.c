/*
 * test_idl.c - the IDL runtime (user/lib/idl) and the C idlc generates
 * for tests/idl/demo.idl, on the host.
 *
 * The client stubs run against the generated dispatch through a fake
 * idl_call that plays the kernel: it encodes, hands the bytes and
 * handles to demo_dispatch, and checks the reply with the runtime's own
 * idl_reply_decode.  A fake handle value says what it is: its type in
 * bits 16 and up, its rights below.  Then every rule of the decoder is
 * broken once, on messages the encoder made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "demo.h"

#define H(type, rights) ((mica_handle_t)((type) << 16 | (rights)))

static int closed;
static uint64_t last_txid;
static void (*tamper)(struct idl_out *r);

void idl_close(mica_handle_t h)
{
    if (h)
        closed++;
}

int idl_handle_infos(const mica_handle_t *hs, uint32_t n,
                     struct mica_handle_info *info)
{
    for (uint32_t i = 0; i < n; i++)
        info[i] = (struct mica_handle_info){ hs[i] >> 16, hs[i] & 0xffff };
    return OK;
}

/* --- the server ----------------------------------------------------- */

static int do_ping(void *ctx, const struct idl_txn *t)
{
    (void)ctx;
    (void)t;
    return OK;
}

static int do_add(void *ctx, const struct idl_txn *t,
                  const struct demo_add_req *q, struct demo_add_resp *r)
{
    (void)ctx;
    (void)t;
    if (q->a == 666)
        return ERR_IO;                  /* not declared */
    if (q->a == 777)
        return IDL_DEFER;
    r->sum = (uint64_t)q->a + q->b;
    return r->sum > 1000 ? ERR_OUT_OF_RANGE : OK;
}

static int do_paint(void *ctx, const struct idl_txn *t,
                    const struct demo_paint_req *q, struct demo_paint_resp *r)
{
    (void)ctx;
    (void)t;
    if (q->name.count == 7 && memcmp(q->name.data, "missing", 7) == 0)
        return ERR_NOT_FOUND;
    r->old = q->p;
    r->old.at.x += q->d;
    return OK;
}

static int do_store(void *ctx, const struct idl_txn *t,
                    const struct demo_store_req *q, struct demo_store_resp *r)
{
    (void)ctx;
    (void)t;
    idl_close(q->where);
    r->n = q->data.count;
    return OK;
}

static int do_samples(void *ctx, const struct idl_txn *t,
                      const struct demo_samples_req *q,
                      struct demo_samples_resp *r)
{
    static int32_t xs[16];
    static const struct demo_point ps[2] = { { 1, 2 }, { -3, -4 } };
    (void)ctx;
    (void)t;
    for (int i = 0; i < 16; i++)
        xs[i] = -i;
    r->xs = (struct idl_span){ xs, q->want };
    r->ps = (struct idl_span){ ps, 2 };
    r->note = (struct idl_span){ "h\xc3\xa9llo", 6 };
    return OK;
}

static int do_give(void *ctx, const struct idl_txn *t,
                   const struct demo_give_req *q, struct demo_give_resp *r)
{
    (void)ctx;
    (void)t;
    r->ch = H(OBJ_CHANNEL, q->flag ? RIGHT_READ : RIGHTS_IO | RIGHT_TRANSFER);
    r->ev = H(OBJ_EVENT, RIGHT_WAIT);
    return OK;
}

static const struct demo_server server = {
    .ping = do_ping, .add = do_add, .paint = do_paint, .store = do_store,
    .samples = do_samples, .give = do_give,
};

/* The fake kernel: the call goes straight to demo_dispatch. */
int idl_call(mica_handle_t ch, const struct idl_method *m, const void *req,
             void *resp, void *qbuf, uint32_t qcap, void *rbuf, uint32_t rcap)
{
    (void)ch;
    struct idl_out q = { .bytes = qbuf, .cap = qcap };
    struct idl_header h = { IDL_MAGIC, 0, ++last_txid, m->id, OK, 0 };
    struct mica_handle_info qi[MICA_MSG_MAX_HANDLES], ri[MICA_MSG_MAX_HANDLES];
    int err = idl_encode(&m->request, &h, req, &q);
    if (err) {
        uint32_t n = idl_handles_of(&m->request, req, q.handles);
        for (uint32_t i = 0; i < n; i++)
            idl_close(q.handles[i]);
        return err;
    }
    idl_handle_infos(q.handles, q.nhandles, qi);
    struct idl_in in = { qbuf, q.len, q.nhandles, q.handles, qi };
    static struct idl_out r;
    r = (struct idl_out){ .bytes = rbuf, .cap = rcap };
    int d = demo_dispatch(&server, NULL, &in, &r);
    if (d == IDL_REFUSED)
        for (uint32_t i = 0; i < q.nhandles; i++)
            idl_close(q.handles[i]);
    if (d == IDL_DEFER)
        return ERR_TIMED_OUT;           /* nobody answers in this test */
    if (tamper)
        tamper(&r);
    idl_handle_infos(r.handles, r.nhandles, ri);
    err = idl_reply_decode(m, h.txid, rbuf, r.len, r.handles, ri, r.nhandles,
                           resp);
    if (err)
        for (uint32_t i = 0; i < r.nhandles; i++)
            idl_close(r.handles[i]);
    return err;
}

/* --- through the stubs ---------------------------------------------- */

static void stubs_round_trip(void **state)
{
    (void)state;
    uint64_t sum = 0;
    assert_int_equal(demo_ping(1), OK);
    assert_int_equal(demo_add(1, 40, 2, &sum), OK);
    assert_int_equal(sum, 42);
    assert_int_equal(demo_add(1, 600, 600, &sum), ERR_OUT_OF_RANGE);

    struct demo_pixel p = { { 10, -20 }, DEMO_COLOR_BLUE, true, 1ull << 40 };
    struct demo_pixel old;
    memset(&old, 0, sizeof(old));
    assert_int_equal(demo_paint(1, &p, DEMO_DELTA_DOWN, "abc", 3, &old), OK);
    assert_int_equal(old.at.x, 9);
    assert_int_equal(old.at.y, -20);
    assert_int_equal(old.color, DEMO_COLOR_BLUE);
    assert_true(old.lit);
    assert_int_equal(old.weight, 1ull << 40);
    assert_int_equal(demo_paint(1, &p, 0, "missing", 7, &old), ERR_NOT_FOUND);

    char data[4096];
    uint32_t n = 0;
    memset(data, 7, sizeof(data));
    closed = 0;
    assert_int_equal(demo_store(1, data, 4096, H(OBJ_VMO, RIGHTS_IO), &n), OK);
    assert_int_equal(n, 4096);
    assert_int_equal(closed, 1);
    assert_int_equal(demo_store(1, data, 0, H(OBJ_VMO, RIGHTS_ALL), &n), OK);
    assert_int_equal(n, 0);
}

static void stubs_spans_and_handles(void **state)
{
    (void)state;
    int32_t xs[16];
    struct demo_point ps[4];
    char note[32];
    uint32_t nx, np, nn;
    assert_int_equal(demo_samples(1, 5, xs, 16, &nx, ps, 4, &np, note, 32,
                                  &nn), OK);
    assert_int_equal(nx, 5);
    assert_int_equal(xs[4], -4);
    assert_int_equal(np, 2);
    assert_int_equal(ps[1].y, -4);
    assert_int_equal(nn, 6);
    assert_memory_equal(note, "h\xc3\xa9llo", 6);
    /* a caller's array too small */
    assert_int_equal(demo_samples(1, 5, xs, 4, &nx, ps, 4, &np, note, 32,
                                  &nn), ERR_BUFFER_TOO_SMALL);
    assert_int_equal(nx, 5);

    mica_handle_t ch = 0, ev = 0;
    closed = 0;
    assert_int_equal(demo_give(1, false, &ch, &ev), OK);
    assert_int_equal(ch, H(OBJ_CHANNEL, RIGHTS_IO | RIGHT_TRANSFER));
    assert_int_equal(ev, H(OBJ_EVENT, RIGHT_WAIT));
    /* a result handle without the rights named: the reply is bad, and
     * its handles are closed */
    assert_int_equal(demo_give(1, true, &ch, &ev), ERR_BAD_FORMAT);
    assert_int_equal(closed, 2);
    /* results not wanted: their handles are closed */
    closed = 0;
    assert_int_equal(demo_give(1, false, NULL, NULL), OK);
    assert_int_equal(closed, 2);
}

static void stubs_handle_checks(void **state)
{
    (void)state;
    uint32_t n;
    closed = 0;
    assert_int_equal(demo_store(1, "x", 1, H(OBJ_EVENT, RIGHTS_IO), &n),
                     ERR_WRONG_TYPE);
    assert_int_equal(demo_store(1, "x", 1, H(OBJ_VMO, RIGHT_READ), &n),
                     ERR_ACCESS_DENIED);
    assert_int_equal(closed, 2);        /* refused: the server closed them */
    closed = 0;
    assert_int_equal(demo_store(1, "x", 1, HANDLE_INVALID, &n),
                     ERR_INVALID_ARGS);
    assert_int_equal(demo_store(1, "x", 4097, H(OBJ_VMO, RIGHTS_IO), &n),
                     ERR_OUT_OF_RANGE);
    assert_int_equal(closed, 1);        /* the stub closed what it kept
                                           (0 is no handle) */
}

static void bad_result_pixel(struct idl_out *r)
{
    ((uint8_t *)r->bytes)[IDL_HEADER_SIZE + 9] = 2;     /* old.lit */
}

static void bad_status_body(struct idl_out *r)
{
    struct idl_header h;
    memcpy(&h, r->bytes, sizeof(h));
    h.status = ERR_NOT_FOUND;           /* declared, but with a body */
    memcpy(r->bytes, &h, sizeof(h));
}

static void bad_txid(struct idl_out *r)
{
    ((uint8_t *)r->bytes)[8] ^= 1;
}

static void bad_method(struct idl_out *r)
{
    ((uint8_t *)r->bytes)[16] ^= 1;
}

static void not_a_reply(struct idl_out *r)
{
    ((uint8_t *)r->bytes)[4] = 0;
}

static void stubs_reject_bad_replies(void **state)
{
    (void)state;
    uint64_t sum;
    struct demo_pixel p = { { 1, 2 }, DEMO_COLOR_RED, false, 0 }, old;
    /* an error the method does not declare */
    assert_int_equal(demo_add(1, 666, 0, &sum), ERR_BAD_FORMAT);
    void (*const bad[])(struct idl_out *) = {
        bad_result_pixel, bad_status_body, bad_txid, bad_method, not_a_reply,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tamper = bad[i];
        assert_int_equal(demo_paint(1, &p, 0, "", 0, &old), ERR_BAD_FORMAT);
    }
    tamper = NULL;
    /* the dispatch's own errors are always allowed */
    assert_int_equal(demo_paint(1, &p, 7, "", 0, &old), ERR_INVALID_ARGS);
}

/* --- the encoder ---------------------------------------------------- */

static uint64_t msg[8192];

static int encode_paint(const struct demo_paint_req *q, struct idl_out *o)
{
    struct idl_header h = { IDL_MAGIC, 0, 5, DEMO_PAINT_ID, OK, 0 };
    *o = (struct idl_out){ .bytes = msg, .cap = sizeof(msg) };
    return idl_encode(&demo_paint_method.request, &h, q, o);
}

static struct demo_paint_req good_paint(void)
{
    struct demo_paint_req q;
    memset(&q, 0xa5, sizeof(q));        /* padding full of junk */
    q.p = (struct demo_pixel){ { -1, 2 }, DEMO_COLOR_GREEN, true, 99 };
    memset((uint8_t *)&q.p + 10, 0xa5, 6);
    q.d = DEMO_DELTA_UP;
    q.name = (struct idl_span){ "abc", 3 };
    return q;
}

static void encoder_layout(void **state)
{
    (void)state;
    struct demo_paint_req q = good_paint();
    struct idl_out o;
    assert_int_equal(encode_paint(&q, &o), OK);
    const uint8_t *b = (const uint8_t *)msg;
    assert_int_equal(o.len, 80);        /* 32 + 40 inline + 8 block */
    assert_int_equal(b[40], DEMO_COLOR_GREEN);
    assert_int_equal(b[41], 1);
    for (int i = 42; i < 48; i++)
        assert_int_equal(b[i], 0);      /* the struct's padding */
    uint32_t ref[2];
    memcpy(ref, b + 60, 8);
    assert_int_equal(ref[0], 72);
    assert_int_equal(ref[1], 3);
    assert_memory_equal(b + 72, "abc\0\0\0\0\0", 8);
}

/* Bytes gathered where their block goes are kept there: only the
 * padding after them is written; an array in place is still checked. */
static void encoder_in_place(void **state)
{
    (void)state;
    uint64_t buf[16];
    uint8_t *b = (uint8_t *)buf;
    struct idl_header h = { IDL_MAGIC, 0, 9, DEMO_STORE_ID, OK, 0 };
    struct idl_out o = { .bytes = buf, .cap = sizeof(buf) };
    memset(buf, 0xee, sizeof(buf));
    memcpy(b + 40, "hello", 5);
    struct demo_store_req q = { { b + 40, 5 }, 3 };
    assert_int_equal(idl_encode(&demo_store_method.request, &h, &q, &o), OK);
    assert_int_equal(o.len, 48);
    assert_memory_equal(b + 40, "hello\0\0\0", 8);
    struct demo_store_req d;
    struct mica_handle_info info = { OBJ_VMO, RIGHT_READ | RIGHT_WRITE };
    mica_handle_t hs[1] = { 3 };
    assert_int_equal(idl_decode(&demo_store_method.request, buf, o.len, hs,
                                &info, 1, &d), OK);
    assert_int_equal(d.data.count, 5);
    assert_memory_equal(d.data.data, "hello", 5);
    /* colors in place, one not a member: refused as from elsewhere */
    struct demo_mix_req m = { { NULL, 0 }, { b + 56, 2 }, { NULL, 0 } };
    h.method = DEMO_MIX_ID;
    o = (struct idl_out){ .bytes = buf, .cap = sizeof(buf) };
    b[56] = DEMO_COLOR_RED;
    b[57] = 3;
    assert_int_equal(idl_encode(&demo_mix_method.request, &h, &m, &o),
                     ERR_INVALID_ARGS);
    b[57] = DEMO_COLOR_BLUE;
    o = (struct idl_out){ .bytes = buf, .cap = sizeof(buf) };
    assert_int_equal(idl_encode(&demo_mix_method.request, &h, &m, &o), OK);
    assert_int_equal(b[56], DEMO_COLOR_RED);
    assert_int_equal(b[57], DEMO_COLOR_BLUE);
}

static void encoder_refusals(void **state)
{
    (void)state;
    struct idl_out o;
    struct demo_paint_req q = good_paint();
    q.p.lit = 0;
    memset(&q.p.lit, 2, 1);
    assert_int_equal(encode_paint(&q, &o), ERR_INVALID_ARGS);
    q = good_paint();
    q.p.color = 3;
    assert_int_equal(encode_paint(&q, &o), ERR_INVALID_ARGS);
    q = good_paint();
    q.d = 2;
    assert_int_equal(encode_paint(&q, &o), ERR_INVALID_ARGS);
    q = good_paint();
    q.name = (struct idl_span){ "\xc0\x80", 2 };
    assert_int_equal(encode_paint(&q, &o), ERR_INVALID_ARGS);
    q.name = (struct idl_span){ NULL, 1 };
    assert_int_equal(encode_paint(&q, &o), ERR_INVALID_ARGS);
    q.name = (struct idl_span){ "0123456789012345678901234567890123", 33 };
    assert_int_equal(encode_paint(&q, &o), ERR_OUT_OF_RANGE);
    q = good_paint();
    struct idl_header h = { IDL_MAGIC, 0, 5, DEMO_PAINT_ID, OK, 0 };
    o = (struct idl_out){ .bytes = msg, .cap = 72 };
    assert_int_equal(idl_encode(&demo_paint_method.request, &h, &q, &o),
                     ERR_BUFFER_TOO_SMALL);
    o = (struct idl_out){ .bytes = msg, .cap = 64 };
    assert_int_equal(idl_encode(&demo_paint_method.request, &h, &q, &o),
                     ERR_BUFFER_TOO_SMALL);
    o = (struct idl_out){ .bytes = (uint8_t *)msg + 4, .cap = 1000 };
    assert_int_equal(idl_encode(&demo_paint_method.request, &h, &q, &o),
                     ERR_INVALID_ARGS);
}

/* --- the decoder: every rule broken once ---------------------------- */

static int decode_paint(uint32_t len, struct demo_paint_req *q)
{
    struct idl_header h;
    int err = idl_decode_header(msg, len, false, &h);
    return err ? err : idl_decode(&demo_paint_method.request, msg, len, NULL,
                                  NULL, 0, q);
}

static void decoder_accepts_and_points_in_place(void **state)
{
    (void)state;
    struct demo_paint_req q = good_paint(), d;
    struct idl_out o;
    assert_int_equal(encode_paint(&q, &o), OK);
    assert_int_equal(decode_paint(o.len, &d), OK);
    assert_int_equal(d.p.at.x, -1);
    assert_int_equal(d.d, DEMO_DELTA_UP);
    assert_ptr_equal(d.name.data, (uint8_t *)msg + 72);    /* not copied */
    assert_int_equal(d.name.count, 3);
}

static void decoder_rejects_each_byte_rule(void **state)
{
    (void)state;
    static const struct { uint32_t at; uint8_t val; const char *why; } bad[] = {
        { 0, 0x00, "magic" },
        { 4, 0x01, "a reply's flag in a request" },
        { 5, 0x01, "an unknown flag" },
        { 24, 0x01, "a status in a request" },
        { 28, 0x01, "reserved" },
        { 40, 0x03, "an enum value not a member" },
        { 41, 0x02, "a bool neither 0 nor 1" },
        { 42, 0x01, "a struct's padding" },
        { 47, 0x80, "a struct's padding, its last byte" },
        { 56, 0x05, "a signed enum value not a member" },
        { 58, 0x01, "padding between parameters" },
        { 60, 80, "a block not where the last ended" },
        { 60, 64, "a block inside the inline part" },
        { 64, 33, "a count above the bound" },
        { 64, 9, "a count past the message" },
        { 66, 1, "a count far past the message" },
        { 72, 0xff, "a string not UTF-8" },
        { 74, 0xc3, "a string with a truncated sequence" },
        { 75, 0x01, "a block's padding" },
        { 79, 0x01, "a block's padding, its last byte" },
    };
    struct demo_paint_req q = good_paint(), d;
    struct idl_out o;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(encode_paint(&q, &o), OK);
        ((uint8_t *)msg)[bad[i].at] = bad[i].val;
        int err = decode_paint(o.len, &d);
        if (err != ERR_BAD_FORMAT)
            fail_msg("%s: %d", bad[i].why, err);
    }
}

static void decoder_rejects_bad_lengths(void **state)
{
    (void)state;
    struct demo_paint_req q = good_paint(), d;
    struct idl_out o;
    assert_int_equal(encode_paint(&q, &o), OK);
    assert_int_equal(decode_paint(o.len - 8, &d), ERR_BAD_FORMAT);
    assert_int_equal(decode_paint(o.len + 8, &d), ERR_BAD_FORMAT);
    assert_int_equal(decode_paint(o.len - 1, &d), ERR_BAD_FORMAT);
    assert_int_equal(decode_paint(40, &d), ERR_BAD_FORMAT);
    assert_int_equal(decode_paint(31, &d), ERR_BAD_FORMAT);
    assert_int_equal(decode_paint(0, &d), ERR_BAD_FORMAT);
    struct idl_header h;
    assert_int_equal(idl_decode_header((uint8_t *)msg + 1, 64, false, &h),
                     ERR_INVALID_ARGS);
    assert_int_equal(idl_decode(&demo_paint_method.request,
                                (uint8_t *)msg + 4, 72, NULL, NULL, 0, &d),
                     ERR_INVALID_ARGS);
}

static int decode_store(uint32_t len, const mica_handle_t *hs, uint32_t nh)
{
    struct mica_handle_info info[4];
    struct demo_store_req q;
    idl_handle_infos(hs, nh, info);
    return idl_decode(&demo_store_method.request, msg, len, hs, info, nh, &q);
}

static void decoder_checks_handles(void **state)
{
    (void)state;
    struct demo_store_req q = { { "data", 4 }, H(OBJ_VMO, RIGHTS_IO) };
    struct idl_header h = { IDL_MAGIC, 0, 1, DEMO_STORE_ID, OK, 0 };
    struct idl_out o = { .bytes = msg, .cap = sizeof(msg) };
    assert_int_equal(idl_encode(&demo_store_method.request, &h, &q, &o), OK);
    assert_int_equal(o.nhandles, 1);
    mica_handle_t vmo = H(OBJ_VMO, RIGHTS_ALL), two[2] = { vmo, vmo };
    mica_handle_t ev = H(OBJ_EVENT, RIGHTS_ALL);
    mica_handle_t ro = H(OBJ_VMO, RIGHT_READ | RIGHT_MAP);
    assert_int_equal(decode_store(o.len, &vmo, 1), OK);
    assert_int_equal(decode_store(o.len, NULL, 0), ERR_BAD_FORMAT);
    assert_int_equal(decode_store(o.len, two, 2), ERR_BAD_FORMAT);
    assert_int_equal(decode_store(o.len, &ev, 1), ERR_WRONG_TYPE);
    assert_int_equal(decode_store(o.len, &ro, 1), ERR_ACCESS_DENIED);
}

static void decoder_checks_array_elements(void **state)
{
    (void)state;
    bool flags[3] = { true, false, true };
    demo_color_t colors[2] = { DEMO_COLOR_RED, DEMO_COLOR_BLUE };
    struct demo_mix_req q = { { flags, 3 }, { colors, 2 }, { "", 0 } }, d;
    struct idl_header h = { IDL_MAGIC, 0, 1, DEMO_MIX_ID, OK, 0 };
    struct idl_out o = { .bytes = msg, .cap = sizeof(msg) };
    assert_int_equal(idl_encode(&demo_mix_method.request, &h, &q, &o), OK);
    /* 32 + 24 inline; flags at 56, colors at 64; an empty blob at 72 */
    assert_int_equal(o.len, 72);
    const struct idl_message *m = &demo_mix_method.request;
    assert_int_equal(idl_decode(m, msg, o.len, NULL, NULL, 0, &d), OK);
    assert_int_equal(d.flags.count, 3);
    assert_int_equal(((const uint8_t *)d.colors.data)[1], DEMO_COLOR_BLUE);
    assert_int_equal(d.blob.count, 0);
    ((uint8_t *)msg)[57] = 2;
    assert_int_equal(idl_decode(m, msg, o.len, NULL, NULL, 0, &d),
                     ERR_BAD_FORMAT);
    ((uint8_t *)msg)[57] = 0;
    ((uint8_t *)msg)[65] = 3;
    assert_int_equal(idl_decode(m, msg, o.len, NULL, NULL, 0, &d),
                     ERR_BAD_FORMAT);
    bool bad[1];
    memset(bad, 2, sizeof(bad));
    q.flags = (struct idl_span){ bad, 1 };
    o = (struct idl_out){ .bytes = msg, .cap = sizeof(msg) };
    assert_int_equal(idl_encode(m, &h, &q, &o), ERR_INVALID_ARGS);
}

/* --- the dispatch --------------------------------------------------- */

static int dispatch(const void *bytes, uint32_t n, struct idl_out *r,
                    struct idl_header *rh)
{
    static uint64_t rbuf[64];
    struct idl_in in = { bytes, n, 0, NULL, NULL };
    *r = (struct idl_out){ .bytes = rbuf, .cap = sizeof(rbuf) };
    int d = demo_dispatch(&server, NULL, &in, r);
    memcpy(rh, rbuf, sizeof(*rh));
    return d;
}

static void dispatch_refusals(void **state)
{
    (void)state;
    struct idl_out r;
    struct idl_header rh;
    struct demo_paint_req q = good_paint();
    struct idl_out o;
    assert_int_equal(encode_paint(&q, &o), OK);
    assert_int_equal(dispatch(msg, o.len, &r, &rh), OK);
    assert_int_equal(rh.flags, IDL_FLAG_REPLY);
    assert_int_equal(rh.txid, 5);
    assert_int_equal(rh.method, DEMO_PAINT_ID);
    assert_int_equal(r.len, 56);
    /* a malformed body: refused with ERR_INVALID_ARGS */
    ((uint8_t *)msg)[41] = 2;
    assert_int_equal(dispatch(msg, o.len, &r, &rh), IDL_REFUSED);
    assert_int_equal(rh.status, ERR_INVALID_ARGS);
    assert_int_equal(rh.txid, 5);
    assert_int_equal(r.len, IDL_HEADER_SIZE);
    /* an unknown method */
    uint64_t other = DEMO_PAINT_ID ^ 1;
    memcpy((uint8_t *)msg + 16, &other, 8);
    assert_int_equal(dispatch(msg, o.len, &r, &rh), IDL_REFUSED);
    assert_int_equal(rh.status, ERR_NOT_SUPPORTED);
    /* a method the server has no handler for */
    struct idl_header h = { IDL_MAGIC, 0, 9, DEMO_MIX_ID, OK, 0 };
    memcpy(msg, &h, sizeof(h));
    assert_int_equal(dispatch(msg, 72, &r, &rh), IDL_REFUSED);
    assert_int_equal(rh.status, ERR_NOT_SUPPORTED);
    /* no header */
    assert_int_equal(dispatch(msg, 16, &r, &rh), IDL_REFUSED);
    assert_int_equal(rh.status, ERR_INVALID_ARGS);
    assert_int_equal(rh.txid, 0);
    /* a handler that defers */
    struct demo_add_req a = { 777, 1 };
    h = (struct idl_header){ IDL_MAGIC, 0, 3, DEMO_ADD_ID, OK, 0 };
    o = (struct idl_out){ .bytes = msg, .cap = sizeof(msg) };
    assert_int_equal(idl_encode(&demo_add_method.request, &h, &a, &o), OK);
    assert_int_equal(dispatch(msg, o.len, &r, &rh), IDL_DEFER);
    /* ... and replies later */
    struct idl_txn t = { 3, &demo_add_method };
    struct demo_add_resp res = { 778 };
    assert_int_equal(idl_reply(&t, OK, &res, &r), OK);
    struct demo_add_resp got;
    assert_int_equal(idl_reply_decode(&demo_add_method, 3, r.bytes, r.len,
                                      NULL, NULL, 0, &got), OK);
    assert_int_equal(got.sum, 778);
}

/* --- ids and UTF-8 -------------------------------------------------- */

static void ids_are_stable(void **state)
{
    (void)state;
    /* The hash of each signature (tests/idl/demo.ids has them all):
     * changing one means every program built before no longer matches. */
    assert_true(DEMO_PING_ID == 0xa494cba7045edf3dull);
    assert_true(DEMO_ADD_ID == 0x4562b727b18f62c9ull);
    assert_true(DEMO_STORE_ID == 0x0b736fe460a1330dull);
    assert_true(demo_add_method.id == DEMO_ADD_ID);
    assert_string_equal(demo_add_method.name, "demo.add");
}

static void utf8(void **state)
{
    (void)state;
    static const struct { const char *s; bool ok; } cases[] = {
        { "", true }, { "plain", true }, { "h\xc3\xa9", true },
        { "\xe2\x82\xac", true }, { "\xf0\x9f\x98\x80", true },
        { "\xf4\x8f\xbf\xbf", true },
        { "\x80", false }, { "\xc3", false }, { "\xc0\x80", false },
        { "\xe0\x80\x80", false }, { "\xed\xa0\x80", false },
        { "\xf4\x90\x80\x80", false }, { "\xf8\x88\x80\x80\x80", false },
        { "\xe2\x82", false }, { "\xc3\x28", false }, { "\xff", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (idl_utf8_valid((const uint8_t *)cases[i].s,
                           (uint32_t)strlen(cases[i].s)) != cases[i].ok)
            fail_msg("case %zu", i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stubs_round_trip),
        cmocka_unit_test(stubs_spans_and_handles),
        cmocka_unit_test(stubs_handle_checks),
        cmocka_unit_test(stubs_reject_bad_replies),
        cmocka_unit_test(encoder_layout),
        cmocka_unit_test(encoder_in_place),
        cmocka_unit_test(encoder_refusals),
        cmocka_unit_test(decoder_accepts_and_points_in_place),
        cmocka_unit_test(decoder_rejects_each_byte_rule),
        cmocka_unit_test(decoder_rejects_bad_lengths),
        cmocka_unit_test(decoder_checks_handles),
        cmocka_unit_test(decoder_checks_array_elements),
        cmocka_unit_test(dispatch_refusals),
        cmocka_unit_test(ids_are_stable),
        cmocka_unit_test(utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
