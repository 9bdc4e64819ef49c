/*
 * mica/device.h - what drivers are given: resources and interrupts.
 *
 * A resource names a range of something only the kernel can hand out:
 * interrupt lines (GSIs), x86 I/O ports, physical addresses, a budget
 * of time in critical sections, thread priorities.  Init starts
 * with the root resource, which covers everything; resource_create carves
 * narrower ones from a resource it holds (RIGHT_MANAGE), and the calls
 * that make device objects (interrupt_create, ...) ask for a resource
 * whose range covers what they name.  docs/interrupts.md has the
 * interrupt protocol; docs/abi/syscalls.md every call.
 */
#ifndef MICA_ABI_DEVICE_H
#define MICA_ABI_DEVICE_H

#include <stdint.h>

/* Resource kinds. */
#define MICA_RESOURCE_ROOT    0u  /* everything; made only by the kernel */
#define MICA_RESOURCE_IRQ     1u  /* GSIs [base, base + size) */
#define MICA_RESOURCE_IOPORT  2u  /* I/O ports [base, base + size) */
#define MICA_RESOURCE_MMIO    3u  /* physical addresses [base, base + size) */
#define MICA_RESOURCE_DMA     4u  /* contiguous RAM lying in [base, base + size) */
#define MICA_RESOURCE_CRITICAL 5u /* a critical-section budget of `size` ns
                                     (base 0, size at most
                                     MICA_CRITICAL_BUDGET_MAX: mica/critical.h) */
#define MICA_RESOURCE_PRIORITY 6u /* thread priorities [base, base + size),
                                     within 0-31 (thread_set_priority) */

/* vmo_create_physical cache modes */
#define MICA_CACHE_UNCACHED   1u
#define MICA_CACHE_WRITE_COMBINING 2u

/* interrupt_create options: the number is a GSI, whose mode must be
 * given (one of EDGE or LEVEL, one of HIGH or LOW); or, with MICA_IRQ_ISA
 * alone, an ISA IRQ (0-15), which the firmware's interrupt source
 * overrides map to a GSI, trigger mode and polarity. */
#define MICA_IRQ_ISA          (1u << 0)
#define MICA_IRQ_EDGE         (1u << 1)
#define MICA_IRQ_LEVEL        (1u << 2)
#define MICA_IRQ_HIGH         (1u << 3)   /* active high */
#define MICA_IRQ_LOW          (1u << 4)   /* active low */
/* An MSI or MSI-X vector of its own (number must be MICA_IRQ_MSI_NUMBER,
 * which the resource must cover); interrupt_info gives the address and
 * data the device must be programmed with. */
#define MICA_IRQ_MSI          (1u << 5)
#define MICA_IRQ_MSI_NUMBER   0x10000u

/* interrupt_info results: the line's counters (docs/interrupts.md). */
struct mica_irq_info {
    uint32_t number;        /* the GSI, or MICA_IRQ_MSI_NUMBER */
    uint32_t level;         /* 1: level-triggered, 0: edge */
    uint32_t state;         /* 0 idle, 1 in service, 2 back-off */
    uint32_t sinks;         /* interrupt objects bound to the line */
    uint64_t seq;           /* the last service started */
    uint64_t raised, acked, naked, spurious, late, unhandled;
    uint64_t msi_address;   /* MSI: what the device writes, and where */
    uint32_t msi_data;
    uint32_t pad;
};

/* platform_info: what the firmware says about the machine that drivers
 * need and only the kernel can read.  ecam[]: PCI Express's
 * memory-mapped configuration space (ACPI's MCFG), one window per PCI
 * segment; function (bus, dev, fn) of a window's segment has its 4 KiB
 * at base + (bus << 20 | dev << 15 | fn << 12), for bus in [bus_start,
 * bus_end] (base is where bus 0 would be, as MCFG gives it). */
#define MICA_PLATFORM_MAX_ECAM 8
struct mica_ecam_window {
    uint64_t base;
    uint16_t segment;
    uint8_t  bus_start, bus_end;
    uint32_t pad;
};

struct mica_platform_info {
    uint32_t necam;                         /* windows in ecam[] */
    uint32_t pad;
    struct mica_ecam_window ecam[MICA_PLATFORM_MAX_ECAM];
};

#endif
