/*
 * paging.h - the kernel's own address space on x86_64.
 */
#ifndef MICA_X86_64_PAGING_H
#define MICA_X86_64_PAGING_H

#include "memmap.h"
#include "types.h"

extern paddr_t kernel_root;     /* physical address of the kernel PML4 */
extern uint64_t pte_nx;         /* PTE_NX when the CPU has NX, else 0 */

/* Build the kernel page tables: the direct map of every RAM range in
 * `ram`, the kernel image with per-section permissions (text RX, rodata
 * R, data RW, all but text NX); tables come from `boot`.  Switches CR3 and
 * phys_map_offset to the direct map. */
void paging_init(const struct memmap *ram, struct memmap *boot);

/* Map [pa, pa + len) uncached for device registers; returns the virtual
 * address (page offset kept) or NULL when out of memory or space. */
void *mmio_map(paddr_t pa, size_t len);

/* Program this CPU's PAT: entries 0-3 (and 4-7) are WB, WC, UC-, UC, so a
 * PTE's PWT alone selects write-combining and PCD|PWT uncached. */
void paging_pat_init_cpu(void);

/* The first 2 MiB identity-mapped, for the AP trampoline; and undone. */
int paging_identity_low(void);
void paging_drop_identity_low(void);

/* Physical address of a kernel-image object. */
paddr_t kimage_to_phys(const void *p);

#endif
