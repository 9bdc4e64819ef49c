/*
 * usercopy.S - the instructions that touch user memory.
 *
 * arch_copy_user(dst, src, n) copies n bytes, eight at a time with
 * rep movsq and the last n % 8 with rep movsb, and returns the bytes left
 * uncopied: 0 normally.  On a fault that cannot be resolved the trap
 * handler finds the faulting instruction in the exception table and
 * resumes at its fixup, where RCX still holds the count left: quadwords
 * (plus the tail still to do) after movsq, bytes after movsb.
 *
 * arch_cmpxchg_user32(uaddr, old, new, cur) is one locked cmpxchg on a
 * user word (PI futexes): it stores the value it found in *cur and
 * returns 0, or returns 1 when the word cannot be written.  A failed
 * comparison still writes, so the fault is always a write fault and
 * copy-on-write is resolved first.
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

    .global arch_cmpxchg_user32
arch_cmpxchg_user32:
    movl    %esi, %eax
5:  lock cmpxchgl %edx, (%rdi)
    movl    %eax, (%rcx)
    xorl    %eax, %eax
    ret
6:  movl    $1, %eax
    ret

    .section .extable, "a"
    .balign 8
    .quad 1b, 4b
    .quad 2b, 3b
    .quad 5b, 6b
