/*
 * extable.c - the kernel's exception table: instructions allowed to
 * fault (user copies), each with the address to resume at.
 */
#include "uaccess.h"

extern const struct extable_entry _extable_start[], _extable_end[];

uint64_t extable_find(uint64_t ip)
{
    for (const struct extable_entry *e = _extable_start; e < _extable_end; e++)
        if (e->insn == ip)
            return e->fixup;
    return 0;
}
