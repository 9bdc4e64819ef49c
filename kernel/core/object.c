/*
 * object.c - reference and handle counting shared by all kernel objects.
 *
 * Both counts are plain atomics.  A reference can only be taken by
 * someone who already holds one (a table entry, a message, a pointer
 * found under a lock that keeps the object alive), so refs never climbs
 * back from zero and destroy runs exactly once.  The decrement is
 * acquire-release, so every write done under any reference is visible
 * to whoever destroys the object.
 */
#include "object.h"
#include "panic.h"

static uint64_t live[OBJ_TYPE_COUNT];

void object_init(struct object *o, uint32_t type, const struct object_ops *ops)
{
    KASSERT(type > OBJ_NONE && type < OBJ_TYPE_COUNT);
    KASSERT(ops && ops->destroy);
    o->ops = ops;
    o->type = type;
    o->refs = 1;
    o->handles = 0;
    o->signals = 0;
    o->lock = (spinlock_t)SPINLOCK_INIT;
    o->observers = NULL;
    __atomic_fetch_add(&live[type], 1, __ATOMIC_RELAXED);
}

void object_ref(struct object *o)
{
    uint32_t old = __atomic_fetch_add(&o->refs, 1, __ATOMIC_RELAXED);
    KASSERT(old > 0 && old < UINT32_MAX);
}

void object_unref(struct object *o)
{
    uint32_t old = __atomic_fetch_sub(&o->refs, 1, __ATOMIC_ACQ_REL);
    KASSERT(old > 0);
    if (old != 1)
        return;
    __atomic_fetch_sub(&live[o->type], 1, __ATOMIC_RELAXED);
    if (__atomic_load_n(&o->observers, __ATOMIC_ACQUIRE))
        observers_object_gone(o);
    o->ops->destroy(o);
}

void object_handle_opened(struct object *o)
{
    uint32_t old = __atomic_fetch_add(&o->handles, 1, __ATOMIC_RELAXED);
    KASSERT(old < UINT32_MAX);
}

void object_handle_closed(struct object *o)
{
    uint32_t old = __atomic_fetch_sub(&o->handles, 1, __ATOMIC_ACQ_REL);
    KASSERT(old > 0);
    if (old == 1 && o->ops->last_handle)
        o->ops->last_handle(o);
}

uint64_t object_live_count(uint32_t type)
{
    KASSERT(type < OBJ_TYPE_COUNT);
    return __atomic_load_n(&live[type], __ATOMIC_RELAXED);
}
