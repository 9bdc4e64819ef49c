/*
 * handle.c - handle tables.
 *
 * Each slot of a table's entry array is in one of four states:
 *
 *   FREE      on the free list (a FIFO threaded through `next`)
 *   USED      an open handle: `obj` holds one reference, counted in
 *             obj->handles
 *   RESERVED  set aside by handle_reserve for an incoming handle
 *   TAKING    leaving by handle_take_begin; still holds its reference
 *             until handle_take_commit hands it to the caller
 *
 * Only a USED slot whose generation matches the value's resolves; every
 * other state looks closed.  `count` is the number of slots not FREE, and
 * never exceeds `limit`.  A slot's generation moves on whenever it goes
 * back to FREE, and when handle_replace reissues it in place.
 *
 * Locking: t->lock (irq-save, held briefly) guards the array, the free
 * list and the counts.  Nothing that can call back into an object
 * (last_handle, destroy) runs under it: close paths unlink the entry,
 * drop the lock, then drop the handle and the reference.  Growth
 * allocates the new array with the lock dropped, then swaps it in if no
 * one else grew the table meanwhile (lock_with_room retries).  Slots in
 * RESERVED or TAKING belong to the operation that set them, which holds
 * a reference to the table; handle_table_close_all leaves them to it.
 */
#include <mica/errors.h>

#include "handle.h"
#include "lib.h"
#include "panic.h"

enum { HE_FREE, HE_USED, HE_RESERVED, HE_TAKING };

#define SLOT_NONE UINT32_MAX

static void table_destroy(struct object *o);

static const struct object_ops table_ops = {
    .name = "handle_table",
    .destroy = table_destroy,
};

/* --- slots, values and the free list (all with t->lock held) --------- */

static uint32_t gen_max(const struct handle_table *t)
{
    return UINT32_MAX >> t->index_bits;
}

static mica_handle_t slot_value(const struct handle_table *t, uint32_t i)
{
    return (t->entries[i].gen << t->index_bits) | i;
}

static uint32_t value_index(const struct handle_table *t, mica_handle_t h)
{
    return h & ((1u << t->index_bits) - 1);
}

/* The slot h names if it is in `state` with h's generation, else NULL. */
static struct handle_entry *slot_find(struct handle_table *t, mica_handle_t h,
                                      uint32_t state)
{
    uint32_t i = value_index(t, h);
    if (i >= t->cap)
        return NULL;
    struct handle_entry *e = &t->entries[i];
    if (e->state != state || e->gen != h >> t->index_bits)
        return NULL;
    return e;
}

static void free_push(struct handle_table *t, uint32_t i)
{
    t->entries[i].next = SLOT_NONE;
    t->entries[i].state = HE_FREE;
    if (t->free_tail == SLOT_NONE)
        t->free_head = i;
    else
        t->entries[t->free_tail].next = i;
    t->free_tail = i;
}

/* Take the oldest free slot; there must be one. */
static uint32_t slot_alloc(struct handle_table *t, uint32_t state)
{
    uint32_t i = t->free_head;
    KASSERT(i != SLOT_NONE);
    t->free_head = t->entries[i].next;
    if (t->free_head == SLOT_NONE)
        t->free_tail = SLOT_NONE;
    t->entries[i].state = state;
    t->count++;
    return i;
}

static void gen_advance(struct handle_table *t, struct handle_entry *e)
{
    e->gen = e->gen >= gen_max(t) ? 1 : e->gen + 1;
}

/* Send slot e back to the free list under a new generation. */
static void slot_release(struct handle_table *t, struct handle_entry *e)
{
    gen_advance(t, e);
    e->obj = NULL;
    e->rights = 0;
    t->count--;
    free_push(t, (uint32_t)(e - t->entries));
}

/* --- growth ----------------------------------------------------------- */

static uint32_t grown_cap(const struct handle_table *t, uint32_t cap)
{
    return cap ? MIN(cap * 2, t->limit) : MIN(HANDLE_TABLE_MIN, t->limit);
}

/* Replace an array of `old_cap` slots by one twice the size (up to the
 * limit).  Losing a race to another grower is success. */
