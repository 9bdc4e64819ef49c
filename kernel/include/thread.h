/*
 * thread.h - threads: the unit the scheduler runs.
 *
 * A thread is a kernel object (OBJ_THREAD) with a kernel stack, saved
 * machine state and scheduling state.  Kernel threads run a C function
 * in ring 0; user threads belong to a process and enter ring 0 only
 * through traps and system calls.  Thread ids are kernel-wide, 30 bits
 * (Linux's futex tid mask), never 0, and not reused while the thread
 * object exists.
 *
 * State changes happen under the scheduler lock (sched.h).
 */
#ifndef MICA_THREAD_H
#define MICA_THREAD_H

#include "arch/x86_64/thread_arch.h"
#include "object.h"
#include "percpu.h"
#include "runqueue.h"
#include "types.h"

enum thread_state {
    THREAD_NEW,         /* created, not started */
    THREAD_READY,       /* on a run queue */
    THREAD_RUNNING,     /* on a CPU */
    THREAD_BLOCKED,     /* waiting (waitq, sleep) */
    THREAD_DEAD,        /* exited; resources released with the object */
};

struct process;
struct handle_table;
struct waitq;
struct channel;
struct call;
struct pi_waiter;
struct crit;

#define THREAD_NAME_MAX 32
/* Kernel memory a user thread costs its process: object, stack, FPU. */
#define THREAD_KMEM (1024 + 16384 + 4096)
#define TID_MAX ((1u << 30) - 1)

struct thread {
    struct object obj;
    uint32_t tid;
    char name[THREAD_NAME_MAX];
    struct process *proc;           /* NULL for kernel threads */
    struct handle_table *handles;   /* its own table or its process's */

    /* scheduling (under the scheduler lock) */
    enum thread_state state;
    struct rq_node rq;
    uint8_t base_prio;              /* as set */
    uint8_t prio;                   /* effective: base_prio raised by what
                                       it is lent (pi.h; changed under
                                       ipc_lock and sched_lock) */
    int cpu;                        /* CPU it runs or is queued on */
    uint64_t affinity;              /* allowed CPUs, bit per CPU */
    uint64_t slice_end;             /* ns: end of its time slice */
    bool idle;                      /* a CPU's idle thread */

    /* waiting */
    struct waitq *wq;               /* the queue it waits on, if any */
    struct thread *wq_next;
    int wait_result;
    uint64_t deadline;              /* ns, 0: none */
    struct thread *timer_next;      /* on its CPU's sleeper list */

    bool kill_pending;              /* exit at the next return to user */
    bool started;                   /* user thread: thread_start done */
    bool in_syscall;                /* inside a system call */
    bool interrupt_pending;         /* its waits in this or the next
                                       system call end: ERR_INTERRUPTED */

    /* thread control (thread_control.c) */
    uint64_t suspend_count;         /* > 0: park on the way to user mode
                                       (sched_lock) */
    bool parked;                    /* parked: SIGNAL_SUSPENDED set with it
                                       (obj.lock, then sched_lock) */
    bool in_exception;              /* stopped for an exception handler's
                                       verdict (sched_lock) */

    /* exception channel (exception.c), under obj.lock */
    struct channel *exc_channel;    /* bound endpoint: a reference and a
                                       handle count */
    bool exc_closed;                /* ended: no more binding */

    /* critical sections (critical.c) */
    struct crit *crit;              /* its page and budget; NULL: none */
    uint64_t crit_deadline;         /* ns: end of the budget while a
                                       preemption is held off; 0: none
                                       (sched_lock) */
    uint32_t crit_report;           /* an overrun to report: the budget's
                                       count of them (sched_lock) */

    /* priority inheritance (pi.c; under ipc_lock) */
    struct call *pi_held;           /* calls it serves */
    struct pi_waiter *pi_waiters;   /* blocked on PI futexes it owns */
    struct call *pi_call;           /* the call it is blocked in */
    struct pi_waiter *pi_wait;      /* the PI futex it is blocked on */
    bool pi_exited;                 /* exiting: lent nothing any more */

    bool charged;                   /* THREAD_KMEM charged to its process */
    int exit_code;
    uint64_t clear_child_tid;       /* Linux: zeroed and woken at exit */

