/*
 * trap.h - the interrupt and exception frame, and vector assignments.
 *
 * isr.S pushes a struct trap_frame for every vector; the offsets here are
 * checked against the assembly at compile time (trap.c).
 */
#ifndef MICA_X86_64_TRAP_H
#define MICA_X86_64_TRAP_H

#include "types.h"

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;      /* pushed by the CPU */
};

#define TRAP_FRAME_VECTOR_OFF (15 * 8)

/* Vectors */
#define VEC_PIC_BASE    0x20    /* legacy PIC, remapped here then masked */
#define VEC_IRQ_BASE    0x30    /* device interrupts (IOAPIC, MSI) */
#define VEC_IPI_CALL    0xE0    /* run a function on other CPUs */
#define VEC_RESCHED     0xE1    /* look at the run queue */
#define VEC_TIMER       0xEF    /* LAPIC timer */
#define VEC_APIC_ERROR  0xFE
#define VEC_SPURIOUS    0xFF

typedef void (*irq_handler_t)(struct trap_frame *tf);

/* Route `vector` to `h` (called with interrupts disabled; the LAPIC EOI
 * is the handler's business). */
void trap_set_handler(unsigned vector, irq_handler_t h);

/* Entry from isr.S. */
void trap_dispatch(struct trap_frame *tf);

/* Print the registers and a backtrace of a frame. */
void trap_report(const struct trap_frame *tf, const char *what);

#endif
