/*
 * msg.c - channel messages: built, read, sent straight across, destroyed.
 *
 * A message goes one of two ways.  Queued: msg_create copies the bytes
 * into kernel memory charged to the sender, and the receiver later copies
 * them out in its own context (msg_read).  Direct: when a receiver is
 * already blocked with a buffer big enough, msg_direct copies from the
 * sender's memory into the receiver's pages once, through the direct map
 * (aspace_copy_from_current pins each page, so a concurrent unmap cannot
 * pull it away mid-copy).
 *
 * Handles move in two phases on both sides (handle.h), so whatever fails
 * part-way, every handle is either still the sender's or the receiver's,
 * never lost and never in both places.  A message may not carry the
 * endpoint it is written to or that endpoint's peer: a queue holding its
 * own endpoint could never be reached again.
 */
#include "handle.h"
#include "ipc.h"
#include "lib.h"
#include "mica/errors.h"
#include "process.h"
#include "slab.h"
#include "syscall_impl.h"
#include "uaccess.h"

int msg_handles_in(const struct umsg *um, mica_handle_t *hs)
{
    if (um->nhandles > MICA_MSG_MAX_HANDLES || um->nbytes > MICA_MSG_MAX_BYTES)
        return ERR_OUT_OF_RANGE;
    return copy_from_user(hs, um->handles, um->nhandles * sizeof(*hs));
}

static int check_carried(struct object *const *objs, uint32_t n,
                         const struct object *self, const struct object *peer)
{
    for (uint32_t i = 0; i < n; i++)
        if (objs[i] == self || (peer && objs[i] == peer))
            return ERR_INVALID_ARGS;
    return 0;
}

/* Take the handles of a message out of the caller's table (begun). */
static int take_handles(const mica_handle_t *hs, uint32_t n,
                        struct object **objs, mica_rights_t *rights,
                        const struct object *self, const struct object *peer)
{
    if (n == 0)
        return 0;
    int err = handle_take_begin(my_handles(), hs, n, RIGHT_TRANSFER, objs,
                                rights);
    if (err)
        return err;
    err = check_carried(objs, n, self, peer);
    if (err)
        handle_take_abort(my_handles(), hs, n);
    return err;
}

/* A message of nbytes bytes and n handles, its fields laid out.
 * Inlined: a queued write goes through here (make bench). */
static inline __attribute__((always_inline)) struct msg *
msg_alloc(struct kmem_account *acct, uint32_t nbytes, uint32_t n)
{
    size_t size = sizeof(struct msg) + n * (sizeof(struct object *) +
                                            sizeof(mica_rights_t)) +
                  nbytes;
    struct msg *m = kobj_alloc(acct, size);
    if (!m)
        return NULL;
    m->size = (uint32_t)size;
    m->acct = acct;
    m->nbytes = nbytes;
    m->nhandles = n;
    m->objs = (struct object **)(m + 1);
    m->rights = (mica_rights_t *)(m->objs + n);
    m->data = (uint8_t *)(m->rights + n);
    return m;
}

int msg_create(const struct umsg *um, struct kmem_account *acct,
               const mica_handle_t *hs, struct object *self,
               struct object *peer, struct msg **out)
{
    uint32_t n = um->nhandles;
    struct msg *m = msg_alloc(acct, um->nbytes, n);
    if (!m)
        return ERR_NO_MEMORY;
    int err = copy_from_user(m->data, um->bytes, um->nbytes);
    if (!err)
        err = take_handles(hs, n, m->objs, m->rights, self, peer);
    if (err) {
        kobj_free(acct, m, m->size);
        return err;
    }
    *out = m;
    return 0;
}

int msg_create_kernel_raw(struct kmem_account *acct, uint32_t nbytes,
                          struct msg **out)
{
    struct msg *m = msg_alloc(acct, nbytes, 0);
    if (!m)
        return ERR_NO_MEMORY;
    *out = m;
    return 0;
}

int msg_create_kernel(struct kmem_account *acct, const void *data,
                      uint32_t nbytes, struct object *const *objs,
                      const mica_rights_t *rights, uint32_t n,
                      struct msg **out)
{
    struct msg *m = msg_alloc(acct, nbytes, n);
    if (!m)
        return ERR_NO_MEMORY;
    memcpy(m->data, data, nbytes);
    for (uint32_t i = 0; i < n; i++) {
        m->objs[i] = objs[i];
        m->rights[i] = rights[i];
    }
    *out = m;
    return 0;
}

