/*
 * heap.c - per-thread heaps: creation, collection and the end of a thread.
 *
 * Every thread starts with mica_tls_heap pointing at mica_empty_heap, whose
 * direct entries all lead to mica_empty_page (no free blocks).  The fast
 * path of malloc therefore needs no "initialized?" test: its first call
 * falls into the slow path, which notices the empty heap and makes a real
 * one.  Heap structures come from a pool carved out of OS memory, never
 * from malloc, so the allocator can start inside a program (or a libc) that
 * has nothing else yet.
 *
 * A pthread key destructor ends a heap when its thread exits:
 *   1. every page is set to DELAYED_NEVER, so no remote thread will touch
 *      heap->delayed_free again (mica_page_set_delayed waits out one that is
 *      in the middle of it);
 *   2. the blocks already on delayed_free are freed;
 *   3. pages whose blocks are all free go back to their segments;
 *   4. the remaining segments are abandoned (segment.c), to be adopted by
 *      the next thread that frees into them or needs a page.
 * Only then is the heap structure put back in the pool.  A destructor of
 * another key may still call malloc afterwards: that thread simply gets a
 * fresh heap, registered again, and the destructor runs once more.
 */
#include <pthread.h>
#include <string.h>

#include "internal.h"

#define EMPTY4 &mica_empty_page, &mica_empty_page, &mica_empty_page, \
               &mica_empty_page
#define EMPTY16 EMPTY4, EMPTY4, EMPTY4, EMPTY4
#define POOL_CHUNK (64 * KiB)

uintptr_t mica_key;
page_t mica_empty_page;
heap_t mica_empty_heap = {
    .direct = {EMPTY16, EMPTY16, EMPTY16, EMPTY16, &mica_empty_page}};
_Thread_local heap_t *mica_tls_heap TLS_IE = &mica_empty_heap;

static atomic_flag init_lock = ATOMIC_FLAG_INIT;
static _Atomic int init_state; /* 0: not yet, 1: done */
static pthread_key_t heap_key;
static bool heap_key_ok;

static heap_t *pool_free;
static uint8_t *pool_next;
static size_t pool_left;

static void lock(void)
{
    while (atomic_flag_test_and_set_explicit(&init_lock,
                                             memory_order_acquire))
        mica_os_yield();
}

static void unlock(void)
{
    atomic_flag_clear_explicit(&init_lock, memory_order_release);
}

static void heap_thread_done(void *arg);

/* Once per process: the free-list key and the thread-exit hook. */
static void process_init(void)
{
    if (atomic_load_explicit(&init_state, memory_order_acquire))
        return;
    lock();
    if (!atomic_load_explicit(&init_state, memory_order_relaxed)) {
        mica_key = (uintptr_t)mica_os_random_seed() | 1;
        heap_key_ok = pthread_key_create(&heap_key, heap_thread_done) == 0;
        atomic_store_explicit(&init_state, 1, memory_order_release);
    }
    unlock();
}

static heap_t *pool_get(void)
{
    lock();
    heap_t *h = pool_free;
    if (h != NULL) {
        pool_free = h->pool_next;
    } else {
        size_t need = (sizeof(heap_t) + 63) & ~(size_t)63;
        if (pool_left < need) {
            pool_next = mica_os_map(POOL_CHUNK, mica_os_page_size(), 0);
            pool_left = pool_next != NULL ? POOL_CHUNK : 0;
        }
        if (pool_left >= need) {
            h = (heap_t *)pool_next;
            pool_next += need;
            pool_left -= need;
        }
    }
    unlock();
    return h;
}

static void pool_put(heap_t *h)
{
    lock();
    h->pool_next = pool_free;
    pool_free = h;
    unlock();
}

heap_t *mica_heap_init_thread(void)
{
    process_init();
    heap_t *h = pool_get();
    if (h == NULL)
        return NULL;
    memset(h, 0, sizeof *h);
    for (size_t w = 0; w < DIRECT_COUNT; w++)
        h->direct[w] = &mica_empty_page;
    for (unsigned bin = 1; bin < BIN_COUNT; bin++)
        h->queues[bin].block_size = bin_size(bin);
    h->queues[0].block_size = SIZE_MAX;
    h->queues[BIN_FULL].block_size = SIZE_MAX;
    h->tid = thread_id();
    /* before setspecific, which may itself call malloc */
    mica_tls_heap = h;
    if (heap_key_ok)
        pthread_setspecific(heap_key, h);
    return h;
}

/*
 * Collect every page; free the empty ones (all of them when `force`,
 * else all but the one page a bin keeps for reuse) and bring back pages
 * from the full queue that have room again.
 */
static void heap_collect_pages(heap_t *h, bool force)
{
    for (unsigned bin = 1; bin <= BIN_FULL; bin++) {
        page_t *pg = h->queues[bin].first;
        while (pg != NULL) {
            page_t *next = pg->next;
            mica_page_collect(pg);
            if (pg->used == 0 && force)
                mica_page_free(pg);
            else
                mica_page_settle(pg);
            pg = next;
        }
    }
}

void mica_heap_collect(heap_t *h, bool force)
{
    mica_heap_delayed_process(h);
    heap_collect_pages(h, force);
}

static void heap_abandon(heap_t *h)
{
    h->exiting = true;
    for (unsigned bin = 1; bin <= BIN_FULL; bin++)
        for (page_t *pg = h->queues[bin].first; pg != NULL; pg = pg->next)
            mica_page_set_delayed(pg, DELAYED_NEVER, false);
    mica_heap_delayed_process(h);
    heap_collect_pages(h, true);
    while (h->all != NULL)
        mica_segment_abandon(h->all);
}

static void heap_thread_done(void *arg)
{
    heap_t *h = arg;
    if (h == NULL || h == &mica_empty_heap)
        return;
    heap_abandon(h);
    if (mica_tls_heap == h)
        mica_tls_heap = &mica_empty_heap;
    pool_put(h);
}
