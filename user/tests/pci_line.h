/*
 * pci_line.h - the pci server's line of user/manifest, for the suites
 * that start a pci server of their own (without `log`: no second
 * listing in the log).
 */
#ifndef MICA_TESTS_PCI_LINE_H
#define MICA_TESTS_PCI_LINE_H

#define PCI_LINE                                                          \
    "pci bin/pci ioport=0xcf8+8 resource=mmio:0xb0000000+0x10000000 "    \
    "resource=mmio:0xc0000000+0x3ec00000 "                               \
    "resource=ioport:0x700+0xf900 resource=irq:9+15 "                    \
    "resource=irq:0x10000+1\n"

/* The same without the ECAM window: configuration mechanism #1 only. */
#define PCI_LINE_CAM                                                      \
    "pci bin/pci ioport=0xcf8+8 resource=mmio:0xc0000000+0x3ec00000 "    \
    "resource=ioport:0x700+0xf900 resource=irq:9+15 "                    \
    "resource=irq:0x10000+1\n"

#endif