static int grow(struct handle_table *t, uint32_t old_cap)
{
    uint32_t new_cap = grown_cap(t, old_cap);
    size_t new_size = (size_t)new_cap * sizeof(struct handle_entry);
    struct handle_entry *ne = kobj_alloc(t->acct, new_size);
    if (!ne)
        return ERR_NO_MEMORY;

    irqflags_t f = spin_lock_irqsave(&t->lock);
    void *dead_array = ne;
    size_t dead_size = new_size;
    if (t->cap == old_cap && !t->dead) {
        if (old_cap)
            memcpy(ne, t->entries, old_cap * sizeof(struct handle_entry));
        dead_array = t->entries;
        dead_size = (size_t)old_cap * sizeof(struct handle_entry);
        t->entries = ne;
        t->cap = new_cap;
        for (uint32_t i = old_cap; i < new_cap; i++) {
            ne[i].gen = 1;
            free_push(t, i);
        }
    }
    spin_unlock_irqrestore(&t->lock, f);
    kobj_free(t->acct, dead_array, dead_size);
    return 0;
}

/* Take t->lock with at least `n` free slots, growing the array as
 * needed.  On error the lock is not held. */
static int lock_with_room(struct handle_table *t, uint32_t n, irqflags_t *f)
{
    for (;;) {
        int err;
        *f = spin_lock_irqsave(&t->lock);
        if (t->dead) {
            err = ERR_BAD_STATE;
        } else if (n > t->limit - t->count) {
            err = ERR_NO_RESOURCES;
        } else if (n <= t->cap - t->count) {
            return 0;
        } else {
            uint32_t cap = t->cap;
            spin_unlock_irqrestore(&t->lock, *f);
            err = grow(t, cap);
            if (err)
                return err;
            continue;
        }
        spin_unlock_irqrestore(&t->lock, *f);
        return err;
    }
}

/* --- creation and destruction ----------------------------------------- */

static uint32_t bits_for(uint32_t n)
{
    uint32_t b = 0;
    while (((uint64_t)1 << b) < n)
        b++;
    return b;
}

int handle_table_create(struct kmem_account *acct, uint32_t max_handles,
                        struct handle_table **out)
{
    if (max_handles == 0 || max_handles > HANDLE_MAX_LIMIT)
        return ERR_INVALID_ARGS;
    struct handle_table *t = kobj_alloc(acct, sizeof(*t));
    if (!t)
        return ERR_NO_MEMORY;
    object_init(&t->obj, OBJ_HANDLE_TABLE, &table_ops);
    t->lock = (spinlock_t)SPINLOCK_INIT;
    t->entries = NULL;
    t->cap = t->count = 0;
    t->limit = max_handles;
    t->index_bits = bits_for(max_handles);
    t->free_head = t->free_tail = SLOT_NONE;
    t->dead = false;
    t->acct = acct;
    *out = t;
    return 0;
}

static void table_destroy(struct object *o)
{
    struct handle_table *t = container_of(o, struct handle_table, obj);
    handle_table_close_all(t);
    KASSERT(t->count == 0);
    kobj_free(t->acct, t->entries, (size_t)t->cap * sizeof(struct handle_entry));
    kobj_free(t->acct, t, sizeof(*t));
}

void handle_table_close_all(struct handle_table *t)
{
    irqflags_t f = spin_lock_irqsave(&t->lock);
    t->dead = true;
    for (uint32_t i = 0; i < t->cap; i++) {
        struct handle_entry *e = &t->entries[i];
        if (e->state != HE_USED)
            continue;
        struct object *o = e->obj;
        slot_release(t, e);
        spin_unlock_irqrestore(&t->lock, f);
        object_handle_closed(o);
        object_unref(o);
        f = spin_lock_irqsave(&t->lock);
    }
    spin_unlock_irqrestore(&t->lock, f);
}

uint32_t handle_table_count(struct handle_table *t)
{
    irqflags_t f = spin_lock_irqsave(&t->lock);
    uint32_t n = t->count;
    spin_unlock_irqrestore(&t->lock, f);
    return n;
}

/* --- the basic operations --------------------------------------------- */

int handle_add(struct handle_table *t, struct object *o, mica_rights_t rights,
               mica_handle_t *out)
{
    KASSERT((rights & ~RIGHTS_ALL) == 0);
    irqflags_t f;
    int err = lock_with_room(t, 1, &f);
    if (err)
        return err;
    uint32_t i = slot_alloc(t, HE_USED);
    t->entries[i].obj = o;
    t->entries[i].rights = rights;
    object_handle_opened(o);
    *out = slot_value(t, i);
    spin_unlock_irqrestore(&t->lock, f);
    return 0;
}

