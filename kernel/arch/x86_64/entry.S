/*
 * entry.S - the SYSCALL entry point.
 *
 * SYSCALL leaves RIP in RCX and RFLAGS in R11, keeps the user stack and
 * clears TF, IF, DF, AC and NT (FMASK).  The entry swaps to the kernel
 * GS, switches to the current thread's kernel stack and builds the same
 * struct trap_frame as an interrupt, so signals, debuggers and the Linux
 * layer see one format.  Interrupts are enabled while the call runs.
 *
 * The way out is SYSRET only when syscall_dispatch says the frame allows
 * it (RIP canonical and below the user top, nothing in the frame that
 * SYSRET cannot restore); otherwise trap_return's IRETQ.  SYSRET with a
 * non-canonical RIP would fault in ring 0 on Intel CPUs, with the user's
 * stack pointer already loaded.
 */
#include "arch/x86_64/frame_asm.h"
#include "arch/x86_64/gdt.h"

#define PERCPU_KSTACK_TOP 8
#define PERCPU_USER_RSP   16

    .text
    .global syscall_entry
syscall_entry:
    swapgs
    movq    %rsp, %gs:PERCPU_USER_RSP
    movq    %gs:PERCPU_KSTACK_TOP, %rsp
    pushq   $(SEL_UDATA | 3)            /* ss */
    pushq   %gs:PERCPU_USER_RSP         /* rsp */
    pushq   %r11                        /* rflags */
    pushq   $(SEL_UCODE | 3)            /* cs */
    pushq   %rcx                        /* rip */
    pushq   $0                          /* error */
    pushq   $0x100                      /* "vector": a system call */
    PUSH_GPRS
    movq    %rsp, %rdi
    pushq   17 * 8(%rsp)                /* frame record for backtraces */
    pushq   %rbp
    movq    %rsp, %rbp
    sti
    call    syscall_dispatch            /* returns nonzero: use IRETQ */
    cli
    addq    $16, %rsp
    testl   %eax, %eax
    jnz     trap_return
    POP_GPRS
    movq    16(%rsp), %rcx              /* rip */
    movq    32(%rsp), %r11              /* rflags */
    movq    40(%rsp), %rsp              /* user stack */
    swapgs
    sysretq
