/*
 * exception.h - exception channels, and the exceptions (tokens) sent
 * through them.
 *
 * A thread or a process may have an exception channel: an endpoint the
 * kernel holds (its reference and one handle count), moved out of the
 * binder's table.  A user thread's fault the kernel cannot resolve goes
 * to its own channel, else to its process's, as a message with a struct
 * mica_exception (mica/exception.h), a token (OBJ_EXCEPTION) and a
 * handle to the thread; the thread waits, registers readable and
 * writable, until the token's verdict.  docs/ipc.md ("Exceptions") has
 * the rules.
 */
#ifndef MICA_EXCEPTION_H
#define MICA_EXCEPTION_H

#include <mica/exception.h>

#include "object.h"

struct channel;
struct process;
struct thread;

/* What became of an exception (exception_raise). */
enum exception_outcome {
    EXCEPTION_UNHANDLED,    /* no channel took it: kill as without one */
    EXCEPTION_RESUMED,      /* the handler resumed the thread: retry */
    EXCEPTION_KILLED,       /* the handler's verdict was kill */
    EXCEPTION_DROPPED,      /* the token's last handle closed, no verdict */
    EXCEPTION_ENDED,        /* the thread was killed while it waited */
};

/* The current user thread took the fault `info` describes (or overran
 * a critical section's budget: critical.c): send it to the thread's
 * exception channel, else the process's, and wait for the verdict.
 * Called with interrupts on and no lock held, from the trap that took
 * the fault or on the way back to user mode; the trap frame holds the
 * thread's registers, which the handler may change.  What an outcome
 * means is the caller's to decide. */
enum exception_outcome exception_raise(const struct mica_exception *info);

/* Bind ep (a channel endpoint whose reference and handle count the
 * binding takes over on success) as the exception channel of `target`,
 * a thread or a process; ep NULL unbinds (always 0).  Errors:
 * ERR_BAD_STATE (a kernel thread, or the target has ended),
 * ERR_ALREADY_EXISTS (bound to a channel whose other end is open). */
int exception_bind(struct object *target, struct channel *ep);

/* The end of a thread (reaper) or of a process (its death): its
 * binding is closed and no new one is taken. */
void exception_thread_gone(struct thread *t);
void exception_process_gone(struct process *p);

/* The verdicts, given through a token: ERR_BAD_STATE once it has one,
 * or once its thread has been killed. */
int exception_resume(struct object *token);
int exception_kill(struct object *token);

#endif
