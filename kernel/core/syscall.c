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
#include "event.h"
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

/* Read the log from *upos: up to len bytes into ubuf, their count to
 * *ugot, and the position after them to *upos.  A position the ring has
 * overwritten reads from the oldest byte kept (the gap shows as *upos
 * moving by more than *ugot); one past the end reads nothing. */
int64_t sys_debug_read(uint64_t upos, uint64_t ubuf, uint64_t len,
                       uint64_t ugot, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    if (!process_current()->log_cap)
        return ERR_ACCESS_DENIED;
    if (len > 4096)
        return ERR_OUT_OF_RANGE;
    uint64_t pos, got = 0;
    if (!user_range_ok(ugot, sizeof(got)) || !user_range_ok(upos, 8) ||
        copy_from_user(&pos, upos, sizeof(pos)) ||
        (len && !user_range_ok(ubuf, len)))
        return ERR_FAULT;
    pos = MIN(pos, log_position());
    while (got < len) {
        char buf[256];
        uint64_t next;
        size_t n = log_read(pos, buf, MIN(len - got, sizeof(buf)), &next);
        if (n == 0 || (got && next - n != pos))
            break;                      /* the end, or overtaken: a gap */
        if (copy_to_user(ubuf + got, buf, n))
            return ERR_FAULT;
        got += n;
        pos = next;
    }
    if (copy_to_user(ugot, &got, sizeof(got)) ||
        copy_to_user(upos, &pos, sizeof(pos)))
        return ERR_FAULT;
    return 0;
}

int64_t sys_handle_close(uint64_t h, uint64_t a1, uint64_t a2,
                                uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_NONE, 0, &o);
    if (err)
        return err;
    err = handle_close(my_handles(), (mica_handle_t)h);
    object_wait_kick(o);            /* waits through this handle end */
    object_unref(o);
    return err;
}

/* The type of h's object and h's rights, to *uinfo.  No right needed:
 * a receiver checks what it was sent (the IDL's decoder does). */
