/*
 * pci_client.h - a driver's side of the pci protocol (pci_proto.h).
 *
 * `ch` is the channel of a pci= capability (mica_cap("pci", 0)); `dev`
 * numbers the functions it reaches, from 0.  Each call returns OK or the
 * error the server or the kernel gave (docs/drivers.md).
 */
#ifndef MICA_USER_PCI_CLIENT_H
#define MICA_USER_PCI_CLIENT_H

#include "mica.h"
#include "pci_proto.h"

int pci_info(mica_handle_t ch, unsigned dev, struct pci_info *out);

/* BAR n: a physical vmo (memory BAR) or an ioport object (I/O BAR, still
 * to be enabled); *bar (when not NULL) says which and where. */
int pci_bar(mica_handle_t ch, unsigned dev, unsigned n, mica_handle_t *out,
            struct pci_bar *bar);

/* An interrupt object of kind PCI_IRQ_*; *given (when not NULL) says
 * which kind the device now uses. */
int pci_irq(mica_handle_t ch, unsigned dev, uint32_t kind, mica_handle_t *out,
            uint32_t *given);

int pci_config_read(mica_handle_t ch, unsigned dev, unsigned off,
                    unsigned width, uint32_t *value);
int pci_config_write(mica_handle_t ch, unsigned dev, unsigned off,
                     unsigned width, uint32_t value);

/* One request as it is (for tests of the protocol's errors): the
 * server's status, or the call's error; *h gets a handle if one came. */
int pci_call(mica_handle_t ch, const struct pci_request *q,
             struct pci_reply *r, mica_handle_t *h);

#endif
