/*
 * parse.c - one .idl file into a struct protocol, by recursive descent
 * over the grammar of docs/idl.md.
 *
 * Names are resolved as they are met: a type or a constant must be
 * declared before it is used, so no type can contain itself.  Limits
 * that need layout (sizes, bounds against the message size) are
 * check.c's.
 */
#include <string.h>

#include "idlc.h"

static struct token tok;
static struct protocol *proto;

static void next(void)
{
    tok = lex_next();
}

static const char *tok_name(enum tok k)
{
    static const char *const names[] = {
        "end of file", "a name", "a number", "';'", "':'", "','", "'{'",
        "'}'", "'('", "')'", "'<'", "'>'", "'='", "'|'", "'->'", "'-'",
    };
    return names[k];
}

static struct token expect(enum tok k)
{
    if (tok.kind != k)
        fatal_at(tok.loc, "expected %s", tok_name(k));
    struct token t = tok;
    next();
    return t;
}

static bool accept(enum tok k)
{
    if (tok.kind != k)
        return false;
    next();
    return true;
}

static bool is_word(const char *w)
{
    return tok.kind == T_IDENT && strcmp(tok.text, w) == 0;
}

static const char *const reserved[] = {
    "protocol", "const", "enum", "struct", "method", "errors", "bool",
    "bytes", "string", "array", "handle", "u8", "u16", "u32", "u64", "i8",
    "i16", "i32", "i64",
};

/* A new name: not a keyword, and not the same as one in names[0..n). */
static char *name(const char *what, char *const *names, int n, size_t stride)
{
    struct token t = tok;
    if (t.kind != T_IDENT)
        fatal_at(t.loc, "expected the name of %s", what);
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcmp(t.text, reserved[i]) == 0)
            fatal_at(t.loc, "'%s' is a keyword", t.text);
    if (t.text[strlen(t.text) - 1] == '_')
        fatal_at(t.loc, "a name may not end with '_' (generated code's)");
    for (int i = 0; i < n; i++)
        if (strcmp(*(char *const *)((const char *)names + i * stride),
                   t.text) == 0)
            fatal_at(t.loc, "'%s' is already declared", t.text);
    next();
    return t.text;
}

static struct decl *find_decl(const char *n)
{
    for (int i = 0; i < proto->ndecls; i++)
        if (strcmp(proto->decls[i]->name, n) == 0)
            return proto->decls[i];
    return NULL;
}

static struct constant *find_const(const char *n)
{
    for (int i = 0; i < proto->nconsts; i++)
        if (strcmp(proto->consts[i].name, n) == 0)
            return &proto->consts[i];
    return NULL;
}

/* A number, or the name of a constant. */
static uint64_t value(void)
{
    if (tok.kind == T_INT)
        return expect(T_INT).value;
    struct token t = expect(T_IDENT);
    struct constant *c = find_const(t.text);
    if (!c)
        fatal_at(t.loc, "'%s' is not a constant", t.text);
    return c->value;
}

static uint32_t bound(void)
{
    struct loc l = tok.loc;
    uint64_t v = value();
    if (v == 0 || v > 65536)
        fatal_at(l, "a bound must be 1 to 65536");
    return (uint32_t)v;
}

static bool int_type(const char *w, struct type *t)
{
    static const char *const ints[] = { "u8", "u16", "u32", "u64",
                                        "i8", "i16", "i32", "i64" };
    for (int i = 0; i < 8; i++)
        if (strcmp(w, ints[i]) == 0) {
            t->kind = K_INT;
            t->width = 1 << (i % 4);
            t->is_signed = i >= 4;
            return true;
        }
    return false;
}

static struct type *type(void);

static void handle_type(struct type *t)
{
    t->kind = K_HANDLE;
    expect(T_LT);
    struct token o = expect(T_IDENT);
    if (!obj_value(o.text, &t->obj))
        fatal_at(o.loc, "'%s' is not an object type", o.text);
    if (accept(T_COMMA)) {
        do {
            struct token r = expect(T_IDENT);
            uint32_t bit;
            if (!right_value(r.text, &bit))
                fatal_at(r.loc, "'%s' is not a right", r.text);
            if (t->rights & bit)
                fatal_at(r.loc, "'%s' is named twice", r.text);
            t->rights |= bit;
        } while (accept(T_BAR));
    }
    expect(T_GT);
}

static void named_type(struct type *t, struct token w)
{
    t->decl = find_decl(w.text);
    if (!t->decl)
        fatal_at(w.loc, "'%s' is not a type declared above", w.text);
    t->kind = t->decl->is_enum ? K_ENUM : K_STRUCT;
}

static struct type *type(void)
{
    struct type *t = xalloc(sizeof(*t));
    struct token w = expect(T_IDENT);
    t->loc = w.loc;
    if (int_type(w.text, t))
        return t;
    if (strcmp(w.text, "bool") == 0) {
        t->kind = K_BOOL;
    } else if (strcmp(w.text, "bytes") == 0 ||
               strcmp(w.text, "string") == 0) {
        t->kind = w.text[0] == 'b' ? K_BYTES : K_STRING;
        expect(T_LT);
        t->bound = bound();
        expect(T_GT);
    } else if (strcmp(w.text, "array") == 0) {
        t->kind = K_ARRAY;
        expect(T_LT);
        t->elem = type();
        expect(T_COMMA);
        t->bound = bound();
        expect(T_GT);
    } else if (strcmp(w.text, "handle") == 0) {
        handle_type(t);
    } else {
        named_type(t, w);
    }
    return t;
}

