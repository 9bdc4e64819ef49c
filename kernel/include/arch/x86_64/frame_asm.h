/*
 * frame_asm.h - the general-register part of struct trap_frame, pushed
 * and popped by assembly (isr.S, entry.S).  The order is the reverse of
 * the struct's fields: r15 ends up at the lowest address.
 */
#ifndef MICA_X86_64_FRAME_ASM_H
#define MICA_X86_64_FRAME_ASM_H

.macro PUSH_GPRS
    pushq   %rax
    pushq   %rbx
    pushq   %rcx
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %rbp
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
.endm

.macro POP_GPRS
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rbp
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rbx
    popq    %rax
.endm

#endif
