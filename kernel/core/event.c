/*
 * event.c - events.
 *
 * An event is a bare struct object plus the account it is charged to:
 * its whole state is its signals, changed through object_signal under
 * the object's lock like any other object's.
 */
#include "event.h"
#include "lib.h"
#include "mica/errors.h"

struct event {
    struct object obj;              /* OBJ_EVENT */
    struct kmem_account *acct;
};

static void event_destroy(struct object *o)
{
    struct event *e = container_of(o, struct event, obj);
    kobj_free(e->acct, e, sizeof(*e));
}

static const struct object_ops event_ops = {
    .name = "event",
    .destroy = event_destroy,
};

int event_create(struct kmem_account *acct, struct object **out)
{
    struct event *e = kobj_alloc(acct, sizeof(*e));
    if (!e)
        return ERR_NO_MEMORY;
    object_init(&e->obj, OBJ_EVENT, &event_ops);
    e->acct = acct;
    *out = &e->obj;
    return 0;
}
