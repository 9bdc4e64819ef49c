/*
 * pci_proto.h - the protocol between the pci server and its clients.
 *
 * A client holds a channel to the pci server that init made from a
 * `pci=SELECTOR` capability of its manifest line.  The connection reaches
 * only the PCI functions its selector matches (VVVV:DDDD, BB:DD.F, or *
 * for every function), numbered 0, 1, ... in bus order; `*` connections
 * may read (list) but get no handles and write nothing.
 *
 * Every request is a channel_call whose bytes are one struct pci_request
 * and which carries no handles; the reply is one struct pci_reply and,
 * for PCI_OP_BAR and PCI_OP_IRQ, one handle.  `status` is OK or the
 * error; docs/drivers.md lists the errors of each operation.
 */
#ifndef MICA_USER_PCI_PROTO_H
#define MICA_USER_PCI_PROTO_H

#include <stdint.h>

#define PCI_OP_INFO         1   /* the device's identity and BARs */
#define PCI_OP_BAR          2   /* arg: BAR 0-5 -> a vmo or an ioport object */
#define PCI_OP_IRQ          3   /* arg: PCI_IRQ_* -> an interrupt object */
#define PCI_OP_CONFIG_READ  4   /* offset, width -> value */
#define PCI_OP_CONFIG_WRITE 5   /* offset, width, value */

/* PCI_OP_IRQ: which kind; the reply's value says which was given. */
#define PCI_IRQ_ANY     0       /* MSI-X, else MSI, else the legacy line */
#define PCI_IRQ_MSIX    1
#define PCI_IRQ_MSI     2
#define PCI_IRQ_LEGACY  3       /* INTx: the line the firmware wrote */

/* BAR kinds */
#define PCI_BAR_NONE    0
#define PCI_BAR_IO      1
#define PCI_BAR_MEM32   2
#define PCI_BAR_MEM64   3       /* also names the BAR above it */

/* pci_info.flags */
#define PCI_HAS_MSI       (1u << 0)
#define PCI_HAS_MSIX      (1u << 1)
#define PCI_BAR_PREFETCH  (1u << 0)     /* pci_bar.flags */

struct pci_request {
    uint32_t op;
    uint32_t device;            /* which of the connection's functions */
    uint32_t arg;               /* BAR number, PCI_IRQ_* */
    uint32_t offset;            /* config space: 0-255 */
    uint32_t width;             /* 1, 2 or 4, aligned */
    uint32_t value;             /* config write */
};

struct pci_bar {
    uint64_t base, size;        /* size 0: not implemented */
    uint32_t kind;              /* PCI_BAR_* */
    uint32_t flags;
};

struct pci_info {
    uint8_t bus, dev, fn, header_type;
    uint16_t vendor, device;
    uint32_t class_code;        /* class << 16 | subclass << 8 | prog-if */
    uint8_t revision;
    uint8_t irq_pin;            /* 0 none, 1-4: INTA-INTD */
    uint8_t irq_line;           /* as the firmware wrote it; 0xff unknown */
    uint8_t flags;              /* PCI_HAS_* */
    uint8_t msi_cap, msix_cap;  /* config offsets, 0: none */
    uint16_t msix_entries;
    struct pci_bar bar[6];
};

struct pci_reply {
    int32_t status;
    uint32_t value;             /* config read; PCI_IRQ_* given */
    struct pci_info info;       /* PCI_OP_INFO, PCI_OP_BAR */
};

#endif
