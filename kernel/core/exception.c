/*
 * exception.c - exception channels and exception tokens.
 *
 * A supervisor binds a channel endpoint to a thread or a process; the
 * endpoint (its only handle) leaves its table and the kernel keeps it
 * (a reference and a handle count, as if it were in flight), so only
 * the kernel writes there and whatever arrives at the other end is the
 * kernel's word; nothing may be written the other way (kernel_held in
 * channel.c), so no message ever waits where nobody can read it.
 * When a user thread takes a fault nobody can resolve, exception_raise
 * writes one message through the thread's endpoint, or if that cannot
 * take it (none, the other end closed, its queue full) the process's:
 * a struct mica_exception, a new token and a handle to the thread.  The
 * thread then waits, on no queue, with in_exception set, so the handler
 * can read and write its registers (thread_control.c) until the
 * verdict.  Nothing delivered, nothing waited for: the trap kills the
 * process as it always did.
 *
 * The token (OBJ_EXCEPTION) is where the verdict goes: resume (the
 * thread returns to the faulting instruction, or wherever its registers
 * now say) or kill.  Closing its last handle without one kills, and so
 * does any way the message can be destroyed unread (the handler's end
 * closed, its process dead), so a crashed supervisor never leaves a
 * thread waiting.  A killed thread stops waiting at once; its token then
 * refuses verdicts.
 *
 * Locking: a token's state and the thread's in_exception change under
 * sched_lock, which is also what the waiting thread checks before it
 * blocks, so no verdict is lost.  A binding is under its owner's object
 * lock; the owner's end (process death, thread reaped) takes it out and
 * marks the owner closed in one step, so no binding outlives its owner.
 * Endpoints are looked at (ipc_lock) only with no object lock held, as
 * the IPC lock order wants.
 *
 * Memory: the token and the message are charged to the faulting
 * process.  The token holds a reference to its thread, which holds one
 * to the process, so the account outlives both.
 */
#include "channel.h"
#include "exception.h"
#include "handle.h"
#include "ipc.h"
#include "lib.h"
#include "mica/errors.h"
#include "process.h"
#include "sched.h"

/* Token states (under sched_lock). */
enum { EXC_PENDING, EXC_RESUME, EXC_KILL, EXC_DROPPED, EXC_ENDED };

struct exception {
    struct object obj;              /* OBJ_EXCEPTION */
    struct thread *t;               /* the faulting thread (referenced) */
    uint32_t state;                 /* EXC_* */
    struct kmem_account *acct;
};

#define TOKEN_RIGHTS  (RIGHTS_BASIC | RIGHT_MANAGE)
#define THREAD_RIGHTS (RIGHTS_BASIC | RIGHTS_IO | RIGHT_MANAGE)

/* --- tokens --------------------------------------------------------------- */

