/*
 * gen.c - C from a checked protocol: a header (types, method ids, the
 * client stubs' and the server's declarations) and a source (the tables
 * the runtime walks, the stubs, the dispatch).  docs/idl.md, "The
 * generated C", shows what a method becomes.
 *
 * For protocol P and method M: P_M() is the client stub, P_M_ID its id,
 * P_M_method its table; struct P_M_req / P_M_resp hold its parameters /
 * results (absent when there are none); struct P_server has one handler
 * per method, P_dispatch() serves one request.  Each stub refers to a
 * record in its own section .mica_calls.P.M, the dispatch to one per
 * method in .mica_serves.P.M: linked with --gc-sections, a program
 * keeps the records of exactly the stubs and dispatches it uses, and
 * `idlc note` turns them into its interface note.
 */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "idlc.h"

static const struct protocol *P;
static FILE *out;
static int ntypes;

#define emit(...) fprintf(out, __VA_ARGS__)

static const char *upper(const char *s)
{
    static char buf[4][128];
    static int k;
    char *b = buf[k++ % 4];
    size_t i = 0;
    for (; s[i] && i < sizeof(buf[0]) - 1; i++)
        b[i] = (char)toupper((unsigned char)s[i]);
    b[i] = 0;
    return b;
}

static bool is_span(const struct type *t)
{
    return t->kind == K_BYTES || t->kind == K_STRING || t->kind == K_ARRAY;
}

/* The C type of a value of t, in a struct. */
static void c_type(const struct type *t)
{
    switch (t->kind) {
    case K_INT:
        emit("%sint%d_t", t->is_signed ? "" : "u", t->width * 8);
        break;
    case K_BOOL: emit("bool"); break;
    case K_ENUM: emit("%s_%s_t", P->name, t->decl->name); break;
    case K_STRUCT: emit("struct %s_%s", P->name, t->decl->name); break;
    case K_HANDLE: emit("mica_handle_t"); break;
    default: emit("struct idl_span"); break;
    }
}

static void emit_value(const struct type *u, int64_t v)
{
    if (u->is_signed)
        emit(u->width == 8 ? "INT64_C(%" PRId64 ")" : "(%" PRId64 ")", v);
    else
        emit(u->width == 8 ? "UINT64_C(%" PRIu64 ")" : "%" PRIu64 "u",
             (uint64_t)v);
}

/* --- the header ---------------------------------------------------- */

static void header_enum(const struct decl *d)
{
    emit("typedef ");
    c_type(d->under);
    emit(" %s_%s_t;\n", P->name, d->name);
    for (int i = 0; i < d->nmembers; i++) {
        emit("#define %s_%s_", upper(P->name), upper(d->name));
        emit("%s ", upper(d->members[i].name));
        emit_value(d->under, d->members[i].value);
        emit("\n");
    }
    emit("\n");
}

/* A struct's size: its fields laid out (check.c), rounded up to the
 * largest alignment among them. */
static uint32_t struct_size(const struct decl *d, uint32_t *align)
{
    uint32_t size = 0, al = 1;
    for (int i = 0; i < d->nfields; i++) {
        const struct type *t = d->fields[i].type;
        size = d->fields[i].wire + t->size;
        if (t->align > al)
            al = t->align;
    }
    *align = al;
    return (size + al - 1) & ~(al - 1);
}

static void header_struct(const struct decl *d)
{
    uint32_t align, size = struct_size(d, &align);
    emit("struct %s_%s {\n", P->name, d->name);
    for (int i = 0; i < d->nfields; i++) {
        emit("    ");
        c_type(d->fields[i].type);
        emit(" %s;\n", d->fields[i].name);
    }
    emit("};\n");
    for (int i = 0; i < d->nfields; i++)
        emit("_Static_assert(offsetof(struct %s_%s, %s) == %u, "
             "\"%s.%s: the wire's layout\");\n", P->name, d->name,
             d->fields[i].name, d->fields[i].wire, d->name,
             d->fields[i].name);
    emit("_Static_assert(sizeof(struct %s_%s) == %u, \"%s: the wire's "
         "size\");\n\n", P->name, d->name, size, d->name);
}

