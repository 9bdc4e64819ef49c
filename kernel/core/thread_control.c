/*
 * thread_control.c - suspending, resuming, inspecting and interrupting
 * threads: what debuggers and the POSIX personality need.
 *
 * Suspension is a count.  A thread whose count is above zero parks on
 * its way back to user mode (user_return_work): when a system call ends,
 * after an interrupt or exception taken in user mode, or before its
 * first instruction.  So a thread blocked in a system call stays blocked
 * until the call ends, and a thread running user code on another CPU is
 * sent an IPI to bring it into the kernel.  Parked, all its user
 * registers are in the trap frame at the top of its kernel stack and its
 * FS/GS bases in its thread object: the arch hooks read and write them
 * there, and the way out (SYSRET only when the frame allows it, else
 * IRETQ) loads whatever was written.
 *
 * `parked` and SIGNAL_SUSPENDED change together, under the thread
 * object's lock and then sched_lock, so a waiter that sees the signal
 * finds the thread parked unless it was resumed or killed since.  The
 * thread sets both when it commits to park and blocks (on no queue) just
 * after; a resume that brings the count to zero clears both and wakes
 * it; a kill wakes it, and it clears them itself on its way to exit.
 * Registers are touched only once the thread is off its CPU (under
 * sched_lock, state not RUNNING), so the few instructions between
 * committing and blocking are waited out.
 *
 * A thread stopped for an exception handler's verdict (in_exception,
 * exception.c) is in the same place as a parked one, its registers in
 * the trap frame of its fault, so its registers can be read and
 * written too; it is not parked and shows no SIGNAL_SUSPENDED.
 *
 * Interrupts: thread_interrupt sets interrupt_pending and wakes the
 * thread with ERR_INTERRUPTED if it is blocked inside a system call;
 * blocking primitives refuse to block while the flag is set
 * (sched_wait_abort_locked), and syscall_dispatch drops it when the call
 * returns.  A parked thread is not inside a system call: it stays
 * parked, and the interrupt waits for its next call.
 */
#include "arch.h"
#include "mica/errors.h"
#include "mica/signals.h"
#include "sched.h"
#include "signal_wait.h"
#include "thread.h"

/* Kernel threads, and threads that have ended or are being killed, are
 * not controlled: they never (again) run user code.  sched_lock held. */
static bool out_of_reach_locked(const struct thread *t)
{
    return !t->proc || t->state == THREAD_DEAD || t->kill_pending;
}

/* parked and SIGNAL_SUSPENDED together; t->obj.lock and sched_lock held. */
static void set_parked_locked(struct thread *t, bool parked)
{
    t->parked = parked;
    if (parked)
        t->obj.signals |= SIGNAL_SUSPENDED;
    else
        t->obj.signals &= ~SIGNAL_SUSPENDED;
}

int thread_suspend(struct thread *t)
{
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    int err = out_of_reach_locked(t) ? ERR_BAD_STATE : 0;
    if (!err) {
        t->suspend_count++;
        sched_poke_locked(t);           /* running elsewhere: come in */
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return err;
}

int thread_resume(struct thread *t)
{
    irqflags_t f = spin_lock_irqsave(&t->obj.lock);
    spin_lock(&sched_lock);
    int err = out_of_reach_locked(t) || !t->suspend_count ? ERR_BAD_STATE : 0;
    bool unpark = !err && --t->suspend_count == 0 && t->parked;
    if (unpark) {
        set_parked_locked(t, false);
        sched_wakeup_locked(t, 0);      /* nothing if not yet blocked */
    }
    spin_unlock(&sched_lock);
    spin_unlock_irqrestore(&t->obj.lock, f);
    if (unpark)
        object_wait_kick(&t->obj);
    return err;
}

/* The current thread commits to park (true) or finds it need not, or
 * leaves the parked state after a kill (park false). */
static bool park_change(struct thread *t, bool park)
{
    irqflags_t f = spin_lock_irqsave(&t->obj.lock);
    spin_lock(&sched_lock);
    bool change = park ? t->suspend_count && !t->kill_pending : t->parked;
    if (change)
        set_parked_locked(t, park);
    spin_unlock(&sched_lock);
    spin_unlock_irqrestore(&t->obj.lock, f);
    if (change)
        object_wait_kick(&t->obj);
    return change;
}

void thread_park(struct thread *t)
{
    if (!park_change(t, true))
        return;
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    while (t->parked && !t->kill_pending) {
        sched_prepare_block_locked(0);
        sched_block_locked(f);          /* woken by resume or kill */
        f = spin_lock_irqsave(&sched_lock);
    }
    spin_unlock_irqrestore(&sched_lock, f);
    park_change(t, false);              /* killed while parked */
}

/* Take sched_lock with t parked (or stopped for an exception handler's
 * verdict, exception.c) and off its CPU; ERR_BAD_STATE (lock not held)
 * when it is neither.  Such a thread is on a CPU only between committing
 * to stop and blocking (for an exception: while its message is made and
 * sent), or when a kill has woken it and it is leaving: a few
 * instructions and no wait, so this spins. */
static int lock_parked(struct thread *t, irqflags_t *f)
{
    for (;;) {
        *f = spin_lock_irqsave(&sched_lock);
        bool parked = t->parked || t->in_exception;
        if (parked && t->state != THREAD_RUNNING)
            return 0;
        spin_unlock_irqrestore(&sched_lock, *f);
        if (!parked)
            return ERR_BAD_STATE;
        arch_cpu_relax();
    }
}

int thread_read_state(struct thread *t, struct mica_thread_state *s)
{
    irqflags_t f;
    int err = lock_parked(t, &f);
    if (err)
        return err;
    arch_thread_get_state(t, s);
    spin_unlock_irqrestore(&sched_lock, f);
    return 0;
}

int thread_write_state(struct thread *t, const struct mica_thread_state *s)
{
    irqflags_t f;
    int err = lock_parked(t, &f);
    if (err)
        return err;
    arch_thread_set_state(t, s);
    spin_unlock_irqrestore(&sched_lock, f);
    return 0;
}

int thread_interrupt(struct thread *t)
{
    irqflags_t f = spin_lock_irqsave(&sched_lock);
    int err = out_of_reach_locked(t) ? ERR_BAD_STATE : 0;
    if (!err) {
        t->interrupt_pending = true;
        if (t->state == THREAD_BLOCKED && t->in_syscall)
            sched_wakeup_locked(t, ERR_INTERRUPTED);
    }
    spin_unlock_irqrestore(&sched_lock, f);
    return err;
}
