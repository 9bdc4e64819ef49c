/*
 * pagetable.c - walking and editing x86_64 page tables.
 *
 * A walk descends from the PML4 (level 3) to the PT (level 0), nine bits
 * of the address per level.  Intermediate entries are created writable
 * and user-accessible; the leaf alone decides the permissions, which is
 * how the hardware combines them (most restrictive wins).  Large pages
 * end the walk early at level 1 (2 MiB) or 2 (1 GiB).
 */
#include "arch/x86_64/pagetable.h"
#include "lib.h"
#include "mica/errors.h"
#include "physmem.h"

#define PT_INTERMEDIATE (PTE_P | PTE_W | PTE_U)

static inline unsigned pt_index(vaddr_t va, int level)
{
    return (va >> (12 + 9 * level)) & 511;
}

static inline pte_t *table(paddr_t p)
{
    return phys_to_virt(p & PTE_ADDR);
}

/* The entry for va at `level`, creating tables on the way when alloc is
 * given.  NULL when absent (or a large page is in the way: *large set). */
static pte_t *walk(paddr_t root, vaddr_t va, int level, pt_alloc_fn alloc,
                   void *ctx, bool *large, int *err)
{
    pte_t *t = table(root);
    *large = false;
    for (int l = 3; l > level; l--) {
        pte_t *e = &t[pt_index(va, l)];
        if ((*e & PTE_P) && (*e & PTE_PS) && l <= 2) {
            *large = true;
            return NULL;
        }
        if (!(*e & PTE_P)) {
            if (!alloc) {
                *err = ERR_NOT_FOUND;
                return NULL;
            }
            paddr_t p = alloc(ctx);
            if (!p) {
                *err = ERR_NO_MEMORY;
                return NULL;
            }
            *e = p | PT_INTERMEDIATE;
        }
        t = table(*e);
    }
    return &t[pt_index(va, level)];
}

int pt_map(paddr_t root, vaddr_t va, paddr_t pa, uint64_t flags,
           unsigned size, pt_alloc_fn alloc, void *ctx)
{
    uint64_t align = (uint64_t)PAGE_SIZE << (9 * size);
    if (size > PT_SIZE_1G || (va | pa) & (align - 1) || !pt_canonical(va) ||
        (pa & ~PTE_ADDR))
        return ERR_INVALID_ARGS;
    bool large;
    int err = 0;
    pte_t *e = walk(root, va, (int)size, alloc, ctx, &large, &err);
    if (large)
        return ERR_ALREADY_EXISTS;
    if (!e)
        return err;
    if (*e & PTE_P)
        return ERR_ALREADY_EXISTS;
    *e = pa | (flags & ~PTE_ADDR) | PTE_P | (size ? PTE_PS : 0);
    return 0;
}

int pt_unmap(paddr_t root, vaddr_t va, paddr_t *old)
{
    bool large;
    int err = 0;
    pte_t *e = walk(root, va, 0, NULL, NULL, &large, &err);
    if (!e || !(*e & PTE_P))
        return ERR_NOT_FOUND;
    if (old)
        *old = *e & PTE_ADDR;
    *e = 0;
    return 0;
}

bool pt_lookup(paddr_t root, vaddr_t va, paddr_t *pa, uint64_t *flags)
{
    pte_t *t = table(root);
    for (int l = 3; l >= 0; l--) {
        pte_t e = t[pt_index(va, l)];
        if (!(e & PTE_P))
            return false;
        if (l == 0 || (l <= 2 && (e & PTE_PS))) {
            uint64_t span = (uint64_t)PAGE_SIZE << (9 * l);
            uint64_t base = e & PTE_ADDR & ~(span - 1);
            if (pa)
                *pa = base | (va & (span - 1));
            if (flags)
                *flags = e & ~PTE_ADDR;
            return true;
        }
        t = table(e);
    }
    return false;
}

int pt_protect(paddr_t root, vaddr_t va, uint64_t flags)
{
    bool large;
    int err = 0;
    pte_t *e = walk(root, va, 0, NULL, NULL, &large, &err);
    if (!e || !(*e & PTE_P))
        return ERR_NOT_FOUND;
    *e = (*e & PTE_ADDR) | (flags & ~PTE_ADDR) | PTE_P;
    return 0;
}
