/*
 * switch.S - switching kernel stacks between threads.
 *
 * arch_context_switch(&prev->ctx_sp, next->ctx_sp) saves the callee-saved
 * registers on the old stack, stores its stack pointer, loads the new
 * one and pops the new thread's registers: the C caller sees an ordinary
 * function call that returns, later, when this thread runs again.
 *
 * A new thread's stack is made to look like it was switched away from
 * just before thread_entry: its first "return" lands there, with r12 =
 * the kernel function to run (0 for a user thread) and r13 = its argument.
 */
    .text
    .global arch_context_switch
arch_context_switch:
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret

    .global thread_entry
thread_entry:
    call    sched_switch_finish     /* drop the scheduler lock, etc. */
    testq   %r12, %r12
    jz      1f
    movq    %r13, %rdi
    xorl    %ebp, %ebp
    call    *%r12
    call    thread_exit_current     /* kernel thread returned */
    ud2
1:  cli
    movq    %rsp, %rdi              /* user thread: rsp -> its trap frame */
    call    user_return_work        /* killed before it ever ran? */
    jmp     trap_return
