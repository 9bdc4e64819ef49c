/*
 * panic.c - stopping the whole machine with a useful report.
 *
 * The first CPU to panic wins; any other CPU that panics (or faults while
 * the report is being written) halts quietly.  The other CPUs are stopped
 * with an NMI, which reaches them even with interrupts off, before the
 * report is printed, so the report is the last thing in the log.
 */
#include "arch.h"
#include "ksyms.h"
#include "log.h"
#include "panic.h"
#include "percpu.h"

static volatile int panic_cpu = -1;

bool panicking(void)
{
    return panic_cpu >= 0;
}

bool panic_begin(void)
{
    arch_irq_disable();
    struct percpu *c = this_cpu();
    int me = c ? (int)c->id : 0;
    int expected = -1;
    if (!__atomic_compare_exchange_n(&panic_cpu, &expected, me, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        return expected == me;      /* nested fault on the panicking CPU */
    log_panic_mode();
    arch_stop_other_cpus();
    return true;
}

noreturn void panic_finish(void)
{
    kprintf("KERNEL PANIC: system halted\n");
    arch_shutdown(false);
}

void print_pcs(const uintptr_t *pcs, size_t n, size_t first)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t off = 0;
        const char *name = ksyms_lookup(&ksyms_kernel, pcs[i], &off);
        if (name)
            kprintf("  #%zu %016lx %s+%#lx\n", first + i, pcs[i], name, off);
        else
            kprintf("  #%zu %016lx ?\n", first + i, pcs[i]);
    }
}

void print_backtrace(uintptr_t fp)
{
    uintptr_t pcs[32];
    size_t n = arch_backtrace(fp, pcs, ARRAY_SIZE(pcs));
    print_pcs(pcs, n, 0);
}

void panic(const char *fmt, ...)
{
    static bool nested;
    if (!panic_begin() || nested)
        arch_halt_forever();
    nested = true;
    va_list ap;
    va_start(ap, fmt);
    kprintf("\n*** panic on CPU %u: ", this_cpu() ? this_cpu()->id : 0);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\nBacktrace:\n");
    print_backtrace(arch_frame_pointer());
    panic_finish();
}
