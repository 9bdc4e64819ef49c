/*
 * mica/exception.h - what an exception channel carries (x86_64).
 *
 * A user thread that takes a fault the kernel cannot resolve (a page
 * fault on nothing mapped, #GP, #UD, a divide error, a breakpoint...),
 * or overruns the budget of a critical section (mica/critical.h),
 * stops, and the kernel writes one message to its exception channel, or
 * else to its process's (thread_set_exception_channel,
 * process_set_exception_channel in syscalls.h): the bytes are a struct
 * mica_exception, and two handles come with it,
 *
 *   handles[MICA_EXCEPTION_TOKEN]   the exception itself (OBJ_EXCEPTION,
 *                                   RIGHT_MANAGE and the basic rights):
 *                                   exception_resume or exception_kill
 *                                   on it gives the verdict, and closing
 *                                   its last handle without one kills;
 *   handles[MICA_EXCEPTION_THREAD]  the faulting thread (read, write,
 *                                   manage and the basic rights): its
 *                                   registers can be read and written
 *                                   with thread_read_state and
 *                                   thread_write_state until the verdict.
 *
 * docs/ipc.md ("Exceptions") has the rules.
 */
#ifndef MICA_ABI_EXCEPTION_H
#define MICA_ABI_EXCEPTION_H

#include <stdint.h>

#include <mica/thread_state.h>

/* Exception types: the x86_64 vector numbers (those a user thread can
 * take; INTO and BOUND do not exist in 64-bit mode). */
#define MICA_EXC_DIVIDE         0       /* #DE: divide error */
#define MICA_EXC_DEBUG          1       /* #DB: single step (TF) */
#define MICA_EXC_BREAKPOINT     3       /* #BP: int3; rip is past it */
#define MICA_EXC_INVALID_OP     6       /* #UD: ud2, an unknown opcode */
#define MICA_EXC_NO_FPU         7       /* #NM */
#define MICA_EXC_STACK          12      /* #SS */
#define MICA_EXC_GP             13      /* #GP: privileged or malformed */
#define MICA_EXC_PAGE_FAULT     14      /* #PF: see fault_addr */
#define MICA_EXC_X87            16      /* #MF */
#define MICA_EXC_ALIGNMENT      17      /* #AC */
#define MICA_EXC_SIMD           19      /* #XM */

/* Exceptions the kernel reports, numbered after the CPU's vectors. */
#define MICA_EXC_CRITICAL_OVERRUN 32    /* a critical section outlasted its
                                           budget and was preempted
                                           (mica/critical.h): error_code
                                           is the overruns charged to the
                                           budget so far, the last of
                                           MICA_CRITICAL_STRIKES revoking
                                           it; rip is where the thread was
                                           preempted.  Not a fault: closing
                                           the token without a verdict, or
                                           no channel at all, lets the
                                           thread go on */

/* error_code of a page fault */
#define MICA_PF_PROTECTION      (1u << 0)   /* page present: access denied */
#define MICA_PF_WRITE           (1u << 1)
#define MICA_PF_USER            (1u << 2)   /* always set here */
#define MICA_PF_RESERVED_BIT    (1u << 3)
#define MICA_PF_FETCH           (1u << 4)   /* instruction fetch */

/* Where the handles are in the message. */
#define MICA_EXCEPTION_TOKEN    0
#define MICA_EXCEPTION_THREAD   1
#define MICA_EXCEPTION_HANDLES  2

struct mica_exception {
    uint32_t vector;                /* MICA_EXC_* */
    uint32_t reserved;              /* 0 */
    uint32_t pid;                   /* the faulting thread's process */
    uint32_t tid;                   /* the faulting thread */
    uint64_t error_code;            /* the CPU's, 0 where it gives none */
    uint64_t fault_addr;            /* page fault: the address; else 0 */
    struct mica_thread_state regs;  /* at the fault: rip is the faulting
                                       instruction (past the int3 for #BP) */
};

_Static_assert(sizeof(struct mica_exception) == 192,
               "struct mica_exception is 192 bytes");

#endif
