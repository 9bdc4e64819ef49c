/*
 * isr.S - one entry stub per vector, and the common path.
 *
 * Each stub pushes a zero where the CPU pushes no error code, then the
 * vector number, so every frame has the same shape (struct trap_frame).
 * The common path saves the general registers, swaps GS when the trap
 * came from user mode, calls trap_dispatch and returns with IRETQ.
 */
#include "arch/x86_64/frame_asm.h"
    .altmacro

.macro STUB n
    .balign 16
isr_\n:
    .if (\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
    .else
    pushq   $0
    .endif
    pushq   $\n
    jmp     isr_common
.endm

.macro STUB_ADDR n
    .quad isr_\n
.endm

    .text
.set i, 0
.rept 256
    STUB %i
    .set i, i + 1
.endr

isr_common:
    cld
    testb   $3, 24(%rsp)            /* CS of the interrupted code */
    jz      1f
    swapgs
1:  PUSH_GPRS
    mov     %rsp, %rdi
    /* a frame record linking to the interrupted code, for backtraces */
    pushq   17 * 8(%rsp)            /* interrupted RIP */
    pushq   %rbp
    mov     %rsp, %rbp
    call    trap_dispatch
    add     $16, %rsp
    .global trap_return
trap_return:                        /* rsp -> struct trap_frame */
    cli
    POP_GPRS
    testb   $3, 24(%rsp)
    jz      2f
    swapgs
2:  add     $16, %rsp               /* vector and error code */
    iretq

    .section .rodata
    .balign 8
    .global isr_table
isr_table:
.set i, 0
.rept 256
    STUB_ADDR %i
    .set i, i + 1
.endr
