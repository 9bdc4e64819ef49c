/*
 * segment.c - segments: the unit of memory between the allocator and the OS.
 *
 * A segment is SEGMENT_SIZE bytes aligned to SEGMENT_SIZE (huge ones are
 * longer) and belongs to one heap, whose thread id it carries in thread_id so
 * that free can tell a local free from a remote one with one compare.  The
 * heap links its segments on `all` (to abandon them at thread exit) and the
 * small and medium ones with free pages on `avail[kind]`; free_map says
 * which pages are free, so taking a page is a find-first-set.
 *
 * Returning memory happens at three levels:
 *   - free pages stay committed until the heap holds more than DIRTY_MIN
 *     bytes of them and more than 1/DIRTY_SHARE of its pages in use; then
 *     all of them are decommitted, neighbours in one call.  Each call can
 *     cost a TLB shootdown on every CPU running the process, and a page
 *     freed now is often needed again soon, so we wait until enough
 *     has gathered to matter;
 *   - an empty segment goes to a process-wide cache (CACHE_MAX); cached
 *     segments keep their memory while they number at most a quarter of
 *     the segments in use (or CACHE_COMMITTED), the rest are decommitted,
 *     and beyond the cache segments are unmapped;
 *   - on a system that cannot decommit part of a mapping (Mica, see
 *     mica_os_can_decommit) free pages stay committed while their segment
 *     lives, and cached segments beyond the committed limit are unmapped;
 *   - huge blocks are unmapped by free, whichever thread calls it.
 *
 * At thread exit (heap.c) a heap's segments that still hold live blocks are
 * "abandoned": thread_id becomes 0 and they go on a process-wide list.  The
 * first thread that frees into one adopts it (mica_segment_try_reclaim, called
 * from free.c), and threads that need a page adopt a few before mapping new
 * memory, so blocks freed after their thread died are reused or returned.
 *
 * The cache and the abandoned list each have a spin lock; both are taken
 * once per segment (4 MiB) at most, never on the paths of malloc and free.
 * The segment map bit of a segment is set while it is live and cleared
 * before it is cached or unmapped.
 */
#include <string.h>

#include "internal.h"

#ifndef DIRTY_MIN
#define DIRTY_MIN (4 * MiB)
#endif
#ifndef DIRTY_SHARE
#define DIRTY_SHARE 4 /* at most 1/4 of the pages in use */
#endif
#define CACHE_MAX 32
#ifndef CACHE_COMMITTED
#define CACHE_COMMITTED 2
#endif
#ifndef CACHE_SHARE
#define CACHE_SHARE 4
#endif
#define RECLAIM_BATCH 8

_Atomic uint64_t mica_segmap[SEGMAP_BITS / 64];

static _Atomic size_t stat_segments, stat_mapped;

static atomic_flag cache_lock = ATOMIC_FLAG_INIT;
static segment_t *cache[CACHE_MAX];
static bool cache_committed[CACHE_MAX];
static _Atomic size_t cache_count;

static atomic_flag abandoned_lock = ATOMIC_FLAG_INIT;
static segment_t *abandoned;
static _Atomic size_t abandoned_count;

static void spin_lock(atomic_flag *f)
{
    while (atomic_flag_test_and_set_explicit(f, memory_order_acquire))
        mica_os_yield();
}

static void spin_unlock(atomic_flag *f)
{
    atomic_flag_clear_explicit(f, memory_order_release);
}

static void segmap_set(segment_t *s, bool on)
{
    size_t i = (uintptr_t)s >> SEGMENT_SHIFT;
    uint64_t bit = (uint64_t)1 << (i % 64);
    if (on)
        atomic_fetch_or_explicit(&mica_segmap[i / 64], bit,
                                 memory_order_release);
    else
        atomic_fetch_and_explicit(&mica_segmap[i / 64], ~bit,
                                  memory_order_release);
}

