/*
 * resource.c - resources (resource.h).
 *
 * Carving is the whole policy: a child is one kind and lies inside its
 * parent, so a driver given an I/O port resource for 0x3f8-0x3ff can
 * make ioport objects for those ports and nothing else, and can pass on
 * only narrower ranges.  Nothing remembers children: a resource's range
 * never changes and it is gone when its last reference is.
 *
 * Two kinds are not hardware.  A budget (MICA_RESOURCE_CRITICAL) is
 * [0, ns): carving a narrower one gives a smaller budget, and its
 * overruns can revoke it (critical.c).  A priority resource is a range
 * of the 32 priorities a thread may be set to (thread_set_priority).
 */
#include "lib.h"
#include "mica/critical.h"
#include "mica/device.h"
#include "mica/errors.h"
#include "resource.h"
#include "runqueue.h"

static void resource_destroy(struct object *o)
{
    struct resource *r = container_of(o, struct resource, obj);
    kobj_free(r->acct, r, sizeof(*r));
}

static const struct object_ops resource_ops = {
    .name = "resource",
    .destroy = resource_destroy,
};

static int make(uint32_t kind, uint64_t base, uint64_t size,
                struct kmem_account *acct, struct resource **out)
{
    struct resource *r = kobj_alloc(acct, sizeof(*r));
    if (!r)
        return ERR_NO_MEMORY;
    object_init(&r->obj, OBJ_RESOURCE, &resource_ops);
    r->kind = kind;
    r->base = base;
    r->size = size;
    r->acct = acct;
    *out = r;
    return 0;
}

int resource_root(struct kmem_account *acct, struct resource **out)
{
    return make(MICA_RESOURCE_ROOT, 0, 0, acct, out);
}

bool resource_covers(const struct resource *r, uint32_t kind, uint64_t base,
                     uint64_t size)
{
    if (size == 0 || base + size < base)
        return false;
    if (r->kind == MICA_RESOURCE_ROOT)
        return true;
    if (r->kind == MICA_RESOURCE_CRITICAL && resource_revoked(r))
        return false;
    return r->kind == kind && base >= r->base &&
           base + size <= r->base + r->size;
}

/* The ranges a kind allows at all. */
static bool range_valid(uint32_t kind, uint64_t base, uint64_t size)
{
    if (size == 0 || base + size < base)
        return false;
    if (kind == MICA_RESOURCE_CRITICAL)
        return base == 0 && size <= MICA_CRITICAL_BUDGET_MAX;
    if (kind == MICA_RESOURCE_PRIORITY)
        return base + size <= PRIO_COUNT;
    return true;
}

int resource_create(struct resource *parent, uint32_t kind, uint64_t base,
                    uint64_t size, struct kmem_account *acct,
                    struct resource **out)
{
    if (kind == MICA_RESOURCE_ROOT || kind > MICA_RESOURCE_PRIORITY ||
        !range_valid(kind, base, size))
        return ERR_INVALID_ARGS;
    if (!resource_covers(parent, kind, base, size))
        return ERR_ACCESS_DENIED;
    return make(kind, base, size, acct, out);
}
