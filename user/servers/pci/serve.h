/*
 * serve.h - the pci server's protocol loop.
 */
#ifndef MICA_PCI_SERVE_H
#define MICA_PCI_SERVE_H

#include "enum.h"

/* Say ready, then serve connections (idl/pci.idl) for the n functions
 * found, reading new ones from the startup channel; returns only on an
 * error of the port. */
int pci_serve(const struct pci_config *cfg, struct pci_func *funcs,
              unsigned n);

#endif
