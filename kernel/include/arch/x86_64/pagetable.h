/*
 * pagetable.h - x86_64 4-level page tables.
 *
 * Tables are reached through phys_to_virt, and new tables come from a
 * caller-supplied allocator, so this code runs on the host against fake
 * physical memory.  Nothing here flushes the TLB: callers know which CPUs
 * may cache a translation and flush accordingly.
 */
#ifndef MICA_X86_64_PAGETABLE_H
#define MICA_X86_64_PAGETABLE_H

#include "types.h"

typedef uint64_t pte_t;

#define PTE_P     (1ull << 0)
#define PTE_W     (1ull << 1)
#define PTE_U     (1ull << 2)
#define PTE_PWT   (1ull << 3)
#define PTE_PCD   (1ull << 4)
#define PTE_A     (1ull << 5)
#define PTE_D     (1ull << 6)
#define PTE_PS    (1ull << 7)     /* large page, in PD and PDPT entries */
#define PTE_G     (1ull << 8)
#define PTE_NX    (1ull << 63)
#define PTE_ADDR  0x000FFFFFFFFFF000ull

#define PT_SIZE_4K 0
#define PT_SIZE_2M 1
#define PT_SIZE_1G 2

/* Returns the physical address of a zeroed page for a new table, or 0. */
typedef paddr_t (*pt_alloc_fn)(void *ctx);

/* Map [va, va + page size) to pa with `flags` (PTE_P added).  size is
 * PT_SIZE_4K/2M/1G; va and pa must be aligned to it.  Returns 0,
 * ERR_NO_MEMORY (a table could not be allocated), ERR_ALREADY_EXISTS (va
 * already mapped, or covered by a larger page) or ERR_INVALID_ARGS. */
int pt_map(paddr_t root, vaddr_t va, paddr_t pa, uint64_t flags,
           unsigned size, pt_alloc_fn alloc, void *ctx);

/* Remove the 4 KiB mapping of va; its frame goes to *old.  Returns 0 or
 * ERR_NOT_FOUND.  Tables left empty stay (freed with the address space). */
int pt_unmap(paddr_t root, vaddr_t va, paddr_t *old);

/* Translate va: true with the physical address and the leaf entry's
 * flags when mapped (large pages included). */
bool pt_lookup(paddr_t root, vaddr_t va, paddr_t *pa, uint64_t *flags);

/* Change the flags of the 4 KiB mapping of va.  0 or ERR_NOT_FOUND. */
int pt_protect(paddr_t root, vaddr_t va, uint64_t flags);

/* True when va is canonical (bits 63..47 all equal). */
static inline bool pt_canonical(vaddr_t va)
{
    return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

#endif