static int check_entry(const struct handle_entry *e, uint32_t type,
                       mica_rights_t need)
{
    if (!e)
        return ERR_BAD_HANDLE;
    if (type != OBJ_NONE && e->obj->type != type)
        return ERR_WRONG_TYPE;
    if ((e->rights & need) != need)
        return ERR_ACCESS_DENIED;
    return 0;
}

int handle_get_rights(struct handle_table *t, mica_handle_t h, uint32_t type,
                      mica_rights_t need, struct object **out,
                      mica_rights_t *rights)
{
    irqflags_t f = spin_lock_irqsave(&t->lock);
    struct handle_entry *e = slot_find(t, h, HE_USED);
    int err = check_entry(e, type, need);
    if (!err) {
        object_ref(e->obj);
        *out = e->obj;
        if (rights)
            *rights = e->rights;
    }
    spin_unlock_irqrestore(&t->lock, f);
    return err;
}

int handle_get(struct handle_table *t, mica_handle_t h, uint32_t type,
               mica_rights_t need, struct object **out)
{
    return handle_get_rights(t, h, type, need, out, NULL);
}

int handle_close(struct handle_table *t, mica_handle_t h)
{
    irqflags_t f = spin_lock_irqsave(&t->lock);
    struct handle_entry *e = slot_find(t, h, HE_USED);
    if (!e) {
        spin_unlock_irqrestore(&t->lock, f);
        return ERR_BAD_HANDLE;
    }
    struct object *o = e->obj;
    slot_release(t, e);
    spin_unlock_irqrestore(&t->lock, f);
    object_handle_closed(o);
    object_unref(o);
    return 0;
}

/* The rights a duplicate or replacement asks for, given the old ones. */
static int derive_rights(mica_rights_t old, mica_rights_t req,
                         mica_rights_t *out)
{
    if (req == RIGHT_SAME_RIGHTS) {
        *out = old;
        return 0;
    }
    if (req & ~old)
        return ERR_INVALID_ARGS;
    *out = req;
    return 0;
}

static int dup_check(const struct handle_entry *e, mica_rights_t req,
                     mica_rights_t *out)
{
    int err = check_entry(e, OBJ_NONE, RIGHT_DUPLICATE);
    return err ? err : derive_rights(e->rights, req, out);
}

/* Why duplicating h fails, when there is no room for the copy: errors
 * about h itself come before errors about the table. */
static int dup_error(struct handle_table *t, mica_handle_t h,
                     mica_rights_t req, int room_err)
{
    mica_rights_t r;
    irqflags_t f = spin_lock_irqsave(&t->lock);
    int err = dup_check(slot_find(t, h, HE_USED), req, &r);
    spin_unlock_irqrestore(&t->lock, f);
    return err ? err : room_err;
}

int handle_duplicate(struct handle_table *t, mica_handle_t h,
                     mica_rights_t rights, mica_handle_t *out)
{
    irqflags_t f;
    int err = lock_with_room(t, 1, &f);
    if (err)
        return dup_error(t, h, rights, err);
    mica_rights_t r;
    struct handle_entry *e = slot_find(t, h, HE_USED);
    err = dup_check(e, rights, &r);
    if (!err) {
        uint32_t i = slot_alloc(t, HE_USED);
        t->entries[i].obj = e->obj;
        t->entries[i].rights = r;
        object_ref(e->obj);
        object_handle_opened(e->obj);
        *out = slot_value(t, i);
    }
    spin_unlock_irqrestore(&t->lock, f);
    return err;
}

/* Replacement moves the handle to the oldest free slot when there is one
 * (spreading generation use over the table), else reissues its own slot
 * under the next generation.  Neither allocates, so neither fails. */
int handle_replace(struct handle_table *t, mica_handle_t h,
                   mica_rights_t rights, mica_handle_t *out)
{
    irqflags_t f = spin_lock_irqsave(&t->lock);
    struct handle_entry *e = slot_find(t, h, HE_USED);
    mica_rights_t r;
    int err = e ? derive_rights(e->rights, rights, &r) : ERR_BAD_HANDLE;
    if (!err) {
        if (t->free_head != SLOT_NONE) {
            uint32_t i = slot_alloc(t, HE_USED);
            t->entries[i].obj = e->obj;
            slot_release(t, e);
            e = &t->entries[i];
        } else {
            gen_advance(t, e);
        }
        e->rights = r;
        *out = slot_value(t, (uint32_t)(e - t->entries));
    }
    spin_unlock_irqrestore(&t->lock, f);
    return err;
}

/* --- transfer: sending side ------------------------------------------- */

