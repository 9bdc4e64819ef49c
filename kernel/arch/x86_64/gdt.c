/*
 * gdt.c - the per-CPU GDT and TSS.
 *
 * Long mode ignores segment bases and limits except for FS/GS (MSRs) and
 * the TSS, which holds the stack pointers for entering the kernel: RSP0
 * (from user mode, set per thread later) and the IST stacks that NMI,
 * double fault and machine check always switch to, so they run on a good
 * stack even when the current one is not.  The I/O permission bitmap
 * after the TSS is ioperm.c's.
 */
#include "arch/x86_64/layout.h"
#include "arch/x86_64/gdt.h"
#include "lib.h"

#define SEG_CODE64(dpl) (0x00AF9A000000FFFFull | ((uint64_t)(dpl) << 45))
#define SEG_DATA(dpl)   (0x00CF92000000FFFFull | ((uint64_t)(dpl) << 45))
#define SEG_CODE32(dpl) (0x00CF9A000000FFFFull | ((uint64_t)(dpl) << 45))

_Static_assert(offsetof(struct arch_cpu, io_bitmap) ==
               offsetof(struct arch_cpu, tss) + sizeof(struct tss),
               "the I/O bitmap must follow the TSS");

/* The TSS and its I/O bitmap, with the closing all-ones byte. */
static void set_tss_desc(uint64_t *gdt, struct tss *tss)
{
    uint64_t base = (uint64_t)tss;
    uint64_t limit = sizeof(*tss) + IO_BITMAP_BYTES + 1 - 1;
    gdt[0] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
             (0x89ull << 40) |                  /* present, 64-bit TSS */
             (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    gdt[1] = base >> 32;
}

void gdt_init_cpu(struct arch_cpu *ac)
{
    ac->gdt[0] = 0;
    ac->gdt[1] = SEG_CODE64(0);
    ac->gdt[2] = SEG_DATA(0);
    ac->gdt[3] = SEG_CODE32(3);
    ac->gdt[4] = SEG_DATA(3);
    ac->gdt[5] = SEG_CODE64(3);
    memset(&ac->tss, 0, sizeof(ac->tss));
    for (int i = 0; i < 3; i++)
        ac->tss.ist[i] = (uint64_t)&ac->ist_stacks[i][IST_STACK_SIZE];
    memset(ac->io_bitmap, 0xFF, sizeof(ac->io_bitmap));
    ac->io_gen = 0;
    ac->tss.iomap_base = IOMAP_OFF;             /* every port denied */
    set_tss_desc(&ac->gdt[6], &ac->tss);

    struct { uint16_t limit; uint64_t base; } __packed gdtr =
        { sizeof(ac->gdt) - 1, (uint64_t)ac->gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "mov %1, %%ds\n\t"
        "mov %1, %%es\n\t"
        "mov %1, %%ss\n\t"
        "pushq %2\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "ltr %w3"
        : : "m"(gdtr), "r"((uint64_t)SEL_KDATA), "i"(SEL_KCODE),
            "r"((uint64_t)SEL_TSS) : "rax", "memory");
}
