/*
 * test_x86_64.c - self-tests of the PC machine layer: page protections,
 * interrupt controllers, timers, the other CPUs and COM1 changing hands.
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/console.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/pagetable.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/trap.h"
#include "ktest.h"
#include "lib.h"
#include "percpu.h"
#include "physmem.h"
#include "pmm.h"
#include "process.h"
#include "smp.h"
#include "spinlock.h"

extern char _text_start[], _rodata_start[], _data_start[];

static uint64_t flags_of(const void *va)
{
    uint64_t f = 0;
    if (!pt_lookup(kernel_root, (vaddr_t)va, NULL, &f))
        return 0;
    return f;
}

KTEST(paging_kernel_wx)
{
    static int data_word;
    uint64_t text = flags_of(_text_start), ro = flags_of(_rodata_start);
    uint64_t data = flags_of(&data_word);
    KEXPECT((text & PTE_P) && !(text & PTE_W) && !(text & PTE_NX));
    KEXPECT((ro & PTE_P) && !(ro & PTE_W));
    KEXPECT((data & PTE_P) && (data & PTE_W));
    if (pte_nx) {
        KEXPECT((ro & PTE_NX) && (data & PTE_NX));
        KEXPECT(rdmsr(MSR_EFER) & EFER_NXE);
    }
    KEXPECT(read_cr0() & CR0_WP);
    KEXPECT(!(text & PTE_U) && !(data & PTE_U));
}

KTEST(paging_direct_map)
{
    paddr_t p = pmm_alloc(0), pa = 0;
    uint64_t f = 0;
    KASSERT_T(p != 0);
    void *v = phys_to_virt(p);
    KEXPECT((uintptr_t)v == DIRECT_MAP_BASE + p);
    KEXPECT(pt_lookup(kernel_root, (vaddr_t)v, &pa, &f) && pa == p);
    KEXPECT((f & PTE_W) && !(f & PTE_U));
    *(volatile uint64_t *)v = 0x1234;
    KEXPECT(*(volatile uint64_t *)v == 0x1234);
    pmm_free(p, 0);
    /* the identity map used to start the CPUs is gone */
    KEXPECT(!pt_lookup(kernel_root, TRAMPOLINE_PHYS, NULL, NULL));
}

KTEST(mmio_mapping_uncached)
{
    volatile uint32_t *ver = mmio_map(acpi.lapic_addr + 0x30, 4);
    KASSERT_T(ver != NULL);
    uint64_t f = flags_of((const void *)ver);
    KEXPECT((f & PTE_PCD) && (f & PTE_PWT) && !(f & PTE_U));
    KEXPECT((*ver & 0xFF) >= 0x10);     /* an integrated APIC's version */
}

KTEST(pic_fully_masked)
{
    KEXPECT(inb(0x21) == 0xFF && inb(0xA1) == 0xFF);
}

KTEST(timer_calibrated)
{
    KEXPECT(arch_timestamp_hz() > 10000000);        /* > 10 MHz */
    KEXPECT(timer_uses_tsc_deadline() || lapic_timer_hz() > 100000);
}

static volatile unsigned irq_seen;

static void pit_irq(struct trap_frame *tf)
{
    (void)tf;
    irq_seen++;
    lapic_eoi();
}

KTEST(ioapic_routes_isa_irq0)
{
    uint16_t flags;
    uint32_t gsi = acpi_isa_irq_to_gsi(&acpi, 0, &flags);
    KEXPECT(gsi == 2);                  /* QEMU overrides IRQ 0 to GSI 2 */
    KEXPECT(ioapic_lines() >= 24);
    trap_set_handler(VEC_IRQ_BASE, pit_irq);
    irq_seen = 0;
    KASSERT_T(ioapic_route(gsi, VEC_IRQ_BASE, lapic_id(), flags) == 0);
    pit_oneshot(1000);
    for (int i = 0; i < 100 && !irq_seen; i++)
        udelay(1000);
    ioapic_mask(gsi, true);
    trap_set_handler(VEC_IRQ_BASE, NULL);
    KEXPECT(irq_seen >= 1);
    KEXPECT(ioapic_route(100000, VEC_IRQ_BASE, 0, 0) != 0);
}

static volatile unsigned probe_hits;

static void probe_vector(struct trap_frame *tf)
{
    (void)tf;
    probe_hits++;
    lapic_eoi();
}

/* An interrupt at a vector nobody handles (an MSI raised just after its
 * interrupt object went) is acknowledged all the same: an interrupt of
 * the same priority class sent after it still arrives.  Two self-IPIs
 * at the last two MSI lines' vectors, which no interrupt object holds
 * while the kernel's tests run (no user process yet; lines are handed
 * out from the first): 0xdf, unhandled, is delivered first (the higher
 * vector), then 0xde. */
