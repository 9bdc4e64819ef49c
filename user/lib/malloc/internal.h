/*
 * internal.h - the allocator's data structures and their invariants.
 *
 * Memory comes from the OS in segments of SEGMENT_SIZE bytes, aligned to
 * SEGMENT_SIZE, so the segment of a pointer p is ((p - 1) & ~SEGMENT_MASK).
 * (The "- 1" lets a huge block with a very large alignment start exactly at
 * the end of its segment's first SEGMENT_SIZE bytes; every other block lies
 * strictly after its segment's header, so the "- 1" changes nothing.)
 *
 * A segment holds the header (struct segment, with the page descriptors)
 * followed by pages of one kind: 64 small pages of 64 KiB, 8 medium pages of
 * 512 KiB, one large page, or one huge block mapped for itself.  A page holds
 * blocks of one size class and belongs to one thread's heap.
 *
 * Each page keeps three lists of free blocks:
 *   free        - where malloc pops from; owner thread only.
 *   local_free  - where the owner's free pushes to; owner only.  Keeping it
 *                 apart from `free` lets the owner batch its frees and
 *                 notice when a page empties without walking lists.
 *   thread_free - where other threads push with a CAS; the owner takes the
 *                 whole list with one atomic exchange when `free` runs dry.
 * `used` counts the blocks handed out and not yet back on free/local_free:
 * blocks sitting on thread_free still count, so used == 0 proves that no
 * other thread can touch the page.
 *
 * The low two bits of thread_free carry the delayed-free state: when the
 * owner moves a page without free blocks to its heap's "full" queue it sets
 * DELAYED_USE; the first remote free then goes to the heap's delayed_free
 * list instead, telling the owner that the page has room again.  See
 * free.c for the protocol and heap.c for how it ends at thread exit.
 *
 * A freed block holds `next` in its first word and `key` (its own address
 * xor a per-process secret) in its second.  malloc clears `key`, so finding
 * the key intact in free means the block is already free: a double free.
 * That is why the smallest block is 16 bytes (which also gives every block
 * 16-byte alignment).
 */
#ifndef MICA_MALLOC_INTERNAL_H
#define MICA_MALLOC_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os.h"

#if defined(__GNUC__)
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define TLS_IE __attribute__((tls_model("initial-exec")))
#define NOINLINE __attribute__((noinline))
#define COLD __attribute__((cold, noinline))
#define MICA_API __attribute__((visibility("default")))
#else
#define MICA_API
#define likely(x) (x)
#define unlikely(x) (x)
#define TLS_IE
#define NOINLINE
#define COLD
#endif

#define KiB ((size_t)1024)
#define MiB (KiB * KiB)

#define SEGMENT_SHIFT 22
#define SEGMENT_SIZE ((size_t)1 << SEGMENT_SHIFT) /* 4 MiB */
#define SEGMENT_MASK (SEGMENT_SIZE - 1)

#define SMALL_PAGE_SHIFT 16  /* 64 KiB */
#define MEDIUM_PAGE_SHIFT 19 /* 512 KiB */
#define HUGE_PAGE_SHIFT 63   /* any offset maps to page 0 */
#define MAX_PAGES (SEGMENT_SIZE >> SMALL_PAGE_SHIFT)

#define SMALL_MAX (16 * KiB)  /* at least 4 blocks in a small page */
#define MEDIUM_MAX (128 * KiB)
#define LARGE_MAX (2 * MiB)   /* larger blocks get a segment each */

/* Sizes up to DIRECT_MAX find their page in one load: heap->direct. */
#define DIRECT_MAX 1024
#define DIRECT_COUNT (DIRECT_MAX / 16 + 1)

#define BIN_COUNT 65             /* bins 1..64; bin 64 holds 2 MiB */
#define BIN_FULL BIN_COUNT       /* the queue of pages without free blocks */

/* How much of a page's free list to build at a time (see page.c). */
#define EXTEND_BYTES (4 * KiB)

enum segment_kind { KIND_SMALL, KIND_MEDIUM, KIND_LARGE, KIND_HUGE };

