/*
 * resource.h - resources: capabilities to ranges of hardware.
 *
 * A resource (OBJ_RESOURCE) is a kind (mica/device.h) and a range
 * [base, base + size).  The kernel makes one root resource, which covers
 * every kind and every number, and gives it to init; a holder with
 * RIGHT_MANAGE carves narrower resources of one kind from it.  A
 * resource is immutable, so checking one needs no lock.
 */
#ifndef MICA_RESOURCE_H
#define MICA_RESOURCE_H

#include "kmem.h"
#include "object.h"

struct resource {
    struct object obj;              /* OBJ_RESOURCE */
    uint32_t kind;                  /* MICA_RESOURCE_* */
    uint64_t base, size;
    struct kmem_account *acct;
    uint32_t strikes;               /* CRITICAL: overruns (atomic) */
    bool revoked;                   /* CRITICAL: by strikes (atomic) */
};

/* The root resource, with one reference for the caller. */
int resource_root(struct kmem_account *acct, struct resource **out);

/* A resource of `kind` for [base, base + size) carved from parent: 0,
 * ERR_INVALID_ARGS (no such kind, the root kind, size 0, a range that
 * wraps, a budget not based at 0 or above MICA_CRITICAL_BUDGET_MAX, a
 * priority range past 31), ERR_ACCESS_DENIED (parent does not cover
 * it) or ERR_NO_MEMORY. */
int resource_create(struct resource *parent, uint32_t kind, uint64_t base,
                    uint64_t size, struct kmem_account *acct,
                    struct resource **out);

/* Does r cover [base, base + size) of `kind`?  A revoked budget covers
 * nothing. */
bool resource_covers(const struct resource *r, uint32_t kind, uint64_t base,
                     uint64_t size);

/* A budget (MICA_RESOURCE_CRITICAL) revoked by its overruns? */
static inline bool resource_revoked(const struct resource *r)
{
    return __atomic_load_n(&r->revoked, __ATOMIC_ACQUIRE);
}

#endif
