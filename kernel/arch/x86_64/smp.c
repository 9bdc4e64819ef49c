/*
 * smp.c - bringing up the application processors (APs).
 *
 * The boot CPU copies the trampoline below 1 MiB, identity-maps it, sends
 * INIT to every AP, waits the 10 ms the MP specification asks for once
 * for all of them, then starts them one by one with STARTUP IPIs (a second
 * SIPI only if the first did not take), waiting for each to mark itself
 * online before reusing the trampoline's data words for the next.
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "lib.h"
#include "log.h"
#include "panic.h"
#include "physmem.h"
#include "pmm.h"
#include "slab.h"
#include "smp.h"
#include "fpu.h"
#include "idle.h"
#include "sched.h"
#include "syscall.h"

extern char tramp[], tramp_end[];
extern uint32_t tramp_cr3, tramp_efer;
extern uint64_t tramp_stack, tramp_percpu, tramp_entry;

static struct percpu bsp_cpu;
static struct arch_cpu bsp_arch;

static void set_gs(struct percpu *c)
{
    c->self = c;
    wrmsr(MSR_GS_BASE, (uint64_t)c);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
}

static void call_ipi(struct trap_frame *tf)
{
    (void)tf;
    smp_call_handle();
    lapic_eoi();
}

void arch_send_call_ipi(unsigned cpu)
{
    lapic_send_ipi(cpus[cpu]->hw_id, ICR_FIXED | VEC_IPI_CALL);
}

void smp_init_bsp(void)
{
    extern char boot_stack_top[];
    bsp_cpu.id = 0;
    bsp_cpu.arch = &bsp_arch;
    bsp_cpu.stack_top = (uintptr_t)boot_stack_top;
    set_gs(&bsp_cpu);
    cpus[0] = &bsp_cpu;
    ncpus = 1;
    gdt_init_cpu(&bsp_arch);
}

noreturn void ap_main(struct percpu *c);
noreturn void ap_main(struct percpu *c)
{
    set_gs(c);
    gdt_init_cpu(c->arch);
    idt_load();
    write_cr4(read_cr4() | CR4_PGE);
    lapic_init_cpu();
    c->hw_id = lapic_id();
    fpu_init_cpu();
    paging_pat_init_cpu();
    syscall_init_cpu();
    sched_init_cpu();                   /* this context becomes idle/N */
    timer_start_cpu();
    cpu_set_online(c);
    for (;;) {
        arch_irq_disable();
        sched_preempt_check(false);
        cpu_idle_wait();
    }
}

/* Per-CPU data, arch data and stack for CPU `id`; NULL if out of memory. */
static struct percpu *ap_alloc(unsigned id, uint32_t apic_id)
{
    struct percpu *c = kzalloc(sizeof(*c));
    struct arch_cpu *ac = kzalloc(sizeof(*ac));
    paddr_t stack = pmm_alloc(2);               /* KSTACK_SIZE */
    if (!c || !ac || !stack) {
        kfree(c);
        kfree(ac);
        if (stack)
            pmm_free(stack, 2);
        return NULL;
    }
    c->id = id;
    c->hw_id = apic_id;
    c->arch = ac;
    c->stack_top = (uintptr_t)phys_to_virt(stack) + KSTACK_SIZE;
    return c;
}

static bool wait_online(struct percpu *c, uint64_t us)
{
    for (uint64_t t = 0; t < us; t += 100) {
        if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
            return true;
        udelay(100);
    }
    return c->online;
}

static bool start_ap(struct percpu *c)
{
    void *t = phys_to_virt(TRAMPOLINE_PHYS);
#define TRAMP_WORD(sym) ((char *)t + ((char *)&(sym) - tramp))
    *(uint64_t *)TRAMP_WORD(tramp_stack) = c->stack_top;
    *(uint64_t *)TRAMP_WORD(tramp_percpu) = (uint64_t)c;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#undef TRAMP_WORD
    for (int attempt = 0; attempt < 2; attempt++) {
        lapic_send_ipi(c->hw_id, ICR_STARTUP | (TRAMPOLINE_PHYS >> 12));
        if (wait_online(c, attempt ? 100000 : 1000))
            return true;
    }
    return false;
}

static void prepare_trampoline(void)
{
    char *t = phys_to_virt(TRAMPOLINE_PHYS);
    memcpy(t, tramp, (size_t)(tramp_end - tramp));
    *(uint32_t *)(t + ((char *)&tramp_cr3 - tramp)) = (uint32_t)kernel_root;
    *(uint32_t *)(t + ((char *)&tramp_efer - tramp)) =
        EFER_LME | (pte_nx ? EFER_NXE : 0);
    *(uint64_t *)(t + ((char *)&tramp_entry - tramp)) = (uint64_t)ap_main;
}

unsigned smp_boot(const struct acpi_info *ai)
{
    trap_set_handler(VEC_IPI_CALL, call_ipi);
    bsp_cpu.hw_id = lapic_id();
    cpu_set_online(&bsp_cpu);
    if (kernel_root >> 32 || paging_identity_low())
        panic("smp: cannot prepare the trampoline");
    prepare_trampoline();
    for (unsigned i = 0; i < ai->ncpus && ncpus < MAX_CPUS; i++) {
        if (ai->cpus[i].apic_id == bsp_cpu.hw_id)
            continue;
        struct percpu *c = ap_alloc(ncpus, ai->cpus[i].apic_id);
        if (!c) {
            kprintf("smp: out of memory for CPU %u\n", ncpus);
            break;
        }
        cpus[ncpus++] = c;
        lapic_send_ipi(c->hw_id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
    }
    udelay(10000);
    for (unsigned i = 1; i < ncpus; i++)
        if (!start_ap(cpus[i]))
            kprintf("smp: CPU %u (APIC id %u) did not start\n", i,
                    cpus[i]->hw_id);
    paging_drop_identity_low();
    return cpus_online();
}
