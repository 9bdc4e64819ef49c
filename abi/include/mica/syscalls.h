/*
 * mica/syscalls.h - native system call numbers.
 *
 * Native calls use numbers from 0x1000 up; numbers below are the Linux
 * x86_64 system call ABI (answered by the kernel's Linux layer).  Calling
 * convention: number in RAX, arguments in RDI, RSI, RDX, R10, R8, R9,
 * result in RAX (a status: 0 or a negative ERR_*); results through
 * out-pointers.  docs/abi/syscalls.md documents each call.
 */
#ifndef MICA_ABI_SYSCALLS_H
#define MICA_ABI_SYSCALLS_H

#include <stdint.h>

#include "ipc.h"

#define MICA_SYSCALL_BASE 0x1000

/*          name                   number */
#define MICA_SYSCALLS(X)                       \
    X(debug_write,                 0x1000)     \
    X(debug_read,                  0x100a)     \
    X(handle_close,                0x1001)     \
    X(handle_duplicate,            0x1002)     \
    X(handle_replace,              0x1003)     \
    X(handle_transfer,             0x1006)     \
    X(handle_info,                 0x100b)     \
    X(object_wait_one,             0x1004)     \
    X(object_signal,               0x1005)     \
    X(object_wait_many,            0x1007)     \
    X(object_wait_async,           0x1008)     \
    X(object_wait_cancel,          0x1009)     \
    X(process_create,              0x1010)     \
    X(process_exit,                0x1011)     \
    X(process_kill,                0x1012)     \
    X(process_read_memory,         0x1013)     \
    X(process_write_memory,        0x1014)     \
    X(process_info,                0x1015)     \
    X(process_clone,               0x1016)     \
    X(process_set_stdio,           0x1018)     \
    X(thread_create,               0x1020)     \
    X(thread_start,                0x1021)     \
    X(thread_exit,                 0x1022)     \
    X(thread_kill,                 0x1023)     \
    X(thread_set_priority,         0x1024)     \
    X(thread_yield,                0x1025)     \
    X(thread_set_affinity,         0x1026)     \
    X(thread_suspend,              0x1027)     \
    X(thread_resume,               0x1028)     \
    X(thread_read_state,           0x1029)     \
    X(thread_write_state,          0x102a)     \
    X(thread_interrupt,            0x102b)     \
    X(process_set_exception_channel, 0x1017)   \
    X(thread_set_exception_channel, 0x102c)    \
    X(exception_resume,            0x102d)     \
    X(exception_kill,              0x102e)     \
    X(thread_info,                 0x102f)     \
    X(vmo_create,                  0x1030)     \
    X(vmo_read,                    0x1031)     \
    X(vmo_write,                   0x1032)     \
    X(vmo_get_size,                0x1033)     \
    X(vmo_clone,                   0x1034)     \
    X(vmo_create_physical,         0x1035)     \
    X(vmo_create_contiguous,       0x1036)     \
    X(vm_map,                      0x1040)     \
    X(vm_unmap,                    0x1041)     \
    X(vm_protect,                  0x1042)     \
    X(clock_get,                   0x1050)     \
    X(nanosleep,                   0x1051)     \
    X(system_info,                 0x1060)     \
    X(debug_fail_inject,           0x1061)     \
    X(platform_info,               0x1062)     \
    X(channel_create,              0x1070)     \
    X(channel_write,               0x1071)     \
    X(channel_read,                0x1072)     \
    X(channel_call,                0x1073)     \
    X(channel_reply_read,          0x1074)     \
    X(channel_bind,                0x1075)     \
    X(grant_create,                0x1090)     \
    X(grant_read,                  0x1091)     \
    X(grant_write,                 0x1092)     \
    X(port_create,                 0x1078)     \
    X(port_receive,                0x1079)     \
    X(reply_receive,               0x107a)     \
    X(port_wait,                   0x107b)     \
    X(port_queue,                  0x107c)     \
    X(event_create,                0x1080)     \
    X(timer_create,                0x1088)     \
    X(timer_set,                   0x1089)     \
    X(timer_cancel,                0x108a)     \
    X(timer_set_port,              0x108b)     \
    X(resource_create,             0x10a0)     \
    X(interrupt_create,            0x10a8)     \
    X(interrupt_wait,              0x10a9)     \
    X(interrupt_ack,               0x10aa)     \
    X(interrupt_nak,               0x10ab)     \
    X(interrupt_set_port,          0x10ac)     \
    X(interrupt_info,              0x10ad)     \
    X(ioport_create,               0x10b0)     \
    X(ioport_enable,               0x10b1)     \
    X(thread_critical_page,        0x10c0)     \
    X(thread_set_critical_budget,  0x10c1)

enum mica_syscall {
#define MICA_SYSCALL_ENUM(name, num) MICA_SYS_##name = num,
    MICA_SYSCALLS(MICA_SYSCALL_ENUM)
#undef MICA_SYSCALL_ENUM
    MICA_SYS_END
};

/* vm_map/vm_protect flags */
#define MICA_VM_READ    (1u << 0)
#define MICA_VM_WRITE   (1u << 1)
#define MICA_VM_EXEC    (1u << 2)
#define MICA_VM_FIXED   (1u << 8)
#define MICA_VM_REPLACE (1u << 10)  /* with FIXED: atomically replace */

/* object_wait_many items */
struct mica_wait_item {
    uint32_t handle;
    uint32_t waitfor;       /* signals wanted */
    uint32_t pending;       /* out: the object's signals */
};
#define MICA_WAIT_MANY_MAX 64

/* timer_set: the shortest period of a periodic timer (ns) */
#define MICA_TIMER_PERIOD_MIN 100000ull

/* process_create flags */
#define MICA_PROCESS_LOG (1u << 0)  /* may write the kernel log (the caller must) */

/* thread_create flags */
#define MICA_THREAD_OWN_HANDLES (1u << 0)   /* a handle table of its own */

/* handle_info results: struct mica_handle_info (mica/ipc.h) */

/* process_info results */
struct mica_process_info {
    int32_t exit_code;
    uint32_t pid;
    uint32_t state;         /* 0 alive, 1 dying, 2 dead */
    uint32_t threads;
    uint64_t kmem_used;     /* bytes of kernel memory charged */
};

/* thread_info results */
struct mica_thread_info {
    uint32_t tid;
    uint32_t state;         /* MICA_THREAD_STATE_* */
    uint32_t base_priority; /* as set by thread_set_priority */
    uint32_t priority;      /* effective: the base raised by inheritance */
};
#define MICA_THREAD_STATE_NEW     0     /* not started */
#define MICA_THREAD_STATE_READY   1     /* waiting for a CPU */
#define MICA_THREAD_STATE_RUNNING 2
#define MICA_THREAD_STATE_BLOCKED 3     /* waiting, or parked */
#define MICA_THREAD_STATE_DEAD    4

/* system_info results: what the kernel has, for tests and monitors */
struct mica_system_info {
    uint64_t free_pages;
    uint64_t total_pages;
    uint64_t live_processes;
    uint64_t live_threads;
    uint64_t live_vmos;
    uint32_t cpus_online;
    uint32_t pad;
    uint64_t live_channels;         /* endpoints */
    uint64_t live_ports;
    uint64_t live_events;
    uint64_t live_timers;
    uint64_t live_exceptions;       /* exception tokens */
    uint64_t idle_all_ticks;        /* timestamp ticks with every CPU halted */
};

#endif
