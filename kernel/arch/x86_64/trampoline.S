/*
 * trampoline.S - where application processors start.
 *
 * An AP wakes in 16-bit real mode at the page the SIPI names.  This code
 * is copied to TRAMPOLINE_PHYS and runs from there: it loads its own GDT,
 * enters protected mode, turns on PAE paging with the kernel's page tables
 * (which identity-map the trampoline page while APs start), enters long
 * mode and jumps to ap_main with this CPU's struct percpu.  The boot CPU
 * fills the data words at the end before each SIPI.  All addresses are
 * computed relative to the copy, never to where the kernel was linked.
 */
#include "arch/x86_64/layout.h"

#define ABS(x) (TRAMPOLINE_PHYS + ((x) - tramp))

    .section .trampoline, "ax"
    .code16
    .global tramp
tramp:
    cli
    cld
    mov     %cs, %ax
    mov     %ax, %ds
    lgdtl   (tramp_gdtr - tramp)
    mov     %cr0, %eax
    or      $1, %eax
    mov     %eax, %cr0
    ljmpl   $0x08, $ABS(tramp32)

    .code32
tramp32:
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    mov     %cr4, %eax
    or      $((1 << 5) | (1 << 7)), %eax    /* PAE, PGE */
    mov     %eax, %cr4
    mov     ABS(tramp_cr3), %eax
    mov     %eax, %cr3
    mov     $0xC0000080, %ecx
    rdmsr
    or      ABS(tramp_efer), %eax
    wrmsr
    mov     %cr0, %eax
    or      $0x80010000, %eax               /* PG, WP */
    mov     %eax, %cr0
    ljmp    $0x18, $ABS(tramp64)

    .code64
tramp64:
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    mov     tramp_stack(%rip), %rsp
    mov     tramp_percpu(%rip), %rdi
    mov     tramp_entry(%rip), %rax
    xor     %ebp, %ebp
    pushq   $0                              /* end of backtraces */
    jmp     *%rax

    .balign 8
tramp_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF                /* 0x08: 32-bit code */
    .quad 0x00CF92000000FFFF                /* 0x10: data */
    .quad 0x00AF9A000000FFFF                /* 0x18: 64-bit code */
tramp_gdtr:
    .word tramp_gdtr - tramp_gdt - 1
    .long ABS(tramp_gdt)
    .balign 8
    .global tramp_cr3, tramp_efer, tramp_stack, tramp_percpu, tramp_entry
tramp_cr3:    .long 0
tramp_efer:   .long 0
tramp_stack:  .quad 0
tramp_percpu: .quad 0
tramp_entry:  .quad 0
    .global tramp_end
tramp_end:
