/*
 * policy.c - a driver's configuration writes (policy.h).
 *
 * A driver owns its device's registers but not the decisions the pci
 * server makes for the whole bus: where BARs are (a moved BAR could lie
 * over another device's registers, or RAM), which vector its interrupt
 * uses (a driver could aim MSI at another driver's vector), and the
 * bridge numbering.  So the first 64 bytes are read-only to it but for
 * the command register's driver bits, and so are the MSI and MSI-X
 * capability structures; the rest of the space (the device's own
 * registers and capabilities) is the driver's.
 */
#include <mica/errors.h>

#include "policy.h"

int pci_check_access(unsigned off, unsigned width, unsigned size)
{
    if ((width != 1 && width != 2 && width != 4) || off % width)
        return ERR_INVALID_ARGS;
    if (off >= size || off + width > size)
        return ERR_OUT_OF_RANGE;
    return OK;
}

static bool overlaps(unsigned off, unsigned width, unsigned start,
                     unsigned len)
{
    return start && off < start + len && start < off + width;
}

int pci_check_write(const struct pci_func *f, unsigned off, unsigned width)
{
    if (off == PCI_COMMAND && width == 2)
        return OK;
    if (off < 0x40 || off >= 256)       /* extended space: read only */
        return ERR_ACCESS_DENIED;
    if (overlaps(off, width, f->info.msi_cap, f->msi_len) ||
        overlaps(off, width, f->info.msix_cap, 12))
        return ERR_ACCESS_DENIED;
    return OK;
}

uint32_t pci_command_merge(uint32_t current, uint32_t value)
{
    return (current & ~PCI_CMD_DRIVER_BITS) | (value & PCI_CMD_DRIVER_BITS);
}
