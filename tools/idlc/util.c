/*
 * util.c - idlc's errors, memory, files, and the ABI's names.
 *
 * The names of error codes, object types and rights come from the ABI
 * headers themselves (mica/errors.h, objects.h, rights.h), so the IDL
 * can never name a value the system does not have.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <mica/errors.h>
#include <mica/objects.h>
#include <mica/rights.h>

#include "idlc.h"

void fatal_at(struct loc l, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d:%d: ", l.file, l.line, l.col);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void fatal(const char *fmt, ...)
{
    va_list ap;
    fputs("idlc: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void *xalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        fatal("out of memory");
    return p;
}

void *xgrow(void *p, int n, size_t size)
{
    p = realloc(p, (size_t)(n + 1) * size);
    if (!p)
        fatal("out of memory");
    memset((char *)p + (size_t)n * size, 0, size);
    return p;
}

char *xstrdup(const char *s)
{
    char *d = xalloc(strlen(s) + 1);
    return strcpy(d, s);
}

char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fatal("%s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = xalloc(cap + 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            buf = realloc(buf, (cap *= 2) + 1);
            if (!buf)
                fatal("out of memory");
        }
    }
    if (ferror(f))
        fatal("%s: read error", path);
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static const struct { const char *name; int value; } errors[] = {
#define ERR_ROW(name, value, msg) { #name, value },
    MICA_ERRORS(ERR_ROW)
#undef ERR_ROW
};

const char *error_name(int value)
{
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        if (errors[i].value == value && value != OK)
            return errors[i].name;
    return NULL;
}

int error_value(const char *name, bool *found)
{
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
        if (strcmp(errors[i].name, name) == 0 && errors[i].value != OK) {
            *found = true;
            return errors[i].value;
        }
    *found = false;
    return 0;
}

/* Object types as the IDL names them: OBJ_VMO is "vmo"; "any" is
 * OBJ_NONE, a handle of any type. */
static const char *const objs[OBJ_TYPE_COUNT] = {
    [OBJ_NONE] = "any", [OBJ_PROCESS] = "process", [OBJ_THREAD] = "thread",
    [OBJ_VMO] = "vmo", [OBJ_CHANNEL] = "channel", [OBJ_PORT] = "port",
    [OBJ_EVENT] = "event", [OBJ_INTERRUPT] = "interrupt",
    [OBJ_IOPORT] = "ioport", [OBJ_TIMER] = "timer",
    [OBJ_RESOURCE] = "resource", [OBJ_HANDLE_TABLE] = "handle_table",
    [OBJ_JOB] = "job", [OBJ_LOG] = "log", [OBJ_GRANT] = "grant",
    [OBJ_EXCEPTION] = "exception",
};

const char *obj_name(uint32_t obj)
{
    return obj < OBJ_TYPE_COUNT ? objs[obj] : NULL;
}

bool obj_value(const char *name, uint32_t *obj)
{
    for (uint32_t i = 0; i < OBJ_TYPE_COUNT; i++)
        if (objs[i] && strcmp(objs[i], name) == 0) {
            *obj = i;
            return true;
        }
    return false;
}

/* Rights by bit, as RIGHT_READ is bit 0. */
static const char *const rights[] = {
    "read", "write", "execute", "map", "duplicate", "transfer", "wait",
    "signal", "manage",
};
_Static_assert(1u << (sizeof(rights) / sizeof(rights[0])) == RIGHTS_ALL + 1,
               "a right without a name");

const char *right_name(int bit)
{
    return bit >= 0 && bit < (int)(sizeof(rights) / sizeof(rights[0]))
               ? rights[bit] : NULL;
}

bool right_value(const char *name, uint32_t *bit)
{
    for (uint32_t i = 0; i < sizeof(rights) / sizeof(rights[0]); i++)
        if (strcmp(rights[i], name) == 0) {
            *bit = 1u << i;
            return true;
        }
    return false;
}
