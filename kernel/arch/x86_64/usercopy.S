/*
 * usercopy.S - the one instruction that touches user memory.
 *
 * arch_copy_user(dst, src, n) copies with rep movsb and returns the bytes
 * left uncopied: 0 normally; on a fault that cannot be resolved the trap
 * handler finds the movsb in the exception table and resumes at the
 * fixup, where RCX still holds the remaining count.
 */
    .text
    .global arch_copy_user
arch_copy_user:
    movq    %rdx, %rcx
1:  rep movsb
2:  movq    %rcx, %rax
    ret

    .section .extable, "a"
    .balign 8
    .quad 1b, 2b
