/*
 * physmem.h - reaching physical memory from the kernel.
 *
 * All physical memory is mapped at one offset (the direct map), so a
 * physical address becomes a pointer by adding phys_map_offset.  During
 * early boot the offset is the kernel image's, which covers the first GiB;
 * paging_init() moves it to the direct map.  Host tests point it at a
 * buffer that plays physical memory.
 */
#ifndef MICA_PHYSMEM_H
#define MICA_PHYSMEM_H

#include "types.h"

extern uintptr_t phys_map_offset;

static inline void *phys_to_virt(paddr_t p)
{
    return (void *)(uintptr_t)(p + phys_map_offset);
}

static inline paddr_t virt_to_phys(const void *v)
{
    return (paddr_t)((uintptr_t)v - phys_map_offset);
}

#endif
