/*
 * syscall_vm.c - system calls on memory objects, address spaces and time.
 *
 * Rights: vmo_read needs RIGHT_READ, vmo_write RIGHT_WRITE, vmo_clone
 * RIGHT_DUPLICATE and RIGHT_READ.  Mapping needs RIGHT_WRITE on the
 * process (its address space changes) and RIGHT_MAP on the vmo plus
 * RIGHT_READ / RIGHT_WRITE / RIGHT_EXECUTE for each protection asked
 * for; vm_protect never grants more than the mapping was created with.
 */
#include "clock.h"
#include "cmdline.h"
#include "idle.h"
#include "lib.h"
#include "mica/errors.h"
#include "mica/rights.h"
#include "percpu.h"
#include "pmm.h"
#include "process.h"
#include "sched.h"
#include "slab.h"
#include "syscall_impl.h"
#include "uaccess.h"

#define VMO_RIGHTS (RIGHTS_BASIC | RIGHTS_IO | RIGHT_MAP | RIGHT_EXECUTE)
#define PROT_MASK  (MICA_VM_READ | MICA_VM_WRITE | MICA_VM_EXEC)

static int with_vmo(uint64_t h, mica_rights_t need, struct vmo **v)
{
    struct object *o;
    int err = get((mica_handle_t)h, OBJ_VMO, need, &o);
    if (!err)
        *v = container_of(o, struct vmo, obj);
    return err;
}

int64_t sys_vmo_create(uint64_t size, uint64_t uout, uint64_t a2,
                       uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct vmo *v;
    int err = vmo_create(size, &process_current()->acct, &v);
    if (err)
        return err;
    return give(&v->obj, VMO_RIGHTS, uout);
}

/* Copy between a vmo and user memory through a bounce buffer. */
static int vmo_user_copy(uint64_t h, uint64_t ubuf, uint64_t off,
                         uint64_t len, bool write)
{
    struct vmo *v;
    int err = with_vmo(h, write ? RIGHT_WRITE : RIGHT_READ, &v);
    if (err)
        return err;
    if (off > v->size || len > v->size - off)
        err = ERR_OUT_OF_RANGE;
    else if (len && !user_range_ok(ubuf, len))
        err = ERR_FAULT;
    char buf[512];
    for (uint64_t done = 0; !err && done < len;) {
        uint64_t n = MIN(len - done, sizeof(buf));
        if (write) {
            err = copy_from_user(buf, ubuf + done, n);
            if (!err)
                err = vmo_write(v, off + done, buf, n);
        } else {
            err = vmo_read(v, off + done, buf, n);
            if (!err)
                err = copy_to_user(ubuf + done, buf, n);
        }
        done += n;
    }
    object_unref(&v->obj);
    return err;
}

int64_t sys_vmo_read(uint64_t h, uint64_t ubuf, uint64_t off, uint64_t len,
                     uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    return vmo_user_copy(h, ubuf, off, len, false);
}

int64_t sys_vmo_write(uint64_t h, uint64_t ubuf, uint64_t off, uint64_t len,
                      uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    return vmo_user_copy(h, ubuf, off, len, true);
}

int64_t sys_vmo_get_size(uint64_t h, uint64_t uout, uint64_t a2, uint64_t a3,
                         uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    struct vmo *v;
    int err = with_vmo(h, RIGHT_READ, &v);
    if (err)
        return err;
    uint64_t size = v->size;
    object_unref(&v->obj);
    return copy_to_user(uout, &size, sizeof(size));
}

int64_t sys_vmo_clone(uint64_t h, uint64_t off, uint64_t size, uint64_t uout,
                      uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    struct object *o;
    struct vmo *c;
    mica_rights_t rights;
    int err = handle_get_rights(my_handles(), (mica_handle_t)h, OBJ_VMO,
                                RIGHT_READ | RIGHT_DUPLICATE, &o, &rights);
    if (err)
        return err;
    struct vmo *v = container_of(o, struct vmo, obj);
    err = vmo_clone(v, off, size, &process_current()->acct, false, &c);
    object_unref(&v->obj);
    if (err)
        return err;
    return give(&c->obj, rights | RIGHT_WRITE, uout);   /* a private copy */
}

static int with_aspace(uint64_t ph, struct process **p)
{
    struct object *o;
    int err = get((mica_handle_t)ph, OBJ_PROCESS, RIGHT_WRITE, &o);
    if (err)
        return err;
    *p = container_of(o, struct process, obj);
    if (!(*p)->aspace) {
        object_unref(o);
        return ERR_BAD_STATE;
    }
    return 0;
}

