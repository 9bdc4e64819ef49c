/*
 * idl.c - encoding and validating decoding of IDL messages (idl.h).
 *
 * Both walk the tables idlc generates.  The encoder starts from a zeroed
 * inline part and copies each value field by field, so padding is zero
 * whatever the caller's structs held; the decoder checks every byte of
 * the message exactly once, in order: the inline part with its padding,
 * then each out-of-line block, which must start exactly where the one
 * before it ended (no gaps, no overlap, no aliasing), then the message's
 * end, then the handles.  Nothing is read outside [buf, buf + len), and
 * every length is checked in 64 bits before it is used.
 */
#include <string.h>

#include "idl.h"

static uint32_t align8(uint32_t n)
{
    return (n + (IDL_ALIGN - 1)) & ~(IDL_ALIGN - 1);
}

static bool is_block(const struct idl_type *t)
{
    return t->kind == IDL_BYTES || t->kind == IDL_STRING ||
           t->kind == IDL_ARRAY;
}

static uint32_t elem_size(const struct idl_type *t)
{
    return t->kind == IDL_ARRAY ? t->elem->size : 1;
}

/* An integer of t's width and signedness, widened. */
static int64_t read_int(const struct idl_type *t, const uint8_t *p)
{
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64 = 0;
    switch (t->size) {
    case 1: memcpy(&u8, p, 1); return t->is_signed ? (int8_t)u8 : u8;
    case 2: memcpy(&u16, p, 2); return t->is_signed ? (int16_t)u16 : u16;
    case 4: memcpy(&u32, p, 4); return t->is_signed ? (int64_t)(int32_t)u32 : (int64_t)u32;
    default: memcpy(&u64, p, 8); return (int64_t)u64;
    }
}

static bool enum_member(const struct idl_type *t, const uint8_t *p)
{
    int64_t v = read_int(t, p);
    for (uint32_t i = 0; i < t->count; i++)
        if (t->members[i] == v)
            return true;
    return false;
}

static bool all_zero(const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

bool idl_utf8_valid(const uint8_t *s, uint32_t n)
{
    uint32_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t more, cp, min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0) { more = 1; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { more = 2; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { more = 3; cp = c & 0x07; min = 0x10000; }
        else return false;
        if (more > n - i - 1)
            return false;
        for (uint32_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += more + 1;
    }
    return true;
}

/* --- encoding ------------------------------------------------------ */

/* One inline value from src (C layout) to dst (zeroed). */
static int put_value(const struct idl_type *t, uint8_t *dst,
                     const uint8_t *src)
{
    switch (t->kind) {
    case IDL_BOOL:
        if (src[0] > 1)
            return ERR_INVALID_ARGS;
        break;
    case IDL_ENUM:
        if (!enum_member(t, src))
            return ERR_INVALID_ARGS;
        break;
    case IDL_STRUCT:
        for (uint32_t i = 0; i < t->count; i++) {
            const struct idl_field *f = &t->fields[i];
            int err = put_value(f->type, dst + f->wire, src + f->native);
            if (err)
                return err;
        }
        return OK;
    default:
        break;
    }
    memcpy(dst, src, t->size);
    return OK;
}

static bool check_value(const struct idl_type *t, const uint8_t *p);

/* An element already in place: what put_value would refuse. */
static int check_elem(const struct idl_type *t, const uint8_t *p)
{
    return check_value(t, p) ? OK : ERR_INVALID_ARGS;
}

/* A span as the block at out->len, referred to from ref. */
static int put_block(const struct idl_type *t, const struct idl_span *s,
                     uint8_t *ref, struct idl_out *out)
{
    uint8_t *base = out->bytes;
    uint32_t es = elem_size(t);
    if (s->count > t->bound)
        return ERR_OUT_OF_RANGE;
    if (s->count && !s->data)
        return ERR_INVALID_ARGS;
    uint32_t n = s->count * es, end = align8(out->len + n);
    if ((uint64_t)out->len + n > out->cap || end > out->cap)
        return ERR_BUFFER_TOO_SMALL;
    if (t->kind == IDL_STRING && !idl_utf8_valid(s->data, n))
        return ERR_INVALID_ARGS;
    uint8_t *dst = base + out->len;
    bool in_place = s->data == dst;     /* gathered there by the caller */
    memset(dst + n, 0, end - out->len - n);
    if (t->kind == IDL_ARRAY && t->elem->kind != IDL_INT) {
        for (uint32_t i = 0; i < s->count; i++) {
            int err = in_place ? check_elem(t->elem, dst + i * es)
                               : put_value(t->elem, dst + i * es,
                                           (const uint8_t *)s->data + i * es);
            if (err)
                return err;
        }
    } else if (n && !in_place) {
        memcpy(dst, s->data, n);
    }
    uint32_t r[2] = { out->len, s->count };
    memcpy(ref, r, sizeof(r));
    out->len = end;
    return OK;
}

static int put_field(const struct idl_field *f, const uint8_t *native,
                     struct idl_out *out)
{
    uint8_t *base = out->bytes;
    const uint8_t *src = native + f->native;
    if (f->type->kind == IDL_HANDLE) {
        mica_handle_t h;
        memcpy(&h, src, sizeof(h));
        if (h == HANDLE_INVALID)
            return ERR_INVALID_ARGS;
        out->handles[out->nhandles++] = h;
        return OK;
    }
    if (is_block(f->type)) {
        struct idl_span s;
        memcpy(&s, src, sizeof(s));
        return put_block(f->type, &s, base + f->wire, out);
    }
    return put_value(f->type, base + f->wire, src);
}

int idl_encode(const struct idl_message *m, const struct idl_header *h,
               const void *native, struct idl_out *out)
{
    if ((uintptr_t)out->bytes % IDL_ALIGN)
        return ERR_INVALID_ARGS;
    if (m->inline_end > out->cap)
        return ERR_BUFFER_TOO_SMALL;
    memset(out->bytes, 0, m->inline_end);
    memcpy(out->bytes, h, sizeof(*h));
    out->len = m->inline_end;
    out->nhandles = 0;
    for (uint32_t i = 0; i < m->count; i++) {
        int err = put_field(&m->fields[i], native, out);
        if (err)
            return err;
    }
    return OK;
}

uint32_t idl_handles_of(const struct idl_message *m, const void *native,
                        mica_handle_t *hs)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->count; i++)
        if (m->fields[i].type->kind == IDL_HANDLE)
            memcpy(&hs[n++], (const uint8_t *)native + m->fields[i].native,
                   sizeof(*hs));
    return n;
}