static void header_fields(const char *suffix, const struct method *m,
                          const struct message *msg)
{
    if (!msg->nfields)
        return;
    emit("struct %s_%s_%s {\n", P->name, m->name, suffix);
    for (int i = 0; i < msg->nfields; i++) {
        emit("    ");
        c_type(msg->fields[i].type);
        emit(" %s;\n", msg->fields[i].name);
    }
    emit("};\n");
}

/* The stub's parameters for one parameter (in) or one result (out). */
static void stub_param(const struct field *f, bool in)
{
    const struct type *t = f->type;
    const char *n = f->name;
    if (t->kind == K_BYTES || t->kind == K_STRING) {
        const char *c = t->kind == K_BYTES ? "void" : "char";
        if (in)
            emit(", const %s *%s, uint32_t %s_len", c, n, n);
        else
            emit(", %s *%s, uint32_t %s_cap, uint32_t *%s_len", c, n, n, n);
    } else if (t->kind == K_ARRAY) {
        emit(in ? ", const " : ", ");
        c_type(t->elem);
        if (in)
            emit(" *%s, uint32_t %s_count", n, n);
        else
            emit(" *%s, uint32_t %s_cap, uint32_t *%s_count", n, n, n);
    } else if (t->kind == K_STRUCT) {
        emit(in ? ", const " : ", ");
        c_type(t);
        emit(" *%s", n);
    } else {
        emit(", ");
        c_type(t);
        emit(in ? " %s" : " *%s", n);
    }
}

static void stub_proto(const struct method *m)
{
    emit("int %s_%s(mica_handle_t ch_", P->name, m->name);
    for (int i = 0; i < m->req.nfields; i++)
        stub_param(&m->req.fields[i], true);
    for (int i = 0; i < m->resp.nfields; i++)
        stub_param(&m->resp.fields[i], false);
    emit(")");
}

static void handler_proto(const struct method *m)
{
    emit("    int (*%s)(void *ctx, const struct idl_txn *txn", m->name);
    if (m->req.nfields)
        emit(",\n        const struct %s_%s_req *req", P->name, m->name);
    if (m->resp.nfields)
        emit(",\n        struct %s_%s_resp *resp", P->name, m->name);
    emit(");\n");
}

static void header_method(const struct method *m)
{
    emit("/* %s.%s\n *   %s */\n", P->name, m->name, m->sig);
    emit("#define %s_%s_ID UINT64_C(0x%016" PRIx64 ")\n", upper(P->name),
         upper(m->name), m->id);
    header_fields("req", m, &m->req);
    header_fields("resp", m, &m->resp);
    emit("extern const struct idl_method %s_%s_method;\n", P->name, m->name);
    stub_proto(m);
    emit(";\n\n");
}

void gen_header(const struct protocol *p, FILE *o)
{
    P = p;
    out = o;
    char u[128];                        /* upper() reuses its buffers */
    snprintf(u, sizeof(u), "%s", upper(p->name));
    emit("/*\n * %s.h - the protocol %s, generated by idlc from %s:\n"
         " * do not edit.  docs/idl.md tells what each part is.\n */\n",
         p->name, p->name, p->file);
    emit("#ifndef MICA_IDL_%s_H\n#define MICA_IDL_%s_H\n\n", u, u);
    emit("#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n"
         "\n#include \"idl.h\"\n\n");
    for (int i = 0; i < p->nconsts; i++)
        emit("#define %s_%s %" PRIu64 "%s\n", u, upper(p->consts[i].name),
             p->consts[i].value,
             p->consts[i].value > UINT32_MAX ? "ull" : "u");
    if (p->nconsts)
        emit("\n");
    for (int i = 0; i < p->ndecls; i++) {
        if (p->decls[i]->is_enum)
            header_enum(p->decls[i]);
        else
            header_struct(p->decls[i]);
    }
    for (int i = 0; i < p->nmethods; i++)
        header_method(&p->methods[i]);
    emit("/* A server: a handler per method (NULL: ERR_NOT_SUPPORTED). */\n");
    emit("struct %s_server {\n", p->name);
    for (int i = 0; i < p->nmethods; i++)
        handler_proto(&p->methods[i]);
    emit("};\n\n");
    emit("int %s_dispatch(const struct %s_server *s, void *ctx,\n"
         "    const struct idl_in *in, struct idl_out *out);\n\n", p->name,
         p->name);
    emit("#endif\n");
}

