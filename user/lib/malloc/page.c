/*
 * page.c - pages, page queues and the slow path of malloc.
 *
 * A heap keeps one queue of pages per size class (bin) and one "full" queue.
 * The fast path of malloc only looks at the first page of a bin (through
 * heap->direct for small sizes) and pops from its `free` list.  When that
 * list is empty we come here and walk the bin's queue: each page first
 * collects its local_free and thread_free lists; a page with free blocks is
 * moved to the front and used; a page that is still full goes to the full
 * queue, so the walk never meets it again and the walk stays cheap however
 * large the heap grows.  A full page comes back when a block of it is freed
 * by the owner (free.c) or, for remote frees, through the heap's
 * delayed_free list (mica_heap_delayed_process below).
 *
 * Free lists are built lazily, EXTEND_BYTES at a time, so a fresh page only
 * touches the memory it hands out: RSS follows use, and consecutive
 * allocations are adjacent in memory.
 *
 * When a page's last block comes back it is returned to its segment, except
 * when it is the only page of its size class: a program
 * that allocates and frees one block in a loop would otherwise build and
 * tear down a page on every call.
 *
 * Everything here runs on the thread that owns the heap; the only shared
 * words are page->thread_free and heap->delayed_free, touched atomically.
 */
#include <errno.h>
#include <stdint.h>

#include "internal.h"

static queue_t *page_queue(heap_t *h, page_t *pg)
{
    return &h->queues[pg->in_full ? BIN_FULL : pg->bin];
}

/* Point the direct entries of a small bin at its first page. */
static void direct_update(heap_t *h, queue_t *q)
{
    size_t bsize = q->block_size;
    if (bsize > DIRECT_MAX)
        return;
    unsigned bin = (unsigned)(q - h->queues);
    size_t lo = bin == 1 ? 0 : bin_size(bin - 1) / 16 + 1;
    page_t *pg = q->first != NULL ? q->first : &mica_empty_page;
    for (size_t w = lo; w <= bsize / 16; w++)
        h->direct[w] = pg;
}

static void queue_push_front(heap_t *h, queue_t *q, page_t *pg)
{
    pg->prev = NULL;
    pg->next = q->first;
    if (q->first != NULL)
        q->first->prev = pg;
    else
        q->last = pg;
    q->first = pg;
    direct_update(h, q);
}

static void queue_push_back(heap_t *h, queue_t *q, page_t *pg)
{
    pg->next = NULL;
    pg->prev = q->last;
    if (q->last != NULL)
        q->last->next = pg;
    else
        q->first = pg;
    q->last = pg;
    if (q->first == pg)
        direct_update(h, q);
}

static void queue_unlink(heap_t *h, queue_t *q, page_t *pg)
{
    bool was_first = q->first == pg;
    if (pg->prev != NULL)
        pg->prev->next = pg->next;
    else
        q->first = pg->next;
    if (pg->next != NULL)
        pg->next->prev = pg->prev;
    else
        q->last = pg->prev;
    pg->next = pg->prev = NULL;
    if (was_first)
        direct_update(h, q);
}

void mica_page_queue_push(heap_t *h, page_t *pg)
{
    queue_push_back(h, page_queue(h, pg), pg);
}

/* Carve the next EXTEND_BYTES of never-used blocks into the free list. */
static void page_extend(page_t *pg)
{
    size_t bsize = pg->block_size;
    uint32_t n = (uint32_t)(EXTEND_BYTES / bsize);
    if (n == 0)
        n = 1;
    if (n > pg->reserved - pg->capacity)
        n = pg->reserved - pg->capacity;
    uint8_t *first = pg->start + (size_t)pg->capacity * bsize;
    uint8_t *b = first;
    for (uint32_t i = 1; i < n; i++, b += bsize)
        ((block_t *)b)->next = (block_t *)(b + bsize);
    /* called with an empty free list: it now holds only the new blocks */
    ((block_t *)b)->next = NULL;
    pg->free = (block_t *)first;
    pg->capacity += n;
}

/* Set up a page just taken from a segment for blocks of `bin`. */
static void page_init(heap_t *h, page_t *pg, unsigned bin)
{
    segment_t *s = ptr_segment(pg);
    size_t area;
    uint8_t *start = page_area(s, (size_t)(pg - s->pages), &area);
    size_t bsize = bin_size(bin);
    pg->bin = (uint8_t)bin;
    pg->block_size = bsize;
    pg->div_magic = (((uint64_t)1 << 44) + bsize - 1) / bsize;
    pg->start = start;
    pg->reserved = (uint32_t)(area / bsize);
    pg->capacity = 0;
    pg->used = 0;
    pg->in_full = 0;
    pg->free = pg->local_free = NULL;
    atomic_store_explicit(&pg->thread_free, DELAYED_NO, memory_order_relaxed);
    atomic_store_explicit(&pg->heap, h, memory_order_release);
}

