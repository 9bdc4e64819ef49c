/*
 * ecam.c - configuration space in memory (ecam.h).
 *
 * Function (bus, dev, fn)'s register `off` is the byte at bus's window
 * + (dev << 15 | fn << 12 | off).  Accesses are single loads and stores
 * of the access's width on uncached memory, so unlike mechanism #1 an
 * access is one instruction and needs no lock.  A bus is mapped the
 * first time it is touched (map_bus: the system's mapping in main.c, a
 * buffer on the host in tests/host/test_pci.c), so only the buses that
 * enumeration reaches cost page tables.  A bus outside the window, or
 * one that cannot be mapped, reads as all ones and ignores writes, as
 * an absent function does.
 */
#include <stddef.h>

#include "ecam.h"

static volatile uint8_t *reg(struct ecam *e, struct pci_addr a, unsigned off)
{
    if (a.bus < e->bus_start || a.bus > e->bus_end || off >= 4096)
        return NULL;
    if (!e->bus_map[a.bus])
        e->bus_map[a.bus] = e->map_bus(e, a.bus);
    if (!e->bus_map[a.bus])
        return NULL;
    return e->bus_map[a.bus] + ((unsigned)(a.dev & 31) << 15 |
                                (unsigned)(a.fn & 7) << 12 | off);
}

static uint32_t ecam_read(void *ctx, struct pci_addr a, unsigned off,
                          unsigned width)
{
    volatile uint8_t *p = reg(ctx, a, off);
    if (!p)
        return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
    if (width == 1)
        return *p;
    if (width == 2)
        return *(volatile uint16_t *)p;
    return *(volatile uint32_t *)p;
}

static void ecam_write(void *ctx, struct pci_addr a, unsigned off,
                       unsigned width, uint32_t v)
{
    volatile uint8_t *p = reg(ctx, a, off);
    if (!p)
        return;
    if (width == 1)
        *p = (uint8_t)v;
    else if (width == 2)
        *(volatile uint16_t *)p = (uint16_t)v;
    else
        *(volatile uint32_t *)p = v;
}

void ecam_config(struct ecam *e, struct pci_config *out)
{
    *out = (struct pci_config){ ecam_read, ecam_write, e, 4096 };
}
