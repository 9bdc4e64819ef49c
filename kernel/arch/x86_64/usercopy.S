/*
 * usercopy.S - the instructions that touch user memory.
 *
 * arch_copy_user(dst, src, n) copies n bytes, eight at a time with
 * rep movsq and the last n % 8 with rep movsb, and returns the bytes left
 * uncopied: 0 normally.  On a fault that cannot be resolved the trap
 * handler finds the faulting instruction in the exception table and
 * resumes at its fixup, where RCX still holds the count left: quadwords
 * (plus the tail still to do) after movsq, bytes after movsb.
 */
    .text
    .global arch_copy_user
arch_copy_user:
    movq    %rdx, %rcx
    andl    $7, %edx            /* the tail, in bytes */
    shrq    $3, %rcx            /* quadwords */
1:  rep movsq
    movq    %rdx, %rcx
2:  rep movsb
3:  movq    %rcx, %rax
    ret
4:  leaq    (%rdx, %rcx, 8), %rax   /* faulted in movsq */
    ret

    .section .extable, "a"
    .balign 8
    .quad 1b, 4b
    .quad 2b, 3b
