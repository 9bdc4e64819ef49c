/*
 * pic.c - putting the legacy 8259 PICs out of the way.
 *
 * The PICs power up delivering IRQs 0-15 on vectors 8-15 and 0x70-0x77,
 * which collide with CPU exceptions.  They are remapped to 0x20-0x2F and
 * then fully masked: the IOAPIC delivers device interrupts.  A masked PIC
 * can still raise a spurious IRQ 7 or 15 (an interrupt withdrawn before
 * it was acknowledged); those are recognized by the in-service register
 * and counted, never acknowledged (except the master's cascade for 15).
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xA0
#define PIC2_DATA 0xA1

static uint64_t spurious;

static uint8_t pic_isr(uint16_t cmd)
{
    outb(cmd, 0x0B);                /* OCW3: read ISR */
    return inb(cmd);
}

static void pic_irq(struct trap_frame *tf)
{
    unsigned irq = (unsigned)tf->vector - VEC_PIC_BASE;
    if (irq == 7 && !(pic_isr(PIC1_CMD) & 0x80)) {
        spurious++;
        return;
    }
    if (irq == 15 && !(pic_isr(PIC2_CMD) & 0x80)) {
        spurious++;
        outb(PIC1_CMD, 0x20);       /* the master saw a real cascade IRQ */
        return;
    }
    /* A real PIC interrupt although all lines are masked: acknowledge. */
    if (irq >= 8)
        outb(PIC2_CMD, 0x20);
    outb(PIC1_CMD, 0x20);
}

void pic_disable(void)
{
    outb(PIC1_CMD, 0x11);  io_wait();   /* ICW1: init, ICW4 follows */
    outb(PIC2_CMD, 0x11);  io_wait();
    outb(PIC1_DATA, VEC_PIC_BASE);      io_wait();  /* ICW2: vectors */
    outb(PIC2_DATA, VEC_PIC_BASE + 8);  io_wait();
    outb(PIC1_DATA, 4);    io_wait();   /* ICW3: slave on IRQ 2 */
    outb(PIC2_DATA, 2);    io_wait();
    outb(PIC1_DATA, 1);    io_wait();   /* ICW4: 8086 mode */
    outb(PIC2_DATA, 1);    io_wait();
    outb(PIC1_DATA, 0xFF);
    outb(PIC2_DATA, 0xFF);
    for (unsigned v = VEC_PIC_BASE; v < VEC_PIC_BASE + 16; v++)
        trap_set_handler(v, pic_irq);
}

uint64_t pic_spurious_count(void)
{
    return spurious;
}
