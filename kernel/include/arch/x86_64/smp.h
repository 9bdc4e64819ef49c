/*
 * smp.h - starting the other CPUs, and running code on them.
 */
#ifndef MICA_X86_64_SMP_H
#define MICA_X86_64_SMP_H

#include "acpi.h"
#include "percpu.h"

/* Set up the boot CPU's per-CPU data (GS base, GDT, TSS). */
void smp_init_bsp(void);

/* Start every enabled CPU of the MADT; returns how many are online. */
unsigned smp_boot(const struct acpi_info *ai);

#endif