enum delayed {
    DELAYED_NO = 0,       /* remote frees go straight to thread_free */
    DELAYED_USE = 1,      /* next remote free notifies the owning heap */
    DELAYED_FREEING = 2,  /* a remote thread is notifying right now */
    DELAYED_NEVER = 3     /* page abandoned: no heap to notify */
};
#define DELAYED_MASK ((uintptr_t)3)

typedef struct block {
    struct block *next;
    uintptr_t key;
} block_t;

struct heap;

/*
 * The fields free and malloc use fill the first cache line (with
 * thread_free, which remote frees write); the queue links and the heap
 * pointer, needed only on slow paths, are in the second.
 */
typedef struct page {
    _Alignas(64) block_t *free;
    block_t *local_free;
    uint32_t used;
    uint32_t capacity;     /* blocks carved so far */
    uint32_t reserved;     /* blocks that fit */
    uint8_t in_full;       /* on the heap's full queue */
    uint8_t bin;
    uint8_t in_use;        /* handed to a heap */
    uint8_t dirty;         /* touched since last decommit */
    size_t block_size;
    uint64_t div_magic;    /* ceil(2^44 / block_size), see block_index */
    uint8_t *start;        /* first block; NULL while the page is free */
    _Atomic uintptr_t thread_free;
    _Atomic(struct heap *) heap;
    struct page *next, *prev;
} page_t;

typedef struct segment {
    _Atomic uintptr_t thread_id; /* owner's tid; 0 when abandoned or huge */
    size_t size;                 /* bytes mapped */
    uint8_t kind;
    uint8_t page_shift;
    uint16_t page_count;
    uint16_t used_pages;
    uint16_t dirty_free;         /* free pages still committed */
    uint64_t free_map;           /* bit i: page i is free */
    struct heap *heap;           /* owner; owner thread only */
    struct segment *next, *prev; /* heap's avail list, or abandoned list */
    struct segment *all_next, *all_prev; /* all of the heap's segments */
    page_t pages[MAX_PAGES];
} segment_t;

typedef struct queue {
    page_t *first, *last;
    size_t block_size;
} queue_t;

typedef struct heap {
    page_t *direct[DIRECT_COUNT];
    queue_t queues[BIN_FULL + 1];
    _Atomic(block_t *) delayed_free;
    uintptr_t tid;
    segment_t *avail[3];         /* small/medium segments with free pages */
    segment_t *all;
    size_t page_bytes;           /* bytes of pages in use */
    size_t dirty_bytes;          /* bytes of free pages still committed */
    bool exiting;                /* thread exit: leave purging to heirs */
    struct heap *pool_next;
} heap_t;

/* Per-process state, set up once (see heap.c). */
extern uintptr_t mica_key;
extern page_t mica_empty_page;
extern heap_t mica_empty_heap;
extern _Thread_local heap_t *mica_tls_heap TLS_IE;

/* A unique, cheap identity for the calling thread. */
static inline uintptr_t thread_id(void)
{
    return (uintptr_t)&mica_tls_heap;
}

/* ---- size classes ---- */

static inline unsigned size_bin(size_t n)
{
    size_t w = (n + 15) >> 4;
    if (w <= 8)
        return w == 0 ? 1 : (unsigned)w;
    w--;
    unsigned b = 63u - (unsigned)__builtin_clzll(w);
    return (b << 2) + (unsigned)((w >> (b - 2)) & 3) - 3;
}

static inline size_t bin_size(unsigned bin)
{
    if (bin <= 8)
        return (size_t)bin * 16;
    unsigned b = (bin + 3) >> 2, sub = (bin + 3) & 3;
    return ((size_t)(5 + sub) << (b - 2)) * 16;
}

/* ---- address arithmetic ---- */

/*
 * Bytes at the start of a segment taken by its header, rounded to the
 * usual OS page so that page 0 can be decommitted as a whole.
 */
#define SEGMENT_HEADER ((sizeof(segment_t) + 4095) & ~(size_t)4095)

