/*
 * main.c - what the kernel does once the machine is up.
 *
 * For now: report readiness with the guest time it took, honour the
 * command line's deliberate faults and self-test selection, and either
 * shut down with the test verdict or idle.  The final line of a test
 * boot is the marker "mica: done" the harness looks for, printed only
 * after every selected test has reported.
 */
#include "arch.h"
#include "bootinfo.h"
#include "clock.h"
#include "cmdline.h"
#include "kernel.h"
#include "ktest.h"
#include "lib.h"
#include "log.h"
#include "percpu.h"
#include "pmm.h"

static void report_ready(void)
{
    uint64_t us = clock_ns() / 1000;
    kprintf("mica: kernel ready at %lu.%06lu s guest time; %u CPUs online, "
            "%lu MiB free\n", us / 1000000, us % 1000000, cpus_online(),
            pmm_free_pages() >> 8);
}

noreturn void kernel_main(void)
{
    report_ready();
    const char *fault = cmdline_get(&kernel_cmdline, "fault");
    if (fault)
        arch_inject_fault(fault);
    const char *sel = cmdline_get(&kernel_cmdline, "test");
    if (sel && strcmp(sel, "none") != 0) {
        unsigned ran = 0;
        unsigned failed = ktest_run(sel, &ran);
        kprintf("mica: %u passed, %u failed\n", ran - failed, failed);
        if (ran == 0)
            kprintf("mica: no test matched '%s'\n", sel);
        kprintf("mica: done\n");
        arch_shutdown(failed == 0 && ran > 0);
    }
    kprintf("mica: nothing more to run; idle\n");
    for (;;)
        arch_wait_for_interrupt();
}
