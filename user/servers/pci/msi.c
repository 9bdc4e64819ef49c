/*
 * msi.c - programming MSI and MSI-X (msi.h).
 *
 * Only one of the three interrupt mechanisms is on at any time: turning
 * one on turns the other two off first, so a device never signals
 * twice, or through a vector that was given back.  MSI is asked for one
 * message (Multiple Message Enable 0), and its per-vector mask, when it
 * has one, is cleared.  MSI-X is enabled with the function masked while
 * entry 0 is written, so the device never sees a half-written entry.
 */
#include <stdbool.h>

#include "msi.h"

#define MSI_CTRL_ENABLE     (1u << 0)
#define MSI_CTRL_MME        (7u << 4)
#define MSI_CTRL_64BIT      (1u << 7)
#define MSI_CTRL_PVM        (1u << 8)   /* per-vector masking */
#define MSIX_CTRL_MASK_ALL  (1u << 14)
#define MSIX_CTRL_ENABLE    (1u << 15)

static void set_intx(const struct pci_config *c, struct pci_addr a, bool on)
{
    uint32_t cmd = cfg_read(c, a, PCI_COMMAND, 2);
    cmd = on ? cmd & ~PCI_CMD_INTX_OFF : cmd | PCI_CMD_INTX_OFF;
    cfg_write(c, a, PCI_COMMAND, 2, cmd);
}

static void msi_off(const struct pci_config *c, const struct pci_func *f)
{
    unsigned cap = f->info.msi_cap;
    if (cap)
        cfg_write(c, f->addr, cap + 2, 2,
                  cfg_read(c, f->addr, cap + 2, 2) & ~MSI_CTRL_ENABLE);
}

static void msix_off(const struct pci_config *c, const struct pci_func *f)
{
    unsigned cap = f->info.msix_cap;
    if (cap)
        cfg_write(c, f->addr, cap + 2, 2,
                  cfg_read(c, f->addr, cap + 2, 2) & ~MSIX_CTRL_ENABLE);
}

void pci_msi_enable(const struct pci_config *c, const struct pci_func *f,
                    uint64_t addr, uint32_t data)
{
    struct pci_addr a = f->addr;
    unsigned cap = f->info.msi_cap;
    msix_off(c, f);
    msi_off(c, f);
    set_intx(c, a, false);
    uint32_t ctrl = cfg_read(c, a, cap + 2, 2);
    bool wide = ctrl & MSI_CTRL_64BIT;
    cfg_write(c, a, cap + 4, 4, (uint32_t)addr);
    if (wide)
        cfg_write(c, a, cap + 8, 4, (uint32_t)(addr >> 32));
    cfg_write(c, a, cap + (wide ? 12 : 8), 2, data & 0xffff);
    if (ctrl & MSI_CTRL_PVM)
        cfg_write(c, a, cap + (wide ? 16 : 12), 4, 0);
    ctrl = (ctrl & ~MSI_CTRL_MME) | MSI_CTRL_ENABLE;
    cfg_write(c, a, cap + 2, 2, ctrl);
}

void pci_msix_enable(const struct pci_config *c, const struct pci_func *f,
                     const struct msix_table *t, uint64_t addr,
                     uint32_t data)
{
    struct pci_addr a = f->addr;
    unsigned cap = f->info.msix_cap;
    msi_off(c, f);
    set_intx(c, a, false);
    uint32_t ctrl = cfg_read(c, a, cap + 2, 2);
    cfg_write(c, a, cap + 2, 2, ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_MASK_ALL);
    t->write32(t->ctx, 0, (uint32_t)addr);
    t->write32(t->ctx, 4, (uint32_t)(addr >> 32));
    t->write32(t->ctx, 8, data);
    t->write32(t->ctx, 12, 0);                  /* entry 0 unmasked */
    cfg_write(c, a, cap + 2, 2,
              (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASK_ALL);
}

void pci_intx_enable(const struct pci_config *c, const struct pci_func *f)
{
    msix_off(c, f);
    msi_off(c, f);
    set_intx(c, f->addr, true);
}
