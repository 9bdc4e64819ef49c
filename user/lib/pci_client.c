/*
 * pci_client.c - calls to the pci server (pci_client.h).
 */
#include <string.h>

#include "pci_client.h"

int pci_call(mica_handle_t ch, const struct pci_request *q,
             struct pci_reply *r, mica_handle_t *h)
{
    mica_handle_t got[1] = { 0 };
    struct mica_msg m = { q, NULL, sizeof(*q), 0 };
    struct mica_msg_buf b = { .bytes = r, .bytes_cap = sizeof(*r),
                              .handles = got, .handles_cap = 1 };
    memset(r, 0, sizeof(*r));
    int err = mica_channel_call(ch, &m, &b, 0);
    if (!err && b.actual_bytes != sizeof(*r))
        err = ERR_BAD_STATE;
    if (!err)
        err = r->status;
    if (h)
        *h = got[0];
    else if (got[0])
        mica_handle_close(got[0]);
    return err;
}

int pci_info(mica_handle_t ch, unsigned dev, struct pci_info *out)
{
    struct pci_request q = { .op = PCI_OP_INFO, .device = dev };
    struct pci_reply r;
    int err = pci_call(ch, &q, &r, NULL);
    if (!err)
        *out = r.info;
    return err;
}

int pci_bar(mica_handle_t ch, unsigned dev, unsigned n, mica_handle_t *out,
            struct pci_bar *bar)
{
    struct pci_request q = { .op = PCI_OP_BAR, .device = dev, .arg = n };
    struct pci_reply r;
    int err = pci_call(ch, &q, &r, out);
    if (!err && bar)
        *bar = r.info.bar[n];
    return err;
}

int pci_irq(mica_handle_t ch, unsigned dev, uint32_t kind, mica_handle_t *out,
            uint32_t *given)
{
    struct pci_request q = { .op = PCI_OP_IRQ, .device = dev, .arg = kind };
    struct pci_reply r;
    int err = pci_call(ch, &q, &r, out);
    if (!err && given)
        *given = r.value;
    return err;
}

int pci_config_read(mica_handle_t ch, unsigned dev, unsigned off,
                    unsigned width, uint32_t *value)
{
    struct pci_request q = { .op = PCI_OP_CONFIG_READ, .device = dev,
                             .offset = off, .width = width };
    struct pci_reply r;
    int err = pci_call(ch, &q, &r, NULL);
    if (!err)
        *value = r.value;
    return err;
}

int pci_config_write(mica_handle_t ch, unsigned dev, unsigned off,
                     unsigned width, uint32_t value)
{
    struct pci_request q = { .op = PCI_OP_CONFIG_WRITE, .device = dev,
                             .offset = off, .width = width, .value = value };
    struct pci_reply r;
    return pci_call(ch, &q, &r, NULL);
}
