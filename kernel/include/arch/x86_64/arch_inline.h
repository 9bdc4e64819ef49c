/*
 * arch_inline.h - the hot part of the arch contract (see arch.h), inline.
 */
#ifndef MICA_X86_64_ARCH_INLINE_H
#define MICA_X86_64_ARCH_INLINE_H

#include "arch/x86_64/cpu.h"

struct percpu;

static inline irqflags_t arch_irq_save(void)
{
    irqflags_t f;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
    return f;
}

static inline void arch_irq_restore(irqflags_t f)
{
    if (f & RFLAGS_IF)
        __asm__ volatile("sti" : : : "memory");
}

static inline void arch_irq_enable(void)  { __asm__ volatile("sti" ::: "memory"); }
static inline void arch_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline bool arch_irq_enabled(void) { return read_rflags() & RFLAGS_IF; }
static inline void arch_cpu_relax(void)   { __asm__ volatile("pause" ::: "memory"); }
static inline uint64_t arch_timestamp(void) { return rdtsc(); }

/* Enable interrupts and sleep until one arrives (atomically: sti's
 * one-instruction shadow covers hlt, so no wakeup is lost). */
static inline void arch_wait_for_interrupt(void)
{
    __asm__ volatile("sti; hlt" ::: "memory");
}

static inline uintptr_t arch_frame_pointer(void)
{
    return (uintptr_t)__builtin_frame_address(0);
}

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(p));
    return p;
}

#endif
