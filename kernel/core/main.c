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
#include "printf.h"
#include "process.h"
#include "sched.h"
#include "userboot.h"

static void report_ready(void)
{
    uint64_t us = clock_ns() / 1000;
    kprintf("mica: kernel ready at %lu.%06lu s guest time; %u CPUs online, "
            "%lu MiB free\n", us / 1000000, us % 1000000, cpus_online(),
            pmm_free_pages() >> 8);
}

/* Start init and wait for it; returns its exit status (-1 if it could
 * not start).  With a test selection init exits 0 when its suites all
 * passed, 1 when one failed, 2 when the selection named none of them. */
static int run_init_arg(const char *key, const char *val)
{
    char arg[CMDLINE_MAX];
    if ((size_t)ksnprintf(arg, sizeof(arg), "%s=%s", key, val) >=
        sizeof(arg)) {
        kprintf("mica: %s= is too long\n", key);
        return -1;
    }
    const char *const argv[] = { "init", arg, NULL };
    struct process *p;
    int err = userboot_start(argv, &p);
    if (err) {
        kprintf("mica: cannot start init: %d\n", err);
        return -1;
    }
    process_wait(p, 0);
    int code = p->exit_code;
    object_unref(&p->obj);
    kprintf("mica: init exited with status %d\n", code);
    return code;
}

static int run_init(const char *sel)
{
    return run_init_arg("test", sel ? sel : "none");
}

static noreturn void run_tests(const char *sel)
{
    bool with_init = bootinfo_module("init") != NULL;
    unsigned ran = 0;
    unsigned failed = ktest_run(sel, &ran, with_init);
    if (with_init) {
        int code = run_init(sel);
        if (code == 2) {
            kprintf("ok %u userspace # SKIP no user test selected\n", ran + 1);
        } else {
            ran++;
            failed += code != 0;
            kprintf("%s %u userspace\n", code ? "not ok" : "ok", ran);
        }
    }
    kprintf("mica: %u passed, %u failed\n", ran - failed, failed);
    if (ran == 0)
        kprintf("mica: no test matched '%s'\n", sel);
    kprintf("mica: done\n");
    arch_shutdown(failed == 0 && ran > 0);
}

noreturn void kernel_main(void)
{
    report_ready();
    const char *fault = cmdline_get(&kernel_cmdline, "fault");
    if (fault)
        arch_inject_fault(fault);
    const char *sel = cmdline_get(&kernel_cmdline, "test");
    if (sel && strcmp(sel, "none") != 0)
        run_tests(sel);
    const char *bench = cmdline_get(&kernel_cmdline, "bench");
    if (bench) {
        int code = run_init_arg("bench", bench);
        kprintf("mica: done\n");
        arch_shutdown(code == 0);
    }
    if (bootinfo_module("init"))
        run_init(NULL);
    kprintf("mica: nothing more to run; idle\n");
    for (;;)
        sched_sleep_until(0);
}
