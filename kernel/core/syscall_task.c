/*
 * syscall_task.c - system calls on processes and threads.
 *
 * Rights: creating threads in a process, starting, killing, changing
 * priority, suspending, resuming and interrupting need RIGHT_MANAGE;
 * reading a process's memory or information, or a thread's registers,
 * needs RIGHT_READ, writing them RIGHT_WRITE; so does reading a thread's
 * information.  A thread may not raise any thread above its own base
 * priority, unless a priority resource it holds (RIGHT_MANAGE) covers
 * the new one; priority inheritance (pi.h) raises the effective one.
 * Mapping a thread's critical page and attaching a budget to it need
 * RIGHT_MANAGE on the thread, and on the budget (a resource).
 */
#include "channel.h"
#include "clock.h"
#include "console_client.h"
#include "critical.h"
#include "lib.h"
#include "mica/device.h"
#include "mica/thread_state.h"
#include "vm.h"
#include "mica/errors.h"
#include "mica/rights.h"
#include "percpu.h"
#include "pi.h"
#include "printf.h"
#include "process.h"
#include "resource.h"
#include "sched.h"
#include "syscall_impl.h"
#include "uaccess.h"

#define PROCESS_RIGHTS (RIGHTS_BASIC | RIGHTS_IO | RIGHT_MANAGE)
#define THREAD_RIGHTS  (RIGHTS_BASIC | RIGHTS_IO | RIGHT_MANAGE)
#define NAME_MAX_LEN   31

static int copy_name(char *name, uint64_t uname, uint64_t len)
{
    if (len > NAME_MAX_LEN)
        return ERR_OUT_OF_RANGE;
    if (copy_from_user(name, uname, len))
        return ERR_FAULT;
    name[len] = '\0';
    return 0;
}

int64_t sys_process_create(uint64_t uname, uint64_t len, uint64_t uout,
                           uint64_t flags, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    if (flags & ~(uint64_t)MICA_PROCESS_LOG)
        return ERR_INVALID_ARGS;
    if ((flags & MICA_PROCESS_LOG) && !process_current()->log_cap)
        return ERR_ACCESS_DENIED;       /* only a holder passes it on */
    char name[NAME_MAX_LEN + 1];
    int err = copy_name(name, uname, len);
    if (err)
        return err;
    struct process *p;
    if ((err = process_create(name, PROCESS_KMEM_DEFAULT, &p)))
        return err;
    p->log_cap = flags & MICA_PROCESS_LOG;
    return give(&p->obj, PROCESS_RIGHTS, uout);
}

static int64_t with_process(uint64_t h, mica_rights_t need,
                            struct process **p)
{
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_PROCESS, need, &o);
    if (!err)
        *p = container_of(o, struct process, obj);
    return err;
}

/* A new process (no threads) whose address space is a copy-on-write
 * clone of src's: private memory is shared until either side writes,
 * shared memory stays shared.  What fork is made of.  Needs RIGHT_READ
 * and RIGHT_MANAGE on src. */
int64_t sys_process_clone(uint64_t src, uint64_t uname, uint64_t len,
                          uint64_t uout, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    char name[NAME_MAX_LEN + 1];
    int err = copy_name(name, uname, len);
    struct process *s, *p;
    if (err || (err = with_process(src, RIGHT_READ | RIGHT_MANAGE, &s)))
        return err;
    if ((err = process_create(name, PROCESS_KMEM_DEFAULT, &p))) {
        object_unref(&s->obj);
        return err;
    }
    irqflags_t f = spin_lock_irqsave(&s->obj.lock);
    struct aspace *sas = s->aspace;
    if (sas)
        __atomic_add_fetch(&sas->refs, 1, __ATOMIC_ACQ_REL);
    spin_unlock_irqrestore(&s->obj.lock, f);
    struct aspace *clone = NULL;
    err = sas ? aspace_clone(sas, &p->acct, &clone) : ERR_BAD_STATE;
    if (sas)
        aspace_put(sas);
    bool log_cap = s->log_cap;          /* a clone keeps what src had */
    object_unref(&s->obj);
    if (!err) {
        aspace_put(p->aspace);          /* the empty one it was made with */
        p->aspace = clone;
        p->log_cap = log_cap;
    }
    if (err) {
        object_unref(&p->obj);
        return err;
    }
    return give(&p->obj, PROCESS_RIGHTS, uout);
}

