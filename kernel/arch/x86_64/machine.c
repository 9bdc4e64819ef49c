/*
 * machine.c - the arch hooks of arch.h that are not inline: stopping,
 * shutting down, backtraces, and the deliberate faults the test harness
 * uses to prove that it notices crashes.
 */
#include "arch.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "lib.h"
#include "log.h"
#include "panic.h"
#include "percpu.h"

noreturn void arch_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

void arch_stop_other_cpus(void)
{
    if (cpus_online() > 1)
        lapic_send_ipi(0, ICR_ALL_BUT_SELF | ICR_NMI);
}

/* QEMU's isa-debug-exit first; then ACPI S5 through QEMU's PIIX4 and ICH9
 * PM ports, then a halt, for machines without either. */
noreturn void arch_shutdown(bool success)
{
    arch_irq_disable();
    outl(DEBUG_EXIT_PORT, success ? MICA_EXIT_SUCCESS : MICA_EXIT_FAILURE);
    outw(0x604, 0x2000);
    outw(0xB004, 0x2000);
    arch_halt_forever();
}

static bool kernel_stack_addr(uintptr_t p)
{
    return p >= DIRECT_MAP_BASE && (p & 7) == 0;
}

size_t arch_backtrace(uintptr_t fp, uintptr_t *pcs, size_t max)
{
    size_t n = 0;
    uintptr_t start = fp;
    while (n < max && fp && kernel_stack_addr(fp) && fp - start < 65536) {
        uintptr_t next = ((uintptr_t *)fp)[0];
        uintptr_t ret = ((uintptr_t *)fp)[1];
        if (ret < KERNEL_VMA)
            break;
        pcs[n++] = ret;
        if (next <= fp)
            break;
        fp = next;
    }
    return n;
}

/* Deliberate faults, through real call chains so backtraces show names. */
__attribute__((noinline)) static void fault_null_write(volatile int *p)
{
    *p = 42;
}

__attribute__((noinline)) static void fault_page(void)
{
    volatile int *p;
    __asm__("" : "=r"(p) : "0"((uintptr_t)0x8));  /* hide the constant */
    fault_null_write(p);
    __asm__ volatile("" ::: "memory");
}

static void fault_triple(void)
{
    struct { uint16_t limit; uint64_t base; } __packed idtr = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(idtr));
}

void arch_inject_fault(const char *kind)
{
    kprintf("fault: injecting '%s' as requested\n", kind);
    if (strcmp(kind, "pf") == 0)
        fault_page();
    else if (strcmp(kind, "ud") == 0)
        __asm__ volatile("ud2");
    else if (strcmp(kind, "gp") == 0)
        *(volatile uint64_t *)0x8000000000000000ull = 1;
    else if (strcmp(kind, "df") == 0)           /* #PF on a dead stack */
        __asm__ volatile("mov $0xdead000, %%rsp; pushq $0" ::: "memory");
    else if (strcmp(kind, "triple") == 0)
        fault_triple();
    else if (strcmp(kind, "panic") == 0)
        panic("deliberate panic requested on the command line");
    else if (strcmp(kind, "hang") == 0)
        arch_halt_forever();
    kprintf("fault: unknown kind '%s' (pf, ud, gp, df, triple, panic, hang)\n",
            kind);
}
