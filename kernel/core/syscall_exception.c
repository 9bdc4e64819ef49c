/*
 * syscall_exception.c - the system calls of exception channels.
 *
 * Binding needs RIGHT_READ, RIGHT_WRITE and RIGHT_MANAGE on the thread or
 * process: its handler will read and write the faulting thread's
 * registers and decide whether it lives, so the binder must already be
 * allowed all of that.  The endpoint needs RIGHT_WRITE (the kernel
 * writes through it) and RIGHT_TRANSFER (it leaves the caller's table
 * for the kernel's keeping), and must be the only handle to its end, so
 * that only the kernel writes there.  A verdict needs RIGHT_MANAGE on
 * the token.
 */
#include "channel.h"
#include "exception.h"
#include "lib.h"
#include "mica/errors.h"
#include "syscall_impl.h"

#define TARGET_RIGHTS  (RIGHT_READ | RIGHT_WRITE | RIGHT_MANAGE)
#define CHANNEL_RIGHTS (RIGHT_WRITE | RIGHT_TRANSFER)

/* The endpoint becomes the kernel's, then target's binding; undone if
 * the binding is refused. */
static int hold_and_bind(struct object *target, struct channel *ep)
{
    int err = channel_kernel_hold(ep, true);
    if (!err && (err = exception_bind(target, ep)))
        channel_kernel_hold(ep, false);
    return err;
}

/* Move endpoint h out of the caller's table into target's binding:
 * begun before binding, committed once it holds, so an error moves
 * nothing. */
static int bind_handle(struct object *target, mica_handle_t h)
{
    struct object *o, *taken;
    mica_rights_t rights;
    int err = get(h, OBJ_CHANNEL, CHANNEL_RIGHTS, &o);
    if (err)
        return err;
    err = handle_take_begin(my_handles(), &h, 1, CHANNEL_RIGHTS, &taken,
                            &rights);
    if (!err && taken != o) {           /* closed and reissued meanwhile */
        handle_take_abort(my_handles(), &h, 1);
        err = ERR_BAD_HANDLE;
    }
    if (!err) {
        err = hold_and_bind(target, container_of(o, struct channel, obj));
        if (err)
            handle_take_abort(my_handles(), &h, 1);
        else
            handle_take_commit(my_handles(), &h, 1);
    }
    object_unref(o);
    return err;
}

static int64_t set_exception_channel(uint64_t target, uint32_t type,
                                     uint64_t ch)
{
    struct object *o;
    int err = get((mica_handle_t)target, type, TARGET_RIGHTS, &o);
    if (err)
        return err;
    if ((mica_handle_t)ch == HANDLE_INVALID)
        err = exception_bind(o, NULL);
    else
        err = bind_handle(o, (mica_handle_t)ch);
    object_unref(o);
    return err;
}

int64_t sys_process_set_exception_channel(uint64_t proc, uint64_t ch,
                                          uint64_t a2, uint64_t a3,
                                          uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    return set_exception_channel(proc, OBJ_PROCESS, ch);
}

int64_t sys_thread_set_exception_channel(uint64_t thread, uint64_t ch,
                                         uint64_t a2, uint64_t a3,
                                         uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    return set_exception_channel(thread, OBJ_THREAD, ch);
}

static int64_t verdict(uint64_t h, int (*give)(struct object *))
{
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_EXCEPTION, RIGHT_MANAGE, &o);
    if (err)
        return err;
    err = give(o);
    object_unref(o);
    return err;
}

int64_t sys_exception_resume(uint64_t h, uint64_t a1, uint64_t a2,
                             uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    return verdict(h, exception_resume);
}

int64_t sys_exception_kill(uint64_t h, uint64_t a1, uint64_t a2, uint64_t a3,
                           uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    return verdict(h, exception_kill);
}