    void *kstack;                   /* KSTACK_SIZE bytes */
    struct arch_thread arch;
    struct thread *proc_next;       /* process's thread list */
    struct thread *tid_next;        /* user threads by id (thread_by_tid) */
};

/* A kernel thread running fn(arg) at `prio`, not yet started. */
int thread_create_kernel(const char *name, void (*fn)(void *), void *arg,
                         unsigned prio, struct thread **out);

/* A bare thread object in state NEW with a kernel stack, holding its own
 * reference and the caller's; NULL when out of memory. */
struct thread *thread_alloc(const char *name, unsigned prio);

/* Arch: set up the first switch into a kernel function, or into user
 * mode at `entry` with stack `sp` and the first two argument registers. */
void arch_thread_init_kernel(struct thread *t, void (*fn)(void *), void *arg);
void arch_thread_init_user(struct thread *t, uint64_t entry, uint64_t sp,
                           uint64_t arg0, uint64_t arg1);
struct trap_frame;
void arch_thread_init_clone(struct thread *t, const struct trap_frame *tf,
                            uint64_t sp);

/* Arch: the user registers of a user thread that is off its CPU inside
 * the kernel (parked).  arch_thread_state_check validates a state to be
 * written (ERR_INVALID_ARGS for an address a return to user mode must
 * not load) and sanitizes what it may (rflags); arch_thread_set_state
 * takes only a state that passed it. */
struct mica_thread_state;
void arch_thread_get_state(const struct thread *t,
                           struct mica_thread_state *s);
/* Arch: the current user thread's registers, from the trap frame tf
 * (a fault) or from the one at the top of its kernel stack (any way
 * back to user mode), with its FS and GS bases as loaded. */
void arch_frame_user_state(const struct trap_frame *tf,
                           struct mica_thread_state *s);
void arch_current_user_state(struct mica_thread_state *s);
int arch_thread_state_check(struct mica_thread_state *s);
void arch_thread_set_state(struct thread *t,
                           const struct mica_thread_state *s);

/* Make a NEW thread runnable. */
void thread_start(struct thread *t);

/* End the calling thread. */
noreturn void thread_exit_current(void);

/* The running thread. */
static inline struct thread *thread_current(void)
{
    return this_cpu()->current;
}

/* User threads by id, kernel-wide: listed from creation until the
 * reaper has seen them dead.  thread_by_tid returns a reference, or
 * NULL. */
void thread_tid_publish(struct thread *t);
void thread_tid_withdraw(struct thread *t);
struct thread *thread_by_tid(uint32_t tid);

/* Mark a thread to die: a blocked thread is woken with ERR_CANCELED and
 * exits at its next return to user mode (or at once for kernel threads
 * that check thread_should_exit). */
void thread_kill(struct thread *t);

bool thread_should_exit(void);

/* A dead thread has left its stack: release it (user threads go through
 * the reaper thread, which also lets their process know). */
void thread_reap(struct thread *t);

/* Start the reaper thread (boot CPU, once the scheduler runs). */
void thread_reaper_start(void);

/*
 * Thread control (thread_control.c), for debuggers and personalities.
 * Each returns 0 or ERR_BAD_STATE as documented for its system call.
 *
 * thread_suspend     one more suspension: t parks at its next return to
 *                    user mode (kernel threads and ended or dying
 *                    threads: ERR_BAD_STATE)
 * thread_resume      one less (none: ERR_BAD_STATE); at zero t goes on
 * thread_read_state  t's user registers, only while it is parked or
 *                    stopped for an exception (in_exception)
 * thread_write_state set them (already checked by
 *                    arch_thread_state_check), likewise
 * thread_interrupt   end t's blocking waits in its current or next
 *                    system call with ERR_INTERRUPTED
 * thread_park        the current thread, on its way to user mode with
 *                    interrupts off: wait while suspended (user_return_work)
 */
int thread_suspend(struct thread *t);
int thread_resume(struct thread *t);
int thread_read_state(struct thread *t, struct mica_thread_state *s);
int thread_write_state(struct thread *t, const struct mica_thread_state *s);
int thread_interrupt(struct thread *t);
void thread_park(struct thread *t);

#endif