/* --- decoding ------------------------------------------------------ */

int idl_decode_header(const void *buf, uint32_t len, bool reply,
                      struct idl_header *h)
{
    if ((uintptr_t)buf % IDL_ALIGN)
        return ERR_INVALID_ARGS;
    if (len < IDL_HEADER_SIZE)
        return ERR_BAD_FORMAT;
    memcpy(h, buf, sizeof(*h));
    if (h->magic != IDL_MAGIC || h->reserved != 0)
        return ERR_BAD_FORMAT;
    if (reply ? h->flags != IDL_FLAG_REPLY : (h->flags || h->status))
        return ERR_BAD_FORMAT;
    return OK;
}

/* Fields laid out from `start` (a struct's, or the inline part's), up
 * to `end`: each value valid, every byte between and after them zero.
 * Handles and blocks' references are checked by the caller. */
static bool check_fields(const struct idl_field *fs, uint32_t n,
                         const uint8_t *p, uint32_t start, uint32_t end);

static bool check_value(const struct idl_type *t, const uint8_t *p)
{
    switch (t->kind) {
    case IDL_BOOL:
        return p[0] <= 1;
    case IDL_ENUM:
        return enum_member(t, p);
    case IDL_STRUCT:
        return check_fields(t->fields, t->count, p, 0, t->size);
    default:
        return true;
    }
}

static bool check_fields(const struct idl_field *fs, uint32_t n,
                         const uint8_t *p, uint32_t start, uint32_t end)
{
    uint32_t pos = start;
    for (uint32_t i = 0; i < n; i++) {
        const struct idl_type *t = fs[i].type;
        if (t->kind == IDL_HANDLE)
            continue;
        if (!all_zero(p + pos, fs[i].wire - pos))
            return false;
        if (!is_block(t) && !check_value(t, p + fs[i].wire))
            return false;
        pos = fs[i].wire + t->size;
    }
    return all_zero(p + pos, end - pos);
}

