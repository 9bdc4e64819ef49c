/*
 * memmap.h - physical memory ranges during boot, and the boot allocator.
 *
 * Boot code adds the RAM ranges the firmware reports, reserves what is
 * already used (the kernel image, boot modules, loader data, the first
 * MiB), takes the pages the early kernel needs with memmap_alloc, and
 * finally hands every remaining range to the page allocator.
 */
#ifndef MICA_MEMMAP_H
#define MICA_MEMMAP_H

#include "types.h"

#define MEMMAP_MAX 128

struct memrange {
    paddr_t start, end;         /* [start, end), page-aligned */
};

struct memmap {
    struct memrange r[MEMMAP_MAX];  /* free RAM, sorted, disjoint */
    unsigned n;
    paddr_t ram_end;                /* end of the highest RAM range added */
    bool overflow;                  /* a range was dropped for lack of room */
};

/* Add usable RAM [start, end); shrunk inward to whole pages, merged with
 * neighbours. */
void memmap_add(struct memmap *m, paddr_t start, paddr_t end);

/* Remove [start, end), widened outward to whole pages. */
void memmap_reserve(struct memmap *m, paddr_t start, paddr_t end);

/* Take `size` bytes (rounded up to pages), page-aligned, wholly below
 * `limit`, from the highest range that fits.  Returns 0 on failure
 * (page 0 is never free: the first MiB is always reserved). */
paddr_t memmap_alloc(struct memmap *m, uint64_t size, paddr_t limit);

/* Does any range of m overlap [start, end)? */
bool memmap_overlaps(const struct memmap *m, paddr_t start, paddr_t end);

/* Bytes of free RAM in the map. */
uint64_t memmap_free_bytes(const struct memmap *m);

#endif
