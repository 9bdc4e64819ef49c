/*
 * grant.c - making the objects the pci server hands a driver: a BAR as
 * a physical vmo or an ioport object, an interrupt as an MSI-X, MSI or
 * legacy interrupt object (grant.h).
 *
 * The server holds resources from its manifest line (`resource=...`)
 * and makes each object from one that covers it; a BAR outside all of
 * them is refused with the kernel's ERR_ACCESS_DENIED, so the manifest,
 * not the firmware, bounds what the server gives away.  Memory BARs
 * must be whole pages: one sharing a page with another device's
 * registers cannot be given alone.
 */
#include <string.h>

#include "caps.h"
#include "grant.h"
#include "msi.h"

/* A resource of the server's covering [base, base + size), or 0. */
static mica_handle_t resource_for(uint32_t kind, uint64_t base,
                                  uint64_t size)
{
    struct manifest_cap c;
    for (unsigned i = 0; mica_cap_decode("resource", i, &c) == 0; i++)
        if (c.res_kind == kind && base >= c.base && size <= c.size &&
            base - c.base <= c.size - size)
            return mica_cap("resource", i);
    return 0;
}

int grant_bar(const struct pci_func *f, unsigned n, mica_handle_t *out)
{
    if (n >= PCI_BARS)
        return ERR_OUT_OF_RANGE;
    const struct pci_bar *b = &f->bar[n];
    if (b->kind == PCI_BAR_KIND_NONE)
        return ERR_NOT_FOUND;
    if (b->kind == PCI_BAR_KIND_IO) {
        mica_handle_t r = resource_for(MICA_RESOURCE_IOPORT, b->base,
                                       b->size);
        return r ? mica_ioport_create(r, (uint32_t)b->base,
                                      (uint32_t)b->size, out)
                 : ERR_ACCESS_DENIED;
    }
    if ((b->base | b->size) & 0xfff)
        return ERR_NOT_SUPPORTED;
    mica_handle_t r = resource_for(MICA_RESOURCE_MMIO, b->base, b->size);
    return r ? mica_vmo_create_physical(r, b->base, b->size,
                                        MICA_CACHE_UNCACHED, out)
             : ERR_ACCESS_DENIED;
}

/* An MSI line of its own, and what the device must write to raise it. */
static int new_msi(mica_handle_t *out, uint64_t *addr, uint32_t *data)
{
    struct mica_irq_info info = { 0 };
    mica_handle_t r = resource_for(MICA_RESOURCE_IRQ, MICA_IRQ_MSI_NUMBER, 1);
    int err = r ? mica_interrupt_create(r, MICA_IRQ_MSI_NUMBER, MICA_IRQ_MSI,
                                        out, NULL)
                : ERR_ACCESS_DENIED;
    if (!err && (err = mica_interrupt_info(*out, &info)))
        mica_handle_close(*out);
    *addr = info.msi_address;
    *data = info.msi_data;
    return err;
}

static void table_write(void *ctx, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)((uintptr_t)ctx + off) = v;
}

/* Map the page of the MSI-X table's entry 0 and program it. */
static int program_msix(const struct pci_config *cfg,
                        const struct pci_func *f, uint64_t addr,
                        uint32_t data)
{
    const struct pci_bar *b = &f->bar[f->msix_bir % PCI_BARS];
    if (b->kind != PCI_BAR_KIND_MEM32 && b->kind != PCI_BAR_KIND_MEM64)
        return ERR_NOT_SUPPORTED;
    uint64_t entry = b->base + f->msix_table, page = entry & ~0xfffull;
    mica_handle_t r = resource_for(MICA_RESOURCE_MMIO, page, 4096), v;
    uint64_t va = 0;
    int err = r ? mica_vmo_create_physical(r, page, 4096, MICA_CACHE_UNCACHED,
                                           &v)
                : ERR_ACCESS_DENIED;
    if (err)
        return err;
    err = mica_vm_map(mica_process_self(), v, 0, 4096,
                      MICA_VM_READ | MICA_VM_WRITE, &va);
    if (!err) {
        struct msix_table t = { table_write, (void *)(va + (entry - page)) };
        pci_msix_enable(cfg, f, &t, addr, data);
        mica_vm_unmap(mica_process_self(), va, 4096);
    }
    mica_handle_close(v);
    return err;
}

static int grant_msi(const struct pci_config *cfg, const struct pci_func *f,
                     bool msix, mica_handle_t *out)
{
    uint64_t addr;
    uint32_t data;
    int err = new_msi(out, &addr, &data);
    if (err)
        return err;
    if (!msix)
        pci_msi_enable(cfg, f, addr, data);
    else if ((err = program_msix(cfg, f, addr, data)))
        mica_handle_close(*out);
    return err;
}

/* The legacy line: the GSI the firmware wrote into the interrupt line
 * register, level-triggered and active low as PCI's INTx are.  Without
 * ACPI's _PRT this is a guess that holds on QEMU's machines. */
static int grant_legacy(const struct pci_config *cfg,
                        const struct pci_func *f, mica_handle_t *out)
{
    const struct pci_info *i = &f->info;
    if (i->irq_pin == 0 || i->irq_line == 0 || i->irq_line == 0xff)
        return ERR_NOT_FOUND;
    mica_handle_t r = resource_for(MICA_RESOURCE_IRQ, i->irq_line, 1);
    int err = r ? mica_interrupt_create(r, i->irq_line,
                                        MICA_IRQ_LEVEL | MICA_IRQ_LOW, out,
                                        NULL)
                : ERR_ACCESS_DENIED;
    if (!err)
        pci_intx_enable(cfg, f);
    return err;
}

int grant_irq(const struct pci_config *cfg, const struct pci_func *f,
              uint32_t kind, mica_handle_t *out, uint32_t *given)
{
    uint8_t has = f->info.flags;
    if (kind == PCI_IRQ_ANY)
        kind = (has & PCI_HAS_MSIX)  ? PCI_IRQ_MSIX
               : (has & PCI_HAS_MSI) ? PCI_IRQ_MSI
                                     : PCI_IRQ_LEGACY;
    *given = kind;
    switch (kind) {
    case PCI_IRQ_MSIX:
        return has & PCI_HAS_MSIX ? grant_msi(cfg, f, true, out)
                                  : ERR_NOT_SUPPORTED;
    case PCI_IRQ_MSI:
        return has & PCI_HAS_MSI ? grant_msi(cfg, f, false, out)
                                 : ERR_NOT_SUPPORTED;
    case PCI_IRQ_LEGACY:
        return grant_legacy(cfg, f, out);
    }
    return ERR_INVALID_ARGS;
}