int64_t sys_process_exit(uint64_t code, uint64_t a1, uint64_t a2,
                         uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    struct thread *me = thread_current();
    me->exit_code = (int)code;
    process_kill(me->proc, (int)code);
    return 0;                           /* the kill ends us on the way out */
}

int64_t sys_process_kill(uint64_t h, uint64_t code, uint64_t a2, uint64_t a3,
                         uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct process *p;
    int err = with_process(h, RIGHT_MANAGE, &p);
    if (err)
        return err;
    process_kill(p, (int)code);
    object_unref(&p->obj);
    return 0;
}

/* Move channel h out of the caller's table into p's console binding:
 * begun before binding, committed once it holds, so an error moves
 * nothing (as an exception channel's, syscall_exception.c). */
static int bind_stdio(struct process *p, mica_handle_t h)
{
    const mica_rights_t need = RIGHTS_IO | RIGHT_TRANSFER;
    struct object *o, *taken;
    mica_rights_t rights;
    int err = get(h, OBJ_CHANNEL, need, &o);
    if (err)
        return err;
    err = handle_take_begin(my_handles(), &h, 1, need, &taken, &rights);
    if (!err && taken != o) {           /* closed and reissued meanwhile */
        handle_take_abort(my_handles(), &h, 1);
        err = ERR_BAD_HANDLE;
    }
    if (!err) {
        err = console_client_bind(p, container_of(o, struct channel, obj));
        if (err)
            handle_take_abort(my_handles(), &h, 1);
        else
            handle_take_commit(my_handles(), &h, 1);
    }
    object_unref(o);
    return err;
}

/* The console of p's standard streams (console_client.h), or none when
 * ch is 0.  Needs RIGHT_MANAGE on p. */
int64_t sys_process_set_stdio(uint64_t h, uint64_t ch, uint64_t a2,
                              uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct process *p;
    int err = with_process(h, RIGHT_MANAGE, &p);
    if (err)
        return err;
    if ((mica_handle_t)ch == HANDLE_INVALID)
        err = console_client_bind(p, NULL);
    else
        err = bind_stdio(p, (mica_handle_t)ch);
    object_unref(&p->obj);
    return err;
}

/* Copy between the caller and p's memory through a bounce buffer. */
static int process_memory(uint64_t h, uint64_t addr, uint64_t ubuf,
                          uint64_t len, bool write)
{
    if (len > (1u << 24))
        return ERR_OUT_OF_RANGE;
    if (len && !user_range_ok(ubuf, len))
        return ERR_FAULT;
    struct process *p;
    int err = with_process(h, write ? RIGHT_WRITE : RIGHT_READ, &p);
    if (err)
        return err;
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    struct aspace *as = p->aspace;
    if (as)
        __atomic_add_fetch(&as->refs, 1, __ATOMIC_ACQ_REL);
    spin_unlock_irqrestore(&p->obj.lock, f);
    char buf[512];
    for (uint64_t done = 0; as && !err && done < len;) {
        uint64_t n = MIN(len - done, sizeof(buf));
        if (write)
            err = copy_from_user(buf, ubuf + done, n);
        if (!err)
            err = aspace_rw(as, addr + done, buf, n, write);
        if (!err && !write)
            err = copy_to_user(ubuf + done, buf, n);
        done += n;
    }
    if (as)
        aspace_put(as);
    object_unref(&p->obj);
    return as ? err : ERR_BAD_STATE;
}

int64_t sys_process_read_memory(uint64_t h, uint64_t addr, uint64_t ubuf,
                                uint64_t len, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    return process_memory(h, addr, ubuf, len, false);
}

int64_t sys_process_write_memory(uint64_t h, uint64_t addr, uint64_t ubuf,
                                 uint64_t len, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    return process_memory(h, addr, ubuf, len, true);
}

int64_t sys_process_info(uint64_t h, uint64_t uinfo, uint64_t a2,
                         uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct process *p;
    int err = with_process(h, RIGHT_READ, &p);
    if (err)
        return err;
    struct mica_process_info info = {
        .exit_code = p->exit_code, .pid = p->pid, .state = p->state,
        .threads = p->nthreads, .kmem_used = kmem_used(&p->acct),
    };
    object_unref(&p->obj);
    return copy_to_user(uinfo, &info, sizeof(info));
}

/* A thread with its own handle table starts with an empty one; handles
 * reach it only through handle_transfer.  The address space and the I/O
 * permission bitmap stay shared with the rest of its process. */
