/*
 * sig.c - a method's structural signature and its id.
 *
 * The signature is a string that spells out everything a message's
 * meaning depends on, with every named type replaced by its structure
 * (docs/idl.md, "Method ids"):
 *
 *   block.read(sector:u64,count:u32,data:handle<grant,write>)->()
 *     !(ERR_OUT_OF_RANGE,ERR_INVALID_ARGS)
 *
 * (on one line).  Structs are struct{name:type,...} in field order,
 * enums enum<u32>{NAME=1,...} in member order, bounded types carry
 * their bound, handles their object type and rights in bit order; the
 * errors are sorted.  Names of fields, parameters and members are part
 * of it; names of struct and enum types are not: renaming a type keeps
 * every id, as the wire does not change.
 *
 * The id is the 64-bit FNV-1a hash of that string.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "idlc.h"

struct buf {
    char *s;
    size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            fatal("signature: format error");
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n) * 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s)
            fatal("out of memory");
    }
}

static void put_type(struct buf *b, const struct type *t);

static void put_int(struct buf *b, const struct type *t)
{
    put(b, "%c%d", t->is_signed ? 'i' : 'u', t->width * 8);
}

static void put_enum(struct buf *b, const struct decl *d)
{
    put(b, "enum<");
    put_int(b, d->under);
    put(b, ">{");
    for (int i = 0; i < d->nmembers; i++)
        put(b, "%s%s=%" PRId64, i ? "," : "", d->members[i].name,
            d->members[i].value);
    put(b, "}");
}

static void put_fields(struct buf *b, const struct field *fs, int n)
{
    for (int i = 0; i < n; i++) {
        put(b, "%s%s:", i ? "," : "", fs[i].name);
        put_type(b, fs[i].type);
    }
}

static void put_handle(struct buf *b, const struct type *t)
{
    put(b, "handle<%s,", obj_name(t->obj));
    if (!t->rights)
        put(b, "none");
    for (int bit = 0, first = 1; right_name(bit); bit++)
        if (t->rights & (1u << bit)) {
            put(b, "%s%s", first ? "" : "|", right_name(bit));
            first = 0;
        }
    put(b, ">");
}

static void put_type(struct buf *b, const struct type *t)
{
    switch (t->kind) {
    case K_INT: put_int(b, t); break;
    case K_BOOL: put(b, "bool"); break;
    case K_ENUM: put_enum(b, t->decl); break;
    case K_STRUCT:
        put(b, "struct{");
        put_fields(b, t->decl->fields, t->decl->nfields);
        put(b, "}");
        break;
    case K_BYTES: put(b, "bytes<%u>", t->bound); break;
    case K_STRING: put(b, "string<%u>", t->bound); break;
    case K_ARRAY:
        put(b, "array<");
        put_type(b, t->elem);
        put(b, ",%u>", t->bound);
        break;
    case K_HANDLE: put_handle(b, t); break;
    }
}

uint64_t fnv1a64(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void sign(struct protocol *p)
{
    for (int i = 0; i < p->nmethods; i++) {
        struct method *m = &p->methods[i];
        struct buf b = { 0 };
        put(&b, "%s.%s(", p->name, m->name);
        put_fields(&b, m->req.fields, m->req.nfields);
        put(&b, ")->(");
        put_fields(&b, m->resp.fields, m->resp.nfields);
        put(&b, ")!(");
        for (int k = 0; k < m->nerrors; k++)
            put(&b, "%s%s", k ? "," : "", error_name(m->errors[k]));
        put(&b, ")");
        m->sig = b.s;
        m->id = fnv1a64(b.s, b.len);
        for (int k = 0; k < i; k++)
            if (p->methods[k].id == m->id)
                fatal_at(m->loc, "%s has the id of %s", m->name,
                         p->methods[k].name);
    }
}
