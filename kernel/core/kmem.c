/*
 * kmem.c - the slab allocator's page source in the kernel: the page
 * allocator, reached through the direct map.
 *
 * A large kmalloc block is a buddy block of the smallest order that
 * fits; its order is read back from the struct page when it is freed.
 */
#include "panic.h"
#include "physmem.h"
#include "pmm.h"
#include "slab.h"

void *slab_page_alloc(void)
{
    paddr_t p = pmm_alloc(0);
    if (!p)
        return NULL;
    pmm_page(p)->flags |= PG_SLAB;
    return phys_to_virt(p);
}

void slab_page_free(void *page)
{
    paddr_t p = virt_to_phys(page);
    pmm_page(p)->flags &= ~PG_SLAB;
    pmm_free(p, 0);
}

void *slab_large_alloc(size_t size)
{
    unsigned order = 0;
    while (((uint64_t)PAGE_SIZE << order) < size)
        if (++order >= PMM_ORDERS)
            return NULL;
    paddr_t p = pmm_alloc(order);
    return p ? phys_to_virt(p) : NULL;
}

void slab_large_free(void *ptr)
{
    paddr_t p = virt_to_phys(ptr);
    struct page *pg = pmm_page(p);
    KASSERT(pg && (pg->flags & PG_ALLOC) && !(pg->flags & PG_SLAB));
    pmm_free(p, pg->order);
}
