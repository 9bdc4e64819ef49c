/*
 * list.c - describing PCI functions in lspci's manner (list.h).
 */
#include <stdio.h>

#include "list.h"

static const struct {
    uint16_t class;             /* class << 8 | subclass */
    const char *name;
} names[] = {
    { 0x0100, "SCSI controller" },    { 0x0101, "IDE controller" },
    { 0x0106, "SATA controller" },    { 0x0108, "NVMe controller" },
    { 0x0200, "Ethernet controller" }, { 0x0300, "VGA controller" },
    { 0x0380, "display controller" }, { 0x0403, "audio device" },
    { 0x0600, "host bridge" },        { 0x0601, "ISA bridge" },
    { 0x0604, "PCI bridge" },         { 0x0700, "serial controller" },
    { 0x0c03, "USB controller" },     { 0x0c05, "SMBus" },
    { 0x00ff, "unclassified" },
};

const char *pci_class_name(uint32_t class_code)
{
    uint16_t c = (uint16_t)(class_code >> 8);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].class == c)
            return names[i].name;
    return "";
}

int pci_describe(const struct pci_info *i, char *buf, size_t len)
{
    const char *name = pci_class_name(i->class_code);
    char irq[32] = "";
    if (i->irq_pin)
        snprintf(irq, sizeof(irq), ", pin %c line %u", 'A' + i->irq_pin - 1,
                 i->irq_line);
    return snprintf(buf, len,
                    "%02x:%02x.%x %04x:%04x [%04x] %s%srev %02x%s%s%s",
                    i->bus, i->dev, i->fn, i->vendor, i->device,
                    (unsigned)(i->class_code >> 8), name, *name ? ", " : "",
                    i->revision, irq, (i->flags & PCI_HAS_MSI) ? ", MSI" : "",
                    (i->flags & PCI_HAS_MSIX) ? ", MSI-X" : "");
}

int pci_describe_bar(const struct pci_bar *bars, unsigned n, char *buf,
                     size_t len)
{
    static const char *const kind[] = { "", "I/O", "mem32", "mem64" };
    const struct pci_bar *b = n < PCI_BARS ? &bars[n] : NULL;
    if (!b || b->kind == PCI_BAR_KIND_NONE || b->kind > PCI_BAR_KIND_MEM64) {
        if (len)
            buf[0] = 0;
        return 0;
    }
    return snprintf(buf, len, "  BAR%u %s 0x%llx+0x%llx%s", n, kind[b->kind],
                    (unsigned long long)b->base, (unsigned long long)b->size,
                    (b->flags & PCI_BAR_PREFETCH) ? " prefetchable" : "");
}
