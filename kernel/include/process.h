/*
 * process.h - processes: an address space, a handle table and threads.
 *
 * A process is a kernel object (OBJ_PROCESS).  It dies when its last
 * thread exits or when it is killed: then every handle it held is
 * closed, its address space is torn down, its kernel memory returns,
 * and TERMINATED is signalled to waiters.  The object itself lives on
 * while handles name it, so the exit code can still be read.
 *
 * Kernel memory a process causes (objects, page tables, pages) is
 * charged to its account, bounded by `limit`.
 */
#ifndef MICA_PROCESS_H
#define MICA_PROCESS_H

#include "kmem.h"
#include "object.h"
#include "thread.h"
#include "vm.h"

struct channel;

#define PROCESS_NAME_MAX 32
#define PROCESS_KMEM_DEFAULT (256ull << 20)
#define PROCESS_HANDLES_DEFAULT 4096
/* What making a process costs its creator's account (the process, its
 * first table pages), so no process can make processes without bound. */
#define PROCESS_KMEM (8192 + 4096)

enum process_state { PROC_ALIVE, PROC_DYING, PROC_DEAD };

struct process {
    struct object obj;
    char name[PROCESS_NAME_MAX];
    uint32_t pid;                   /* first thread's tid (0 until then) */
    struct aspace *aspace;
    struct handle_table *handles;
    struct kmem_account acct;
    enum process_state state;
    struct thread *threads;         /* under obj.lock */
    unsigned nthreads;
    unsigned nstarted;              /* of them, started */
    int exit_code;
    bool log_cap;                   /* may write the kernel log */
    bool fail_inject;               /* its system calls see injected failures */
    struct process *creator;        /* charged PROCESS_KMEM (referenced) */
    void *io_bitmap;                /* arch: I/O ports it may use, or NULL */
    uint64_t io_gen;                /* arch: changes with io_bitmap */
    struct channel *exc_channel;    /* exception channel (exception.c):
                                       under obj.lock, until it dies */
    bool exc_closed;                /* died: no more binding */
    struct channel *stdio;          /* console channel of fds 0-2
                                       (console_client.c): under
                                       obj.lock, until it dies */
    bool stdio_closed;              /* died: no more console */
};

int process_create(const char *name, uint64_t kmem_limit,
                   struct process **out);

/* A user thread in p, NEW (not yet runnable). */
int process_thread_create(struct process *p, const char *name,
                          struct thread **out);

/* Start a NEW user thread at entry with stack sp and two arguments. */
int process_thread_start(struct thread *t, uint64_t entry, uint64_t sp,
                         uint64_t arg0, uint64_t arg1);

/* Start a NEW thread as a copy of the registers in tf (a clone): it
 * returns 0 from the system call, on stack sp. */
struct trap_frame;
int process_thread_start_clone(struct thread *t, const struct trap_frame *tf,
                               uint64_t sp);

/* Give up a NEW thread that will not be started (drops the caller's
 * reference; the thread ends itself). */
void process_thread_abandon(struct thread *t);

/* Kill every thread; the process dies when the last one is gone. */
void process_kill(struct process *p, int code);

/* Called by the reaper for each dead thread. */
void process_thread_gone(struct thread *t);

/* Wait (deadline: clock_ns, 0 = none) until p has died. */
int process_wait(struct process *p, uint64_t deadline);

/* p's thread with id `tid`, referenced; NULL if it has none. */
struct thread *process_thread_by_tid(struct process *p, uint32_t tid);

/* A reference to p's handle table (NULL once it has died). */
struct handle_table *process_handles_get(struct process *p);

/* A reference to thread t's handle table (NULL once it has died). */
struct handle_table *thread_handles_get(struct thread *t);

/* The process of the running thread (NULL for kernel threads). */
struct process *process_current(void);

#endif