static void stats_add(long segs, long bytes)
{
    atomic_fetch_add_explicit(&stat_segments, (size_t)segs,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&stat_mapped, (size_t)bytes,
                              memory_order_relaxed);
}

/* ---- the cache of empty segments ---- */

/* How many cached segments may keep their memory: 1/4 of those in use. */
static size_t cache_committed_limit(size_t cached)
{
    size_t all = atomic_load_explicit(&stat_segments, memory_order_relaxed);
    size_t live = all > cached ? all - cached : 0;
    size_t share = live / CACHE_SHARE;
    return share > CACHE_COMMITTED ? share : CACHE_COMMITTED;
}

static segment_t *cache_pop(bool *committed)
{
    if (atomic_load_explicit(&cache_count, memory_order_relaxed) == 0)
        return NULL;
    spin_lock(&cache_lock);
    segment_t *s = NULL;
    size_t n = atomic_load_explicit(&cache_count, memory_order_relaxed);
    size_t pick = n;
    for (size_t i = 0; i < n; i++)
        if (pick == n || cache_committed[i])
            pick = i;
    if (pick < n) {
        s = cache[pick];
        *committed = cache_committed[pick];
        cache[pick] = cache[n - 1];
        cache_committed[pick] = cache_committed[n - 1];
        atomic_store_explicit(&cache_count, n - 1, memory_order_relaxed);
    }
    spin_unlock(&cache_lock);
    return s;
}

/*
 * Keep an empty segment for reuse; false when the cache is full.  As the
 * segments in use decrease, cached ones beyond the committed limit give
 * their memory back (under the lock, so nobody pops one meanwhile).
 */
static bool cache_push(segment_t *s)
{
    spin_lock(&cache_lock);
    size_t n = atomic_load_explicit(&cache_count, memory_order_relaxed);
    bool added = n < CACHE_MAX;
    if (added) {
        cache[n] = s;
        cache_committed[n] = true;
        atomic_store_explicit(&cache_count, ++n, memory_order_relaxed);
    }
    size_t committed = 0, limit = cache_committed_limit(n);
    for (size_t i = 0; i < n; i++)
        committed += cache_committed[i];
    for (size_t i = 0; i < n && committed > limit;) {
        if (!cache_committed[i]) {
            i++;
        } else if (mica_os_can_decommit()) {
            mica_os_decommit(cache[i], SEGMENT_SIZE);
            cache_committed[i] = false;
            committed--;
            i++;
        } else {
            /* no decommit: unmapping is the only way to give it back */
            mica_os_unmap(cache[i], SEGMENT_SIZE);
            stats_add(-1, -(long)SEGMENT_SIZE);
            cache[i] = cache[n - 1];
            cache_committed[i] = cache_committed[n - 1];
            committed--;
            n--;
        }
    }
    atomic_store_explicit(&cache_count, n, memory_order_relaxed);
    spin_unlock(&cache_lock);
    return added;
}

void mica_segment_cache_trim(void)
{
    bool committed;
    segment_t *s;
    while ((s = cache_pop(&committed)) != NULL) {
        mica_os_unmap(s, SEGMENT_SIZE);
        stats_add(-1, -(long)SEGMENT_SIZE);
    }
}

/* ---- heap lists ---- */

static void avail_push(heap_t *h, segment_t *s)
{
    s->prev = NULL;
    s->next = h->avail[s->kind];
    if (s->next != NULL)
        s->next->prev = s;
    h->avail[s->kind] = s;
}

