/*
 * alloc.c - the public interface and the fast paths of malloc and free.
 *
 * malloc of up to DIRECT_MAX bytes: thread-local heap pointer, one table
 * load for the page of the size class, pop the page's free list.  Anything
 * unusual (empty list, uninitialized thread, large size) goes to
 * mica_malloc_generic (page.c).
 *
 * free: mask the pointer to its segment, check the segment map bit, index
 * the page.  If the calling thread owns the segment, the page is not on the
 * full queue, the pointer is a block start (one multiply, see block_index)
 * and the block's key does not say "already free", push it on local_free.
 * Everything else - remote frees, huge blocks, aligned pointers, errors -
 * goes to mica_free_slow (free.c).
 *
 * Each function exists under its mica_ name.  Built with
 * MICA_MALLOC_OVERRIDE the standard names are defined too, from the same
 * inline bodies (no extra call), for use as the process's malloc: on the
 * host as a static library or an LD_PRELOAD object, in Mica in place of
 * musl's malloc at static link time.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "mica_malloc.h"

static inline void *malloc_fast(size_t n)
{
    heap_t *h = mica_tls_heap;
    if (likely(n <= DIRECT_MAX)) {
        page_t *pg = h->direct[(n + 15) >> 4];
        block_t *b = pg->free;
        if (likely(b != NULL)) {
            pg->free = b->next;
            pg->used++;
            b->key = 0;
            return b;
        }
    }
    return mica_malloc_generic(h, n);
}

static inline void free_fast(void *p)
{
    segment_t *s = ptr_segment(p);
    if (likely(segmap_has(s))) { /* false for NULL */
        page_t *pg = segment_page(s, p);
        block_t *b = p;
        size_t off = (size_t)((uint8_t *)p - pg->start);
        size_t i = block_index(pg, off);
        if (likely(atomic_load_explicit(&s->thread_id,
                                        memory_order_relaxed) ==
                       thread_id() &&
                   !pg->in_full && i * pg->block_size == off &&
                   i < pg->reserved && b->key != block_key(b))) {
            b->next = pg->local_free;
            b->key = block_key(b);
            pg->local_free = b;
            if (likely(--pg->used != 0))
                return;
            mica_page_retire(pg);
            return;
        }
    }
    mica_free_slow(p);
}

static void *calloc_impl(size_t count, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc_fast(total);
    /*
     * Huge blocks are fresh from the OS, hence zero.  Smaller ones are
     * cleared even when never used: skipping that would let the program's
     * first read map the shared zero page, and its first write then costs
     * a copy-on-write fault with a TLB shootdown on every CPU.
     */
    if (p != NULL && total <= LARGE_MAX)
        memset(p, 0, total);
    return p;
}

/* Usable bytes at p; p already checked to be ours. */
static size_t usable(const segment_t *s, const page_t *pg, const void *p)
{
    if (s->kind == KIND_HUGE) {
        if (p != pg->start)
            mica_invalid("invalid pointer (inside a huge block):", p);
        return pg->block_size;
    }
    const block_t *b = mica_check_block(s, pg, p);
    return pg->block_size - (size_t)((const uint8_t *)p - (const uint8_t *)b);
}

static void *realloc_impl(void *p, size_t n)
{
    if (p == NULL)
        return malloc_fast(n);
    segment_t *s = ptr_segment(p);
    if (!segmap_has(s))
        mica_invalid("realloc of invalid pointer (not from this allocator):",
                     p);
    page_t *pg = segment_page(s, p);
    size_t have = usable(s, pg, p);
    if (n <= have && n >= have / 2)
        return p; /* shrinking a little or growing into the slack */
    if (s->kind == KIND_HUGE && n > LARGE_MAX) {
        void *q = mica_segment_huge_realloc(s, p, n);
        if (q != NULL)
            return q;
    }
    void *q = malloc_fast(n);
    if (q == NULL)
        return NULL;
    memcpy(q, p, n < have ? n : have);
    free_fast(p);
    return q;
}

/*
 * Alignment beyond 16: first hope the natural block is aligned (true for
 * many power-of-two sizes); otherwise take a block with room to slide and
 * mark it (see free.c) so free and realloc find the block start.
 */
static void *aligned_impl(size_t align, size_t n)
{
    if (align <= 16)
        return malloc_fast(n);
    if (n > PTRDIFF_MAX - SEGMENT_SIZE || align > PTRDIFF_MAX / 2) {
        errno = ENOMEM;
        return NULL;
    }
    if (n + align - 16 <= LARGE_MAX) {
        void *p = malloc_fast(n);
        if (p == NULL || ((uintptr_t)p & (align - 1)) == 0)
            return p;
        free_fast(p);
        block_t *b = malloc_fast(n + align - 16);
        if (b == NULL)
            return NULL;
        uintptr_t a = ((uintptr_t)b + align - 1) & ~(uintptr_t)(align - 1);
        if (a != (uintptr_t)b)
            b->key = block_key((block_t *)a);
        return (void *)a;
    }
    void *p = mica_segment_huge_alloc(n, align);
    if (p == NULL)
        errno = ENOMEM;
    return p;
}

