/*
 * apic.h - the local APIC, the IOAPICs, the legacy PIC and the PIT.
 */
#ifndef MICA_X86_64_APIC_H
#define MICA_X86_64_APIC_H

#include "acpi.h"
#include "types.h"

#define ICR_INIT        0x00000500u
#define ICR_STARTUP     0x00000600u
#define ICR_NMI         0x00000400u
#define ICR_FIXED       0x00000000u
#define ICR_ASSERT      0x00004000u
#define ICR_LEVEL       0x00008000u
#define ICR_ALL_BUT_SELF 0x000C0000u

void lapic_init(paddr_t base);          /* map it (boot CPU, once) */
void lapic_init_cpu(void);              /* enable it on this CPU */
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Send an IPI (icr_low holds vector and mode); waits until accepted. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);
/* Calibrate the LAPIC timer and TSC against the PIT (boot CPU). */
void timer_calibrate(void);
/* Set up this CPU's one-shot timer (stopped) and its IPI handlers. */
void timer_start_cpu(void);
/* Arm it for deadline_ns (clock_ns time; now_ns is the current time);
 * 0 stops it. */
void lapic_timer_oneshot(uint64_t deadline_ns, uint64_t now_ns);
uint64_t lapic_timer_hz(void);
bool timer_uses_tsc_deadline(void);


/* The ACPI tables as parsed at boot. */
extern struct acpi_info acpi;

/* Busy-wait, by the TSC once calibrated (else by PIT polling). */
void udelay(uint64_t us);

void pic_disable(void);                 /* remap away from exceptions, mask */
uint64_t pic_spurious_count(void);

/* IOAPICs from the MADT: map them and mask every line. */
void ioapic_init(const struct acpi_info *ai);
/* Route a GSI to `vector` on the CPU with `apic_id`; flags as MADT ISO
 * (polarity bits 0-1: 3 = active low; trigger bits 2-3: 3 = level). */
int ioapic_route(uint32_t gsi, uint8_t vector, uint32_t apic_id,
                 uint16_t flags);
/* The same, leaving the line masked. */
int ioapic_route_masked(uint32_t gsi, uint8_t vector, uint32_t apic_id,
                        uint16_t flags);
int ioapic_mask(uint32_t gsi, bool masked);
unsigned ioapic_lines(void);            /* GSIs covered by all IOAPICs */

/* PIT channel 0 one-shot after `us` microseconds (for tests of the
 * IOAPIC path); the interrupt arrives on ISA IRQ 0. */
void pit_oneshot(uint32_t us);

#endif