static mica_rights_t rights_for(uint64_t flags)
{
    return RIGHT_MAP | ((flags & MICA_VM_READ) ? RIGHT_READ : 0) |
           ((flags & MICA_VM_WRITE) ? RIGHT_WRITE : 0) |
           ((flags & MICA_VM_EXEC) ? RIGHT_EXECUTE : 0);
}

int64_t sys_vm_map(uint64_t ph, uint64_t vh, uint64_t off, uint64_t len,
                   uint64_t flags, uint64_t uaddr)
{
    if (flags & ~(PROT_MASK | MICA_VM_FIXED | MICA_VM_REPLACE))
        return ERR_INVALID_ARGS;
    uint64_t hint;
    if (copy_from_user(&hint, uaddr, sizeof(hint)))
        return ERR_FAULT;
    struct process *p;
    struct vmo *v;
    int err = with_aspace(ph, &p);
    if (err)
        return err;
    if ((err = with_vmo(vh, rights_for(flags), &v))) {
        object_unref(&p->obj);
        return err;
    }
    vaddr_t got = 0;
    err = aspace_map(p->aspace, v, off, len, hint, (uint32_t)flags, &got);
    object_unref(&v->obj);
    if (!err && copy_to_user(uaddr, &got, sizeof(got))) {
        aspace_unmap(p->aspace, got, len);
        err = ERR_FAULT;
    }
    object_unref(&p->obj);
    return err;
}

int64_t sys_vm_unmap(uint64_t ph, uint64_t addr, uint64_t len, uint64_t a3,
                     uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a3, a4, a5);
    struct process *p;
    int err = with_aspace(ph, &p);
    if (err)
        return err;
    err = aspace_unmap(p->aspace, addr, len);
    object_unref(&p->obj);
    return err;
}

int64_t sys_vm_protect(uint64_t ph, uint64_t addr, uint64_t len,
                       uint64_t flags, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a4, a5);
    if (flags & ~PROT_MASK)
        return ERR_INVALID_ARGS;
    struct process *p;
    int err = with_aspace(ph, &p);
    if (err)
        return err;
    err = aspace_protect(p->aspace, addr, len, (uint32_t)flags);
    object_unref(&p->obj);
    return err;
}

int64_t sys_clock_get(uint64_t uout, uint64_t a1, uint64_t a2, uint64_t a3,
                      uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    uint64_t now = clock_ns();
    return copy_to_user(uout, &now, sizeof(now));
}

int64_t sys_nanosleep(uint64_t deadline, uint64_t a1, uint64_t a2,
                      uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    if (deadline <= clock_ns())
        return 0;
    int r = sched_sleep_until(deadline);
    return r == ERR_TIMED_OUT ? 0 : r;
}

int64_t sys_system_info(uint64_t uout, uint64_t a1, uint64_t a2, uint64_t a3,
                        uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a1, a2, a3, a4, a5);
    kmalloc_shrink();                   /* count spare slabs as free */
    struct mica_system_info info = {
        .free_pages = pmm_free_pages(),
        .total_pages = pmm_total_pages(),
        .live_processes = object_live_count(OBJ_PROCESS),
        .live_threads = object_live_count(OBJ_THREAD),
        .live_vmos = object_live_count(OBJ_VMO),
        .cpus_online = cpus_online(),
        .live_channels = object_live_count(OBJ_CHANNEL),
        .live_ports = object_live_count(OBJ_PORT),
        .live_events = object_live_count(OBJ_EVENT),
        .live_timers = object_live_count(OBJ_TIMER),
        .live_exceptions = object_live_count(OBJ_EXCEPTION),
        .idle_all_ticks = idle_all_ticks(),
    };
    return copy_to_user(uout, &info, sizeof(info));
}

/* Allocation-failure injection, for tests: from now on one in `n`
 * kernel allocations made inside this process's system calls, or while
 * one of its threads' exceptions is sent, fails with ERR_NO_MEMORY
 * (n = 0 stops it).  Only in a kernel booted to run tests (command line
 * test=...), where nothing else depends on the machine. */
static bool inject_here(void)
{
    struct thread *t = thread_current();
    return t && (t->in_syscall || t->in_exception) && t->proc &&
           t->proc->fail_inject;
}

int64_t sys_debug_fail_inject(uint64_t n, uint64_t seed, uint64_t a2,
                              uint64_t a3, uint64_t a4, uint64_t a5)
{
    UNUSED_ARGS(a2, a3, a4, a5);
    if (!cmdline_get(&kernel_cmdline, "test"))
        return ERR_ACCESS_DENIED;
    if (n > UINT32_MAX)
        return ERR_OUT_OF_RANGE;
    process_current()->fail_inject = n != 0;
    kmem_fail_set_filter(inject_here);
    kmem_fail_set((uint32_t)n, seed);
    return 0;
}