KTEST(unhandled_vector_is_acknowledged)
{
    const unsigned unhandled = VEC_IPI_CALL - 1, probe = VEC_IPI_CALL - 2;
    bool was = arch_irq_enabled();
    arch_irq_disable();
    trap_set_handler(probe, probe_vector);
    probe_hits = 0;
    lapic_send_ipi(lapic_id(), ICR_FIXED | ICR_ASSERT | unhandled);
    lapic_send_ipi(lapic_id(), ICR_FIXED | ICR_ASSERT | probe);
    arch_irq_enable();
    for (unsigned i = 0; i < 10000000 && !probe_hits; i++)
        arch_cpu_relax();
    arch_irq_disable();
    trap_set_handler(probe, NULL);
    if (was)
        arch_irq_enable();
    KEXPECT(probe_hits == 1);
}

KTEST(smp_all_cpus_online)
{
    KEXPECT(cpus_online() == acpi.ncpus);
    KEXPECT(ncpus == acpi.ncpus);
    for (unsigned i = 0; i < ncpus; i++) {
        KEXPECT(cpus[i]->online && cpus[i]->id == i);
        KEXPECT(cpus[i]->self == cpus[i]);
        for (unsigned j = 0; j < i; j++)
            KEXPECT(cpus[i]->hw_id != cpus[j]->hw_id);
    }
}

static volatile uint32_t seen_on[MAX_CPUS];

static void note_cpu(void *arg)
{
    struct percpu *c = this_cpu();
    seen_on[c->id] = (uint32_t)(uintptr_t)arg + lapic_id();
}

KTEST(smp_call_reaches_every_cpu)
{
    memset((void *)seen_on, 0, sizeof(seen_on));
    smp_call_all(note_cpu, (void *)1000);
    for (unsigned i = 1; i < ncpus; i++)
        KEXPECT(seen_on[i] == 1000 + cpus[i]->hw_id);
    KEXPECT(seen_on[0] == 0);
}

static void read_ticks(void *arg)
{
    ((volatile uint64_t *)arg)[this_cpu()->id] = this_cpu()->ticks;
}

/* Tickless idle: CPUs with nothing to do take no timer interrupts. */
KTEST(sched_idle_cpus_take_no_ticks)
{
    static volatile uint64_t a[MAX_CPUS], b[MAX_CPUS];
    smp_call_all(read_ticks, (void *)a);
    udelay(50000);
    smp_call_all(read_ticks, (void *)b);
    for (unsigned i = 1; i < ncpus; i++)
        KEXPECT(b[i] == a[i]);
}

#define SPIN_ROUNDS 500
static spinlock_t test_lock = SPINLOCK_INIT;
static volatile uint64_t shared_count;

static void hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        irqflags_t f = spin_lock_irqsave(&test_lock);
        uint64_t v = shared_count;      /* a torn read-modify-write ... */
        arch_cpu_relax();
        shared_count = v + 1;           /* ... if the lock did not hold */
        spin_unlock_irqrestore(&test_lock, f);
    }
}

KTEST(spinlock_mutual_exclusion)
{
    shared_count = 0;
    /* the others hammer from the IPI while this CPU hammers too */
    smp_call_all(hammer, NULL);
    hammer(NULL);
    KEXPECT(shared_count == (uint64_t)SPIN_ROUNDS * ncpus);
    KEXPECT(test_lock.owner_cpu == -1);
}

/* COM1 leaves the log when a process may use its ports, and comes back
 * when the last one has died: counted per process, and COM1 is
 * programmed again (115200 8N1, no interrupts, no loopback). */
KTEST(console_com1_changes_hands)
{
    static struct process a = { .name = "ktest-a", .pid = 1 };
    static struct process b = { .name = "ktest-b", .pid = 2 };
    uint8_t map[0x800 / 8];                     /* ports 0-0x7ff */
    memset(map, 0xff, sizeof(map));
    KEXPECT(!console_ports_in(map));
    map[0x3f8 / 8] = 0xfe;                      /* 0x3f8 allowed */
    KEXPECT(console_ports_in(map));
    map[0x3f8 / 8] = 0xff;
    map[0x2f8 / 8] = 0x00;                      /* COM2 is not COM1 */
    KEXPECT(!console_ports_in(map));
    if (!console_com1_in_use())
        return;                                 /* no COM1, or a driver has it */
    console_claim(&a);
    KEXPECT(!console_com1_in_use());
    console_claim(&b);
    console_unclaim(&a);
    KEXPECT(!console_com1_in_use());            /* b still may use it */
    outb(0x3f8 + 4, 0x10);                      /* as a driver might leave it */
    outb(0x3f8 + 1, 0x0f);
    console_unclaim(&b);
    KEXPECT(console_com1_in_use());
    KEXPECT(inb(0x3f8 + 4) == 0x03 && inb(0x3f8 + 1) == 0);
    KEXPECT(inb(0x3f8 + 3) == 0x03);
}
