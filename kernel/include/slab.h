/*
 * slab.h - caches of fixed-size kernel objects, and kmalloc.
 *
 * A cache hands out objects of one size from slabs: single pages whose
 * first bytes hold a struct slab, followed by the objects.  Free objects
 * of a slab form a list threaded through themselves.  A slab is on its
 * cache's partial list while it has both used and free objects; a fully
 * free slab goes back to the page allocator (one is kept as a spare).
 *
 * kmalloc serves sizes up to SLAB_MAX_OBJ from power-of-two caches and
 * larger sizes from whole pages.  kfree tells the two apart by alignment:
 * a slab object never starts on a page boundary (the header is there).
 */
#ifndef MICA_SLAB_H
#define MICA_SLAB_H

#include "spinlock.h"
#include "types.h"

#define SLAB_MAX_OBJ 2048

struct slab;

struct slab_cache {
    const char *name;
    size_t size;                /* object size, rounded to alignment */
    size_t align;
    unsigned per_slab;          /* objects per slab */
    struct slab *partial;       /* slabs with free and used objects */
    struct slab *full;          /* slabs with no free object */
    struct slab *spare;         /* one empty slab kept back */
    uint64_t allocated;         /* objects in use */
    uint64_t slabs;             /* slabs owned, spare included */
    spinlock_t lock;
};

/* Page source: one zeroed-or-not page-aligned page, and large blocks.
 * The kernel supplies these from the page allocator; host tests from
 * their own memory. */
void *slab_page_alloc(void);
void slab_page_free(void *page);
void *slab_large_alloc(size_t size);
void slab_large_free(void *p);

/* Initialize a cache for objects of `size` bytes aligned to `align`
 * (a power of two, at least 8).  size + header must fit in a page. */
void slab_cache_init(struct slab_cache *c, const char *name, size_t size,
                     size_t align);

/* An object, or NULL when memory is exhausted. Contents undefined. */
void *slab_alloc(struct slab_cache *c);

/* Return an object to its cache.  A pointer not from this cache, or one
 * already free, is a kernel bug and is caught. */
void slab_free(struct slab_cache *c, void *obj);

/* Give back the spare slab (and anything else reclaimable). */
void slab_cache_shrink(struct slab_cache *c);

void kmalloc_init(void);

/* Return every cache's spare slab to the page allocator, so free-page
 * counts compare exactly (tests, memory pressure). */
void kmalloc_shrink(void);
void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

#endif
