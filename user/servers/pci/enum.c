/*
 * enum.c - enumerating PCI functions and sizing their BARs.
 *
 * Only configuration space is touched, through struct pci_config, so
 * this runs on the host against a fake.  Enumeration follows the buses
 * the firmware numbered: it never renumbers a bridge (one with
 * secondary bus 0 is left alone) and visits each bus once, so a loop
 * of bridges cannot hold it.  A BAR is sized by the write-ones method
 * with the function's I/O and memory decoding off, so the device never
 * answers at the all-ones address meanwhile; the BAR and the command
 * register are restored.  The capability list is walked at most 48
 * steps, each pointer checked, so a malformed list cannot loop.
 */
#include <string.h>

#include "enum.h"

static uint32_t rd(const struct pci_config *c, struct pci_addr a,
                   unsigned off, unsigned w)
{
    return cfg_read(c, a, off, w);
}

unsigned pci_find_cap(const struct pci_config *cfg, struct pci_addr a,
                      unsigned id)
{
    if (!(rd(cfg, a, PCI_STATUS, 2) & PCI_STATUS_CAPS))
        return 0;
    unsigned off = rd(cfg, a, PCI_CAP_PTR, 1) & 0xfc;
    for (int steps = 0; off >= 0x40 && steps < 48; steps++) {
        if (rd(cfg, a, off, 1) == id)
            return off;
        off = rd(cfg, a, off + 1, 1) & 0xfc;
    }
    return 0;
}

/* Write all ones to a BAR register, read what sticks, restore. */
static uint32_t probe32(const struct pci_config *c, struct pci_addr a,
                        unsigned off, uint32_t orig)
{
    cfg_write(c, a, off, 4, 0xffffffffu);
    uint32_t v = rd(c, a, off, 4);
    cfg_write(c, a, off, 4, orig);
    return v;
}

/* Size BAR i; returns how many registers it used (2 for 64-bit). */
static unsigned size_bar(const struct pci_config *c, struct pci_addr a,
                         unsigned i, unsigned nbars, struct pci_bar *b)
{
    unsigned off = PCI_BAR0 + 4 * i;
    uint32_t lo = rd(c, a, off, 4);
    memset(b, 0, sizeof(*b));
    if (lo & 1) {                           /* I/O */
        uint32_t m = probe32(c, a, off, lo) & ~3u;
        if ((m & 0xffff0000u) == 0)
            m |= 0xffff0000u;               /* 16-bit decoder */
        b->kind = PCI_BAR_KIND_IO;
        b->base = lo & ~3u;
        b->size = m & 0xffff ? (uint32_t)(~m + 1) : 0;
        return 1;
    }
    unsigned type = (lo >> 1) & 3;
    b->flags = (lo & 8) ? PCI_BAR_PREFETCH : 0;
    if (type == 2) {                        /* 64-bit: this and the next */
        if (i + 1 >= nbars)
            return 1;
        uint32_t hi = rd(c, a, off + 4, 4);
        uint64_t m = probe32(c, a, off, lo) & ~0xfu;
        m |= (uint64_t)probe32(c, a, off + 4, hi) << 32;
        b->kind = PCI_BAR_KIND_MEM64;
        b->base = ((uint64_t)hi << 32) | (lo & ~0xfu);
        b->size = m ? ~m + 1 : 0;
        return 2;
    }
    uint32_t m = probe32(c, a, off, lo) & ~0xfu;
    b->kind = PCI_BAR_KIND_MEM32;
    b->base = lo & ~0xfu;
    b->size = m ? (uint32_t)(~m + 1) : 0;
    return 1;
}

