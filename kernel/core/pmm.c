/*
 * pmm.c - the binary buddy allocator for physical pages.
 *
 * Invariants: a free block of order k starts at a frame number that is a
 * multiple of 2^k; only its first page is on a free list, carries PG_FREE
 * and records k in `order`; an allocated block's head carries PG_ALLOC and
 * its order, which pmm_free checks, so double frees and wrong orders are
 * caught instead of corrupting the lists.
 */
#include "pmm.h"
#include "lib.h"
#include "panic.h"
#include "spinlock.h"

static struct page *db;
static uint64_t db_pages;
static struct page *free_list[PMM_ORDERS];
static uint64_t nfree, ntotal;
static spinlock_t pmm_lock = SPINLOCK_INIT;

void pmm_init(struct page *pages, uint64_t npages)
{
    db = pages;
    db_pages = npages;
    memset(db, 0, npages * sizeof(*db));
    memset(free_list, 0, sizeof(free_list));
    nfree = ntotal = 0;
}

uint64_t pmm_db_size(paddr_t ram_end)
{
    return (ram_end >> PAGE_SHIFT) * sizeof(struct page);
}

struct page *pmm_page(paddr_t p)
{
    uint64_t pfn = p >> PAGE_SHIFT;
    return pfn < db_pages ? &db[pfn] : NULL;
}

static void list_push(unsigned order, struct page *pg)
{
    pg->prev = NULL;
    pg->next = free_list[order];
    if (pg->next)
        pg->next->prev = pg;
    free_list[order] = pg;
    pg->flags = PG_FREE;
    pg->order = (uint8_t)order;
}

static void list_remove(unsigned order, struct page *pg)
{
    if (pg->prev)
        pg->prev->next = pg->next;
    else
        free_list[order] = pg->next;
    if (pg->next)
        pg->next->prev = pg->prev;
    pg->next = pg->prev = NULL;
    pg->flags = 0;
}

/* Free the block at pfn of `order`, merging with free buddies. */
static void free_block(uint64_t pfn, unsigned order)
{
    nfree += (uint64_t)1 << order;
    while (order + 1 < PMM_ORDERS) {
        uint64_t buddy = pfn ^ ((uint64_t)1 << order);
        if (buddy + ((uint64_t)1 << order) > db_pages)
            break;
        struct page *b = &db[buddy];
        if (!(b->flags & PG_FREE) || b->order != order)
            break;
        list_remove(order, b);
        pfn &= ~((uint64_t)1 << order);
        order++;
    }
    list_push(order, &db[pfn]);
}

void pmm_add_free(paddr_t start, paddr_t end)
{
    uint64_t pfn = ALIGN_UP(start, PAGE_SIZE) >> PAGE_SHIFT;
    uint64_t last = MIN(end >> PAGE_SHIFT, db_pages);
    if (pfn == 0)
        pfn = 1;                        /* page 0 means "none" */
    irqflags_t f = spin_lock_irqsave(&pmm_lock);
    while (pfn < last) {
        unsigned order = 0;
        while (order + 1 < PMM_ORDERS &&
               (pfn & (((uint64_t)2 << order) - 1)) == 0 &&
               pfn + ((uint64_t)2 << order) <= last)
            order++;
        ntotal += (uint64_t)1 << order;
        free_block(pfn, order);
        pfn += (uint64_t)1 << order;
    }
    spin_unlock_irqrestore(&pmm_lock, f);
}

paddr_t pmm_alloc(unsigned order)
{
    if (order >= PMM_ORDERS)
        return 0;
    irqflags_t f = spin_lock_irqsave(&pmm_lock);
    unsigned k = order;
    while (k < PMM_ORDERS && !free_list[k])
        k++;
    if (k == PMM_ORDERS) {
        spin_unlock_irqrestore(&pmm_lock, f);
        return 0;
    }
    struct page *pg = free_list[k];
    list_remove(k, pg);
    uint64_t pfn = (uint64_t)(pg - db);
    while (k > order) {                 /* split, keeping the low half */
        k--;
        list_push(k, &db[pfn + ((uint64_t)1 << k)]);
    }
    pg->flags = PG_ALLOC;
    pg->order = (uint8_t)order;
    pg->owner = NULL;
    nfree -= (uint64_t)1 << order;
    spin_unlock_irqrestore(&pmm_lock, f);
    return pfn << PAGE_SHIFT;
}

void pmm_free(paddr_t p, unsigned order)
{
    uint64_t pfn = p >> PAGE_SHIFT;
    KASSERT(order < PMM_ORDERS && pfn != 0 && pfn < db_pages);
    KASSERT((p & ((PAGE_SIZE << order) - 1)) == 0);
    irqflags_t f = spin_lock_irqsave(&pmm_lock);
    struct page *pg = &db[pfn];
    if (!(pg->flags & PG_ALLOC) || pg->order != order) {
        spin_unlock_irqrestore(&pmm_lock, f);
        KASSERT(!"pmm_free: block not allocated, or freed with another order");
        return;
    }
    pg->flags = 0;
    pg->owner = NULL;
    free_block(pfn, order);
    spin_unlock_irqrestore(&pmm_lock, f);
}

uint64_t pmm_free_pages(void)
{
    return __atomic_load_n(&nfree, __ATOMIC_RELAXED);
}

uint64_t pmm_total_pages(void)
{
    return ntotal;
}
