/*
 * ioport.c - ioport objects (ioport.h).  The object is immutable; the
 * permission itself lives in the process (arch_io_allow).
 */
#include "ioport.h"
#include "lib.h"
#include "mica/errors.h"

static void ioport_destroy(struct object *o)
{
    struct ioport *io = container_of(o, struct ioport, obj);
    kobj_free(io->acct, io, sizeof(*io));
}

static const struct object_ops ioport_ops = {
    .name = "ioport",
    .destroy = ioport_destroy,
};

int ioport_create(uint64_t base, uint64_t count, struct kmem_account *acct,
                  struct ioport **out)
{
    if (count == 0 || base >= IOPORT_LIMIT || count > IOPORT_LIMIT - base)
        return ERR_OUT_OF_RANGE;
    struct ioport *io = kobj_alloc(acct, sizeof(*io));
    if (!io)
        return ERR_NO_MEMORY;
    object_init(&io->obj, OBJ_IOPORT, &ioport_ops);
    io->base = (uint32_t)base;
    io->count = (uint32_t)count;
    io->acct = acct;
    *out = io;
    return 0;
}