/* --- the tables ---------------------------------------------------- */

struct tname {
    char s[96];
};

static struct tname type_table(const struct type *t);

static struct tname decl_name(const struct decl *d)
{
    struct tname n;
    snprintf(n.s, sizeof(n.s), "%s_type_%s", P->name, d->name);
    return n;
}

static void table_enum(const struct decl *d)
{
    emit("static const int64_t %s_members_%s[] = {", P->name, d->name);
    for (int i = 0; i < d->nmembers; i++)
        emit("%s%" PRId64, i ? ", " : " ", d->members[i].value);
    emit(" };\n");
    emit("static const struct idl_type %s = { IDL_ENUM, %d, %u, %u, 0, 0, "
         "0, %d, NULL, %s_members_%s, NULL };\n", decl_name(d).s,
         d->under->is_signed, (unsigned)d->under->width,
         (unsigned)d->under->width, d->nmembers, P->name, d->name);
}

static void table_struct(const struct decl *d)
{
    struct tname ft[64];
    int n = d->nfields < 64 ? d->nfields : 64;
    if (d->nfields > 64)
        fatal_at(d->loc, "a struct has at most 64 fields");
    for (int i = 0; i < n; i++)
        ft[i] = type_table(d->fields[i].type);
    emit("static const struct idl_field %s_fields_%s[] = {\n", P->name,
         d->name);
    for (int i = 0; i < n; i++)
        emit("    { %u, offsetof(struct %s_%s, %s), &%s },\n",
             d->fields[i].wire, P->name, d->name, d->fields[i].name,
             ft[i].s);
    emit("};\n");
    uint32_t align, size = struct_size(d, &align);
    emit("static const struct idl_type %s = { IDL_STRUCT, 0, %u, %u, 0, 0, "
         "0, %d, %s_fields_%s, NULL, NULL };\n", decl_name(d).s, align, size,
         n, P->name, d->name);
}

static bool *decl_done;

static struct tname type_table(const struct type *t)
{
    struct tname n;
    if (t->kind == K_ENUM || t->kind == K_STRUCT) {
        if (!decl_done[t->decl->index]) {
            decl_done[t->decl->index] = true;
            if (t->kind == K_ENUM)
                table_enum(t->decl);
            else
                table_struct(t->decl);
        }
        return decl_name(t->decl);
    }
    struct tname elem = { "NULL" };
    if (t->kind == K_ARRAY)
        elem = type_table(t->elem);
    snprintf(n.s, sizeof(n.s), "%s_t%d", P->name, ntypes++);
    static const char *const kinds[] = {
        "IDL_INT", "IDL_BOOL", "IDL_ENUM", "IDL_STRUCT", "IDL_BYTES",
        "IDL_STRING", "IDL_ARRAY", "IDL_HANDLE",
    };
    emit("static const struct idl_type %s = { %s, %d, %u, %u, %u, %u, "
         "0x%x, 0, NULL, NULL, %s%s };\n", n.s, kinds[t->kind],
         t->is_signed, t->align, t->size, t->bound, t->obj, t->rights,
         t->kind == K_ARRAY ? "&" : "", elem.s);
    return n;
}

static void table_message(const struct method *m, const struct message *msg,
                          const char *suffix)
{
    struct tname ft[64];
    if (msg->nfields > 64)
        fatal_at(m->loc, "a method has at most 64 parameters and results");
    for (int i = 0; i < msg->nfields; i++)
        ft[i] = type_table(msg->fields[i].type);
    if (!msg->nfields)
        return;
    emit("static const struct idl_field %s_%s_%s_fields[] = {\n", P->name,
         m->name, suffix);
    for (int i = 0; i < msg->nfields; i++)
        emit("    { %u, offsetof(struct %s_%s_%s, %s), &%s },\n",
             msg->fields[i].type->kind == K_HANDLE ? 0 : msg->fields[i].wire,
             P->name, m->name, suffix, msg->fields[i].name, ft[i].s);
    emit("};\n");
}

