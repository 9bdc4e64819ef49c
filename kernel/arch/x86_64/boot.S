/*
 * boot.S - Multiboot 1 entry, the switch from 32-bit protected mode to
 * long mode, and the jump to the higher half.
 *
 * The loader (QEMU -kernel or GRUB) enters _start in 32-bit protected mode
 * with paging off, EAX = Multiboot magic and EBX = the physical address of
 * the Multiboot information.  The header's address fields (flag bit 16)
 * make both loaders place the flat image at 1 MiB without parsing it as
 * ELF (QEMU refuses 64-bit ELF files otherwise).
 *
 * Boot page tables map the first GiB twice: identity (so the code that
 * turns paging on keeps running) and at KERNEL_VMA (-2 GiB, where the
 * kernel is linked).  kmain() replaces them with the real kernel tables.
 */
#include "arch/x86_64/layout.h"

#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  ((1 << 0) | (1 << 1) | (1 << 16))
#define PHYS(x)   ((x) - KERNEL_VMA)

    .section .multiboot, "a"
    .balign 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long mb_header             /* header_addr */
    .long _image_start_phys     /* load_addr */
    .long _load_end_phys        /* load_end_addr */
    .long _image_end_phys       /* bss_end_addr */
    .long _start                /* entry_addr */

    .section .boot.text, "ax"
    .code32
    .global _start
_start:
    cli
    cld
    mov     %eax, %edi              /* Multiboot magic, kept for kmain */
    mov     %ebx, %esi              /* Multiboot info, physical */
    mov     $PHYS(boot_stack_top), %esp

    /* Long mode present?  If not, say so on the debug port and stop. */
    mov     $0x80000000, %eax
    cpuid
    cmp     $0x80000001, %eax
    jb      no_long_mode
    mov     $0x80000001, %eax
    cpuid
    bt      $29, %edx
    jnc     no_long_mode
    mov     %edx, %ebp              /* bit 20: NX available */

    /* Zero the four boot page-table pages. */
    push    %edi
    mov     $PHYS(boot_pml4), %edi
    mov     $(4 * 4096 / 4), %ecx
    xor     %eax, %eax
    rep stosl
    pop     %edi

    /* pml4[0] -> pdpt_low, pml4[511] -> pdpt_high */
    movl    $(PHYS(boot_pdpt_low) + 3), PHYS(boot_pml4)
    movl    $(PHYS(boot_pdpt_high) + 3), PHYS(boot_pml4) + 511 * 8
    /* both PDPTs point at one PD that maps 1 GiB with 2 MiB pages */
    movl    $(PHYS(boot_pd) + 3), PHYS(boot_pdpt_low)
    movl    $(PHYS(boot_pd) + 3), PHYS(boot_pdpt_high) + 510 * 8
    mov     $PHYS(boot_pd), %ebx
    xor     %ecx, %ecx
1:  mov     %ecx, %eax
    shl     $21, %eax
    or      $0x83, %eax             /* present, writable, 2 MiB */
    mov     %eax, (%ebx, %ecx, 8)
    inc     %ecx
    cmp     $512, %ecx
    jb      1b

    mov     %cr4, %eax
    or      $(1 << 5), %eax         /* PAE */
    mov     %eax, %cr4
    mov     $PHYS(boot_pml4), %eax
    mov     %eax, %cr3

    mov     $0xC0000080, %ecx       /* EFER */
    rdmsr
    or      $(1 << 8), %eax         /* LME */
    bt      $20, %ebp
    jnc     2f
    or      $(1 << 11), %eax        /* NXE */
2:  wrmsr

    mov     %cr0, %eax
    or      $0x80010001, %eax       /* PG | WP | PE */
    mov     %eax, %cr0

    lgdt    boot_gdtr
    ljmp    $0x08, $start64

no_long_mode:
    mov     $msg_no_lm, %esi
    mov     $0xE9, %dx
3:  lodsb
    test    %al, %al
    jz      4f
    outb    %al, %dx
    jmp     3b
4:  mov     $0xF4, %dx              /* isa-debug-exit: failure */
    mov     $MICA_EXIT_FAILURE, %eax
    outl    %eax, %dx
5:  hlt
    jmp     5b

    .code64
start64:
    mov     $0x10, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    xor     %eax, %eax
    mov     %ax, %fs
    mov     %ax, %gs
    movabs  $higher_half, %rax
    jmp     *%rax

    .section .boot.data, "aw"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF        /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF        /* 0x10: data */
boot_gdt_end:
boot_gdtr:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt
msg_no_lm:
    .asciz "Mica: this CPU has no long mode (x86_64); stopping.\n"

    .section .text.entry, "ax"
higher_half:
    movabs  $boot_stack_top, %rsp
    xor     %ebp, %ebp
    mov     %edi, %edi              /* upper halves are undefined after */
    mov     %esi, %esi              /* the mode switch: zero-extend */
    call    kmain
6:  cli
    hlt
    jmp     6b

    .section .bss
    .balign 4096
    .global boot_pml4
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096
    .global boot_stack, boot_stack_top
boot_stack:     .skip BOOT_STACK_SIZE
boot_stack_top:
