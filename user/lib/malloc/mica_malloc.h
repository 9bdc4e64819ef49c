/*
 * mica_malloc.h - the allocator's interface under its own names.
 *
 * The same functions are also built under the standard names (malloc, free,
 * ...) when the library is compiled with MICA_MALLOC_OVERRIDE; this header
 * is for programs that want the allocator next to another one (sanitizer
 * builds, benchmarks) and for the allocator's own extras: collect and stats.
 */
#ifndef MICA_MALLOC_H
#define MICA_MALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *mica_malloc(size_t size);
void mica_free(void *p);
void *mica_calloc(size_t count, size_t size);
void *mica_realloc(void *p, size_t size);
void *mica_reallocarray(void *p, size_t count, size_t size);
void *mica_aligned_alloc(size_t align, size_t size);
int mica_posix_memalign(void **out, size_t align, size_t size);
void *mica_memalign(size_t align, size_t size);
void *mica_valloc(size_t size);
void *mica_pvalloc(size_t size);
size_t mica_malloc_usable_size(const void *p);

/* True when p points into a live segment of this allocator. */
bool mica_malloc_owns(const void *p);

/*
 * Give memory back: free the calling thread's empty pages, adopt the
 * segments of exited threads whose blocks were freed since, and unmap the
 * segment cache.  `force` also frees pages kept for reuse.
 */
void mica_malloc_collect(bool force);

struct mica_malloc_stats {
    size_t segments;       /* segments mapped now (huge ones included) */
    size_t mapped;         /* bytes mapped now */
    size_t abandoned;      /* segments of exited threads not yet adopted */
    size_t cached;         /* empty segments kept for reuse */
};
void mica_malloc_stats(struct mica_malloc_stats *out);

#endif
