/*
 * syscall_event.c - the system calls of signal observers, events and
 * timers: the packet sources of ports besides channels and port_queue.
 *
 * Rights: arming or canceling an observer needs RIGHT_WAIT on the
 * observed object and RIGHT_WRITE on the port (it queues there); setting,
 * canceling and binding a timer need RIGHT_WRITE on it.  Events are the
 * only objects created with RIGHT_SIGNAL (object_signal, syscall.c).
 * What an observer or a timer costs is charged to the calling process's
 * kernel memory account, which is what bounds how many it can have.
 */
#include "event.h"
#include "lib.h"
#include "mica/errors.h"
#include "observer.h"
#include "process.h"
#include "syscall_impl.h"
#include "timer.h"
#include "uaccess.h"

#define EVENT_RIGHTS (RIGHTS_BASIC | RIGHTS_IO | RIGHT_SIGNAL)
#define TIMER_RIGHTS (RIGHTS_BASIC | RIGHTS_IO)

static int get_port(uint64_t h, struct port **p)
{
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_PORT, RIGHT_WRITE, &o);
    *p = err ? NULL : container_of(o, struct port, obj);
    return err;
}

static int get_timer(uint64_t h, struct timer **t)
{
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_TIMER, RIGHT_WRITE, &o);
    *t = err ? NULL : container_of(o, struct timer, obj);
    return err;
}

/* The object h names (RIGHT_WAIT) and the port ph names (RIGHT_WRITE). */
static int get_observed(uint64_t h, uint64_t ph, struct object **o,
                        struct port **p)
{
    int err = get((mica_handle_t)h, OBJ_NONE, RIGHT_WAIT, o);
    if (err)
        return err;
    err = get_port(ph, p);
    if (err)
        object_unref(*o);
    return err;
}

int64_t sys_object_wait_async(uint64_t h, uint64_t ph, uint64_t key,
                              uint64_t signals, uint64_t options, uint64_t a5)
{
    UNUSED_ARGS(a5);
    if (options || (mica_signals_t)signals == 0)
        return ERR_INVALID_ARGS;
    struct object *o;
    struct port *p;
    int err = get_observed(h, ph, &o, &p);
    if (err)
        return err;
    err = observer_arm(o, p, key, (mica_signals_t)signals,
                       &process_current()->acct);
    object_unref(&p->obj);
    object_unref(o);
    return err;
}

int64_t sys_object_wait_cancel(uint64_t h, uint64_t ph, uint64_t key,
                               uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    struct object *o;
    struct port *p;
    int err = get_observed(h, ph, &o, &p);
    if (err)
        return err;
    err = observer_cancel(o, p, key);
    object_unref(&p->obj);
    object_unref(o);
    return err;
}

int64_t sys_event_create(uint64_t flags, uint64_t uout, uint64_t a2,
                         uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    if (flags)
        return ERR_INVALID_ARGS;
    if (!user_range_ok(uout, sizeof(mica_handle_t)))
        return ERR_FAULT;
    struct object *e;
    int err = event_create(&process_current()->acct, &e);
    if (err)
        return err;
    return give(e, EVENT_RIGHTS, uout);
}

int64_t sys_timer_create(uint64_t flags, uint64_t uout, uint64_t a2,
                         uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    if (flags)
        return ERR_INVALID_ARGS;
    if (!user_range_ok(uout, sizeof(mica_handle_t)))
        return ERR_FAULT;
    struct timer *t;
    int err = timer_create(&process_current()->acct, &t);
    if (err)
        return err;
    return give(&t->obj, TIMER_RIGHTS, uout);
}

int64_t sys_timer_set(uint64_t h, uint64_t deadline, uint64_t period,
                      uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    if (period && period < MICA_TIMER_PERIOD_MIN)
        return ERR_OUT_OF_RANGE;
    struct timer *t;
    int err = get_timer(h, &t);
    if (err)
        return err;
    timer_set(t, deadline, period);
    object_unref(&t->obj);
    return 0;
}

int64_t sys_timer_cancel(uint64_t h, uint64_t a1, uint64_t a2, uint64_t a3,
                         uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    struct timer *t;
    int err = get_timer(h, &t);
    if (err)
        return err;
    timer_cancel(t);
    object_unref(&t->obj);
    return 0;
}

int64_t sys_timer_set_port(uint64_t h, uint64_t ph, uint64_t key,
                           uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    struct timer *t;
    struct port *p = NULL;
    int err = get_timer(h, &t);
    if (err)
        return err;
    if ((mica_handle_t)ph != HANDLE_INVALID)
        err = get_port(ph, &p);
    if (!err)
        err = timer_set_port(t, p, key);
    if (p)
        object_unref(&p->obj);
    object_unref(&t->obj);
    return err;
}
