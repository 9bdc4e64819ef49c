/*
 * host_arch.h - the arch contract (arch.h) for host unit tests.
 *
 * Host tests run portable kernel code in one thread of an ordinary
 * process: interrupts do not exist, there is one "CPU", and the
 * timestamp counter is the host's monotonic clock.
 */
#ifndef MICA_HOST_ARCH_H
#define MICA_HOST_ARCH_H

#include <time.h>

struct percpu;

static inline irqflags_t arch_irq_save(void) { return 0; }
static inline void arch_irq_restore(irqflags_t f) { (void)f; }
static inline void arch_irq_enable(void) {}
static inline void arch_irq_disable(void) {}
static inline bool arch_irq_enabled(void) { return true; }
static inline void arch_cpu_relax(void) {}
static inline void arch_wait_for_interrupt(void) {}
static inline struct percpu *this_cpu(void) { return NULL; }
static inline uintptr_t arch_frame_pointer(void)
{
    return (uintptr_t)__builtin_frame_address(0);
}
static inline uint64_t arch_timestamp(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
