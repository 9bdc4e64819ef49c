/*
 * syscall_impl.h - what the files implementing system calls share.
 *
 * Each native call is `int64_t sys_NAME(a0..a5)`, declared here from the
 * one list in mica/syscalls.h, and lives in the file of its subsystem
 * (syscall.c: handles and signals; syscall_task.c: processes and threads;
 * syscall_vm.c: memory and time; syscall_ipc.c: channels and ports;
 * syscall_event.c: observers, events and timers; syscall_exception.c:
 * exception channels).
 */
#ifndef MICA_SYSCALL_IMPL_H
#define MICA_SYSCALL_IMPL_H

#include "handle.h"
#include "thread.h"
#include "mica/syscalls.h"
#include "object.h"

typedef int64_t (*syscall_fn)(uint64_t, uint64_t, uint64_t, uint64_t,
                              uint64_t, uint64_t);

#define SYSCALL_DECL(name, num)                                        \
    int64_t sys_##name(uint64_t, uint64_t, uint64_t, uint64_t,         \
                       uint64_t, uint64_t);
MICA_SYSCALLS(SYSCALL_DECL)
#undef SYSCALL_DECL

/* The calling thread's handle table. */
static inline struct handle_table *my_handles(void)
{
    return thread_current()->handles;
}

/* handle_get on the caller's table (a new reference on success). */
static inline int get(mica_handle_t h, uint32_t type, mica_rights_t need,
                      struct object **o)
{
    return handle_get_rights(my_handles(), h, type, need, o, NULL);
}

/* Install o (consuming the caller's reference) with `rights` and write the
 * handle to the user's *uout; on failure nothing is left behind. */
int give(struct object *o, mica_rights_t rights, uint64_t uout);

/* Marks the argument registers a call does not use. */
static inline void unused_args(int n, ...)
{
    (void)n;
}
#define UNUSED_ARGS(...) unused_args(0, __VA_ARGS__)

#endif
