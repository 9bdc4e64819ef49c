/*
 * uaccess.h - reading and writing user memory from the kernel.
 *
 * Every user pointer is checked to lie wholly below USER_TOP (without
 * wrapping) before it is touched, and the copy itself recovers from
 * faults: a page fault inside the copy first tries to resolve the fault
 * (demand paging, copy-on-write); if the address is simply bad the copy
 * stops and returns ERR_FAULT.  Never call these holding a spinlock or
 * with interrupts disabled: resolving a fault may take address-space
 * locks and wait for other CPUs.
 */
#ifndef MICA_UACCESS_H
#define MICA_UACCESS_H

#include "mica/errors.h"
#include "types.h"
#include "vm.h"

static inline bool user_range_ok(uint64_t p, uint64_t n)
{
    return p + n >= p && p + n <= USER_TOP && p >= PAGE_SIZE;
}

/* Arch: copy n bytes, returning how many were NOT copied. */
size_t arch_copy_user(void *dst, const void *src, size_t n);

static inline int copy_from_user(void *dst, uint64_t usrc, size_t n)
{
    if (n == 0)
        return 0;
    if (!user_range_ok(usrc, n))
        return ERR_FAULT;
    return arch_copy_user(dst, (const void *)usrc, n) ? ERR_FAULT : 0;
}

static inline int copy_to_user(uint64_t udst, const void *src, size_t n)
{
    if (n == 0)
        return 0;
    if (!user_range_ok(udst, n))
        return ERR_FAULT;
    return arch_copy_user((void *)udst, src, n) ? ERR_FAULT : 0;
}

/* Arch: atomically replace the user word at uaddr with `new` if it
 * holds `old`; *cur gets the value found.  0, or nonzero on a fault. */
int arch_cmpxchg_user32(uint32_t *uaddr, uint32_t old, uint32_t new,
                        uint32_t *cur);

/* The same for an aligned user address: 0 (the exchange happened when
 * *cur == old) or ERR_FAULT. */
static inline int cmpxchg_user32(uint64_t uaddr, uint32_t old, uint32_t new,
                                 uint32_t *cur)
{
    if ((uaddr & 3) || !user_range_ok(uaddr, 4))
        return ERR_FAULT;
    return arch_cmpxchg_user32((uint32_t *)uaddr, old, new, cur) ? ERR_FAULT
                                                                 : 0;
}

/* Exception table: a faulting instruction and where to continue. */
struct extable_entry {
    uint64_t insn, fixup;
};

/* The fixup address for a fault at `ip`, or 0. */
uint64_t extable_find(uint64_t ip);

#endif