/* The block a reference at p names, which must start at *cursor. */
static int get_block(const struct idl_type *t, const uint8_t *buf,
                     uint32_t len, const uint8_t *ref, uint32_t *cursor,
                     struct idl_span *s)
{
    uint32_t r[2];
    memcpy(r, ref, sizeof(r));
    uint32_t es = elem_size(t);
    if (r[0] != *cursor || r[1] > t->bound)
        return ERR_BAD_FORMAT;
    uint64_t n = (uint64_t)r[1] * es, end = (*cursor + n + 7) & ~7ull;
    if (end > len)
        return ERR_BAD_FORMAT;
    const uint8_t *d = buf + *cursor;
    if (!all_zero(d + n, (uint32_t)(end - *cursor - n)))
        return ERR_BAD_FORMAT;
    if (t->kind == IDL_STRING && !idl_utf8_valid(d, (uint32_t)n))
        return ERR_BAD_FORMAT;
    if (t->kind == IDL_ARRAY && t->elem->kind != IDL_INT)
        for (uint32_t i = 0; i < r[1]; i++)
            if (!check_value(t->elem, d + (uint64_t)i * es))
                return ERR_BAD_FORMAT;
    *s = (struct idl_span){ d, r[1] };
    *cursor = (uint32_t)end;
    return OK;
}

static int check_handle(const struct idl_type *t,
                        const struct mica_handle_info *info)
{
    if (t->obj_type != OBJ_NONE && info->type != t->obj_type)
        return ERR_WRONG_TYPE;
    if ((info->rights & t->rights) != t->rights)
        return ERR_ACCESS_DENIED;
    return OK;
}

/* The handles, in parameter order, once the bytes are known good. */
static int get_handles(const struct idl_message *m, const mica_handle_t *hs,
                       const struct mica_handle_info *info, uint32_t nh,
                       uint8_t *native)
{
    uint32_t k = 0;
    if (nh != m->handles)
        return ERR_BAD_FORMAT;
    for (uint32_t i = 0; i < m->count; i++) {
        const struct idl_field *f = &m->fields[i];
        if (f->type->kind != IDL_HANDLE)
            continue;
        int err = check_handle(f->type, &info[k]);
        if (err)
            return err;
        memcpy(native + f->native, &hs[k], sizeof(hs[k]));
        k++;
    }
    return OK;
}

int idl_decode(const struct idl_message *m, const void *buf, uint32_t len,
               const mica_handle_t *hs, const struct mica_handle_info *info,
               uint32_t nh, void *native)
{
    const uint8_t *p = buf;
    uint8_t *out = native;
    if ((uintptr_t)buf % IDL_ALIGN)
        return ERR_INVALID_ARGS;
    if (len < m->inline_end ||
        !check_fields(m->fields, m->count, p, IDL_HEADER_SIZE,
                      m->inline_end))
        return ERR_BAD_FORMAT;
    uint32_t cursor = m->inline_end;
    for (uint32_t i = 0; i < m->count; i++) {
        const struct idl_field *f = &m->fields[i];
        if (f->type->kind == IDL_HANDLE)
            continue;
        if (!is_block(f->type)) {
            memcpy(out + f->native, p + f->wire, f->type->size);
            continue;
        }
        struct idl_span s;
        int err = get_block(f->type, p, len, p + f->wire, &cursor, &s);
        if (err)
            return err;
        memcpy(out + f->native, &s, sizeof(s));
    }
    if (cursor != len)
        return ERR_BAD_FORMAT;
    return get_handles(m, hs, info, nh, out);
}

bool idl_status_allowed(const struct idl_method *m, int status)
{
    if (status == OK || status == ERR_INVALID_ARGS ||
        status == ERR_NOT_SUPPORTED)
        return true;
    if (m->request.handles &&
        (status == ERR_WRONG_TYPE || status == ERR_ACCESS_DENIED))
        return true;
    for (uint32_t i = 0; i < m->nerrors; i++)
        if (m->errors[i] == status)
            return true;
    return false;
}

int idl_copy_span(const struct idl_span *s, uint32_t es, void *dst,
                  uint32_t cap, uint32_t *count)
{
    if (count)
        *count = s->count;
    if (!dst)
        return OK;
    if (s->count > cap)
        return ERR_BUFFER_TOO_SMALL;
    if (s->count)
        memcpy(dst, s->data, (size_t)s->count * es);
    return OK;
}
