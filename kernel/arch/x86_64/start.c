/*
 * start.c - kmain: the boot CPU's path from boot.S to the portable
 * kernel.
 *
 * The order is forced by dependencies: per-CPU data first (the log lock
 * asks which CPU holds it), then traps (so a mistake is reported rather
 * than a triple fault), the log sinks, the loader's information (before
 * anything overwrites it), paging, the page and slab allocators, ACPI,
 * the interrupt controllers and timers, and finally the other CPUs.
 */
#include "acpi.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/console.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/multiboot.h"
#include "arch/x86_64/pagetable.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "bootinfo.h"
#include "cmdline.h"
#include "kernel.h"
#include "log.h"
#include "panic.h"
#include "physmem.h"
#include "pmm.h"
#include "slab.h"
#include "fpu.h"
#include "sched.h"
#include "syscall.h"
#include "thread.h"

noreturn void kmain(uint32_t magic, uint32_t info_phys);

struct acpi_info acpi;

static void pmm_setup(void)
{
    struct memmap *fm = &bootinfo.free;
    uint64_t size = pmm_db_size(bootinfo.ram.ram_end);
    paddr_t db = memmap_alloc(fm, size, ~(paddr_t)0);
    if (!db)
        panic("pmm: no room for the page database (%lu bytes)", size);
    pmm_init(phys_to_virt(db), bootinfo.ram.ram_end >> PAGE_SHIFT);
    if (fm->overflow)
        kprintf("pmm: memory map too fragmented; some RAM left unused\n");
    for (unsigned i = 0; i < fm->n; i++)
        pmm_add_free(fm->r[i].start, fm->r[i].end);
    fm->n = 0;
    kprintf("pmm: %lu MiB free of %lu MiB RAM\n",
            pmm_free_pages() >> 8, bootinfo.ram.ram_end >> 20);
}

static const void *acpi_map(void *ctx, paddr_t phys, size_t len)
{
    (void)ctx;
    if (len == 0 || phys + len < phys)
        return NULL;
    if (pt_lookup(kernel_root, DIRECT_MAP_BASE + phys, NULL, NULL) &&
        pt_lookup(kernel_root, DIRECT_MAP_BASE + phys + len - 1, NULL, NULL))
        return phys_to_virt(phys);
    return mmio_map(phys, len);
}

static void acpi_setup(void)
{
    struct acpi_ops ops = { acpi_map, NULL };
    paddr_t rsdp;
    if (acpi_find_rsdp(&ops, &rsdp) || acpi_parse(&ops, rsdp, &acpi))
        panic("acpi: no usable RSDP/RSDT; cannot find CPUs and IOAPICs");
    if (!acpi.lapic_addr || acpi.ncpus == 0)
        panic("acpi: no MADT (or no CPUs in it)");
    kprintf("acpi: %s rev %u, %u CPUs, %u IOAPICs, %u overrides%s\n",
            acpi.oem_id, acpi.revision, acpi.ncpus, acpi.nioapics,
            acpi.nisos, acpi.bad_tables ? ", some tables invalid" : "");
}

static void apic_error(struct trap_frame *tf)
{
    (void)tf;
    kprintf("lapic: error interrupt on CPU %u\n", this_cpu()->id);
    lapic_eoi();
}

static void apic_spurious(struct trap_frame *tf)
{
    (void)tf;       /* spurious: no EOI */
}

static void interrupts_setup(void)
{
    pic_disable();
    trap_set_handler(VEC_APIC_ERROR, apic_error);
    trap_set_handler(VEC_SPURIOUS, apic_spurious);
    lapic_init(acpi.lapic_addr);
    lapic_init_cpu();
    ioapic_init(&acpi);
    timer_calibrate();
    fpu_init_cpu();
    paging_pat_init_cpu();
    syscall_init_cpu();
    sched_init_cpu();
    timer_start_cpu();
    arch_irq_enable();
}

void kmain(uint32_t magic, uint32_t info_phys)
{
    smp_init_bsp();
    idt_init();
    idt_load();
    console_init();
    kprintf("Mica booting\n");
    multiboot_parse(magic, info_phys);
    kprintf("boot: loader '%s', %u module(s), command line:",
            bootinfo.loader[0] ? bootinfo.loader : "?", bootinfo.nmods);
    for (unsigned i = 0; i < kernel_cmdline.n; i++)
        kprintf(" %s%s%s", kernel_cmdline.key[i],
                kernel_cmdline.val[i] ? "=" : "",
                kernel_cmdline.val[i] ? kernel_cmdline.val[i] : "");
    kprintf("\n");
    paging_init(&bootinfo.ram, &bootinfo.free);
    pmm_setup();
    kmalloc_init();
    acpi_setup();
    interrupts_setup();
    unsigned n = smp_boot(&acpi);
    kprintf("smp: %u of %u CPUs online\n", n, acpi.ncpus);
    thread_reaper_start();
    kernel_main();
}