static void size_bars(const struct pci_config *c, struct pci_addr a,
                      unsigned nbars, struct pci_bar *bar)
{
    uint32_t cmd = rd(c, a, PCI_COMMAND, 2);
    cfg_write(c, a, PCI_COMMAND, 2, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
    for (unsigned i = 0; i < nbars;)
        i += size_bar(c, a, i, nbars, &bar[i]);
    for (unsigned i = 0; i < PCI_BARS; i++)  /* unimplemented: all zero */
        if (bar[i].size == 0)
            memset(&bar[i], 0, sizeof(bar[i]));
    cfg_write(c, a, PCI_COMMAND, 2, cmd);
}

/* MSI: 10 bytes, 4 more for a 64-bit address, 10 more with per-vector
 * masking (a reserved word, the mask and the pending bits). */
static void read_msi(const struct pci_config *c, struct pci_addr a,
                     struct pci_func *f)
{
    uint32_t ctrl = rd(c, a, f->info.msi_cap + 2, 2);
    f->msi_len = (uint8_t)(10 + ((ctrl & (1u << 7)) ? 4 : 0) +
                           ((ctrl & (1u << 8)) ? 10 : 0));
}

static void read_msix(const struct pci_config *c, struct pci_addr a,
                      struct pci_func *f)
{
    unsigned cap = f->info.msix_cap;
    uint32_t table = rd(c, a, cap + 4, 4);
    f->info.msix_entries = (uint16_t)((rd(c, a, cap + 2, 2) & 0x7ff) + 1);
    f->msix_bir = table & 7;
    f->msix_table = table & ~7u;
}

void pci_read_func(const struct pci_config *cfg, struct pci_addr a,
                   struct pci_func *f)
{
    struct pci_info *i = &f->info;
    memset(f, 0, sizeof(*f));
    f->addr = a;
    i->bus = a.bus;
    i->dev = a.dev;
    i->fn = a.fn;
    i->vendor = (uint16_t)rd(cfg, a, PCI_VENDOR, 2);
    i->device = (uint16_t)rd(cfg, a, PCI_DEVICE, 2);
    uint32_t cr = rd(cfg, a, PCI_CLASS_REV, 4);
    i->class_code = cr >> 8;
    i->revision = (uint8_t)cr;
    i->header_type = (uint8_t)rd(cfg, a, PCI_HEADER_TYPE, 1);
    unsigned type = i->header_type & 0x7f;
    if (type == 0 || type == 1)
        size_bars(cfg, a, type == 0 ? 6 : 2, f->bar);
    i->irq_line = (uint8_t)rd(cfg, a, PCI_IRQ_LINE, 1);
    i->irq_pin = (uint8_t)rd(cfg, a, PCI_IRQ_PIN, 1);
    if (i->irq_pin > 4)
        i->irq_pin = 0;
    if (type > 1)
        return;                             /* CardBus: no capability walk */
    i->msi_cap = (uint8_t)pci_find_cap(cfg, a, PCI_CAP_MSI);
    i->msix_cap = (uint8_t)pci_find_cap(cfg, a, PCI_CAP_MSIX);
    i->flags = (i->msi_cap ? PCI_HAS_MSI : 0) |
               (i->msix_cap ? PCI_HAS_MSIX : 0);
    if (i->msi_cap)
        read_msi(cfg, a, f);
    if (i->msix_cap)
        read_msix(cfg, a, f);
}

struct scan {
    const struct pci_config *cfg;
    struct pci_func *out;
    unsigned max, n, missed;
    uint8_t seen[256 / 8];
};

static void scan_bus(struct scan *s, unsigned bus);

static void add(struct scan *s, struct pci_addr a)
{
    if (s->n == s->max) {
        s->missed++;
        return;
    }
    struct pci_func *f = &s->out[s->n++];
    pci_read_func(s->cfg, a, f);
    if ((f->info.header_type & 0x7f) == 1) {
        unsigned sec = rd(s->cfg, a, PCI_SECONDARY, 1);
        if (sec != 0)
            scan_bus(s, sec);
    }
}

static void scan_bus(struct scan *s, unsigned bus)
{
    if (s->seen[bus / 8] & (1u << (bus % 8)))
        return;
    s->seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
    for (uint8_t dev = 0; dev < 32; dev++) {
        struct pci_addr a = { (uint8_t)bus, dev, 0 };
        if (rd(s->cfg, a, PCI_VENDOR, 2) == 0xffff)
            continue;
        unsigned nfn = rd(s->cfg, a, PCI_HEADER_TYPE, 1) & 0x80 ? 8 : 1;
        for (a.fn = 0; a.fn < nfn; a.fn++)
            if (rd(s->cfg, a, PCI_VENDOR, 2) != 0xffff)
                add(s, a);
    }
}

unsigned pci_enumerate(const struct pci_config *cfg, struct pci_func *out,
                       unsigned max, unsigned *missed)
{
    struct scan s = { .cfg = cfg, .out = out, .max = max };
    struct pci_addr host = { 0, 0, 0 };
    if (rd(cfg, host, PCI_HEADER_TYPE, 1) & 0x80) {
        for (host.fn = 0; host.fn < 8; host.fn++)
            if (rd(cfg, host, PCI_VENDOR, 2) != 0xffff)
                scan_bus(&s, host.fn);
    } else {
        scan_bus(&s, 0);
    }
    if (missed)
        *missed = s.missed;
    return s.n;
}
