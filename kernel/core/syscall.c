/*
 * syscall.c - the native system calls.
 *
 * Each call: validate scalar arguments, look up handles with the rights
 * the call needs (handle_get returns a reference that the call drops),
 * copy user buffers in or out through uaccess.h, act, and return a
 * status.  Out-parameters are written last, so a bad out-pointer cannot
 * leave a half-done effect: where an object was created and its handle
 * cannot be written back, the handle is closed again.
 */
#include "arch/x86_64/trap.h"
#include "clock.h"
#include "handle.h"
#include "lib.h"
#include "log.h"
#include "mica/errors.h"
#include "mica/rights.h"
#include "mica/syscalls.h"
#include "percpu.h"
#include "process.h"
#include "sched.h"
#include "signal_wait.h"
#include "slab.h"
#include "syscall.h"
#include "syscall_impl.h"
#include "uaccess.h"

struct handle_table *my_handles(void)
{
    return thread_current()->handles;
}

int get(mica_handle_t h, uint32_t type, mica_rights_t need, struct object **o)
{
    return handle_get(my_handles(), h, type, need, o);
}

int give(struct object *o, mica_rights_t rights, uint64_t uout)
{
    mica_handle_t h;
    if (!user_range_ok(uout, sizeof(h))) {
        object_unref(o);
        return ERR_FAULT;
    }
    int err = handle_add(my_handles(), o, rights, &h);
    if (err) {
        object_unref(o);
        return err;
    }
    if (copy_to_user(uout, &h, sizeof(h))) {
        handle_close(my_handles(), h);
        return ERR_FAULT;
    }
    return 0;
}

int64_t sys_debug_write(uint64_t ubuf, uint64_t len, uint64_t a2,
                               uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct process *p = process_current();
    if (!p->log_cap)
        return ERR_ACCESS_DENIED;
    char buf[256];
    if (len > 4096)
        return ERR_OUT_OF_RANGE;
    for (uint64_t done = 0; done < len;) {
        uint64_t n = MIN(len - done, sizeof(buf));
        if (copy_from_user(buf, ubuf + done, n))
            return ERR_FAULT;
        log_write(buf, n);
        done += n;
    }
    return 0;
}

int64_t sys_handle_close(uint64_t h, uint64_t a1, uint64_t a2,
                                uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    return handle_close(my_handles(), (mica_handle_t)h);
}

int64_t sys_handle_duplicate(uint64_t h, uint64_t rights, uint64_t uout,
                                    uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    mica_handle_t n;
    if (!user_range_ok(uout, sizeof(n)))
        return ERR_FAULT;
    int err = handle_duplicate(my_handles(), (mica_handle_t)h,
                               (mica_rights_t)rights, &n);
    if (!err && copy_to_user(uout, &n, sizeof(n))) {
        handle_close(my_handles(), n);
        err = ERR_FAULT;
    }
    return err;
}

int64_t sys_handle_replace(uint64_t h, uint64_t rights, uint64_t uout,
                                  uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    mica_handle_t n;
    if (!user_range_ok(uout, sizeof(n)))
        return ERR_FAULT;
    int err = handle_replace(my_handles(), (mica_handle_t)h,
                             (mica_rights_t)rights, &n);
    if (!err && copy_to_user(uout, &n, sizeof(n)))
        err = ERR_FAULT;            /* h is gone; n stays for the caller */
    return err;
}

int64_t sys_object_wait_one(uint64_t h, uint64_t want, uint64_t deadline,
                                   uint64_t uobserved, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    struct object *o;
    mica_signals_t seen = 0;
    if (uobserved && !user_range_ok(uobserved, sizeof(seen)))
        return ERR_FAULT;
    int err = get((mica_handle_t)h, OBJ_NONE, RIGHT_WAIT, &o);
    if (err)
        return err;
    err = object_wait_signals(o, (mica_signals_t)want, deadline, &seen);
    object_unref(o);
    if (uobserved && copy_to_user(uobserved, &seen, sizeof(seen)))
        return ERR_FAULT;
    return err;
}

int64_t sys_object_signal(uint64_t h, uint64_t clear, uint64_t set,
                                 uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    if ((clear | set) & ~SIGNAL_USER_ALL)
        return ERR_INVALID_ARGS;
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_NONE, RIGHT_SIGNAL, &o);
    if (err)
        return err;
    object_signal(o, (mica_signals_t)clear, (mica_signals_t)set);
    object_unref(o);
    return 0;
}


static const syscall_fn native[] = {
#define ENTRY(name, num) [num - MICA_SYSCALL_BASE] = sys_##name,
    MICA_SYSCALLS(ENTRY)
#undef ENTRY
};

int syscall_dispatch(struct trap_frame *tf)
{
    uint64_t n = tf->rax;
    int64_t r;
    struct thread *me = thread_current();
    me->in_syscall = true;
    if (n < MICA_SYSCALL_BASE) {
        r = linux_syscall(tf);
    } else if (n - MICA_SYSCALL_BASE < ARRAY_SIZE(native) &&
               native[n - MICA_SYSCALL_BASE]) {
        r = native[n - MICA_SYSCALL_BASE](tf->rdi, tf->rsi, tf->rdx,
                                          tf->r10, tf->r8, tf->r9);
    } else {
        r = ERR_BAD_SYSCALL;
    }
    me->in_syscall = false;
    tf->rax = (uint64_t)r;
    arch_irq_disable();
    user_return_work(tf);
    return arch_frame_needs_iret(tf);
}
