/*
 * config.h - PCI configuration space behind a small interface.
 *
 * Everything in the pci server that reads or writes configuration space
 * does it through a struct pci_config, so enumeration, BAR sizing and
 * MSI programming build and run on the host against a fake
 * (tests/host/test_pci.c); cam.c (configuration mechanism #1, ports
 * 0xCF8/0xCFC) and ecam.c (memory-mapped, PCI Express) are the real
 * ones.
 */
#ifndef MICA_PCI_CONFIG_H
#define MICA_PCI_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

struct pci_addr {
    uint8_t bus, dev, fn;
};

/* Accesses of `width` 1, 2 or 4 bytes at an offset aligned to it, below
 * `size`: 256 (mechanism #1), or 4096 (ECAM: PCI Express's extended
 * space too).  A function that is absent reads as all ones. */
struct pci_config {
    uint32_t (*read)(void *ctx, struct pci_addr a, unsigned off,
                     unsigned width);
    void (*write)(void *ctx, struct pci_addr a, unsigned off, unsigned width,
                  uint32_t value);
    void *ctx;
    unsigned size;
};

static inline uint32_t cfg_read(const struct pci_config *c, struct pci_addr a,
                                unsigned off, unsigned width)
{
    return c->read(c->ctx, a, off, width);
}

static inline void cfg_write(const struct pci_config *c, struct pci_addr a,
                             unsigned off, unsigned width, uint32_t v)
{
    c->write(c->ctx, a, off, width, v);
}

/* Standard header registers. */
#define PCI_VENDOR      0x00
#define PCI_DEVICE      0x02
#define PCI_COMMAND     0x04
#define PCI_STATUS      0x06
#define PCI_CLASS_REV   0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0        0x10
#define PCI_SECONDARY   0x19    /* bridges: the bus behind */
#define PCI_CAP_PTR     0x34
#define PCI_IRQ_LINE    0x3c
#define PCI_IRQ_PIN     0x3d

#define PCI_CMD_IO          (1u << 0)
#define PCI_CMD_MEM         (1u << 1)
#define PCI_CMD_MASTER      (1u << 2)
#define PCI_CMD_INTX_OFF    (1u << 10)
#define PCI_STATUS_CAPS     (1u << 4)

#define PCI_CAP_MSI     0x05
#define PCI_CAP_MSIX    0x11

#endif
