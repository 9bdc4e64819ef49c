/*
 * ksyms.c - looking up a function by address in the embedded table.
 *
 * Binary search for the last symbol at or below the address.  The table
 * ends with a sentinel entry (the end of kernel text, named "") so an
 * address past the last function is not blamed on it.
 */
#include "ksyms.h"

const char *ksyms_lookup(const struct ksyms_table *t, uint64_t addr,
                         uint64_t *offset)
{
    uint64_t lo = 0, hi = t->count;
    if (hi == 0 || addr < t->sym[0].addr)
        return NULL;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (t->sym[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    const char *name = (const char *)t + t->strings + t->sym[lo].name;
    if (!name[0])
        return NULL;            /* the end sentinel */
    if (offset)
        *offset = addr - t->sym[lo].addr;
    return name;
}
