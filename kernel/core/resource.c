/*
 * resource.c - resources (resource.h).
 *
 * Carving is the whole policy: a child is one kind and lies inside its
 * parent, so a driver given an I/O port resource for 0x3f8-0x3ff can
 * make ioport objects for those ports and nothing else, and can pass on
 * only narrower ranges.  Nothing remembers children: a resource never
 * changes and is gone when its last reference is.
 */
#include "lib.h"
#include "mica/device.h"
#include "mica/errors.h"
#include "resource.h"

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
    return r->kind == kind && base >= r->base &&
           base + size <= r->base + r->size;
}

int resource_create(struct resource *parent, uint32_t kind, uint64_t base,
                    uint64_t size, struct kmem_account *acct,
                    struct resource **out)
{
    if (kind == MICA_RESOURCE_ROOT || kind > MICA_RESOURCE_DMA ||
        size == 0 || base + size < base)
        return ERR_INVALID_ARGS;
    if (!resource_covers(parent, kind, base, size))
        return ERR_ACCESS_DENIED;
    return make(kind, base, size, acct, out);
}
