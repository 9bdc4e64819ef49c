/*
 * idle.c - halted CPUs and the machine's idle time (idle.h).
 *
 * One word, changed by compare-and-swap, holds the number of halted
 * CPUs (bits 0-7), whether all online CPUs are halted (bit 8), and since
 * when (the timestamp in bits 9-63, modulo 2^55: years of ticks).  The
 * CPU whose halt completes the count starts a stretch; the first to
 * wake ends it and adds it to the sum.  The clock is read only then, at
 * the two ends of a stretch, so a halt while another CPU runs -- the
 * common case, as in a call between CPUs -- costs the two
 * compare-and-swaps and little else.  (A stretch that seems to end
 * before it began counts as nothing.)
 *
 * A CPU's `halted` flag is set after the count is raised, and taken
 * (exchanged for false) before it is lowered, so an NMI landing
 * anywhere in between either takes the flag and does the whole way out
 * itself, or finds none and leaves it to the interrupt that ends the
 * halt.  A CPU that an NMI woke before it halted then halts uncounted
 * until its next interrupt, which only makes the sum short.
 *
 * The timestamps are taken a few instructions from the halt itself (the
 * compare-and-swap and `sti` before it, the interrupt entry's register
 * saves after it), so those instructions count as idle.
 */
#include "arch.h"
#include "idle.h"
#include "percpu.h"

#define COUNT_MASK   0xffull
#define ALL_HALTED   0x100ull
#define SINCE_SHIFT  9
#define SINCE_MASK   ((1ull << (64 - SINCE_SHIFT)) - 1)

static uint64_t state;
static uint64_t all_total;

void cpu_idle_wait(void)
{
    struct percpu *c = this_cpu();
    uint64_t n;
    unsigned online = cpus_online();
    uint64_t old = __atomic_load_n(&state, __ATOMIC_RELAXED), new;
    do {
        n = (old & COUNT_MASK) + 1;
        new = (old & ~COUNT_MASK) | n;
        if (n >= online && !(old & ALL_HALTED))
            new = (arch_timestamp() & SINCE_MASK) << SINCE_SHIFT |
                  ALL_HALTED | n;
    } while (!__atomic_compare_exchange_n(&state, &old, new, true,
                                          __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED));
    c->halted = true;
    arch_wait_for_interrupt();
    arch_irq_disable();
    if (c->halted)              /* woken by something that did not enter */
        cpu_idle_woken(c);
}

void cpu_idle_woken(struct percpu *c)
{
    if (!__atomic_exchange_n(&c->halted, false, __ATOMIC_RELAXED))
        return;                 /* an NMI inside this got there first */
    uint64_t old = __atomic_load_n(&state, __ATOMIC_RELAXED), new;
    do {
        new = ((old & ~ALL_HALTED) & ~COUNT_MASK) |
              ((old & COUNT_MASK) - 1);
    } while (!__atomic_compare_exchange_n(&state, &old, new, true,
                                          __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED));
    if (old & ALL_HALTED) {
        uint64_t now = arch_timestamp();
        uint64_t d = ((now & SINCE_MASK) - (old >> SINCE_SHIFT)) & SINCE_MASK;
        if (d < SINCE_MASK / 2)     /* else the stretch began after now */
            __atomic_add_fetch(&all_total, d, __ATOMIC_RELAXED);
    }
}

uint64_t idle_all_ticks(void)
{
    return __atomic_load_n(&all_total, __ATOMIC_RELAXED);
}
