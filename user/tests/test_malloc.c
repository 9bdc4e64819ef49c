/*
 * test_malloc.c - the allocator of user/lib/malloc as every program's
 * malloc on Mica: musl's own callers land in it, random work with content
 * checks on 4 threads trading blocks, frees from other threads and from
 * after a thread's exit, aligned_alloc up to 1 MiB, calloc overflow, huge
 * blocks grown in place by vm_map, and memory given back to the kernel
 * (free pages counted by system_info).
 *
 * The tests call the standard names: in a Mica program they are this
 * allocator.  Sizes are kept small enough that the whole suite takes a
 * few seconds in a 4-CPU TCG boot.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "malloc/mica_malloc.h"
#include "mica.h"
#include "utest.h"

#define KiB ((size_t)1024)
#define MiB (KiB * KiB)

size_t malloc_usable_size(void *p);

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Sizes as programs use them: mostly small, some medium, rare large. */
static size_t rnd_size(uint64_t *s)
{
    uint64_t r = rnd(s) % 1000;
    if (r < 800)
        return rnd(s) % 256;
    if (r < 970)
        return rnd(s) % 8192;
    if (r < 998)
        return rnd(s) % (256 * KiB);
    return rnd(s) % (3 * MiB);
}

/*
 * A pattern from a tag, on every byte of the first 4 KiB and beyond that
 * on the first and last byte of every 64: TCG time stays low, and a block
 * copied short, moved wrong or handed out twice is still caught.  Which
 * bytes carry it does not depend on the size, so a block checked with a
 * smaller size after realloc sees the same bytes.
 */
static int marked(size_t i)
{
    return i < 4 * KiB || (i & 63) == 0 || (i & 63) == 63;
}

static void fill(void *p, size_t n, uint64_t tag)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (marked(i))
            c[i] = (unsigned char)(tag + i * 7);
}

static int check(const void *p, size_t n, uint64_t tag)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (marked(i) && c[i] != (unsigned char)(tag + i * 7))
            return 0;
    return 1;
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static uint64_t free_pages(void)
{
    struct mica_system_info si;
    if (mica_system_info(&si) != OK)
        return 0;
    return si.free_pages;
}

UTEST(malloc_is_this_allocator)
{
    void *p = malloc(100), *q = calloc(3, 1000), *a = aligned_alloc(4096, 10);
    char *s = strdup("mica");               /* musl calls malloc inside */
    void *r = realloc(NULL, 5 * MiB);       /* huge: a vmo of its own */
    UASSERT(p && q && a && s && r);
    memset(p, 1, 100);
    memset(a, 2, 10);
    memset(r, 3, 5 * MiB);
    UEXPECT(mica_malloc_owns(p) && mica_malloc_owns(q));
    UEXPECT(mica_malloc_owns(a) && mica_malloc_owns(s));
    UEXPECT(mica_malloc_owns(r));
    UEXPECT(malloc_usable_size(p) >= 100 && malloc_usable_size(p) <= 128);
    UEXPECT(malloc_usable_size(r) >= 5 * MiB);
    int x;
    UEXPECT(!mica_malloc_owns(&x));
    free(p);
    free(q);
    free(a);
    free(s);
    free(r);
}

/* ---- random work on 4 threads ---- */

struct slot {
    char *p;
    size_t n;
    uint64_t tag;
};

/* Random malloc/calloc/realloc/free over `slots`; returns errors found. */
static int random_ops(uint64_t seed, size_t slots, size_t ops)
{
    int bad = 0;
    struct slot *s = calloc(slots, sizeof *s);
    if (s == NULL)
        return 1;
    for (size_t op = 0; op < ops; op++) {
        struct slot *x = &s[rnd(&seed) % slots];
        if (x->p != NULL && !check(x->p, x->n, x->tag))
            bad++;
        uint64_t what = rnd(&seed) % 4;
        size_t n = rnd_size(&seed);
        if (what == 0 && x->p != NULL) {
            size_t keep = n < x->n ? n : x->n;
            x->p = realloc(x->p, n);
            if (n != 0 && (x->p == NULL || !check(x->p, keep, x->tag)))
                return bad + 1;
        } else {
            free(x->p);
            x->p = what == 1 ? calloc(1, n) : malloc(n);
            if (x->p == NULL)
                return bad + 1;
            if (what == 1 && !all_zero((unsigned char *)x->p, n))
                bad++;
        }
        x->n = n;
        x->tag = rnd(&seed);
        fill(x->p, n, x->tag);
    }
    for (size_t i = 0; i < slots; i++) {
        if (s[i].p != NULL && !check(s[i].p, s[i].n, s[i].tag))
            bad++;
        free(s[i].p);
    }
    free(s);
    return bad;
}