static void message_init(const struct method *m, const struct message *msg,
                         const char *suffix)
{
    if (msg->nfields)
        emit("{ %d, %s_%s_%s_fields, %u, %u, %u }", msg->nfields, P->name,
             m->name, suffix, msg->inline_end, msg->handles, msg->max_bytes);
    else
        emit("{ 0, NULL, %u, 0, %u }", msg->inline_end, msg->max_bytes);
}

static void table_method(const struct method *m)
{
    table_message(m, &m->req, "req");
    table_message(m, &m->resp, "resp");
    if (m->nerrors) {
        emit("static const int32_t %s_%s_errors[] = {", P->name, m->name);
        for (int i = 0; i < m->nerrors; i++)
            emit("%s%s", i ? ", " : " ", error_name(m->errors[i]));
        emit(" };\n");
    }
    emit("const struct idl_method %s_%s_method = {\n", P->name, m->name);
    emit("    %s_%s_ID, \"%s.%s\",\n    ", upper(P->name), upper(m->name),
         P->name, m->name);
    message_init(m, &m->req, "req");
    emit(",\n    ");
    message_init(m, &m->resp, "resp");
    if (m->nerrors)
        emit(",\n    %d, %s_%s_errors,\n};\n", m->nerrors, P->name, m->name);
    else
        emit(",\n    0, NULL,\n};\n");
    emit("#ifndef IDL_TABLES_ONLY\n");
    for (int k = 0; k < 2; k++)
        emit("static const struct mica_iface_entry %s_%s_%s\n"
             "    __attribute__((used, aligned(8), section(\".mica_%s.%s.%s\")))"
             "\n    = { %s_%s_ID, \"%s.%s\" };\n", P->name, m->name,
             k ? "serves" : "calls", k ? "serves" : "calls", P->name,
             m->name, upper(P->name), upper(m->name), P->name, m->name);
    emit("#endif\n\n");
}

/* --- the client stubs ---------------------------------------------- */

static void stub_fill(const struct field *f)
{
    const char *n = f->name;
    if (is_span(f->type))
        emit("    q_.%s.data = %s;\n    q_.%s.count = %s_%s;\n", n, n, n, n,
             f->type->kind == K_ARRAY ? "count" : "len");
    else if (f->type->kind == K_STRUCT)
        emit("    q_.%s = *%s;\n", n, n);
    else
        emit("    q_.%s = %s;\n", n, n);
}

/* Give the results to the caller: spans first (they can fail), then
 * the rest; handles are closed when the caller did not want them or a
 * span did not fit. */
static void stub_results(const struct method *m)
{
    const struct message *r = &m->resp;
    for (int i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if (!is_span(f->type))
            continue;
        emit("    if (!err_)\n        err_ = idl_copy_span(&r_.%s, %u, %s, "
             "%s_cap, %s_%s);\n", f->name,
             f->type->kind == K_ARRAY ? f->type->elem->size : 1, f->name,
             f->name, f->name, f->type->kind == K_ARRAY ? "count" : "len");
    }
    for (int i = 0; i < r->nfields; i++) {
        const struct field *f = &r->fields[i];
        if (is_span(f->type))
            continue;
        if (f->type->kind == K_HANDLE)
            emit("    if (err_ || !%s)\n        idl_close(r_.%s);\n"
                 "    else\n        *%s = r_.%s;\n", f->name, f->name,
                 f->name, f->name);
        else
            emit("    if (!err_ && %s)\n        *%s = r_.%s;\n", f->name,
                 f->name, f->name);
    }
}

static void stub(const struct method *m)
{
    stub_proto(m);
    emit("\n{\n");
    emit("    uint64_t qb_[%u], rb_[%u];\n", m->req.max_bytes / 8,
         m->resp.max_bytes / 8);
    if (m->req.nfields)
        emit("    struct %s_%s_req q_;\n", P->name, m->name);
    if (m->resp.nfields)
        emit("    struct %s_%s_resp r_;\n", P->name, m->name);
    emit("    IDL_KEEP(&%s_%s_calls);\n", P->name, m->name);
    if (m->req.nfields)
        emit("    memset(&q_, 0, sizeof(q_));\n");
    for (int i = 0; i < m->req.nfields; i++)
        stub_fill(&m->req.fields[i]);
    emit("    int err_ = idl_call(ch_, &%s_%s_method, %s, %s, qb_, sizeof(qb_),\n"
         "                        rb_, sizeof(rb_));\n", P->name, m->name,
         m->req.nfields ? "&q_" : "NULL", m->resp.nfields ? "&r_" : "NULL");
    if (m->resp.nfields) {
        emit("    if (err_)\n        return err_;\n");
        stub_results(m);
    }
    emit("    return err_;\n}\n\n");
}

