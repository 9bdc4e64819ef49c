/*
 * free.c - everything free does beyond its fast path (alloc.c).
 *
 * Checking a pointer, cheapest test first:
 *   1. its segment must be live in the segment map - else the pointer
 *      never came from us (or its huge block was already freed);
 *   2. it must be the start of a block of an in-use page, or the aligned
 *      pointer that aligned_alloc made inside a block: such a block
 *      carries the pointer's key in its `key` word, which lies before the
 *      pointer and so cannot be written by the user;
 *   3. a block whose key word equals its own key is already free.  The
 *      owner confirms by finding the block on one of the page's lists (user
 *      data equal to the key is possible in principle); a remote thread
 *      cannot walk lists the owner is changing, and trusts the key.
 * A failed check prints "mica malloc: <what> <pointer>" and aborts.
 *
 * The remote free protocol (page->thread_free, low bits = delayed state):
 *   state DELAYED_NO:  push the block with a CAS; done.
 *   state DELAYED_USE: the page is on its owner's full queue.  CAS the state
 *     to DELAYED_FREEING, push the block on the owning heap's delayed_free
 *     list, then set DELAYED_NO.  While FREEING the heap cannot go away
 *     (heap.c waits for it), so reading page->heap is safe.
 *   state DELAYED_NEVER: the page is abandoned; plain push.
 * If the segment is abandoned, the freeing thread adopts it first and frees
 * locally: memory of dead threads is recycled as soon as it is freed.
 */
#include "internal.h"

static char *put_hex(char *o, uintptr_t v)
{
    *o++ = '0';
    *o++ = 'x';
    int shift = 60;
    while (shift > 0 && ((v >> shift) & 15) == 0)
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        *o++ = "0123456789abcdef"[(v >> shift) & 15];
    return o;
}

_Noreturn void mica_invalid(const char *what, const void *p)
{
    char msg[200];
    char *o = msg;
    const char *prefix = "mica malloc: ";
    while (*prefix)
        *o++ = *prefix++;
    while (*what && o < msg + 150)
        *o++ = *what++;
    *o++ = ' ';
    o = put_hex(o, (uintptr_t)p);
    *o++ = '\n';
    *o = 0;
    mica_os_fatal(msg);
}

block_t *mica_check_block(const segment_t *s, const page_t *pg, const void *p)
{
    if (pg->start == NULL)
        mica_invalid("invalid pointer (in no allocated page):", p);
    size_t off = (size_t)((const uint8_t *)p - pg->start);
    if (off >= (size_t)pg->reserved * pg->block_size)
        mica_invalid("invalid pointer (outside any block):", p);
    block_t *b = (block_t *)(pg->start + block_index(pg, off) *
                                             pg->block_size);
    if ((const void *)b != p && b->key != block_key((const block_t *)p))
        mica_invalid("invalid pointer (not the start of a block):", p);
    (void)s;
    return b;
}

static bool list_has(const block_t *l, const block_t *b, uint32_t max)
{
    for (; l != NULL && max > 0; l = l->next, max--)
        if (l == b)
            return true;
    return false;
}

/* The owner checks a block whose key says "already free". */
COLD void mica_double_free_check(const page_t *pg, const block_t *b)
{
    const block_t *tf = (const block_t *)(
        atomic_load_explicit(&pg->thread_free, memory_order_acquire) &
        ~DELAYED_MASK);
    if (list_has(pg->free, b, pg->capacity) ||
        list_has(pg->local_free, b, pg->capacity) ||
        list_has(tf, b, pg->capacity))
        mica_invalid("double free of", b);
}

/* Tell the owning heap that a page on its full queue has room again. */
static void notify_owner(page_t *pg, block_t *b)
{
    heap_t *h = atomic_load_explicit(&pg->heap, memory_order_acquire);
    block_t *head = atomic_load_explicit(&h->delayed_free,
                                         memory_order_relaxed);
    do {
        b->next = head;
    } while (!atomic_compare_exchange_weak_explicit(
        &h->delayed_free, &head, b, memory_order_release,
        memory_order_relaxed));
    uintptr_t tf = atomic_load_explicit(&pg->thread_free,
                                        memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(
        &pg->thread_free, &tf, (tf & ~DELAYED_MASK) | DELAYED_NO,
        memory_order_release, memory_order_relaxed))
        ;
}

void mica_free_remote(segment_t *s, page_t *pg, block_t *b)
{
    if (b->key == block_key(b))
        mica_invalid("double free of", b);
    heap_t *mine = mica_tls_heap;
    if (atomic_load_explicit(&s->thread_id, memory_order_acquire) == 0 &&
        mine != &mica_empty_heap && mica_segment_try_reclaim(mine, s)) {
        mica_page_free_local(pg, b);
        return;
    }
    b->key = block_key(b);
    uintptr_t tf = atomic_load_explicit(&pg->thread_free,
                                        memory_order_relaxed);
    uintptr_t next;
    bool notify;
    do {
        notify = (tf & DELAYED_MASK) == DELAYED_USE;
        if (notify) {
            next = (tf & ~DELAYED_MASK) | DELAYED_FREEING;
        } else {
            b->next = (block_t *)(tf & ~DELAYED_MASK);
            next = (uintptr_t)b | (tf & DELAYED_MASK);
        }
    } while (!atomic_compare_exchange_weak_explicit(
        &pg->thread_free, &tf, next, memory_order_acq_rel,
        memory_order_relaxed));
    if (notify)
        notify_owner(pg, b);
}

COLD void mica_free_slow(void *p)
{
    if (p == NULL)
        return;
    segment_t *s = ptr_segment(p);
    if (!segmap_has(s))
        mica_invalid("invalid pointer (not from this allocator):", p);
    page_t *pg = segment_page(s, p);
    if (s->kind == KIND_HUGE) {
        if (p != pg->start)
            mica_invalid("invalid pointer (inside a huge block):", p);
        mica_segment_huge_free(s);
        return;
    }
    block_t *b = mica_check_block(s, pg, p);
    if (atomic_load_explicit(&s->thread_id, memory_order_relaxed) ==
        thread_id()) {
        if (b->key == block_key(b))
            mica_double_free_check(pg, b);
        mica_page_free_local(pg, b);
        return;
    }
    mica_free_remote(s, pg, b);
}
