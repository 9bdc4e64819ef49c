/*
 * ecam.h - PCI Express's enhanced configuration access mechanism:
 * every function's 4 KiB of configuration space in memory, in the
 * window ACPI's MCFG names (platform_info).
 */
#ifndef MICA_PCI_ECAM_H
#define MICA_PCI_ECAM_H

#include <stdint.h>

#include "config.h"

#define ECAM_BUS_BYTES (1u << 20)       /* 32 devices x 8 functions x 4 KiB */

struct ecam {
    uint8_t bus_start, bus_end;         /* the buses the window covers */
    /* Bus `bus`'s 1 MiB (bus_start <= bus <= bus_end), or NULL when it
     * cannot be mapped (its functions then read as absent). */
    volatile uint8_t *(*map_bus)(struct ecam *e, unsigned bus);
    void *ctx;
    volatile uint8_t *bus_map[256];     /* map_bus's results, once */
};

/* A pci_config over e (which must outlive it): 4096 bytes a function. */
void ecam_config(struct ecam *e, struct pci_config *out);

#endif
