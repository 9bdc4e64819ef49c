/*
 * grant.c - grants: memory lent for the length of a call.
 *
 * The state a copy depends on (active, users) is under ipc_lock, like
 * the call the grant is tied to.  A copy marks itself a user, copies
 * without the lock (page by page, each page pinned, honouring the
 * granter's current mappings) and unmarks itself; revoking clears
 * `active` and waits for the users to leave, so once the caller's
 * channel_call returns no server can touch its memory through the grant
 * any more.  The granter's address space is referenced until then.
 */
#include "grant.h"
#include "ipc.h"
#include "lib.h"
#include "mica/errors.h"

static void grant_destroy(struct object *o)
{
    struct grant *g = container_of(o, struct grant, obj);
    if (g->as)
        aspace_put(g->as);
    kobj_free(g->acct, g, sizeof(*g));
}

static const struct object_ops grant_ops = {
    .name = "grant",
    .destroy = grant_destroy,
};

int grant_create(struct aspace *as, uint64_t base, uint64_t len,
                 struct kmem_account *acct, struct grant **out)
{
    struct grant *g = kobj_alloc(acct, sizeof(*g));
    if (!g)
        return ERR_NO_MEMORY;
    object_init(&g->obj, OBJ_GRANT, &grant_ops);
    __atomic_add_fetch(&as->refs, 1, __ATOMIC_ACQ_REL);
    g->as = as;
    g->base = base;
    g->len = len;
    g->acct = acct;
    *out = g;
    return 0;
}

bool grant_attach_locked(struct object *o)
{
    if (o->type != OBJ_GRANT)
        return false;
    struct grant *g = container_of(o, struct grant, obj);
    if (g->attached)
        return false;
    g->attached = g->active = true;
    object_ref(o);
    return true;
}

void grant_revoke(struct grant *g)
{
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    g->active = false;
    while (g->users) {
        spin_unlock_irqrestore(&ipc_lock, f);
        arch_cpu_relax();
        f = spin_lock_irqsave(&ipc_lock);
    }
    struct aspace *as = g->as;
    g->as = NULL;
    spin_unlock_irqrestore(&ipc_lock, f);
    if (as)
        aspace_put(as);
}

int grant_copy(struct grant *g, uint64_t off, uint64_t ubuf, uint64_t len,
               bool write)
{
    irqflags_t f = spin_lock_irqsave(&ipc_lock);
    int err = !g->active ? ERR_BAD_STATE
              : off > g->len || len > g->len - off ? ERR_OUT_OF_RANGE : 0;
    if (!err)
        g->users++;
    spin_unlock_irqrestore(&ipc_lock, f);
    if (err)
        return err;
    bool granter;
    if (write)
        err = aspace_copy_from_current(g->as, g->base + off, ubuf, len,
                                       &granter);
    else
        err = aspace_copy_to_current(g->as, g->base + off, ubuf, len,
                                     &granter);
    f = spin_lock_irqsave(&ipc_lock);
    g->users--;
    spin_unlock_irqrestore(&ipc_lock, f);
    return err;
}