/* Take every block other threads freed into this page. */
static void collect_thread_free(page_t *pg)
{
    uintptr_t tf = atomic_load_explicit(&pg->thread_free,
                                        memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(
        &pg->thread_free, &tf, tf & DELAYED_MASK, memory_order_acquire,
        memory_order_relaxed))
        ;
    block_t *head = (block_t *)(tf & ~DELAYED_MASK);
    if (head == NULL)
        return;
    block_t *tail = head;
    uint32_t count = 1;
    while (tail->next != NULL) {
        tail = tail->next;
        if (++count > pg->used)
            mica_invalid("corrupted free list (double free?) in page of",
                         pg->start);
    }
    tail->next = pg->local_free;
    pg->local_free = head;
    pg->used -= count;
}

void mica_page_collect(page_t *pg)
{
    if (atomic_load_explicit(&pg->thread_free, memory_order_relaxed) &
        ~DELAYED_MASK)
        collect_thread_free(pg);
    if (pg->free == NULL) {
        pg->free = pg->local_free;
        pg->local_free = NULL;
    }
}

/*
 * Change the delayed-free state, waiting out a remote thread that is in
 * the middle of notifying us (DELAYED_FREEING is held for a few
 * instructions only).  DELAYED_NEVER sticks unless `override`.
 */
void mica_page_set_delayed(page_t *pg, enum delayed d, bool override)
{
    uintptr_t tf = atomic_load_explicit(&pg->thread_free,
                                        memory_order_relaxed);
    for (;;) {
        uintptr_t cur = tf & DELAYED_MASK;
        if (cur == DELAYED_FREEING) {
            mica_os_yield();
            tf = atomic_load_explicit(&pg->thread_free, memory_order_relaxed);
            continue;
        }
        if (cur == (uintptr_t)d || (cur == DELAYED_NEVER && !override))
            return;
        if (atomic_compare_exchange_weak_explicit(
                &pg->thread_free, &tf, (tf & ~DELAYED_MASK) | d,
                memory_order_acq_rel, memory_order_relaxed))
            return;
    }
}

/*
 * Park a page without free blocks on the full queue.  Remote frees from now
 * on notify the heap; a remote free that slipped in before is seen by the
 * check after the state change, and then the page stays where it is.
 */
static bool page_to_full(heap_t *h, page_t *pg)
{
    mica_page_set_delayed(pg, DELAYED_USE, false);
    if (atomic_load_explicit(&pg->thread_free, memory_order_acquire) &
        ~DELAYED_MASK) {
        mica_page_set_delayed(pg, DELAYED_NO, false);
        return false;
    }
    queue_unlink(h, &h->queues[pg->bin], pg);
    pg->in_full = 1;
    queue_push_front(h, &h->queues[BIN_FULL], pg);
    return true;
}

static void page_unfull(heap_t *h, page_t *pg)
{
    queue_unlink(h, &h->queues[BIN_FULL], pg);
    pg->in_full = 0;
    mica_page_set_delayed(pg, DELAYED_NO, false);
    queue_push_back(h, &h->queues[pg->bin], pg);
}

/* Give an empty page back to its segment. */
void mica_page_free(page_t *pg)
{
    heap_t *h = ptr_segment(pg)->heap;
    queue_unlink(h, page_queue(h, pg), pg);
    pg->in_full = 0;
    pg->free = pg->local_free = NULL;
    pg->start = NULL;
    pg->block_size = 0;
    pg->div_magic = 0;
    pg->used = pg->capacity = pg->reserved = 0;
    atomic_store_explicit(&pg->thread_free, DELAYED_NO, memory_order_relaxed);
    mica_segment_page_release(pg);
}

/* The only page of its bin, empty: kept so malloc need not build a page. */
static bool page_idle(heap_t *h, page_t *pg)
{
    queue_t *q = page_queue(h, pg);
    return pg->used == 0 && !pg->in_full && q->first == pg && q->last == pg;
}

#define SEGMENT_BUSY UINT64_MAX

/*
 * The idle pages of pg's segment other than pg, one bit each, or
 * SEGMENT_BUSY when some other page of it holds blocks.
 */