#define XCHG 128
static _Atomic(struct slot *) exchange[XCHG];

/* Random work, then blocks traded through `exchange` with other threads. */
static void *random_worker(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg * 0x1234567ull;
    long bad = random_ops(seed, 300, 6000);
    for (int op = 0; op < 6000; op++) {
        struct slot *mine = malloc(sizeof *mine);
        if (mine == NULL)
            return (void *)(bad + 1);
        mine->n = rnd_size(&seed) % 2048;
        mine->tag = rnd(&seed);
        mine->p = malloc(mine->n);
        if (mine->p == NULL)
            return (void *)(bad + 1);
        fill(mine->p, mine->n, mine->tag);
        struct slot *old = atomic_exchange(&exchange[rnd(&seed) % XCHG], mine);
        if (old != NULL) {
            bad += !check(old->p, old->n, old->tag);
            free(old->p);                   /* often another thread's */
            free(old);
        }
    }
    return (void *)bad;
}

UTEST(malloc_random_4_threads)
{
    struct mica_system_info si;
    UASSERT(mica_system_info(&si) == OK);
    printf("    # %u CPUs online\n", si.cpus_online);
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        UASSERT(pthread_create(&t[i], NULL, random_worker,
                               (void *)(i + 1)) == 0);
    for (int i = 0; i < 4; i++) {
        void *bad = (void *)1;
        UEXPECT(pthread_join(t[i], &bad) == 0);
        UEXPECT(bad == NULL);
    }
    for (int i = 0; i < XCHG; i++) {
        struct slot *old = atomic_exchange(&exchange[i], NULL);
        if (old != NULL) {
            UEXPECT(check(old->p, old->n, old->tag));
            free(old->p);
            free(old);
        }
    }
}

/* ---- frees from other threads, and after the owner's exit ---- */

#define XT 4
#define XN 1500
static void *xt_blocks[XT][XN];
static pthread_barrier_t xt_barrier;

/* Each thread fills its row, then frees the row of the next thread. */
static void *ring_worker(void *arg)
{
    int me = (int)(intptr_t)arg, other = (me + 1) % XT;
    long bad = 0;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < XN; i++) {
            size_t n = 16 + (size_t)(i * 13 + me) % 600;
            xt_blocks[me][i] = malloc(n);
            if (xt_blocks[me][i] == NULL)
                return (void *)1;
            fill(xt_blocks[me][i], 16, (uint64_t)me * 1000 + i);
        }
        pthread_barrier_wait(&xt_barrier);
        for (int i = 0; i < XN; i++) {
            bad += !check(xt_blocks[other][i], 16, (uint64_t)other * 1000 + i);
            free(xt_blocks[other][i]);
        }
        pthread_barrier_wait(&xt_barrier);
    }
    /* leave a row behind: freed by the main thread after we exit */
    for (int i = 0; i < XN; i++) {
        xt_blocks[me][i] = malloc(16 + (size_t)i % 300);
        if (xt_blocks[me][i] == NULL)
            return (void *)1;
        fill(xt_blocks[me][i], 16, (uint64_t)me * 7000 + i);
    }
    return (void *)bad;
}

UTEST(malloc_cross_thread_free)
{
    struct mica_malloc_stats before, mid, after;
    mica_malloc_collect(true);
    mica_malloc_stats(&before);
    pthread_t t[XT];
    UASSERT(pthread_barrier_init(&xt_barrier, NULL, XT) == 0);
    for (intptr_t i = 0; i < XT; i++)
        UASSERT(pthread_create(&t[i], NULL, ring_worker, (void *)i) == 0);
    for (int i = 0; i < XT; i++) {
        void *bad = (void *)1;
        UEXPECT(pthread_join(t[i], &bad) == 0);
        UEXPECT(bad == NULL);
    }
    pthread_barrier_destroy(&xt_barrier);
    mica_malloc_stats(&mid);
    UEXPECT(mid.abandoned > 0);             /* the rows of dead threads */
    for (int k = 0; k < XT; k++)
        for (int i = 0; i < XN; i++) {
            UEXPECT(check(xt_blocks[k][i], 16, (uint64_t)k * 7000 + i));
            free(xt_blocks[k][i]);
        }
    mica_malloc_collect(true);
    mica_malloc_stats(&after);
    /* every block came back: no segment is left behind */
    UEXPECT(after.abandoned == 0);
    UEXPECT(after.segments <= before.segments);
}

/* ---- alignment, calloc, huge blocks ---- */