static void add_decl(struct decl *d)
{
    d->index = proto->ndecls;
    proto->decls = xgrow(proto->decls, proto->ndecls, sizeof(*proto->decls));
    proto->decls[proto->ndecls++] = d;
}

/* The one namespace of types and constants. */
static char *type_name(void)
{
    struct token t = tok;
    char *n = name("a declaration", NULL, 0, 0);
    if (find_decl(n) || find_const(n))
        fatal_at(t.loc, "'%s' is already declared", n);
    return n;
}

static void const_decl(void)
{
    proto->consts = xgrow(proto->consts, proto->nconsts,
                          sizeof(*proto->consts));
    struct constant *c = &proto->consts[proto->nconsts];
    c->loc = tok.loc;
    c->name = type_name();
    expect(T_EQ);
    c->value = expect(T_INT).value;
    expect(T_SEMI);
    proto->nconsts++;
}

static void member(struct decl *d)
{
    d->members = xgrow(d->members, d->nmembers, sizeof(*d->members));
    struct member *m = &d->members[d->nmembers];
    m->loc = tok.loc;
    m->name = name("a member", &d->members[0].name, d->nmembers,
                   sizeof(*m));
    expect(T_EQ);
    bool neg = accept(T_MINUS);
    struct loc l = tok.loc;
    uint64_t v = value();
    if (v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        fatal_at(l, "value out of range");
    m->value = neg ? (int64_t)(0 - v) : (int64_t)v;
    d->nmembers++;
}

static void enum_decl(void)
{
    struct decl *d = xalloc(sizeof(*d));
    d->is_enum = true;
    d->loc = tok.loc;
    d->name = type_name();
    expect(T_COLON);
    d->under = type();
    if (d->under->kind != K_INT)
        fatal_at(d->under->loc, "an enum's type is an integer type");
    expect(T_LBRACE);
    do {
        if (tok.kind == T_RBRACE && d->nmembers)
            break;                              /* a trailing comma */
        member(d);
    } while (accept(T_COMMA));
    expect(T_RBRACE);
    add_decl(d);
}

/* NAME ':' TYPE, into fields[*n]. */
static struct field *field(struct field *fs, int *n, const char *what)
{
    fs = xgrow(fs, *n, sizeof(*fs));
    struct field *f = &fs[*n];
    f->loc = tok.loc;
    f->name = name(what, &fs[0].name, *n, sizeof(*f));
    expect(T_COLON);
    f->type = type();
    (*n)++;
    return fs;
}

static void struct_decl(void)
{
    struct decl *d = xalloc(sizeof(*d));
    d->loc = tok.loc;
    d->name = type_name();
    expect(T_LBRACE);
    do {
        d->fields = field(d->fields, &d->nfields, "a field");
        expect(T_SEMI);
    } while (tok.kind != T_RBRACE);
    expect(T_RBRACE);
    add_decl(d);
}

/* '(' [ NAME ':' TYPE { ',' NAME ':' TYPE } ] ')' */
static void params(struct message *m, const struct message *other)
{
    expect(T_LPAREN);
    if (tok.kind != T_RPAREN) {
        do {
            for (int i = 0; other && i < other->nfields; i++)
                if (tok.kind == T_IDENT &&
                    strcmp(other->fields[i].name, tok.text) == 0)
                    fatal_at(tok.loc, "'%s' is already a parameter",
                             tok.text);
            m->fields = field(m->fields, &m->nfields, "a parameter");
        } while (accept(T_COMMA));
    }
    expect(T_RPAREN);
}

static void errors(struct method *m)
{
    expect(T_LPAREN);
    do {
        struct token e = expect(T_IDENT);
        bool found;
        int v = error_value(e.text, &found);
        if (!found)
            fatal_at(e.loc, "'%s' is not an error of mica/errors.h", e.text);
        for (int i = 0; i < m->nerrors; i++)
            if (m->errors[i] == v)
                fatal_at(e.loc, "'%s' is named twice", e.text);
        m->errors = xgrow(m->errors, m->nerrors, sizeof(*m->errors));
        m->errors[m->nerrors++] = v;
    } while (accept(T_COMMA));
    expect(T_RPAREN);
}

static void method_decl(void)
{
    proto->methods = xgrow(proto->methods, proto->nmethods,
                           sizeof(*proto->methods));
    struct method *m = &proto->methods[proto->nmethods];
    m->loc = tok.loc;
    m->name = name("a method", &proto->methods[0].name, proto->nmethods,
                   sizeof(*m));
    params(&m->req, NULL);
    if (accept(T_ARROW))
        params(&m->resp, &m->req);
    if (is_word("errors")) {
        next();
        errors(m);
    }
    expect(T_SEMI);
    proto->nmethods++;
}

struct protocol *parse(const char *file)
{
    size_t len;
    char *text = read_file(file, &len);
    if (strlen(text) != len)
        fatal("%s: a NUL byte in the file", file);
    lex_init(file, text);
    proto = xalloc(sizeof(*proto));
    proto->file = file;
    next();
    if (!is_word("protocol"))
        fatal_at(tok.loc, "a file begins with 'protocol NAME;'");
    next();
    proto->name = name("the protocol", NULL, 0, 0);
    expect(T_SEMI);
    while (tok.kind != T_EOF) {
        if (is_word("const")) { next(); const_decl(); }
        else if (is_word("enum")) { next(); enum_decl(); }
        else if (is_word("struct")) { next(); struct_decl(); }
        else if (is_word("method")) { next(); method_decl(); }
        else fatal_at(tok.loc, "expected const, enum, struct or method");
    }
    return proto;
}
