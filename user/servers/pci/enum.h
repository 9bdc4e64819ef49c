/*
 * enum.h - finding the PCI functions and what each one decodes.
 */
#ifndef MICA_PCI_ENUM_H
#define MICA_PCI_ENUM_H

#include <stddef.h>

#include "config.h"
#include "pci.h"          /* the protocol's types (idl/pci.idl) */

#define PCI_MAX_FUNCS 256

struct pci_func {
    struct pci_addr addr;
    struct pci_info info;           /* what a client is told */
    struct pci_bar bar[PCI_BARS];   /* and its BARs */
    uint8_t msi_len;                /* bytes of the MSI capability */
    uint8_t msix_bir;               /* the BAR of the MSI-X table */
    uint32_t msix_table;            /* its offset in that BAR */
};

/* Every function reachable from the host bridges: bus 0 (or, when
 * 00:00.0 is multi-function, bus N for each host bridge 00:00.N) and
 * the bus behind every PCI-to-PCI bridge the firmware numbered, in
 * bus, device, function order of discovery.  BARs are sized with
 * decoding off, then restored.  Returns how many were found (at most
 * max; the rest are counted in *missed when not NULL). */
unsigned pci_enumerate(const struct pci_config *cfg, struct pci_func *out,
                       unsigned max, unsigned *missed);

/* Read one function: identity, BARs (sized), interrupt, capabilities. */
void pci_read_func(const struct pci_config *cfg, struct pci_addr a,
                   struct pci_func *f);

/* The offset of capability `id` in the function's list, or 0. */
unsigned pci_find_cap(const struct pci_config *cfg, struct pci_addr a,
                      unsigned id);

#endif