int64_t sys_handle_info(uint64_t h, uint64_t uinfo, uint64_t a2,
                        uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct mica_handle_info info = { 0 };
    struct object *o;
    if (!user_range_ok(uinfo, sizeof(info)))
        return ERR_FAULT;
    int err = handle_get_rights(my_handles(), (mica_handle_t)h, OBJ_NONE, 0,
                                &o, &info.rights);
    if (err)
        return err;
    info.type = o->type;
    object_unref(o);
    return copy_to_user(uinfo, &info, sizeof(info)) ? ERR_FAULT : OK;
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

/* Move handle h from the caller's table into the table of th, a thread
 * (its own table, or its process's) or a process (how a creator hands a
 * child its first handles), with `rights`, a subset (RIGHT_SAME_RIGHTS
 * keeps them).  Needs RIGHT_TRANSFER on h and RIGHT_MANAGE on th.  The
 * value in the receiving table goes to *uout. */
int64_t sys_handle_transfer(uint64_t h, uint64_t th, uint64_t rights,
                            uint64_t uout, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    if (!user_range_ok(uout, sizeof(mica_handle_t)))
        return ERR_FAULT;
    struct object *o, *to;
    mica_rights_t have = 0, r = (mica_rights_t)rights;
    int err = handle_get_rights(my_handles(), (mica_handle_t)h, OBJ_NONE,
                                RIGHT_TRANSFER, &o, &have);
    if (err)
        return err;
    object_unref(o);
    if (rights == RIGHT_SAME_RIGHTS)
        r = have;
    if (rights > UINT32_MAX || (r & ~have))
        return ERR_INVALID_ARGS;            /* rights never grow */
    mica_rights_t trights;
    err = handle_get_rights(my_handles(), (mica_handle_t)th, OBJ_NONE, 0, &to,
                            &trights);
    if (err)
        return err;
    struct handle_table *dst = NULL;
    if (to->type != OBJ_THREAD && to->type != OBJ_PROCESS)
        err = ERR_WRONG_TYPE;
    else if (!(trights & RIGHT_MANAGE))
        err = ERR_ACCESS_DENIED;
    else if (to->type == OBJ_THREAD)
        dst = thread_handles_get(container_of(to, struct thread, obj));
    else
        dst = process_handles_get(container_of(to, struct process, obj));
    object_unref(to);
    if (err)
        return err;
    if (!dst)
        return ERR_BAD_STATE;               /* the thread is gone */
    mica_handle_t n = 0;
    err = handle_take(my_handles(), (mica_handle_t)h, RIGHT_TRANSFER, &o,
                      &have);
    if (!err && (r & ~have))
        err = ERR_INVALID_ARGS;             /* replaced meanwhile */
    if (!err && (err = handle_put(dst, o, r, &n)))
        handle_discard(o);                  /* receiver full: it is closed */
    object_unref(&dst->obj);
    if (!err && copy_to_user(uout, &n, sizeof(n)))
        err = ERR_FAULT;
    return err;
}

/* A wait ends with ERR_CANCELED when its handle is closed meanwhile. */
struct handle_check {
    struct handle_table *t;
    mica_handle_t h;
    struct object *o;
};

static bool handle_still_names(void *ctx)
{
    struct handle_check *c = ctx;
    struct object *o;
    if (handle_get(c->t, c->h, OBJ_NONE, 0, &o))
        return false;
    object_unref(o);                /* o is c->o: we hold a reference */
    return o == c->o;
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
    struct handle_check hc = { my_handles(), (mica_handle_t)h, o };
    err = object_wait_signals_while(o, (mica_signals_t)want, deadline, &seen,
                                    handle_still_names, &hc);
    object_unref(o);
    if (uobserved && copy_to_user(uobserved, &seen, sizeof(seen)))
        return ERR_FAULT;
    return err;
}

struct many_check {
    struct handle_table *t;
    const struct mica_wait_item *items;
    struct object *const *objs;
};

static bool many_still(unsigned i, void *ctx)
{
    struct many_check *c = ctx;
    struct handle_check hc = { c->t, c->items[i].handle, c->objs[i] };
    return handle_still_names(&hc);
}

/* Wait on up to MICA_WAIT_MANY_MAX handles at once (RIGHT_WAIT on each):
 * returns when any has a wanted signal, with every item's `pending` set.
 * A handle closed meanwhile ends the wait with ERR_CANCELED. */
int64_t sys_object_wait_many(uint64_t uitems, uint64_t count,
                             uint64_t deadline, uint64_t a3, uint64_t a4,
                             uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    struct mica_wait_item items[MICA_WAIT_MANY_MAX];
    struct object *objs[MICA_WAIT_MANY_MAX];
    mica_signals_t want[MICA_WAIT_MANY_MAX], seen[MICA_WAIT_MANY_MAX];
    if (count == 0 || count > MICA_WAIT_MANY_MAX)
        return ERR_OUT_OF_RANGE;
    if (copy_from_user(items, uitems, count * sizeof(items[0])))
        return ERR_FAULT;
    unsigned got = 0;
    int err = 0;
    for (; got < count && !err; got++) {
        err = get(items[got].handle, OBJ_NONE, RIGHT_WAIT, &objs[got]);
        want[got] = items[got].waitfor;
    }
    if (err)
        got--;                          /* the failed one holds nothing */
    if (!err) {
        struct many_check mc = { my_handles(), items, objs };
        err = object_wait_many(objs, want, seen, (unsigned)count, deadline,
                               many_still, &mc);
        for (unsigned i = 0; i < count; i++)
            items[i].pending = seen[i];
    }
    for (unsigned i = 0; i < got; i++)
        object_unref(objs[i]);
    if ((err == 0 || err == ERR_TIMED_OUT || err == ERR_INTERRUPTED) &&
        copy_to_user(uitems, items, count * sizeof(items[0])))
        return ERR_FAULT;
    return err;
}

/* User signals on any object that allows them; on an event also
 * SIGNAL_SIGNALED (event.h). */
int64_t sys_object_signal(uint64_t h, uint64_t clear, uint64_t set,
                                 uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    mica_signals_t c = (mica_signals_t)clear, s = (mica_signals_t)set;
    if ((c | s) & ~EVENT_SIGNALS)
        return ERR_INVALID_ARGS;
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_NONE, RIGHT_SIGNAL, &o);
    if (err)
        return err;
    if (o->type != OBJ_EVENT && ((c | s) & ~SIGNAL_USER_ALL))
        err = ERR_INVALID_ARGS;
    else
        object_signal(o, c, s);
    object_unref(o);
    return err;
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
    me->interrupt_pending = false;      /* used up by this call */
    tf->rax = (uint64_t)r;
    arch_irq_disable();
    /* what user_return_work looks at, checked here first: usually
     * nothing is to be done */
    struct sched_cpu *sc = this_cpu()->sched;
    if (me->kill_pending || me->suspend_count || me->crit_report ||
        (sc && sc->need_resched))
        user_return_work(tf);
    return arch_frame_needs_iret(tf);
}