static uint64_t segment_idle_pages(segment_t *s, page_t *pg)
{
    uint64_t idle = 0;
    for (size_t i = 0; i < s->page_count; i++) {
        page_t *p = &s->pages[i];
        if (p == pg || !p->in_use)
            continue;
        if (!page_idle(s->heap, p))
            return SEGMENT_BUSY;
        idle |= (uint64_t)1 << i;
    }
    return idle;
}

/*
 * pg just became empty.  It stays when it is the only page of its bin.
 * Without decommit (mica_os_can_decommit) an idle page keeps its whole
 * segment's memory, so there it stays only while another page of the
 * segment holds blocks; otherwise it goes, and every idle page of the
 * segment with it, so that the segment goes.  (Idle pages are alone in
 * their queue: no caller walking a queue holds one as its next page.)
 */
void mica_page_retire(page_t *pg)
{
    segment_t *s = ptr_segment(pg);
    bool keep = page_idle(s->heap, pg);
    uint64_t idle = 0;
    if (!mica_os_can_decommit() &&
        (idle = segment_idle_pages(s, pg)) != SEGMENT_BUSY)
        keep = false;
    if (keep)
        return;
    while (idle != 0 && idle != SEGMENT_BUSY) {
        unsigned i = (unsigned)__builtin_ctzll(idle);
        idle &= idle - 1;
        mica_page_free(&s->pages[i]);
    }
    mica_page_free(pg);
}

/* After a collect: retire an empty page, bring a full one back. */
void mica_page_settle(page_t *pg)
{
    if (pg->used == 0)
        mica_page_retire(pg);
    else if (pg->in_full && pg->free != NULL)
        page_unfull(ptr_segment(pg)->heap, pg);
}

/* The owner's free when the fast path does not apply. */
void mica_page_free_local(page_t *pg, block_t *b)
{
    b->next = pg->local_free;
    b->key = block_key(b);
    pg->local_free = b;
    if (--pg->used == 0)
        mica_page_retire(pg);
    else if (pg->in_full)
        page_unfull(ptr_segment(pg)->heap, pg);
}

void mica_heap_delayed_process(heap_t *h)
{
    if (atomic_load_explicit(&h->delayed_free, memory_order_relaxed) == NULL)
        return;
    block_t *b = atomic_exchange_explicit(&h->delayed_free, NULL,
                                          memory_order_acquire);
    while (b != NULL) {
        block_t *next = b->next;
        page_t *pg = segment_page(ptr_segment(b), b);
        mica_page_set_delayed(pg, DELAYED_NO, false);
        mica_page_free_local(pg, b);
        b = next;
    }
}

static page_t *page_fresh(heap_t *h, unsigned bin)
{
    size_t bsize = bin_size(bin);
    enum segment_kind kind = bsize <= SMALL_MAX    ? KIND_SMALL
                             : bsize <= MEDIUM_MAX ? KIND_MEDIUM
                                                   : KIND_LARGE;
    page_t *pg = mica_segment_page_alloc(h, kind);
    if (pg == NULL)
        return NULL;
    page_init(h, pg, bin);
    queue_push_front(h, &h->queues[bin], pg);
    page_extend(pg);
    return pg;
}

static page_t *find_free_page(heap_t *h, unsigned bin)
{
    queue_t *q = &h->queues[bin];
    page_t *pg = q->first;
    while (pg != NULL) {
        page_t *next = pg->next;
        mica_page_collect(pg);
        if (pg->free == NULL && pg->capacity < pg->reserved)
            page_extend(pg);
        if (pg->free == NULL && !page_to_full(h, pg)) {
            mica_page_collect(pg);
        }
        if (pg->free != NULL) {
            if (q->first != pg) {
                queue_unlink(h, q, pg);
                queue_push_front(h, q, pg);
            }
            return pg;
        }
        pg = next;
    }
    return page_fresh(h, bin);
}

void *mica_malloc_generic(heap_t *h, size_t n)
{
    if (unlikely(h == &mica_empty_heap)) {
        h = mica_heap_init_thread();
        if (h == NULL)
            goto nomem;
    }
    mica_heap_delayed_process(h);
    if (unlikely(n > LARGE_MAX)) {
        if (n > PTRDIFF_MAX - SEGMENT_SIZE)
            goto nomem;
        void *p = mica_segment_huge_alloc(n, 16);
        if (p == NULL)
            goto nomem;
        return p;
    }
    page_t *pg = find_free_page(h, size_bin(n));
    if (pg == NULL)
        goto nomem;
    block_t *b = pg->free;
    pg->free = b->next;
    pg->used++;
    b->key = 0;
    return b;
nomem:
    errno = ENOMEM;
    return NULL;
}
