/*
 * irq_arch.c - device interrupt lines on x86_64: I/O APIC inputs (GSIs)
 * delivered to the boot CPU.
 *
 * Line n (GSI n below 64, then the MSI lines) gets vector VEC_IRQ_BASE +
 * n, fixed, so the handler finds the line from the vector alone.  An MSI
 * is a write of the vector (data, edge, fixed delivery) to the boot
 * CPU's APIC address.  The handler runs the line's protocol first
 * (irq_hw_raise, which masks a level line that starts a service) and
 * then signals end of interrupt to the local APIC: a level line is
 * masked by then, so it cannot fire again until its service ends.
 */
#include "acpi.h"
#include "arch.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/trap.h"
#include "irq.h"
#include "mica/device.h"
#include "mica/errors.h"
#include "percpu.h"

_Static_assert(VEC_IRQ_BASE + IRQ_LINES <= VEC_IPI_CALL,
               "device vectors run into the kernel's own");

#define MSI_ADDRESS_BASE 0xfee00000ull  /* the local APICs' MSI window */

static void device_irq(struct trap_frame *tf)
{
    irq_hw_raise((uint32_t)(tf->vector - VEC_IRQ_BASE));
    lapic_eoi();
}

int arch_irq_line_route(uint32_t gsi, bool level, bool active_low)
{
    if (gsi >= IRQ_MAX_GSI)
        return ERR_OUT_OF_RANGE;
    unsigned vector = VEC_IRQ_BASE + gsi;
    /* MPS INTI flags, as ioapic_route takes them */
    uint16_t flags = (active_low ? 3 : 1) | ((level ? 3 : 1) << 2);
    trap_set_handler(vector, device_irq);
    int err = ioapic_mask(gsi, true);
    if (!err)
        err = ioapic_route_masked(gsi, (uint8_t)vector, cpus[0]->hw_id,
                                  flags);
    if (err)
        trap_set_handler(vector, NULL);
    return err;
}

void arch_irq_line_mask(uint32_t gsi, bool masked)
{
    ioapic_mask(gsi, masked);
}

/* MPS INTI flags: polarity and trigger "conform to the bus" (0) mean
 * active high and edge for ISA. */
int arch_irq_isa(unsigned irq, uint32_t *gsi, bool *level, bool *active_low)
{
    if (irq >= 16)
        return ERR_OUT_OF_RANGE;
    uint16_t flags;
    *gsi = acpi_isa_irq_to_gsi(&acpi, (uint8_t)irq, &flags);
    *active_low = (flags & 3) == 3;
    *level = ((flags >> 2) & 3) == 3;
    return 0;
}

unsigned arch_pci_ecam(struct mica_ecam_window *out, unsigned max)
{
    unsigned n = acpi.nmcfg < max ? acpi.nmcfg : max;
    for (unsigned i = 0; i < n; i++)
        out[i] = (struct mica_ecam_window){
            .base = acpi.mcfg[i].base, .segment = acpi.mcfg[i].segment,
            .bus_start = acpi.mcfg[i].bus_start,
            .bus_end = acpi.mcfg[i].bus_end,
        };
    return n;
}

int arch_irq_msi_route(uint32_t num, uint64_t *address, uint32_t *data)
{
    if (num < IRQ_MAX_GSI || num >= IRQ_LINES)
        return ERR_NO_RESOURCES;
    unsigned vector = VEC_IRQ_BASE + num;
    trap_set_handler(vector, device_irq);
    *address = MSI_ADDRESS_BASE | ((uint64_t)cpus[0]->hw_id << 12);
    *data = vector;
    return 0;
}

void arch_irq_msi_unroute(uint32_t num)
{
    trap_set_handler(VEC_IRQ_BASE + num, NULL);
}