/* --- the dispatch -------------------------------------------------- */

static void serve(const struct method *m)
{
    const char *p = P->name, *n = m->name;
    emit("static int %s_%s_serve(const struct %s_server *s, void *ctx,\n"
         "    const struct idl_header *h, const struct idl_in *in,\n"
         "    struct idl_out *out)\n{\n", p, n, p);
    if (m->req.nfields)
        emit("    struct %s_%s_req q;\n", p, n);
    if (m->resp.nfields)
        emit("    struct %s_%s_resp r;\n", p, n);
    emit("    struct idl_txn t = { h->txid, &%s_%s_method };\n", p, n);
    emit("    if (!s->%s)\n        return idl_refuse(in, ERR_NOT_SUPPORTED, "
         "out);\n", n);
    emit("    int err = idl_decode(&%s_%s_method.request, in->bytes, "
         "in->nbytes,\n                         in->handles, in->info, "
         "in->nhandles, %s);\n", p, n, m->req.nfields ? "&q" : "NULL");
    emit("    if (err)\n        return idl_refuse(in, err, out);\n");
    if (m->resp.nfields)
        emit("    memset(&r, 0, sizeof(r));\n");
    emit("    err = s->%s(ctx, &t%s%s);\n", n, m->req.nfields ? ", &q" : "",
         m->resp.nfields ? ", &r" : "");
    emit("    if (err == IDL_DEFER)\n        return IDL_DEFER;\n");
    emit("    return idl_reply(&t, err, %s, out);\n}\n\n",
         m->resp.nfields ? "&r" : "NULL");
}

static void dispatch(void)
{
    const char *p = P->name;
    emit("int %s_dispatch(const struct %s_server *s, void *ctx,\n"
         "    const struct idl_in *in, struct idl_out *out)\n{\n"
         "    struct idl_header h;\n", p, p);
    for (int i = 0; i < P->nmethods; i++)
        emit("    IDL_KEEP(&%s_%s_serves);\n", p, P->methods[i].name);
    emit("    if (idl_decode_header(in->bytes, in->nbytes, false, &h))\n"
         "        return idl_refuse(in, ERR_INVALID_ARGS, out);\n"
         "    switch (h.method) {\n");
    for (int i = 0; i < P->nmethods; i++)
        emit("    case %s_%s_ID:\n        return %s_%s_serve(s, ctx, &h, in, "
             "out);\n", upper(p), upper(P->methods[i].name), p,
             P->methods[i].name);
    emit("    default:\n        return idl_refuse(in, ERR_NOT_SUPPORTED, "
         "out);\n    }\n}\n");
}

void gen_source(const struct protocol *p, const char *header, FILE *o)
{
    P = p;
    out = o;
    ntypes = 0;
    decl_done = xalloc(sizeof(bool) * (size_t)(p->ndecls + 1));
    emit("/*\n * %s.c - the protocol %s's tables, client stubs and "
         "dispatch,\n * generated by idlc from %s: do not edit.\n */\n",
         p->name, p->name, p->file);
    emit("#include <string.h>\n\n#include <mica/iface_note.h>\n\n"
         "#include \"%s\"\n\n", header);
    for (int i = 0; i < p->ndecls; i++) {
        struct type t = { .kind = p->decls[i]->is_enum ? K_ENUM : K_STRUCT,
                          .decl = p->decls[i] };
        type_table(&t);
    }
    emit("\n");
    for (int i = 0; i < p->nmethods; i++)
        table_method(&p->methods[i]);
    /* Code that has no idl_call and no interface note (the kernel)
     * compiles the tables alone. */
    emit("#ifndef IDL_TABLES_ONLY\n\n");
    for (int i = 0; i < p->nmethods; i++)
        stub(&p->methods[i]);
    for (int i = 0; i < p->nmethods; i++)
        serve(&p->methods[i]);
    dispatch();
    emit("\n#endif /* IDL_TABLES_ONLY */\n");
}
