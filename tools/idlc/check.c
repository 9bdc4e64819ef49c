/*
 * check.c - the rules parsing cannot see, and the layout of every type
 * and message (docs/idl.md, "Wire format").
 *
 * Inline, every value has its C size and alignment on x86_64: integers
 * and enums their width, bool one byte, a struct its fields in order,
 * each at the next multiple of its alignment, the whole rounded up to
 * the largest.  So a struct's wire layout is its C layout (gen.c asserts
 * it).  Bytes, strings and arrays are an 8-byte reference inline (two
 * u32: offset and count, aligned 4); handles take no inline room.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <mica/ipc.h>

#include "idlc.h"

#define HEADER 32u

static uint32_t align_up(uint32_t n, uint32_t a)
{
    return (n + a - 1) & ~(a - 1);
}

static bool is_flat(const struct type *t)
{
    return t->kind == K_INT || t->kind == K_BOOL || t->kind == K_ENUM ||
           t->kind == K_STRUCT;
}

static void layout_struct(struct decl *d, struct type *t);

/* Size and alignment of t inline. */
static void layout(struct type *t)
{
    switch (t->kind) {
    case K_INT: t->size = t->align = (uint32_t)t->width; break;
    case K_BOOL: t->size = t->align = 1; break;
    case K_ENUM: t->size = t->align = (uint32_t)t->decl->under->width; break;
    case K_STRUCT: layout_struct(t->decl, t); break;
    case K_BYTES: case K_STRING: t->size = 8; t->align = 4; break;
    case K_ARRAY:
        if (!is_flat(t->elem))
            fatal_at(t->elem->loc, "an array holds integers, bools, enums "
                                   "or structs");
        layout(t->elem);
        t->size = 8;
        t->align = 4;
        break;
    case K_HANDLE: t->size = 0; t->align = 1; break;
    }
}

static void layout_struct(struct decl *d, struct type *t)
{
    uint32_t pos = 0, al = 1;
    if (d->nfields > 64)
        fatal_at(d->loc, "a struct has at most 64 fields");
    for (int i = 0; i < d->nfields; i++) {
        struct field *f = &d->fields[i];
        if (!is_flat(f->type))
            fatal_at(f->type->loc, "a struct holds integers, bools, enums "
                                   "or structs; bytes, strings, arrays and "
                                   "handles are parameters");
        layout(f->type);
        pos = align_up(pos, f->type->align);
        f->wire = pos;
        pos += f->type->size;
        if (f->type->align > al)
            al = f->type->align;
    }
    t->align = al;
    t->size = align_up(pos, al);
}

static void check_enum(const struct decl *d)
{
    const struct type *u = d->under;
    int bits = u->width * 8;
    for (int i = 0; i < d->nmembers; i++) {
        const struct member *m = &d->members[i];
        bool fits = u->is_signed
            ? bits == 64 || (m->value >= -(1ll << (bits - 1)) &&
                             m->value < (1ll << (bits - 1)))
            : m->value >= 0 && (bits == 64 || m->value < (1ll << bits));
        if (!fits)
            fatal_at(m->loc, "%s does not fit in the enum's type", m->name);
        for (int k = 0; k < i; k++)
            if (d->members[k].value == m->value)
                fatal_at(m->loc, "%s has the value of %s", m->name,
                         d->members[k].name);
    }
}

static uint32_t elem_size(const struct type *t)
{
    return t->kind == K_ARRAY ? t->elem->size : 1;
}

static void layout_message(struct method *me, struct message *m,
                           const char *what)
{
    uint32_t pos = HEADER;
    uint64_t blocks = 0;
    if (m->nfields > 64)
        fatal_at(me->loc, "a method has at most 64 %s", what);
    for (int i = 0; i < m->nfields; i++) {
        struct field *f = &m->fields[i];
        layout(f->type);
        if (f->type->kind == K_HANDLE) {
            m->handles++;
            continue;
        }
        pos = align_up(pos, f->type->align);
        f->wire = pos;
        pos += f->type->size;
        if (f->type->kind == K_BYTES || f->type->kind == K_STRING ||
            f->type->kind == K_ARRAY)
            blocks += align_up(f->type->bound * elem_size(f->type), 8);
    }
    m->inline_end = align_up(pos, 8);
    if (m->inline_end + blocks > MICA_MSG_MAX_BYTES)
        fatal_at(me->loc, "the %s of %s can take %llu bytes, above a "
                 "message's %u", what, me->name,
                 (unsigned long long)(m->inline_end + blocks),
                 MICA_MSG_MAX_BYTES);
    if (m->handles > MICA_MSG_MAX_HANDLES)
        fatal_at(me->loc, "the %s of %s has more than %u handles", what,
                 me->name, MICA_MSG_MAX_HANDLES);
    m->max_bytes = m->inline_end + (uint32_t)blocks;
}

static int by_value(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x < y) - (x > y);       /* ERR_INTERNAL (-1) first */
}

void check(struct protocol *p)
{
    if (p->nmethods == 0)
        fatal("%s: the protocol has no method", p->file);
    for (int i = 0; i < p->ndecls; i++) {
        struct decl *d = p->decls[i];
        if (d->is_enum) {
            check_enum(d);
        } else {
            struct type t = { .kind = K_STRUCT, .decl = d };
            layout(&t);
        }
    }
    for (int i = 0; i < p->nmethods; i++) {
        struct method *m = &p->methods[i];
        if (strlen(p->name) + 1 + strlen(m->name) + 1 > 56)
            fatal_at(m->loc, "\"%s.%s\" is longer than 55 characters",
                     p->name, m->name);
        layout_message(m, &m->req, "parameters");
        layout_message(m, &m->resp, "results");
        if (m->nerrors)
            qsort(m->errors, (size_t)m->nerrors, sizeof(int), by_value);
    }
}
