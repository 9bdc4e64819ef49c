/*
 * ksyms.h - function names for backtraces.
 *
 * The build links the kernel twice: the second link embeds, in section
 * .ksyms, a table of every function's address made from the first link's
 * symbols (tools/mksyms.py).  Loaders pass no ELF sections, so the table
 * must live inside the image itself.
 */
#ifndef MICA_KSYMS_H
#define MICA_KSYMS_H

#include "types.h"

struct ksym {
    uint64_t addr;
    uint64_t name;      /* offset of the name in the string table */
};

struct ksyms_table {
    uint64_t count;
    uint64_t strings;   /* byte offset of the string table from this struct */
    struct ksym sym[];  /* sorted by address */
};

/* Name of the function containing `addr` and the offset into it, or NULL.
 * `t` is the table to search (the kernel's own is ksyms_kernel). */
const char *ksyms_lookup(const struct ksyms_table *t, uint64_t addr,
                         uint64_t *offset);

extern const struct ksyms_table ksyms_kernel;

#endif
