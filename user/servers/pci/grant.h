/*
 * grant.h - the objects a driver gets for its PCI function.
 */
#ifndef MICA_PCI_GRANT_H
#define MICA_PCI_GRANT_H

#include "enum.h"
#include "mica.h"

/* BAR n as an uncached physical vmo (memory) or an ioport object (I/O).
 * ERR_OUT_OF_RANGE (n > 5), ERR_NOT_FOUND (not implemented),
 * ERR_NOT_SUPPORTED (memory not in whole pages), ERR_ACCESS_DENIED (no
 * resource of the server covers it), or the kernel's error. */
int grant_bar(const struct pci_func *f, unsigned n, mica_handle_t *out);

/* An interrupt object for the function, the device programmed to raise
 * it; *given says which kind (PCI_IRQ_*).  ERR_INVALID_ARGS (unknown
 * kind), ERR_NOT_SUPPORTED (the device has no such capability),
 * ERR_NOT_FOUND (legacy: no pin, or no line written), ERR_ACCESS_DENIED
 * (no resource covers it), or the kernel's error. */
int grant_irq(const struct pci_config *cfg, const struct pci_func *f,
              uint32_t kind, mica_handle_t *out, uint32_t *given);

#endif