static int decide(struct exception *e, uint32_t verdict)
{
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    int err = e->state == EXC_PENDING ? 0 : ERR_BAD_STATE;
    if (!err) {
        e->state = verdict;
        e->t->in_exception = false;
        sched_wakeup_locked(e->t, 0);   /* nothing if not yet blocked */
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return err;
}

static void token_destroy(struct object *o)
{
    struct exception *e = container_of(o, struct exception, obj);
    struct thread *t = e->t;
    kobj_free(e->acct, e, sizeof(*e));  /* t keeps the account alive */
    object_unref(&t->obj);
}

static void token_last_handle(struct object *o)
{
    decide(container_of(o, struct exception, obj), EXC_DROPPED);
}

static const struct object_ops token_ops = {
    .name = "exception",
    .destroy = token_destroy,
    .last_handle = token_last_handle,
};

int exception_resume(struct object *token)
{
    return decide(container_of(token, struct exception, obj), EXC_RESUME);
}

int exception_kill(struct object *token)
{
    return decide(container_of(token, struct exception, obj), EXC_KILL);
}

/* A token for t and the message carrying it, charged to t's process. */
static int exception_message(struct thread *t,
                             const struct mica_exception *info,
                             struct exception **out, struct msg **m)
{
    struct kmem_account *acct = &t->proc->acct;
    struct exception *e = kobj_alloc(acct, sizeof(*e));
    if (!e)
        return ERR_NO_MEMORY;
    object_init(&e->obj, OBJ_EXCEPTION, &token_ops);
    object_ref(&t->obj);
    e->t = t;
    e->state = EXC_PENDING;
    e->acct = acct;
    struct object *objs[MICA_EXCEPTION_HANDLES];
    mica_rights_t rights[MICA_EXCEPTION_HANDLES];
    objs[MICA_EXCEPTION_TOKEN] = &e->obj;
    rights[MICA_EXCEPTION_TOKEN] = TOKEN_RIGHTS;
    objs[MICA_EXCEPTION_THREAD] = &t->obj;
    rights[MICA_EXCEPTION_THREAD] = THREAD_RIGHTS;
    int err = msg_create_kernel(acct, info, sizeof(*info), objs, rights,
                                MICA_EXCEPTION_HANDLES, m);
    if (err) {
        object_unref(&e->obj);
        return err;
    }
    for (int i = 0; i < MICA_EXCEPTION_HANDLES; i++) {
        object_ref(objs[i]);            /* in flight in the message */
        object_handle_opened(objs[i]);
    }
    *out = e;
    return 0;
}

static void set_in_exception(struct thread *t, bool on)
{
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    t->in_exception = on;
    spin_unlock_irqrestore(&sched_lock, f);
}

/* Wait for e's verdict, or for a kill. */
static enum exception_outcome wait_verdict(struct exception *e)
{
    struct thread *t = e->t;
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    while (e->state == EXC_PENDING && !sched_wait_abort_locked(t)) {
        sched_prepare_block_locked(0);
        sched_block_locked(f);          /* woken by the verdict or a kill */
        f = spin_lock_irqsave(&sched_lock);
    }
    if (e->state == EXC_PENDING)
        e->state = EXC_ENDED;
    t->in_exception = false;
    uint32_t state = e->state;
    spin_unlock_irqrestore(&sched_lock, f);
    return state == EXC_RESUME ? EXCEPTION_RESUMED
           : state == EXC_KILL ? EXCEPTION_KILLED
           : state == EXC_DROPPED ? EXCEPTION_DROPPED : EXCEPTION_ENDED;
}

/* --- bindings ------------------------------------------------------------- */

/* Where one binding lives: the slot, the lock guarding it, and the flag
 * its owner's end raises. */
struct slot {
    spinlock_t *lock;
    struct channel **ep;
    bool *closed;
};

static bool slot_of(struct object *o, struct slot *s)
{
    if (o->type == OBJ_THREAD) {
        struct thread *t = container_of(o, struct thread, obj);
        *s = (struct slot){ &t->obj.lock, &t->exc_channel, &t->exc_closed };
        return t->proc != NULL;
    }
    struct process *p = container_of(o, struct process, obj);
    *s = (struct slot){ &p->obj.lock, &p->exc_channel, &p->exc_closed };
    return true;
}

/* The endpoint bound in s, referenced, or NULL. */
static struct channel *slot_peek(const struct slot *s)
{
    irqflags_t f = spin_lock_irqsave(s->lock);
    struct channel *ep = *s->ep;
    if (ep)
        object_ref(&ep->obj);
    spin_unlock_irqrestore(s->lock, f);
    return ep;
}

#define SLOT_CHANGED 1

/* Put ep in s if it still holds `expect`; the endpoint it held goes to
 * *old.  ERR_BAD_STATE when the owner has ended (and ep is not NULL). */
static int slot_swap(const struct slot *s, struct channel *expect,
                     struct channel *ep, struct channel **old)
{
    irqflags_t f = spin_lock_irqsave(s->lock);
    int err = ep && *s->closed ? ERR_BAD_STATE
              : *s->ep != expect ? SLOT_CHANGED : 0;
    if (!err) {
        *old = *s->ep;
        *s->ep = ep;
    }
    spin_unlock_irqrestore(s->lock, f);
    return err;
}

/* The kernel's hold on an endpoint ends: the other end sees it close. */
static void release(struct channel *ep)
{
    if (ep)
        handle_discard(&ep->obj);
}

int exception_bind(struct object *target, struct channel *ep)
{
    struct slot s;
    if (!slot_of(target, &s))
        return ERR_BAD_STATE;
    for (;;) {
        struct channel *cur = slot_peek(&s), *old = NULL;
        int err = 0;
        if (ep && cur && !channel_peer_closed(cur))
            err = ERR_ALREADY_EXISTS;   /* a live binding: unbind first */
        if (!err)
            err = slot_swap(&s, cur, ep, &old);
        if (cur)
            object_unref(&cur->obj);
        release(old);
        if (err != SLOT_CHANGED)
            return err;
    }
}

/* The owner has ended: take its binding out for good. */
static void slot_close(const struct slot *s)
{
    irqflags_t f = spin_lock_irqsave(s->lock);
    struct channel *ep = *s->ep;
    *s->ep = NULL;
    *s->closed = true;
    spin_unlock_irqrestore(s->lock, f);
    release(ep);
}

void exception_thread_gone(struct thread *t)
{
    struct slot s;
    slot_of(&t->obj, &s);
    slot_close(&s);
}

void exception_process_gone(struct process *p)
{
    struct slot s;
    slot_of(&p->obj, &s);
    slot_close(&s);
}

/* --- raising -------------------------------------------------------------- */

/* Send the exception through the first of eps[0..n) that takes it and
 * wait for the verdict. */
static enum exception_outcome deliver(struct thread *t,
                                      const struct mica_exception *info,
                                      struct channel *const *eps, int n)
{
    struct exception *e;
    struct msg *m;
    set_in_exception(t, true);  /* also lets failure injection see it */
    if (exception_message(t, info, &e, &m)) {
        set_in_exception(t, false);
        return EXCEPTION_UNHANDLED;
    }
    int err = ERR_PEER_CLOSED;
    for (int i = 0; i < n && err; i++)
        if (eps[i])
            err = channel_write_kernel(eps[i], m);
    enum exception_outcome outcome = EXCEPTION_UNHANDLED;
    if (err) {
        set_in_exception(t, false);
        msg_destroy(m);                 /* its token drops: no waiter */
    } else {
        outcome = wait_verdict(e);
    }
    object_unref(&e->obj);
    return outcome;
}

enum exception_outcome exception_raise(const struct mica_exception *info)
{
    struct thread *t = thread_current();
    struct process *p = t->proc;
    if (!p || t->kill_pending)
        return EXCEPTION_UNHANDLED;
    struct slot ts, ps;
    slot_of(&t->obj, &ts);
    slot_of(&p->obj, &ps);
    struct channel *eps[2] = { slot_peek(&ts), slot_peek(&ps) };
    enum exception_outcome outcome = EXCEPTION_UNHANDLED;
    if (eps[0] || eps[1])
        outcome = deliver(t, info, eps, 2);
    for (int i = 0; i < 2; i++)
        if (eps[i])
            object_unref(&eps[i]->obj);
    return outcome;
}