static int own_table(struct thread *t)
{
    struct handle_table *own;
    int err = handle_table_create(&t->proc->acct, PROCESS_HANDLES_DEFAULT,
                                  &own);
    if (err)
        return err;
    object_unref(&t->handles->obj);
    t->handles = own;
    return 0;
}

int64_t sys_thread_create(uint64_t ph, uint64_t uname, uint64_t len,
                          uint64_t uout, uint64_t flags, uint64_t a5)
{
    UNUSED_ARGS(a5);
    if (flags & ~(uint64_t)MICA_THREAD_OWN_HANDLES)
        return ERR_INVALID_ARGS;
    char name[NAME_MAX_LEN + 1];
    int err = copy_name(name, uname, len);
    struct process *p;
    if (err || (err = with_process(ph, RIGHT_MANAGE, &p)))
        return err;
    struct thread *t;
    err = process_thread_create(p, name, &t);
    object_unref(&p->obj);
    if (err)
        return err;
    if ((flags & MICA_THREAD_OWN_HANDLES) && (err = own_table(t))) {
        process_thread_abandon(t);
        return err;
    }
    object_ref(&t->obj);                /* give consumes one */
    err = give(&t->obj, THREAD_RIGHTS, uout);
    if (err)
        process_thread_abandon(t);      /* nobody can ever start it */
    else
        object_unref(&t->obj);
    return err;
}

static int with_thread(uint64_t h, mica_rights_t need, struct thread **t)
{
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_THREAD, need, &o);
    if (!err)
        *t = container_of(o, struct thread, obj);
    return err;
}

int64_t sys_thread_start(uint64_t h, uint64_t entry, uint64_t sp,
                         uint64_t arg0, uint64_t arg1, uint64_t a5)
{
    UNUSED_ARGS(a5);
    struct thread *t;
    int err = with_thread(h, RIGHT_MANAGE, &t);
    if (err)
        return err;
    if (!t->proc)
        err = ERR_BAD_STATE;
    else if (entry >= USER_TOP || sp >= USER_TOP)
        err = ERR_INVALID_ARGS;
    else
        err = process_thread_start(t, entry, sp, arg0, arg1);
    object_unref(&t->obj);
    return err;
}

int64_t sys_thread_exit(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                        uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a0, a1, a2, a3, a4, a5);
    thread_current()->kill_pending = true;  /* exits on the way out */
    return 0;
}

int64_t sys_thread_kill(uint64_t h, uint64_t a1, uint64_t a2, uint64_t a3,
                        uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    struct thread *t;
    int err = with_thread(h, RIGHT_MANAGE, &t);
    if (err)
        return err;
    thread_kill(t);
    object_unref(&t->obj);
    return 0;
}

/* May the caller set a priority of `prio`: at most its own base
 * priority, or one the resource `rh` (when not 0) covers. */
static int priority_allowed(uint64_t prio, uint64_t rh)
{
    bool ok = prio <= thread_current()->base_prio;
    if (rh) {
        struct object *o;
        int err = get((mica_handle_t)rh, OBJ_RESOURCE, RIGHT_MANAGE, &o);
        if (err)
            return err;
        ok = ok || resource_covers(container_of(o, struct resource, obj),
                                   MICA_RESOURCE_PRIORITY, prio, 1);
        object_unref(o);
    }
    return ok ? 0 : ERR_ACCESS_DENIED;
}

int64_t sys_thread_set_priority(uint64_t h, uint64_t prio, uint64_t rh,
                                uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    if (prio > PRIO_MAX)
        return ERR_OUT_OF_RANGE;
    int err = priority_allowed(prio, rh);
    if (err)
        return err;
    struct thread *t;
    err = with_thread(h, RIGHT_MANAGE, &t);
    if (err)
        return err;
    pi_set_base(t, (unsigned)prio);
    object_unref(&t->obj);
    return 0;
}

_Static_assert(THREAD_NEW == MICA_THREAD_STATE_NEW &&
               THREAD_READY == MICA_THREAD_STATE_READY &&
               THREAD_RUNNING == MICA_THREAD_STATE_RUNNING &&
               THREAD_BLOCKED == MICA_THREAD_STATE_BLOCKED &&
               THREAD_DEAD == MICA_THREAD_STATE_DEAD,
               "thread states are reported as they are");

/* What a thread is doing and at which priorities: for tools, and for
 * the tests of priority inheritance. */
