/*
 * trap.c - what happens on every interrupt and exception.
 *
 * Device interrupts and IPIs go to the handler registered for their
 * vector.  A CPU exception in the kernel is a bug: it is reported with
 * the registers, the faulting address and a symbolized backtrace, then
 * the kernel panics (a fault in a user copy listed in the exception
 * table is not: the copy returns ERR_FAULT).  A user-mode exception the
 * kernel cannot resolve goes to the thread's or the process's exception
 * channel (core/exception.c), whose handler resumes or kills; with no
 * handler, or its verdict kill, the process is killed and the kill
 * reported.  An NMI during a panic is the panicking CPU telling this one
 * to stop.
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioperm.h"
#include "arch/x86_64/layout.h"
#include "exception.h"
#include "idle.h"
#include "ksyms.h"
#include "mica/errors.h"
#include "process.h"
#include "sched.h"
#include "syscall.h"
#include "uaccess.h"
#include "log.h"
#include "panic.h"
#include "percpu.h"

_Static_assert(offsetof(struct trap_frame, vector) == TRAP_FRAME_VECTOR_OFF,
               "isr.S frame layout");
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "isr.S frame size");

static irq_handler_t handlers[256];

static const char *const exc_names[32] = {
    "divide error (#DE)", "debug (#DB)", "NMI", "breakpoint (#BP)",
    "overflow (#OF)", "bound range (#BR)", "invalid opcode (#UD)",
    "device not available (#NM)", "double fault (#DF)",
    "coprocessor overrun", "invalid TSS (#TS)", "segment not present (#NP)",
    "stack fault (#SS)", "general protection (#GP)", "page fault (#PF)",
    "reserved", "x87 error (#MF)", "alignment check (#AC)",
    "machine check (#MC)", "SIMD error (#XM)", "virtualization (#VE)",
    "control protection (#CP)", "reserved", "reserved", "reserved",
    "reserved", "reserved", "reserved", "hypervisor injection (#HV)",
    "VMM communication (#VC)", "security (#SX)", "reserved",
};

void trap_set_handler(unsigned vector, irq_handler_t h)
{
    handlers[vector & 0xFF] = h;
}

static void report_pf(const struct trap_frame *tf, uint64_t addr)
{
    uint64_t e = tf->error;
    kprintf("  fault address %016lx (%s, %s, %s%s%s)\n", addr,
            e & 1 ? "protection" : "not present", e & 2 ? "write" : "read",
            e & 4 ? "user" : "kernel", e & 16 ? ", instruction fetch" : "",
            e & 8 ? ", reserved bit" : "");
}

/* The report of a fault at `addr` (the page fault's address). */
static void report(const struct trap_frame *tf, const char *what,
                   uint64_t addr)
{
    struct percpu *c = this_cpu();
    if (!(tf->cs & 3))      /* "***" marks kernel crashes for the harness */
        kprintf("\n*** %s on CPU %u, kernel mode, error code %#lx\n", what,
                c ? c->id : 0, tf->error);
    else
        kprintf("  %s on CPU %u, user mode, error code %#lx\n", what,
                c ? c->id : 0, tf->error);
    if (tf->vector == 14)
        report_pf(tf, addr);
    kprintf("  rip %016lx  rsp %016lx  rflags %016lx\n",
            tf->rip, tf->rsp, tf->rflags);
    kprintf("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n",
            tf->rax, tf->rbx, tf->rcx, tf->rdx);
    kprintf("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n",
            tf->rsi, tf->rdi, tf->rbp, tf->r8);
    kprintf("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n",
            tf->r9, tf->r10, tf->r11, tf->r12);
    kprintf("  r13 %016lx  r14 %016lx  r15 %016lx\n", tf->r13, tf->r14,
            tf->r15);
    kprintf("  cs %04lx ss %04lx cr0 %08lx cr3 %016lx cr4 %08lx\n",
            tf->cs, tf->ss, read_cr0(), read_cr3(), read_cr4());
}

void trap_report(const struct trap_frame *tf, const char *what)
{
    report(tf, what, read_cr2());
}

/* A fault in a function that keeps no frame (a leaf, or one faulting
 * before its prologue) leaves its caller's return address on top of the
 * stack, where the frame-pointer walk cannot see it.  If that word looks
 * like a return address (in kernel text, just after a call instruction)
 * it is shown too, marked '?' as a guess. */
static void report_stack_top(const struct trap_frame *tf)
{
    extern char _text_start[], _text_end[];
    if ((tf->cs & 3) || (tf->rsp & 7) || tf->rsp < KERNEL_VMA)
        return;
    uintptr_t ret = *(const uintptr_t *)tf->rsp;
    if (ret < (uintptr_t)_text_start + 6 || ret >= (uintptr_t)_text_end)
        return;
    const uint8_t *p = (const uint8_t *)ret;
    if (p[-5] != 0xE8 && p[-2] != 0xFF && p[-3] != 0xFF && p[-6] != 0xFF)
        return;
    uint64_t off = 0;
    const char *name = ksyms_lookup(&ksyms_kernel, ret, &off);
    if (name)
        kprintf("  ?  %016lx %s+%#lx\n", ret, name, off);
}

