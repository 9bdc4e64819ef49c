/*
 * process.c - process life and death.
 *
 * Each thread of a process holds a reference on it.  When a thread has
 * exited and left its stack, the reaper thread calls
 * process_thread_gone(); the last thread's departure kills the process:
 * its handles are closed, its address space torn down (no CPU has it
 * loaded any more: kernel threads run on the kernel's own tables), and
 * waiters see TERMINATED.  The kernel memory account then reads zero.
 */
#include "console_client.h"
#include "critical.h"
#include "exception.h"
#include "handle.h"
#include "lib.h"
#include "log.h"
#include "mica/errors.h"
#include "panic.h"
#include "percpu.h"
#include "printf.h"
#include "process.h"
#include "sched.h"
#include "signal_wait.h"
#include "slab.h"
#include "fpu.h"

/* Nothing is charged to p's account any more (kmem.h). */
static void process_free(struct kmem_account *a)
{
    kfree(container_of(a, struct process, acct));
}

static void process_destroy(struct object *o)
{
    struct process *p = container_of(o, struct process, obj);
    KASSERT(p->nthreads == 0 && !p->exc_channel && !p->stdio &&
            !p->io_bitmap);
    if (p->handles)
        object_unref(&p->handles->obj);
    if (p->aspace)
        aspace_put(p->aspace);
    if (p->creator) {
        kmem_uncharge(&p->creator->acct, PROCESS_KMEM);
        object_unref(&p->creator->obj);
    }
    kmem_account_close(&p->acct, process_free);
}

/* Nobody can reach a process that has no handle left and never started
 * a thread: end it (its unstarted threads exit at once). */
static void process_last_handle(struct object *o)
{
    struct process *p = container_of(o, struct process, obj);
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    bool orphan = p->nstarted == 0 && p->state == PROC_ALIVE;
    spin_unlock_irqrestore(&p->obj.lock, f);
    if (orphan)
        process_kill(p, 0);
}

static const struct object_ops process_ops = {
    .name = "process",
    .destroy = process_destroy,
    .last_handle = process_last_handle,
};

int process_create(const char *name, uint64_t kmem_limit,
                   struct process **out)
{
    struct process *creator = process_current();
    if (creator && kmem_charge(&creator->acct, PROCESS_KMEM))
        return ERR_NO_MEMORY;
    struct process *p = kzalloc(sizeof(*p));
    if (!p || kmem_should_fail()) {
        kfree(p);
        if (creator)
            kmem_uncharge(&creator->acct, PROCESS_KMEM);
        return ERR_NO_MEMORY;
    }
    object_init(&p->obj, OBJ_PROCESS, &process_ops);
    if (creator) {                      /* its cost stays on the creator */
        p->creator = creator;
        object_ref(&creator->obj);
    }
    kmem_account_init(&p->acct, kmem_limit);
    ksnprintf(p->name, sizeof(p->name), "%s", name ? name : "?");
    int err = handle_table_create(&p->acct, PROCESS_HANDLES_DEFAULT,
                                  &p->handles);
    if (!err)
        err = aspace_create(&p->acct, &p->aspace);
    if (err) {
        object_unref(&p->obj);
        return err;
    }
    *out = p;
    return 0;
}

int process_thread_create(struct process *p, const char *name,
                          struct thread **out)
{
    if (kmem_charge(&p->acct, THREAD_KMEM))
        return ERR_NO_MEMORY;
    struct thread *t = thread_alloc(name, PRIO_DEFAULT);
    if (!t) {
        kmem_uncharge(&p->acct, THREAD_KMEM);
        return ERR_NO_MEMORY;
    }
    t->charged = true;
    t->arch.fpu = fpu_area_alloc();
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    int err = p->state != PROC_ALIVE ? ERR_BAD_STATE :
              !t->arch.fpu ? ERR_NO_MEMORY : 0;
    if (!err) {
        t->proc = p;
        object_ref(&p->obj);
        object_ref(&p->handles->obj);
        t->handles = p->handles;
        t->proc_next = p->threads;
        p->threads = t;
        p->nthreads++;
        if (!p->pid)
            p->pid = t->tid;
    }
    spin_unlock_irqrestore(&p->obj.lock, f);
    if (err) {
        t->state = THREAD_DEAD;
        t->charged = false;
        kmem_uncharge(&p->acct, THREAD_KMEM);
        object_unref(&t->obj);          /* its own reference */
        object_unref(&t->obj);          /* ours */
        return err;
    }
    arch_thread_init_user(t, 0, 0, 0, 0);    /* killed before start: exits */
    thread_tid_publish(t);
    *out = t;
    return 0;
}