void msg_commit_take(const mica_handle_t *hs, uint32_t n)
{
    if (n)
        handle_take_commit(my_handles(), hs, n);
}

void msg_abort_take(const mica_handle_t *hs, uint32_t n)
{
    if (n)
        handle_take_abort(my_handles(), hs, n);
}

/* The charge goes back before the handles are dropped: a handle inside
 * may hold the last reference to what owns the account (the writer's
 * thread, and through it its process). */
void msg_destroy(struct msg *m)
{
    kmem_uncharge(m->acct, m->size);
    for (uint32_t i = 0; i < m->nhandles; i++)
        handle_discard(m->objs[i]);
    kfree(m);
}

/* What the receiver learns of each handle, when its buffer asks. */
static void describe(struct object *const *objs, const mica_rights_t *rights,
                     uint32_t n, struct mica_handle_info *out)
{
    for (uint32_t i = 0; i < n; i++)
        out[i] = (struct mica_handle_info){ objs[i]->type, rights[i] };
}

int msg_read(struct msg *m, const struct ubuf *b)
{
    uint32_t n = m->nhandles;
    if (m->nbytes > b->bytes_cap || n > b->handles_cap)
        return ERR_BUFFER_TOO_SMALL;
    mica_handle_t hs[MICA_MSG_MAX_HANDLES];
    struct mica_handle_info infos[MICA_MSG_MAX_HANDLES];
    int err = copy_to_user(b->bytes, m->data, m->nbytes);
    if (err || n == 0)
        goto out;
    err = handle_reserve(my_handles(), n, hs);
    if (err)
        return err;
    err = copy_to_user(b->handles, hs, n * sizeof(hs[0]));
    if (!err && b->infos) {
        describe(m->objs, m->rights, n, infos);
        err = copy_to_user(b->infos, infos, n * sizeof(infos[0]));
    }
    if (err) {
        handle_unreserve(my_handles(), hs, n);
        return err;
    }
    kmem_uncharge(m->acct, m->size);    /* before: as in msg_destroy */
    handle_commit(my_handles(), hs, m->objs, m->rights, n);
    kfree(m);
    return 0;
out:
    if (!err)
        kobj_free(m->acct, m, m->size);
    return err;
}

int msg_direct(const struct umsg *um, struct thread *t, const struct ubuf *b,
               struct object *self, struct object *peer, struct direct *d,
               bool *theirs)
{
    uint32_t n = um->nhandles;
    struct aspace *as = t->proc->aspace;
    d->n = 0;
    *theirs = false;
    int err = take_handles(d->src, n, d->objs, d->rights, self, peer);
    if (err)
        return err;
    if (n) {
        d->dst_table = t->handles;
        err = handle_reserve(d->dst_table, n, d->dst);
        if (!err) {
            err = aspace_rw(as, b->handles, d->dst, n * sizeof(d->dst[0]),
                            true);
            if (!err && b->infos) {
                struct mica_handle_info infos[MICA_MSG_MAX_HANDLES];
                describe(d->objs, d->rights, n, infos);
                err = aspace_rw(as, b->infos, infos, n * sizeof(infos[0]),
                                true);
            }
            if (err)
                handle_unreserve(d->dst_table, d->dst, n);
        }
        if (err) {
            *theirs = true;
            handle_take_abort(my_handles(), d->src, n);
            return err;
        }
    }
    d->n = n;
    err = aspace_copy_from_current(as, b->bytes, um->bytes, um->nbytes,
                                   theirs);
    if (err)
        msg_direct_abort(d);
    return err;
}

void msg_direct_commit(struct direct *d)
{
    if (!d->n)
        return;
    handle_take_commit(my_handles(), d->src, d->n);
    handle_commit(d->dst_table, d->dst, d->objs, d->rights, d->n);
}

void msg_direct_abort(struct direct *d)
{
    if (!d->n)
        return;
    handle_unreserve(d->dst_table, d->dst, d->n);
    handle_take_abort(my_handles(), d->src, d->n);
    d->n = 0;
}