static void exception(struct trap_frame *tf)
{
    static int depth;
    if (tf->vector == 2 && panicking())
        arch_halt_forever();
    if (!panic_begin())
        arch_halt_forever();
    if (++depth > 2)                    /* the report itself keeps faulting */
        arch_shutdown(false);
    trap_report(tf, exc_names[tf->vector]);
    kprintf("Backtrace:\n");
    uintptr_t pcs[32];
    pcs[0] = tf->rip;
    print_pcs(pcs, 1, 0);
    report_stack_top(tf);
    size_t n = arch_backtrace(tf->rbp, pcs, ARRAY_SIZE(pcs));
    print_pcs(pcs, n, 1);
    panic_finish();
}

static const char *const killed_how[] = {
    [EXCEPTION_UNHANDLED] = "killed",
    [EXCEPTION_KILLED] = "killed by its exception handler",
    [EXCEPTION_DROPPED] = "killed, its exception handler gave no verdict",
};

/* A user thread took an exception at `addr` (page faults) that nothing
 * in the kernel resolves.  Its exception handler, if it has one,
 * decides, while the thread waits here with its registers in tf; with
 * none, or when the handler kills, the kill is reported and the process
 * killed with the exit code -(vector + 1). */
static void user_exception(struct trap_frame *tf, const char *what,
                           uint64_t addr)
{
    struct thread *t = thread_current();
    struct process *p = t->proc;
    struct mica_exception info = {
        .vector = (uint32_t)tf->vector,
        .pid = p ? p->pid : 0,
        .tid = t->tid,
        .error_code = tf->error,
        .fault_addr = addr,
    };
    arch_frame_user_state(tf, &info.regs);
    arch_irq_enable();                  /* from user mode: no lock held */
    enum exception_outcome o = exception_raise(&info);
    arch_irq_disable();
    if (o == EXCEPTION_RESUMED || o == EXCEPTION_ENDED)
        return;                 /* retry, or exit on the way out */
    kprintf("fault: %s in process %u '%s', thread %u '%s': %s\n", what,
            p ? p->pid : 0, p ? p->name : "?", t->tid, t->name,
            killed_how[o]);
    report(tf, what, addr);
    if (p)
        process_kill(p, -(int)tf->vector - 1);
    else
        t->kill_pending = true;
}

static void page_fault(struct trap_frame *tf)
{
    uint64_t addr = read_cr2();
    bool write = tf->error & 2, exec = tf->error & 16;
    struct process *p = process_current();
    bool user_mode = tf->cs & 3;
    uint64_t fixup = user_mode ? 0 : extable_find(tf->rip);
    if (user_mode || fixup) {
        int r = ERR_FAULT;
        if (p && addr < USER_TOP && !(tf->error & 8)) {
            if (tf->rflags & RFLAGS_IF)
                arch_irq_enable();
            r = aspace_fault(p->aspace, addr, write, exec);
            arch_irq_disable();
        }
        if (r == 0)
            return;                     /* resolved: retry the access */
        if (fixup)
            tf->rip = fixup;            /* the copy reports ERR_FAULT */
        else
            user_exception(tf, exc_names[14], addr);
        return;
    }
    exception(tf);
}

void trap_dispatch(struct trap_frame *tf)
{
    unsigned v = (unsigned)tf->vector;
    bool from_user = tf->cs & 3;
    struct percpu *c = this_cpu();
    if (c && c->halted)                 /* woken from cpu_idle_wait */
        cpu_idle_woken(c);
    if (v == 14) {
        page_fault(tf);
    } else if (v < 32) {
        if (from_user && v == 13 && io_refresh(thread_current()->proc))
            ;                           /* newly allowed port: retry */
        else if (from_user && v != 2 && v != 8 && v != 18)
            user_exception(tf, exc_names[v], 0);
        else
            exception(tf);
    } else {
        c->irq_count++;
        if (handlers[v]) {
            handlers[v](tf);
        } else {
            /* An interrupt nobody handles (the MSI of a device whose
             * interrupt object is gone, say) is still acknowledged, or
             * its bit stays in service and holds back every interrupt
             * of its priority class and below on this CPU for good. */
            kprintf("trap: unexpected interrupt vector %#x on CPU %u\n", v,
                    c->id);
            lapic_eoi();
        }
    }
    if (from_user)
        user_return_work(tf);
    else
        sched_preempt_check(false);
}
