/*
 * ioport.h - ioport objects: the right to use a range of x86 I/O ports.
 *
 * An ioport (OBJ_IOPORT) names ports [base, base + count), made from a
 * resource that covers them.  It grants nothing by itself: a process
 * whose thread calls ioport_enable may from then on use those ports from
 * every one of its threads, for as long as it lives (the permission map
 * is per process, arch_io_allow).  So a creator can make the object,
 * hand it to a driver, and only the driver gains the ports.
 */
#ifndef MICA_IOPORT_H
#define MICA_IOPORT_H

#include "kmem.h"
#include "object.h"

#define IOPORT_LIMIT 0x10000u           /* ports 0 - 0xffff */

struct ioport {
    struct object obj;              /* OBJ_IOPORT */
    uint32_t base, count;
    struct kmem_account *acct;
};

/* 0, ERR_OUT_OF_RANGE (past port 0xffff) or ERR_NO_MEMORY. */
int ioport_create(uint64_t base, uint64_t count, struct kmem_account *acct,
                  struct ioport **out);

#endif