UTEST(malloc_aligned_alloc_up_to_1mib)
{
    static const size_t sizes[] = {1, 24, 100, 4096, 70000, 3 * MiB};
    for (size_t a = 16; a <= MiB; a <<= 1) {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t n = sizes[k];
            void *p = aligned_alloc(a, n);
            UASSERT(p != NULL);
            UEXPECT((uintptr_t)p % a == 0);
            UEXPECT(malloc_usable_size(p) >= n);
            fill(p, n, a + n);
            void *q = realloc(p, n + 100);
            UASSERT(q != NULL);
            UEXPECT(check(q, n, a + n));
            free(q);
        }
    }
    void *p = NULL;
    UEXPECT(posix_memalign(&p, 24, 10) == EINVAL);
    UEXPECT(posix_memalign(&p, MiB, 10) == 0 && (uintptr_t)p % MiB == 0);
    free(p);
    UEXPECT(aligned_alloc(48, 10) == NULL);
    p = memalign(100, 10);                  /* rounded up to 128 */
    UEXPECT(p != NULL && (uintptr_t)p % 128 == 0);
    free(p);
}

UTEST(malloc_calloc_overflow_and_zero)
{
    /* volatile: sizes the compiler cannot see (nor warn about) */
    volatile size_t half = SIZE_MAX / 2, big = (size_t)1 << 33;
    errno = 0;
    UEXPECT(calloc(half, 3) == NULL && errno == ENOMEM);
    UEXPECT(calloc(big, big) == NULL);
    UEXPECT(malloc(half * 2 - 10) == NULL);
    static const size_t sizes[] = {8, 200, 5000, 100000, 5 * MiB};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (int r = 0; r < 3; r++) {       /* reuse dirty blocks */
            unsigned char *p = calloc(1, sizes[k]);
            UASSERT(p != NULL);
            UEXPECT(all_zero(p, sizes[k]));
            memset(p, 0xa5, sizes[k]);
            free(p);
        }
    }
}

UTEST(malloc_huge_realloc)
{
    size_t n = 3 * MiB;
    char *p = malloc(n);
    UASSERT(p != NULL);
    fill(p, n, 77);
    int in_place = 0, steps = 0;
    while (n < 48 * MiB) {
        size_t m = n + n / 3;
        char *q = realloc(p, m);
        UASSERT(q != NULL);
        in_place += q == p;
        steps++;
        UEXPECT(check(q, n, 77));
        p = q;
        n = m;
        fill(p, n, 77);
    }
    /* most steps map a vmo right after the block instead of copying */
    UEXPECT(in_place > steps / 2);
    char *q = realloc(p, 4 * MiB);          /* shrink: copied, all returned */
    UASSERT(q != NULL);
    UEXPECT(check(q, 4 * KiB, 77));
    free(q);
}

/* ---- memory goes back to the kernel ---- */

/*
 * A burst of about 70 MiB, freed with nothing but free: the memory goes
 * back to the kernel except the two empty segments the cache may keep
 * committed (8 MiB at most), and mica_malloc_collect gives those back too.
 * (The array of pointers is static: a live block of its own would keep
 * its segment, and the pages freed around it, committed.)
 */
#define BURST 12000
static void *burst[BURST];

UTEST(malloc_memory_returned)
{
    void **v = burst;
    enum { N = BURST };
    mica_malloc_collect(true);
    uint64_t base = free_pages();
    for (int i = 0; i < N; i++) {
        size_t n = i % 100 == 0 ? 64 * KiB : 16 + (size_t)(i % 64) * 128;
        v[i] = malloc(n);
        UASSERT(v[i] != NULL);
        memset(v[i], 1, n);
    }
    char *huge = malloc(16 * MiB);
    UASSERT(huge != NULL);
    memset(huge, 2, 16 * MiB);
    uint64_t peak = free_pages();
    free(huge);
    for (int i = 0; i < N; i++)
        free(v[i]);
    uint64_t after = free_pages();          /* no collect: free alone */
    mica_malloc_collect(true);
    uint64_t trimmed = free_pages();
    printf("    # free pages: base %llu, peak %llu, after free %llu, "
           "after collect %llu\n", (unsigned long long)base,
           (unsigned long long)peak, (unsigned long long)after,
           (unsigned long long)trimmed);
    int64_t page = 4096;
    UEXPECT((int64_t)base - (int64_t)peak > (int64_t)(60 * MiB) / page);
    UEXPECT((int64_t)base - (int64_t)after < (int64_t)(9 * MiB) / page);
    UEXPECT((int64_t)base - (int64_t)trimmed < (int64_t)(1 * MiB) / page);
}
