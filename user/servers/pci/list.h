/*
 * list.h - the lspci-like listing of the pci server.
 *
 *     00:1f.2 8086:2922 [0106] SATA controller, rev 02, pin A line 10, MSI
 *       BAR4 I/O 0xc060+0x20
 *       BAR5 mem32 0xfebd5000+0x1000
 */
#ifndef MICA_PCI_LIST_H
#define MICA_PCI_LIST_H

#include <stddef.h>

#include "pci.h"

/* The function's line; returns snprintf's count. */
int pci_describe(const struct pci_info *i, char *buf, size_t len);

/* BAR n of bars[PCI_BARS] as a line (two leading blanks), or "" for
 * an unused BAR. */
int pci_describe_bar(const struct pci_bar *bars, unsigned n, char *buf,
                     size_t len);

/* A name for the class code, "" when the table has none. */
const char *pci_class_name(uint32_t class_code);

#endif