int process_thread_start(struct thread *t, uint64_t entry, uint64_t sp,
                         uint64_t arg0, uint64_t arg1)
{
    irqflags_t f = spin_lock_irqsave(&t->proc->obj.lock);
    int err = t->state != THREAD_NEW || t->started ? ERR_BAD_STATE : 0;
    if (!err) {
        t->started = true;
        t->proc->nstarted++;
        arch_thread_init_user(t, entry, sp, arg0, arg1);
    }
    spin_unlock_irqrestore(&t->proc->obj.lock, f);
    if (!err)
        thread_start(t);
    return err;
}

int process_thread_start_clone(struct thread *t, const struct trap_frame *tf,
                               uint64_t sp)
{
    irqflags_t f = spin_lock_irqsave(&t->proc->obj.lock);
    int err = t->state != THREAD_NEW || t->started ? ERR_BAD_STATE : 0;
    if (!err) {
        t->started = true;
        t->proc->nstarted++;
        arch_thread_init_clone(t, tf, sp);
    }
    spin_unlock_irqrestore(&t->proc->obj.lock, f);
    if (!err)
        thread_start(t);
    return err;
}

void process_thread_abandon(struct thread *t)
{
    thread_kill(t);                     /* runs once, exits at user entry */
    object_unref(&t->obj);
}

static void process_die(struct process *p)
{
    exception_process_gone(p);
    console_client_gone(p);
    handle_table_close_all(p->handles);
    struct aspace *as = p->aspace;
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    p->aspace = NULL;
    p->state = PROC_DEAD;
    spin_unlock_irqrestore(&p->obj.lock, f);
    if (as)
        aspace_put(as);
    arch_io_release(p);                 /* no thread of p runs any more */
    object_signal(&p->obj, 0, SIGNAL_TERMINATED);
}

void process_kill(struct process *p, int code)
{
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    bool was_alive = p->state == PROC_ALIVE;
    if (was_alive) {
        p->state = PROC_DYING;
        p->exit_code = code;
    }
    bool empty = p->nthreads == 0;
    for (struct thread *t = p->threads; t; t = t->proc_next)
        thread_kill(t);
    spin_unlock_irqrestore(&p->obj.lock, f);
    if (was_alive && empty)
        process_die(p);                 /* no thread will do it */
}

void process_thread_gone(struct thread *t)
{
    struct process *p = t->proc;
    exception_thread_gone(t);
    thread_tid_withdraw(t);
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    struct thread **pp = &p->threads;
    while (*pp && *pp != t)
        pp = &(*pp)->proc_next;
    if (*pp)
        *pp = t->proc_next;
    bool last = --p->nthreads == 0;
    bool only_unstarted = !last && t->started && --p->nstarted == 0;
    if (last && !t->started && p->state == PROC_ALIVE)
        last = false;       /* a thread given up before it started: the
                               process lives on, as if just created */
    if (last && p->state == PROC_ALIVE) {
        p->state = PROC_DYING;
        p->exit_code = t->exit_code;
    }
    spin_unlock_irqrestore(&p->obj.lock, f);
    if (only_unstarted)
        process_kill(p, t->exit_code);  /* threads never started: end them */
    if (last)
        process_die(p);
    f = spin_lock_irqsave(&p->obj.lock);
    struct handle_table *h = t->handles;
    t->handles = NULL;
    spin_unlock_irqrestore(&p->obj.lock, f);
    object_unref(&h->obj);
    crit_thread_gone(t);
    object_signal(&t->obj, 0, SIGNAL_TERMINATED);
    /* t->proc and its reference stay until the thread object goes */
}

struct thread *process_thread_by_tid(struct process *p, uint32_t tid)
{
    struct thread *found = NULL;
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    for (struct thread *t = p->threads; t && !found; t = t->proc_next) {
        if (t->tid == tid) {
            object_ref(&t->obj);
            found = t;
        }
    }
    spin_unlock_irqrestore(&p->obj.lock, f);
    return found;
}

struct handle_table *process_handles_get(struct process *p)
{
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    struct handle_table *h = p->state == PROC_DEAD ? NULL : p->handles;
    if (h)
        object_ref(&h->obj);
    spin_unlock_irqrestore(&p->obj.lock, f);
    return h;
}

struct handle_table *thread_handles_get(struct thread *t)
{
    struct process *p = t->proc;
    if (!p)
        return NULL;
    irqflags_t f = spin_lock_irqsave(&p->obj.lock);
    struct handle_table *h = t->handles;
    if (h)
        object_ref(&h->obj);
    spin_unlock_irqrestore(&p->obj.lock, f);
    return h;
}

int process_wait(struct process *p, uint64_t deadline)
{
    return object_wait_signals(&p->obj, SIGNAL_TERMINATED, deadline, NULL);
}

struct process *process_current(void)
{
    struct thread *t = thread_current();
    return t ? t->proc : NULL;
}
