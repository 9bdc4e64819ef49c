/*
 * object.h - the base of every kernel object.
 *
 * Each kernel object (process, thread, vmo, channel, ..., handle table)
 * embeds a struct object as its first member and supplies an object_ops.
 * Two counts live here:
 *
 *   refs     references: a handle table entry holds one, handle_get hands
 *            out one, a queued message holds one per carried handle.  At
 *            zero ops->destroy frees the object.  Atomic; no lock.
 *   handles  handles naming the object, in any table or in flight inside
 *            a message.  When it falls to zero ops->last_handle (if any)
 *            runs, with the caller still holding a reference.  It may run
 *            more than once if the kernel later gives out a new handle.
 *
 * `lock` guards the object's own state (signals, and what the type adds);
 * object_ref/unref and the handle count never take it.  destroy and
 * last_handle are never called with a handle-table lock held.
 *
 * `observers` lists the one-shot signal observers armed on the object
 * (observer.c; object_wait_async).  They hold no reference: when the
 * last reference goes, object_unref drops them before destroy, taking
 * ipc_lock to do so, so the last reference of an object that may be
 * observed is never dropped with an object lock or sched_lock held.
 *
 * object_live_count(type) counts objects initialized but not yet
 * destroyed, per type, so tests can prove nothing leaks.
 */
#ifndef MICA_OBJECT_H
#define MICA_OBJECT_H

#include <mica/objects.h>
#include <mica/signals.h>

#include "spinlock.h"
#include "types.h"

struct object;
struct observer;

struct object_ops {
    const char *name;
    /* The last reference was dropped: free the object. Required. */
    void (*destroy)(struct object *o);
    /* The last handle naming it was closed. Optional. */
    void (*last_handle)(struct object *o);
};

struct object {
    const struct object_ops *ops;
    uint32_t type;              /* enum mica_obj_type */
    uint32_t refs;              /* atomic */
    uint32_t handles;           /* atomic */
    mica_signals_t signals;     /* under lock */
    spinlock_t lock;
    struct observer *observers; /* observer.c: under ipc_lock */
};

/* Set up `o` with one reference (the caller's) and no handles.
 * `type` is an enum mica_obj_type other than OBJ_NONE. */
void object_init(struct object *o, uint32_t type, const struct object_ops *ops);

/* Take another reference; the caller must already hold one. */
void object_ref(struct object *o);

/* Drop a reference; the last one destroys the object. */
void object_unref(struct object *o);

/* A handle naming `o` was created (handle tables call these). */
void object_handle_opened(struct object *o);

/* A handle naming `o` went away; calls ops->last_handle when it was the
 * last.  The caller holds a reference across the call. */
void object_handle_closed(struct object *o);

/* observer.c: drop the observers of an object whose last reference
 * went (object_unref). */
void observers_object_gone(struct object *o);

/* Objects of `type` initialized and not yet destroyed. */
uint64_t object_live_count(uint32_t type);

#endif
