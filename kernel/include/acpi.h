/*
 * acpi.h - what the kernel needs from the ACPI tables.
 *
 * The parser is portable: it reads physical memory only through the
 * acpi_ops callback, so host tests feed it byte arrays that stand in for
 * firmware memory.  Every table is checked (signature, length, checksum)
 * before a byte of it is trusted; a malformed table is skipped and
 * reported, never followed past its end.
 */
#ifndef MICA_ACPI_H
#define MICA_ACPI_H

#include "types.h"

#define ACPI_MAX_CPUS     256
#define ACPI_MAX_IOAPICS  16
#define ACPI_MAX_ISOS     32
#define ACPI_MAX_MCFG     8

/* How the parser reaches physical memory: returns a pointer through which
 * [phys, phys+len) can be read, or NULL when that range is not readable. */
struct acpi_ops {
    const void *(*map)(void *ctx, paddr_t phys, size_t len);
    void *ctx;
};

struct acpi_cpu {
    uint32_t apic_id;
    uint32_t acpi_uid;
};

struct acpi_ioapic {
    uint32_t id;
    uint32_t gsi_base;
    paddr_t  addr;
};

/* Interrupt source override: ISA IRQ `source` arrives on `gsi`. */
struct acpi_iso {
    uint8_t  source;
    uint32_t gsi;
    uint16_t flags;         /* MPS INTI flags: polarity bits 0-1, trigger 2-3 */
};

/* One PCI Express ECAM window from MCFG. */
struct acpi_mcfg {
    paddr_t  base;
    uint16_t segment;
    uint8_t  bus_start, bus_end;
};

struct acpi_info {
    paddr_t  rsdp;          /* where the RSDP was found */
    uint8_t  revision;      /* RSDP revision: 0 = ACPI 1.0 (RSDT), 2+ = XSDT */
    char     oem_id[7];     /* NUL-terminated */
    paddr_t  lapic_addr;    /* local APIC base (MADT, or its 64-bit override) */
    bool     has_8259;      /* MADT PCAT_COMPAT: legacy PICs present */
    unsigned ncpus;         /* enabled (or online-capable) processors */
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
    unsigned nioapics;
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    unsigned nisos;
    struct acpi_iso isos[ACPI_MAX_ISOS];
    unsigned nmcfg;
    struct acpi_mcfg mcfg[ACPI_MAX_MCFG];
    unsigned bad_tables;    /* tables skipped for bad length or checksum */
};

/*
 * Find the RSDP in the BIOS areas (first KiB of the EBDA, then
 * 0xE0000-0xFFFFF, on 16-byte boundaries), validating its checksum(s).
 * Returns 0 and the physical address in *out, or -1 when there is none.
 */
int acpi_find_rsdp(const struct acpi_ops *ops, paddr_t *out);

/*
 * Parse the tables reachable from the RSDP at `rsdp`: the XSDT when the
 * revision allows it (else the RSDT), then MADT and MCFG.  Fills *info
 * (zeroed first).  Returns 0, or -1 when the RSDP or root table is invalid
 * (then *info holds only what was read before the failure).
 */
int acpi_parse(const struct acpi_ops *ops, paddr_t rsdp, struct acpi_info *info);

/* Look up the override for ISA IRQ `irq`: returns its GSI and flags, or the
 * identity mapping (gsi = irq, flags 0) when there is no override. */
uint32_t acpi_isa_irq_to_gsi(const struct acpi_info *info, uint8_t irq,
                             uint16_t *flags);

#endif