/* Mark hs[0..n) TAKING, or none of them. A repeated value fails as a bad
 * handle: its first occurrence is already TAKING. */
int handle_take_begin(struct handle_table *t, const mica_handle_t *hs,
                      uint32_t n, mica_rights_t need, struct object **objs,
                      mica_rights_t *rights)
{
    irqflags_t f = spin_lock_irqsave(&t->lock);
    int err = 0;
    uint32_t i;
    for (i = 0; i < n; i++) {
        struct handle_entry *e = slot_find(t, hs[i], HE_USED);
        err = check_entry(e, OBJ_NONE, need);
        if (err)
            break;
        e->state = HE_TAKING;
        objs[i] = e->obj;
        rights[i] = e->rights;
    }
    if (err)
        while (i-- > 0)
            slot_find(t, hs[i], HE_TAKING)->state = HE_USED;
    spin_unlock_irqrestore(&t->lock, f);
    return err;
}

void handle_take_commit(struct handle_table *t, const mica_handle_t *hs,
                        uint32_t n)
{
    irqflags_t f = spin_lock_irqsave(&t->lock);
    for (uint32_t i = 0; i < n; i++) {
        struct handle_entry *e = slot_find(t, hs[i], HE_TAKING);
        KASSERT(e);
        slot_release(t, e);     /* the reference is now the caller's */
    }
    spin_unlock_irqrestore(&t->lock, f);
}

/* Put taken handles back.  If the table was closed meanwhile they are
 * closed now, as close_all would have done. */
void handle_take_abort(struct handle_table *t, const mica_handle_t *hs,
                       uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        irqflags_t f = spin_lock_irqsave(&t->lock);
        struct handle_entry *e = slot_find(t, hs[i], HE_TAKING);
        KASSERT(e);
        struct object *o = NULL;
        if (t->dead) {
            o = e->obj;
            slot_release(t, e);
        } else {
            e->state = HE_USED;
        }
        spin_unlock_irqrestore(&t->lock, f);
        if (o)
            handle_discard(o);
    }
}

int handle_take(struct handle_table *t, mica_handle_t h, mica_rights_t need,
                struct object **o, mica_rights_t *rights)
{
    int err = handle_take_begin(t, &h, 1, need, o, rights);
    if (!err)
        handle_take_commit(t, &h, 1);
    return err;
}

void handle_discard(struct object *o)
{
    object_handle_closed(o);
    object_unref(o);
}

/* --- transfer: receiving side ----------------------------------------- */

int handle_reserve(struct handle_table *t, uint32_t n, mica_handle_t *hs)
{
    if (n == 0)
        return 0;
    irqflags_t f;
    int err = lock_with_room(t, n, &f);
    if (err)
        return err;
    for (uint32_t i = 0; i < n; i++)
        hs[i] = slot_value(t, slot_alloc(t, HE_RESERVED));
    spin_unlock_irqrestore(&t->lock, f);
    return 0;
}

void handle_unreserve(struct handle_table *t, const mica_handle_t *hs,
                      uint32_t n)
{
    irqflags_t f = spin_lock_irqsave(&t->lock);
    for (uint32_t i = 0; i < n; i++) {
        struct handle_entry *e = slot_find(t, hs[i], HE_RESERVED);
        KASSERT(e);
        slot_release(t, e);
    }
    spin_unlock_irqrestore(&t->lock, f);
}

void handle_commit(struct handle_table *t, const mica_handle_t *hs,
                   struct object *const *objs, const mica_rights_t *rights,
                   uint32_t n)
{
    irqflags_t f = spin_lock_irqsave(&t->lock);
    bool dead = t->dead;
    for (uint32_t i = 0; i < n; i++) {
        struct handle_entry *e = slot_find(t, hs[i], HE_RESERVED);
        KASSERT(e && (rights[i] & ~RIGHTS_ALL) == 0);
        if (dead) {
            slot_release(t, e);
            continue;
        }
        e->state = HE_USED;
        e->obj = objs[i];
        e->rights = rights[i];
    }
    spin_unlock_irqrestore(&t->lock, f);
    for (uint32_t i = 0; dead && i < n; i++)
        handle_discard(objs[i]);
}

int handle_put(struct handle_table *t, struct object *o, mica_rights_t rights,
               mica_handle_t *out)
{
    mica_handle_t h;
    int err = handle_reserve(t, 1, &h);
    if (err)
        return err;
    handle_commit(t, &h, &o, &rights, 1);
    *out = h;
    return 0;
}