/* A huge segment uses only pages[0], so its header is shorter. */
#define HUGE_HEADER                                                          \
    ((offsetof(segment_t, pages) + sizeof(page_t) + 127) & ~(size_t)127)

/* The memory of page i: after the header for page 0. */
static inline uint8_t *page_area(const segment_t *s, size_t i, size_t *size)
{
    size_t area = (size_t)1 << s->page_shift;
    uint8_t *start = (uint8_t *)s + i * area;
    if (i == 0) {
        start += SEGMENT_HEADER;
        area -= SEGMENT_HEADER;
    }
    *size = area;
    return start;
}

/*
 * The segment map: one bit per SEGMENT_SIZE of a 48-bit address space, set
 * while a segment lives there.  free checks it before touching a segment
 * header, so a pointer that never came from us is reported, not followed.
 */
#define SEGMAP_BITS ((size_t)1 << (48 - SEGMENT_SHIFT))
extern _Atomic uint64_t mica_segmap[SEGMAP_BITS / 64];

static inline segment_t *ptr_segment(const void *p)
{
    return (segment_t *)(((uintptr_t)p - 1) & ~(uintptr_t)SEGMENT_MASK);
}

static inline bool segmap_has(const segment_t *s)
{
    size_t i = (uintptr_t)s >> SEGMENT_SHIFT;
    if (unlikely(i >= SEGMAP_BITS))
        return false;
    uint64_t w = atomic_load_explicit(&mica_segmap[i / 64],
                                      memory_order_relaxed);
    return (w >> (i % 64)) & 1;
}

static inline page_t *segment_page(const segment_t *s, const void *p)
{
    size_t i = ((uintptr_t)p - (uintptr_t)s) >> s->page_shift;
    return (page_t *)&s->pages[i];
}

/*
 * Index of the block holding byte offset `off` of a page: off / block_size
 * by a multiplication.  Exact for off < 2^22 (the largest page) because
 * div_magic exceeds 2^44 / block_size by less than one; the product stays
 * below 2^63 because block_size is at least 16.
 */
static inline size_t block_index(const page_t *pg, size_t off)
{
    return (size_t)(((uint64_t)off * pg->div_magic) >> 44);
}

static inline uintptr_t block_key(const block_t *b)
{
    return (uintptr_t)b ^ mica_key;
}

/* ---- across files ---- */

/* page.c */
void *mica_malloc_generic(heap_t *h, size_t n);
void mica_page_free_local(page_t *pg, block_t *b);
void mica_page_retire(page_t *pg);
void mica_page_settle(page_t *pg);
void mica_page_collect(page_t *pg);
void mica_page_set_delayed(page_t *pg, enum delayed d, bool override);
void mica_page_queue_push(heap_t *h, page_t *pg);
void mica_page_free(page_t *pg);
void mica_heap_delayed_process(heap_t *h);

/* segment.c */
page_t *mica_segment_page_alloc(heap_t *h, enum segment_kind kind);
void mica_segment_page_release(page_t *pg);
void *mica_segment_huge_alloc(size_t n, size_t align);
void mica_segment_huge_free(segment_t *s);
void *mica_segment_huge_realloc(segment_t *s, void *p, size_t n);
void mica_segment_abandon(segment_t *s);
bool mica_segment_try_reclaim(heap_t *h, segment_t *s);
size_t mica_segment_reclaim_some(heap_t *h, size_t max);
void mica_segment_cache_trim(void);
void mica_segment_stats(size_t *segments, size_t *mapped, size_t *abandoned,
                   size_t *cached);

/* heap.c */
heap_t *mica_heap_init_thread(void);
void mica_heap_collect(heap_t *h, bool force);

/* free.c */
void mica_free_slow(void *p);
void mica_double_free_check(const page_t *pg, const block_t *b);
void mica_free_remote(segment_t *s, page_t *pg, block_t *b);
_Noreturn void mica_invalid(const char *what, const void *p);
block_t *mica_check_block(const segment_t *s, const page_t *pg, const void *p);

#endif
