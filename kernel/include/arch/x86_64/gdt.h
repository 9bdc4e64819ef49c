/*
 * gdt.h - segments, the TSS and the IDT for each CPU.
 *
 * Selector layout (fixed by SYSCALL/SYSRET, which derive the user
 * selectors from STAR[63:48] = 0x18):
 *   0x08 kernel code   0x10 kernel data   0x18 user code (32-bit, unused)
 *   0x20 user data     0x28 user code     0x30 TSS (two slots)
 */
#ifndef MICA_X86_64_GDT_H
#define MICA_X86_64_GDT_H

#include "arch/x86_64/layout.h"

#define SEL_KCODE   0x08
#define SEL_KDATA   0x10
#define SEL_UCODE32 0x18
#define SEL_UDATA   0x20
#define SEL_UCODE   0x28
#define SEL_TSS     0x30

#define IST_NMI 1
#define IST_DF  2
#define IST_MC  3

#ifndef __ASSEMBLER__
#include "types.h"

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __packed;

/* The I/O permission bitmap follows the TSS (one bit per port, set:
 * denied) and ends with an all-ones byte, inside the TSS limit.  Pointing
 * iomap_base past the limit denies every port without touching it. */
#define IO_BITMAP_BYTES 8192
#define IOMAP_ON  ((uint16_t)sizeof(struct tss))
#define IOMAP_OFF ((uint16_t)(sizeof(struct tss) + IO_BITMAP_BYTES + 1))

struct arch_cpu {
    uint64_t gdt[8];
    struct tss tss;
    uint8_t io_bitmap[IO_BITMAP_BYTES + 1];     /* right after the TSS */
    uint64_t io_gen;                /* generation loaded in io_bitmap */
    uint8_t ist_stacks[3][IST_STACK_SIZE] __aligned(16);
};

/* Load this CPU's GDT and TSS (ac must stay allocated forever). */
void gdt_init_cpu(struct arch_cpu *ac);

/* Build the IDT once (boot CPU), then load it on every CPU. */
void idt_init(void);
void idt_load(void);

#endif /* __ASSEMBLER__ */

#endif
