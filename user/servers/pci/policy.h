/*
 * policy.h - what a driver may do to its function's configuration space.
 */
#ifndef MICA_PCI_POLICY_H
#define MICA_PCI_POLICY_H

#include "enum.h"

/* The command register bits a driver may change: I/O and memory
 * decoding, bus mastering, INTx off. */
#define PCI_CMD_DRIVER_BITS \
    (PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_OFF)

/* A configuration access of `width` at `off` in a space of `size` bytes
 * (256, or 4096 through ECAM): OK, ERR_INVALID_ARGS (a width other than
 * 1, 2, 4, or unaligned) or ERR_OUT_OF_RANGE (past the end). */
int pci_check_access(unsigned off, unsigned width, unsigned size);

/* Whether a driver may write there: OK, or ERR_ACCESS_DENIED for the
 * header (BARs, bus numbers, interrupt line: what the pci server
 * decides) except the command register, for the MSI and MSI-X
 * capabilities (which the pci server programs), and for PCI Express's
 * extended space (bytes 256-4095: its capabilities, such as SR-IOV,
 * reach beyond the function). */
int pci_check_write(const struct pci_func *f, unsigned off, unsigned width);

/* The command register after a driver's write of `value`. */
uint32_t pci_command_merge(uint32_t current, uint32_t value);

#endif
