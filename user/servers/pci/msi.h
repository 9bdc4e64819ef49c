/*
 * msi.h - pointing a function's interrupts at a vector: MSI, MSI-X
 * (entry 0) or the legacy INTx line.
 */
#ifndef MICA_PCI_MSI_H
#define MICA_PCI_MSI_H

#include "enum.h"

/* The MSI-X table of a function, mapped by the caller. */
struct msix_table {
    void (*write32)(void *ctx, uint32_t off, uint32_t v);  /* from the table */
    void *ctx;
};

/* One MSI vector: address and data written, one message, enabled; MSI-X
 * and INTx off. */
void pci_msi_enable(const struct pci_config *c, const struct pci_func *f,
                    uint64_t addr, uint32_t data);

/* MSI-X entry 0 written and unmasked, MSI-X enabled; MSI and INTx off.
 * The other entries keep their mask (masked from reset). */
void pci_msix_enable(const struct pci_config *c, const struct pci_func *f,
                     const struct msix_table *t, uint64_t addr,
                     uint32_t data);

/* Back to the legacy line: MSI and MSI-X off, INTx on. */
void pci_intx_enable(const struct pci_config *c, const struct pci_func *f);

#endif
