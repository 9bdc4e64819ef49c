/*
 * idt.c - the interrupt descriptor table, shared by all CPUs.
 *
 * All 256 vectors get an interrupt gate (interrupts off on entry) to the
 * stubs of isr.S.  NMI, double fault and machine check run on their own
 * IST stacks.  Only the breakpoint vector may be raised from user mode
 * (DPL 3), for debuggers later.
 */
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/trap.h"

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __packed;

extern const uint64_t isr_table[256];
static struct idt_gate idt[256] __aligned(16);

static void set_gate(unsigned v, uint64_t addr, unsigned ist, unsigned dpl)
{
    idt[v] = (struct idt_gate){
        .off_lo = addr & 0xFFFF,
        .sel = SEL_KCODE,
        .ist = (uint8_t)ist,
        .type = (uint8_t)(0x8E | (dpl << 5)),   /* present, interrupt gate */
        .off_mid = (addr >> 16) & 0xFFFF,
        .off_hi = (uint32_t)(addr >> 32),
    };
}

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, isr_table[v], 0, v == 3 ? 3 : 0);
    set_gate(2, isr_table[2], IST_NMI, 0);
    set_gate(8, isr_table[8], IST_DF, 0);
    set_gate(18, isr_table[18], IST_MC, 0);
}

void idt_load(void)
{
    struct { uint16_t limit; uint64_t base; } __packed idtr =
        { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}
