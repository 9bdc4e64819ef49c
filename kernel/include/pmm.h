/*
 * pmm.h - the physical page allocator (a binary buddy allocator).
 *
 * Every physical page up to the end of RAM has a struct page in one
 * array (the page database), found by frame number.  Free blocks of 2^k
 * pages sit on the free list of order k; freeing a block merges it with
 * its buddy while the buddy is free and of the same order.  One spinlock
 * guards the lists (with interrupts off).
 *
 * Physical page 0 never enters the allocator, so 0 means "no page".
 */
#ifndef MICA_PMM_H
#define MICA_PMM_H

#include "types.h"

#define PMM_ORDERS 11                   /* blocks of 1 page .. 4 MiB */

enum {
    PG_FREE = 1u << 0,      /* head of a free block */
    PG_ALLOC = 1u << 1,     /* head of an allocated block */
    PG_SLAB = 1u << 2,      /* the block backs a slab */
};

struct page {
    struct page *next, *prev;   /* free list links (head pages only) */
    void *owner;                /* slab cache, when PG_SLAB */
    uint16_t flags;
    uint8_t order;              /* of the block this page heads */
    uint8_t pad;
    uint32_t refs;              /* vmos sharing the page (copy-on-write) */
};

/* Set up the page database `db` for `npages` frames starting at frame 0;
 * every page starts out unavailable until given with pmm_add_free. */
void pmm_init(struct page *db, uint64_t npages);

/* Bytes the page database needs to describe memory up to `ram_end`. */
uint64_t pmm_db_size(paddr_t ram_end);

/* Make the pages of [start, end) available (page-aligned). */
void pmm_add_free(paddr_t start, paddr_t end);

/* A block of 2^order pages, aligned to its size, or 0 when none. */
paddr_t pmm_alloc(unsigned order);

/* Give back a block from pmm_alloc with the same order.  Freeing a block
 * that is not allocated, or with the wrong order, is a kernel bug. */
void pmm_free(paddr_t p, unsigned order);

/* The struct page of address p (NULL past the end of the database). */
struct page *pmm_page(paddr_t p);

uint64_t pmm_free_pages(void);
uint64_t pmm_total_pages(void);         /* ever added */

#endif