int64_t sys_thread_info(uint64_t h, uint64_t uinfo, uint64_t a2, uint64_t a3,
                        uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct thread *t;
    int err = with_thread(h, RIGHT_READ, &t);
    if (err)
        return err;
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    struct mica_thread_info info = {
        .tid = t->tid, .state = t->state,
        .base_priority = t->base_prio, .priority = t->prio,
    };
    spin_unlock_irqrestore(&sched_lock, f);
    object_unref(&t->obj);
    return copy_to_user(uinfo, &info, sizeof(info));
}

int64_t sys_thread_set_affinity(uint64_t h, uint64_t mask, uint64_t a2,
                                uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct thread *t;
    int err = with_thread(h, RIGHT_MANAGE, &t);
    if (err)
        return err;
    err = sched_set_affinity(t, mask);
    object_unref(&t->obj);
    return err;
}

int64_t sys_thread_yield(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                         uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a0, a1, a2, a3, a4, a5);
    sched_yield();
    return 0;
}

/* Thread control (thread_control.c): debuggers and personalities stop a
 * thread at its next return to user mode, look at and change its
 * registers while it is parked, and cut its blocking calls short. */
static int64_t thread_manage(uint64_t h, int (*op)(struct thread *))
{
    struct thread *t;
    int err = with_thread(h, RIGHT_MANAGE, &t);
    if (err)
        return err;
    err = op(t);
    object_unref(&t->obj);
    return err;
}

int64_t sys_thread_suspend(uint64_t h, uint64_t a1, uint64_t a2, uint64_t a3,
                           uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    return thread_manage(h, thread_suspend);
}

int64_t sys_thread_resume(uint64_t h, uint64_t a1, uint64_t a2, uint64_t a3,
                          uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    return thread_manage(h, thread_resume);
}

int64_t sys_thread_interrupt(uint64_t h, uint64_t a1, uint64_t a2,
                             uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    return thread_manage(h, thread_interrupt);
}

int64_t sys_thread_read_state(uint64_t h, uint64_t uout, uint64_t a2,
                              uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct mica_thread_state s;
    if (!user_range_ok(uout, sizeof(s)))
        return ERR_FAULT;
    struct thread *t;
    int err = with_thread(h, RIGHT_READ, &t);
    if (err)
        return err;
    err = thread_read_state(t, &s);
    object_unref(&t->obj);
    if (!err && copy_to_user(uout, &s, sizeof(s)))
        err = ERR_FAULT;
    return err;
}

/* The new state is copied and checked before the thread is looked up:
 * a bad pointer or value changes nothing. */
int64_t sys_thread_write_state(uint64_t h, uint64_t uin, uint64_t a2,
                               uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct mica_thread_state s;
    if (copy_from_user(&s, uin, sizeof(s)))
        return ERR_FAULT;
    if (arch_thread_state_check(&s))
        return ERR_INVALID_ARGS;
    struct thread *t;
    int err = with_thread(h, RIGHT_WRITE, &t);
    if (err)
        return err;
    err = thread_write_state(t, &s);
    object_unref(&t->obj);
    return err;
}

/* Critical sections (critical.c): the page a thread sets its flag in,
 * and the budget that makes the kernel honour it. */
int64_t sys_thread_critical_page(uint64_t h, uint64_t uaddr, uint64_t a2,
                                 uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    if (!user_range_ok(uaddr, sizeof(uint64_t)))
        return ERR_FAULT;
    struct thread *t;
    int err = with_thread(h, RIGHT_MANAGE, &t);
    if (err)
        return err;
    vaddr_t va = 0;
    err = crit_map(t, &va);
    object_unref(&t->obj);
    if (!err && copy_to_user(uaddr, &va, sizeof(uint64_t)))
        err = ERR_FAULT;
    return err;
}

int64_t sys_thread_set_critical_budget(uint64_t h, uint64_t rh, uint64_t a2,
                                       uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct thread *t;
    int err = with_thread(h, RIGHT_MANAGE, &t);
    if (err)
        return err;
    struct object *o = NULL;
    if (rh)
        err = get((mica_handle_t)rh, OBJ_RESOURCE, RIGHT_MANAGE, &o);
    if (!err)
        err = crit_set_budget(t, o ? container_of(o, struct resource, obj)
                                   : NULL);
    if (o)
        object_unref(o);
    object_unref(&t->obj);
    return err;
}