static void avail_unlink(heap_t *h, segment_t *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        h->avail[s->kind] = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

static bool in_avail(const segment_t *s)
{
    return s->kind != KIND_LARGE && s->free_map != 0;
}

static void heap_link(heap_t *h, segment_t *s)
{
    s->heap = h;
    h->page_bytes += (size_t)s->used_pages << s->page_shift;
    h->dirty_bytes += (size_t)s->dirty_free << s->page_shift;
    s->all_prev = NULL;
    s->all_next = h->all;
    if (h->all != NULL)
        h->all->all_prev = s;
    h->all = s;
    if (in_avail(s))
        avail_push(h, s);
}

static void heap_unlink(segment_t *s)
{
    heap_t *h = s->heap;
    h->page_bytes -= (size_t)s->used_pages << s->page_shift;
    h->dirty_bytes -= (size_t)s->dirty_free << s->page_shift;
    if (in_avail(s))
        avail_unlink(h, s);
    if (s->all_prev != NULL)
        s->all_prev->all_next = s->all_next;
    else
        h->all = s->all_next;
    if (s->all_next != NULL)
        s->all_next->all_prev = s->all_prev;
    s->heap = NULL;
}

/* ---- segments of pages ---- */

static const uint8_t kind_shift[3] = {SMALL_PAGE_SHIFT, MEDIUM_PAGE_SHIFT,
                                      SEGMENT_SHIFT};

static segment_t *segment_alloc(heap_t *h, enum segment_kind kind)
{
    bool committed = false;
    segment_t *s = cache_pop(&committed);
    if (s == NULL) {
        s = mica_os_map(SEGMENT_SIZE, SEGMENT_SIZE, 0);
        if (s == NULL)
            return NULL;
        stats_add(1, (long)SEGMENT_SIZE);
    } else if (!committed && !mica_os_commit(s, SEGMENT_SIZE)) {
        mica_os_unmap(s, SEGMENT_SIZE);
        stats_add(-1, -(long)SEGMENT_SIZE);
        return NULL;
    }
    unsigned count = 1u << (SEGMENT_SHIFT - kind_shift[kind]);
    memset(s, 0, offsetof(segment_t, pages) + count * sizeof(page_t));
    s->size = SEGMENT_SIZE;
    s->kind = (uint8_t)kind;
    s->page_shift = kind_shift[kind];
    s->page_count = (uint16_t)count;
    s->free_map = count == 64 ? ~(uint64_t)0 : ((uint64_t)1 << count) - 1;
    for (unsigned i = 0; i < count; i++)
        s->pages[i].dirty = committed;
    s->dirty_free = committed ? (uint16_t)count : 0;
    atomic_store_explicit(&s->thread_id, h->tid, memory_order_relaxed);
    heap_link(h, s);
    segmap_set(s, true);
    return s;
}

static void segment_free(segment_t *s)
{
    heap_unlink(s);
    segmap_set(s, false);
    if (!cache_push(s)) {
        mica_os_unmap(s, SEGMENT_SIZE);
        stats_add(-1, -(long)SEGMENT_SIZE);
    }
}

page_t *mica_segment_page_alloc(heap_t *h, enum segment_kind kind)
{
    segment_t *s = kind == KIND_LARGE ? NULL : h->avail[kind];
    if (s == NULL &&
        atomic_load_explicit(&abandoned_count, memory_order_relaxed) != 0) {
        mica_segment_reclaim_some(h, RECLAIM_BATCH);
        s = kind == KIND_LARGE ? NULL : h->avail[kind];
    }
    if (s == NULL && (s = segment_alloc(h, kind)) == NULL)
        return NULL;
    unsigned i = (unsigned)__builtin_ctzll(s->free_map);
    s->free_map &= ~((uint64_t)1 << i);
    s->used_pages++;
    if (s->free_map == 0 && kind != KIND_LARGE)
        avail_unlink(h, s);
    page_t *pg = &s->pages[i];
    h->page_bytes += (size_t)1 << s->page_shift;
    if (pg->dirty) {
        s->dirty_free--;
        h->dirty_bytes -= (size_t)1 << s->page_shift;
    } else {
        size_t size;
        uint8_t *area = page_area(s, i, &size);
        if (!mica_os_commit(area, size))
            return NULL; /* the page stays marked used: a lost page */
        pg->dirty = 1;
    }
    pg->in_use = 1;
    return pg;
}

/*
 * Decommit the OS pages of pages [first, last] (all free and dirty) in one
 * call.  False when the range does not start on an OS page (page 0 on a
 * system with pages larger than the header): it then stays dirty.
 */
static bool decommit_run(segment_t *s, size_t first, size_t last)
{
    size_t size, os_page = mica_os_page_size();
    uintptr_t a = (uintptr_t)page_area(s, first, &size);
    uintptr_t end = (uintptr_t)page_area(s, last, &size) + size;
    uintptr_t lo = (a + os_page - 1) & ~(os_page - 1);
    uintptr_t hi = end & ~(os_page - 1);
    if (lo != a)
        return false;
    if (hi > lo)
        mica_os_decommit((void *)lo, hi - lo);
    return true;
}

/* Decommit every free dirty page of a segment, neighbours together. */
static void segment_purge(segment_t *s)
{
    size_t n = s->page_count, i = 0;
    while (i < n) {
        if (!((s->free_map >> i) & 1) || !s->pages[i].dirty) {
            i++;
            continue;
        }
        size_t j = i;
        while (j + 1 < n && ((s->free_map >> (j + 1)) & 1) &&
               s->pages[j + 1].dirty)
            j++;
        if (decommit_run(s, i, j))
            for (size_t k = i; k <= j; k++) {
                s->pages[k].dirty = 0;
                s->dirty_free--;
                s->heap->dirty_bytes -= (size_t)1 << s->page_shift;
            }
        i = j + 1;
    }
}

void mica_segment_page_release(page_t *pg)
{
    segment_t *s = ptr_segment(pg);
    size_t i = (size_t)(pg - s->pages);
    bool was_full = s->free_map == 0;
    pg->in_use = 0;
    s->free_map |= (uint64_t)1 << i;
    heap_t *h = s->heap;
    if (was_full && s->kind != KIND_LARGE)
        avail_push(h, s);
    h->page_bytes -= (size_t)1 << s->page_shift;
    if (--s->used_pages == 0) {
        segment_free(s);
        return;
    }
    h->dirty_bytes += (size_t)1 << s->page_shift;
    s->dirty_free++;
    if (!h->exiting && mica_os_can_decommit() &&
        h->dirty_bytes > DIRTY_MIN &&
        h->dirty_bytes > h->page_bytes / DIRTY_SHARE)
        for (segment_t *x = h->all; x != NULL; x = x->all_next)
            segment_purge(x);
}

/* ---- huge blocks ---- */

void *mica_segment_huge_alloc(size_t n, size_t align)
{
    size_t os_page = mica_os_page_size();
    size_t lead, map_align = SEGMENT_SIZE, offset = 0;
    if (align < SEGMENT_SIZE) {
        lead = (HUGE_HEADER + align - 1) & ~(align - 1);
    } else {
        /* the block starts where the first SEGMENT_SIZE bytes end */
        lead = SEGMENT_SIZE;
        map_align = align;
        offset = SEGMENT_SIZE;
    }
    size_t size = (lead + n + os_page - 1) & ~(os_page - 1);
    segment_t *s = mica_os_map(size, map_align, offset);
    if (s == NULL)
        return NULL;
    stats_add(1, (long)size);
    s->size = size;
    s->kind = KIND_HUGE;
    s->page_shift = HUGE_PAGE_SHIFT;
    s->page_count = 1;
    s->used_pages = 1;
    page_t *pg = &s->pages[0];
    pg->start = (uint8_t *)s + lead;
    pg->block_size = size - lead;
    pg->in_use = 1;
    pg->used = 1;
    segmap_set(s, true);
    return pg->start;
}

void mica_segment_huge_free(segment_t *s)
{
    segmap_set(s, false);
    stats_add(-1, -(long)s->size);
    mica_os_unmap(s, s->size);
}

/* Grow or shrink a huge block by moving page mappings, never bytes. */
void *mica_segment_huge_realloc(segment_t *s, void *p, size_t n)
{
    size_t os_page = mica_os_page_size();
    size_t lead = (size_t)((uint8_t *)p - (uint8_t *)s);
    if (lead >= SEGMENT_SIZE || n > PTRDIFF_MAX - SEGMENT_SIZE)
        return NULL;
    if (n > s->pages[0].block_size)
        n += n / 8; /* room to grow again without a system call */
    size_t size = (lead + n + os_page - 1) & ~(os_page - 1);
    size_t old = s->size;
    segmap_set(s, false);
    segment_t *q = mica_os_remap(s, old, size, SEGMENT_SIZE, 0);
    if (q == NULL) {
        segmap_set(s, true);
        return NULL;
    }
    stats_add(0, (long)size - (long)old);
    q->size = size;
    q->pages[0].start = (uint8_t *)q + lead;
    q->pages[0].block_size = size - lead;
    segmap_set(q, true);
    return q->pages[0].start;
}

/* ---- abandoned segments ---- */

void mica_segment_abandon(segment_t *s)
{
    heap_unlink(s);
    spin_lock(&abandoned_lock);
    /* thread_id == 0 means "on the list": change both under the lock */
    atomic_store_explicit(&s->thread_id, 0, memory_order_release);
    s->prev = NULL;
    s->next = abandoned;
    if (abandoned != NULL)
        abandoned->prev = s;
    abandoned = s;
    atomic_fetch_add_explicit(&abandoned_count, 1, memory_order_relaxed);
    spin_unlock(&abandoned_lock);
}

/* Called with abandoned_lock held; `h` becomes the owner. */
static void abandoned_unlink(segment_t *s, heap_t *h)
{
    atomic_store_explicit(&s->thread_id, h->tid, memory_order_relaxed);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        abandoned = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
    atomic_fetch_sub_explicit(&abandoned_count, 1, memory_order_relaxed);
}

/*
 * Make `h` the owner of an abandoned segment: its pages join h's queues,
 * and pages whose blocks were all freed meanwhile go back to the segment
 * (which may free the segment itself: then we stop looking at it).
 */
static void reclaim_into(heap_t *h, segment_t *s)
{
    heap_link(h, s);
    size_t count = s->page_count;
    for (size_t i = 0; i < count; i++) {
        page_t *pg = &s->pages[i];
        if (!pg->in_use)
            continue;
        atomic_store_explicit(&pg->heap, h, memory_order_release);
        mica_page_set_delayed(pg, DELAYED_NO, true);
        pg->in_full = 0;
        mica_page_collect(pg);
        mica_page_queue_push(h, pg);
        bool last = s->used_pages == 1;
        if (pg->used == 0) {
            mica_page_free(pg);
            if (last)
                return;
        }
    }
}

bool mica_segment_try_reclaim(heap_t *h, segment_t *s)
{
    if (atomic_flag_test_and_set_explicit(&abandoned_lock,
                                          memory_order_acquire))
        return false;
    bool ok = atomic_load_explicit(&s->thread_id, memory_order_relaxed) == 0;
    if (ok)
        abandoned_unlink(s, h);
    spin_unlock(&abandoned_lock);
    if (ok)
        reclaim_into(h, s);
    return ok;
}

size_t mica_segment_reclaim_some(heap_t *h, size_t max)
{
    size_t done = 0;
    while (done < max &&
           atomic_load_explicit(&abandoned_count, memory_order_relaxed)) {
        spin_lock(&abandoned_lock);
        segment_t *s = abandoned;
        if (s != NULL)
            abandoned_unlink(s, h);
        spin_unlock(&abandoned_lock);
        if (s == NULL)
            break;
        reclaim_into(h, s);
        done++;
    }
    return done;
}

void mica_segment_stats(size_t *segments, size_t *mapped, size_t *aband,
                   size_t *cached)
{
    *segments = atomic_load_explicit(&stat_segments, memory_order_relaxed);
    *mapped = atomic_load_explicit(&stat_mapped, memory_order_relaxed);
    *aband = atomic_load_explicit(&abandoned_count, memory_order_relaxed);
    *cached = atomic_load_explicit(&cache_count, memory_order_relaxed);
}