static bool pow2(size_t a)
{
    return a != 0 && (a & (a - 1)) == 0;
}

static int posix_memalign_impl(void **out, size_t align, size_t n)
{
    if (!pow2(align) || align % sizeof(void *) != 0)
        return EINVAL;
    void *p = aligned_impl(align, n);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

static void *aligned_alloc_impl(size_t align, size_t n)
{
    if (!pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned_impl(align, n);
}

static void *memalign_impl(size_t align, size_t n)
{
    /* like glibc: round a non-power-of-two alignment up */
    size_t a = 16;
    while (a < align && a <= PTRDIFF_MAX / 2)
        a <<= 1;
    return aligned_impl(a, n);
}

static void *reallocarray_impl(void *p, size_t count, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc_impl(p, total);
}

static void *pvalloc_impl(size_t n)
{
    size_t page = mica_os_page_size();
    if (n > PTRDIFF_MAX - page) {
        errno = ENOMEM;
        return NULL;
    }
    return aligned_impl(page, (n + page - 1) & ~(page - 1));
}

static size_t usable_size_impl(const void *p)
{
    if (p == NULL)
        return 0;
    segment_t *s = ptr_segment(p);
    if (!segmap_has(s))
        mica_invalid("malloc_usable_size of invalid pointer:", p);
    return usable(s, segment_page(s, p), p);
}

/* ---- the mica_ names ---- */

MICA_API void *mica_malloc(size_t n) { return malloc_fast(n); }
MICA_API void mica_free(void *p) { free_fast(p); }
MICA_API void *mica_calloc(size_t c, size_t n) { return calloc_impl(c, n); }
MICA_API void *mica_realloc(void *p, size_t n) { return realloc_impl(p, n); }
MICA_API void *mica_reallocarray(void *p, size_t c, size_t n)
{
    return reallocarray_impl(p, c, n);
}
MICA_API void *mica_aligned_alloc(size_t a, size_t n)
{
    return aligned_alloc_impl(a, n);
}
MICA_API int mica_posix_memalign(void **out, size_t a, size_t n)
{
    return posix_memalign_impl(out, a, n);
}
MICA_API void *mica_memalign(size_t a, size_t n) { return memalign_impl(a, n); }
MICA_API void *mica_valloc(size_t n) { return aligned_impl(mica_os_page_size(), n); }
MICA_API void *mica_pvalloc(size_t n) { return pvalloc_impl(n); }
MICA_API size_t mica_malloc_usable_size(const void *p) { return usable_size_impl(p); }

MICA_API bool mica_malloc_owns(const void *p)
{
    return p != NULL && segmap_has(ptr_segment(p));
}

MICA_API void mica_malloc_collect(bool force)
{
    heap_t *h = mica_tls_heap;
    if (h != &mica_empty_heap) {
        mica_heap_collect(h, force);
        mica_segment_reclaim_some(h, SIZE_MAX);
        mica_heap_collect(h, force);
    }
    mica_segment_cache_trim();
}

MICA_API void mica_malloc_stats(struct mica_malloc_stats *out)
{
    mica_segment_stats(&out->segments, &out->mapped, &out->abandoned,
                  &out->cached);
}

/* ---- the standard names ---- */

#ifdef MICA_MALLOC_OVERRIDE
/* Declared here: not every libc declares all of them, nor in one header. */
void *malloc(size_t n);
void free(void *p);
void *calloc(size_t c, size_t n);
void *realloc(void *p, size_t n);
void *reallocarray(void *p, size_t c, size_t n);
void *aligned_alloc(size_t a, size_t n);
int posix_memalign(void **out, size_t a, size_t n);
void *memalign(size_t a, size_t n);
void *valloc(size_t n);
void *pvalloc(size_t n);
size_t malloc_usable_size(void *p);
int malloc_trim(size_t pad);

MICA_API void *malloc(size_t n) { return malloc_fast(n); }
MICA_API void free(void *p) { free_fast(p); }
MICA_API void *calloc(size_t c, size_t n) { return calloc_impl(c, n); }
MICA_API void *realloc(void *p, size_t n) { return realloc_impl(p, n); }
MICA_API void *reallocarray(void *p, size_t c, size_t n)
{
    return reallocarray_impl(p, c, n);
}
MICA_API void *aligned_alloc(size_t a, size_t n) { return aligned_alloc_impl(a, n); }
MICA_API int posix_memalign(void **out, size_t a, size_t n)
{
    return posix_memalign_impl(out, a, n);
}
MICA_API void *memalign(size_t a, size_t n) { return memalign_impl(a, n); }
MICA_API void *valloc(size_t n) { return aligned_impl(mica_os_page_size(), n); }
MICA_API void *pvalloc(size_t n) { return pvalloc_impl(n); }
MICA_API size_t malloc_usable_size(void *p) { return usable_size_impl(p); }
MICA_API int malloc_trim(size_t pad)
{
    (void)pad;
    mica_malloc_collect(true);
    return 1;
}
#endif
