/*
 * idlc.h - the IDL compiler's data: tokens, the parsed protocol, and
 * the functions of its passes.
 *
 * idlc reads one .idl file (docs/idl.md) into a struct protocol
 * (lex.c, parse.c), checks it and lays its messages out (check.c),
 * gives each method its signature and id (sig.c), and writes C (gen.c).
 * `idlc note` (note.c) is separate: it reads a linked program and writes
 * its interface note.  Memory is never freed: idlc runs once and exits.
 * The first error ends the run, reported as FILE:LINE:COLUMN: message.
 */
#ifndef IDLC_H
#define IDLC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct loc {
    const char *file;
    int line, col;
};

enum tok {
    T_EOF, T_IDENT, T_INT, T_SEMI, T_COLON, T_COMMA, T_LBRACE, T_RBRACE,
    T_LPAREN, T_RPAREN, T_LT, T_GT, T_EQ, T_BAR, T_ARROW, T_MINUS,
};

struct token {
    enum tok kind;
    struct loc loc;
    char *text;                 /* T_IDENT */
    uint64_t value;             /* T_INT */
};

enum kind {
    K_INT, K_BOOL, K_ENUM, K_STRUCT, K_BYTES, K_STRING, K_ARRAY, K_HANDLE,
};

struct decl;

struct type {
    enum kind kind;
    struct loc loc;
    int width;                  /* K_INT: bytes */
    bool is_signed;             /* K_INT */
    struct decl *decl;          /* K_ENUM, K_STRUCT */
    uint32_t bound;             /* K_BYTES, K_STRING, K_ARRAY */
    struct type *elem;          /* K_ARRAY */
    uint32_t obj;               /* K_HANDLE: OBJ_* (OBJ_NONE: any) */
    uint32_t rights;            /* K_HANDLE */
    uint32_t size, align;       /* inline (check.c) */
};

struct member {                 /* of an enum */
    char *name;
    int64_t value;
    struct loc loc;
};

struct field {                  /* of a struct; a parameter or result */
    char *name;
    struct type *type;
    struct loc loc;
    uint32_t wire;              /* check.c */
};

struct decl {                   /* a struct or an enum */
    bool is_enum;
    char *name;
    struct loc loc;
    struct type *under;         /* enum: its integer type */
    struct member *members;
    int nmembers;
    struct field *fields;
    int nfields;
    int index;                  /* order of declaration */
};

struct message {
    struct field *fields;
    int nfields;
    uint32_t inline_end, handles, max_bytes;    /* check.c */
};

struct method {
    char *name;
    struct loc loc;
    struct message req, resp;
    int *errors;                /* values, sorted, no repeats (check.c) */
    int nerrors;
    char *sig;                  /* sig.c */
    uint64_t id;
};

struct constant {
    char *name;
    uint64_t value;
    struct loc loc;
};

struct protocol {
    char *name;
    const char *file;
    struct decl **decls;
    int ndecls;
    struct method *methods;
    int nmethods;
    struct constant *consts;
    int nconsts;
};

/* util.c */
void fatal_at(struct loc l, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
void fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void *xalloc(size_t n);
void *xgrow(void *p, int n, size_t size);   /* room for n + 1 elements */
char *xstrdup(const char *s);
char *read_file(const char *path, size_t *len);
const char *error_name(int value);          /* NULL: not an error */
int error_value(const char *name, bool *found);
const char *obj_name(uint32_t obj);
bool obj_value(const char *name, uint32_t *obj);
const char *right_name(int bit);
bool right_value(const char *name, uint32_t *bit);

/* lex.c */
void lex_init(const char *file, const char *text);
struct token lex_next(void);

/* parse.c */
struct protocol *parse(const char *file);

/* check.c */
void check(struct protocol *p);

/* sig.c */
void sign(struct protocol *p);
uint64_t fnv1a64(const char *s, size_t n);

/* gen.c */
void gen_header(const struct protocol *p, FILE *out);
void gen_source(const struct protocol *p, const char *header, FILE *out);

/* note.c */
int note_main(const char *elf, const char *out);

#endif
