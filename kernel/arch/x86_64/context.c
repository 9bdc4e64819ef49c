/*
 * context.c - thread machine state on x86_64: first entry into a new
 * thread, what changes on every switch, and the timer and IPI hooks the
 * scheduler uses.
 *
 * A new thread's kernel stack holds, from the top: a trap frame (user
 * threads: the state iretq will load), then a switch frame whose return
 * address is thread_entry (switch.S).  On a switch the TSS's RSP0 and the
 * per-CPU syscall stack move to the next thread's stack top, the user
 * FS/GS bases and FPU state are swapped for user threads, and CR3 changes
 * when the address space does.
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/ioperm.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/trap.h"
#include "clock.h"
#include "fpu.h"
#include "lib.h"
#include "percpu.h"
#include "process.h"
#include "sched.h"
#include "thread.h"

extern char thread_entry[];

struct switch_frame {
    uint64_t r15, r14, r13, r12, rbx, rbp, ret;
};

static uintptr_t stack_top(struct thread *t)
{
    return (uintptr_t)t->kstack + KSTACK_SIZE;
}

void arch_thread_init_kernel(struct thread *t, void (*fn)(void *), void *arg)
{
    struct switch_frame *sf = (struct switch_frame *)(stack_top(t) - 16) - 1;
    memset(sf, 0, sizeof(*sf));
    sf->r12 = (uint64_t)fn;
    sf->r13 = (uint64_t)arg;
    sf->ret = (uint64_t)thread_entry;
    t->arch.ctx_sp = (uintptr_t)sf;
}

void arch_thread_init_user(struct thread *t, uint64_t entry, uint64_t sp,
                           uint64_t arg0, uint64_t arg1)
{
    struct trap_frame *tf = (struct trap_frame *)stack_top(t) - 1;
    memset(tf, 0, sizeof(*tf));
    tf->rip = entry;
    tf->rsp = sp;
    tf->rdi = arg0;
    tf->rsi = arg1;
    tf->cs = SEL_UCODE | 3;
    tf->ss = SEL_UDATA | 3;
    tf->rflags = RFLAGS_IF | 0x2;
    struct switch_frame *sf = (struct switch_frame *)tf - 1;
    memset(sf, 0, sizeof(*sf));
    sf->ret = (uint64_t)thread_entry;
    t->arch.ctx_sp = (uintptr_t)sf;
}

void arch_thread_init_clone(struct thread *t, const struct trap_frame *parent,
                            uint64_t sp)
{
    arch_thread_init_user(t, parent->rip, sp, 0, 0);
    struct trap_frame *tf = (struct trap_frame *)stack_top(t) - 1;
    *tf = *parent;
    tf->rax = 0;
    tf->rsp = sp;
}

void arch_set_fs_base(uint64_t base)
{
    wrmsr(MSR_FS_BASE, base);
}

void arch_switch_prepare(struct thread *prev, struct thread *next)
{
    struct percpu *c = this_cpu();
    if (prev->arch.fpu)
        fpu_save(prev->arch.fpu);
    if (prev->proc) {
        prev->arch.fs_base = rdmsr(MSR_FS_BASE);
        prev->arch.gs_base = rdmsr(MSR_KERNEL_GS_BASE);
    }
    if (next->kstack) {
        struct arch_cpu *ac = c->arch;
        ac->tss.rsp[0] = stack_top(next);
        c->kstack_top = stack_top(next);
    }
    if (next->proc) {
        wrmsr(MSR_FS_BASE, next->arch.fs_base);
        wrmsr(MSR_KERNEL_GS_BASE, next->arch.gs_base);
    }
    aspace_activate(next->proc ? next->proc->aspace : NULL);
    struct arch_cpu *ac = c->arch;
    if (ac->tss.iomap_base != IOMAP_OFF || (next->proc && next->proc->io_bitmap))
        io_switch(ac, next->proc);      /* rarely: drivers only */
    if (next->arch.fpu)
        fpu_restore(next->arch.fpu);
}

void arch_timer_oneshot(uint64_t deadline_ns)
{
    lapic_timer_oneshot(deadline_ns ? deadline_ns : 0,
                        deadline_ns ? clock_ns() : 0);
}

void arch_send_resched(int cpu)
{
    lapic_send_ipi(cpus[cpu]->hw_id, ICR_FIXED | VEC_RESCHED);
}
