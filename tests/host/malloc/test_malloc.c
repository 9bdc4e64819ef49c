/*
 * test_malloc.c - host tests of Mica's allocator through its mica_ names.
 *
 * The same file is built three times (see user/lib/malloc/malloc.mk):
 * plain, under ThreadSanitizer and under AddressSanitizer+UBSan.  It calls
 * the mica_ names so the sanitizers' own malloc stays out of the way.
 * Tests whose measure the sanitizers distort (resident memory) skip
 * themselves there; the invalid-free tests run in a forked child and look
 * for the abort and its message.
 *
 * Every test is deterministic (fixed seeds) and sized to finish in seconds
 * even under TSan on two cores.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "mica_malloc.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* Fewer iterations under sanitizers, same coverage of paths. */
#define SCALE(n) (SANITIZED ? (n) / 8 : (n))

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
        return rnd(s) % (256 * 1024);
    return rnd(s) % (3 * 1024 * 1024);
}

/* Fill a block with a pattern derived from its address and a tag. */
static void fill(void *p, size_t n, uint64_t tag)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        c[i] = (unsigned char)(tag + i * 7);
}

static int check(const void *p, size_t n, uint64_t tag)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != (unsigned char)(tag + i * 7))
            return 0;
    return 1;
}

/* ---- size classes and alignment ---- */

static void test_size_classes(void **state)
{
    (void)state;
    for (unsigned bin = 1; bin < BIN_COUNT; bin++) {
        size_t sz = bin_size(bin);
        assert_int_equal(size_bin(sz), bin);
        assert_int_equal(sz % 16, 0);
        if (bin > 1) {
            assert_true(sz > bin_size(bin - 1));
            assert_int_equal(size_bin(bin_size(bin - 1) + 1), bin);
        }
    }
    assert_int_equal(bin_size(BIN_COUNT - 1), LARGE_MAX);
}

static void test_every_class_aligned(void **state)
{
    (void)state;
    for (unsigned bin = 1; bin < BIN_COUNT; bin++) {
        size_t sizes[3] = {bin_size(bin), bin_size(bin - 1) + 1,
                           bin_size(bin) - 1};
        for (int k = 0; k < 3; k++) {
            size_t n = sizes[k];
            void *p[4];
            for (int j = 0; j < 4; j++) {
                p[j] = mica_malloc(n);
                assert_non_null(p[j]);
                assert_int_equal((uintptr_t)p[j] % 16, 0);
                assert_true(mica_malloc_usable_size(p[j]) >= n);
                assert_int_equal(mica_malloc_usable_size(p[j]),
                                 bin_size(size_bin(n)));
                fill(p[j], n, j);
            }
            for (int j = 0; j < 4; j++) {
                assert_true(check(p[j], n, j));
                mica_free(p[j]);
            }
        }
    }
    void *z = mica_malloc(0);
    assert_non_null(z);
    mica_free(z);
    mica_free(NULL);
}

static void test_aligned_alloc(void **state)
{
    (void)state;
    size_t sizes[] = {1, 24, 100, 4096, 70000, 3 * 1024 * 1024};
    for (size_t a = 16; a <= 8 * MiB; a <<= 1) {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t n = sizes[k];
            void *p = mica_aligned_alloc(a, n);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % a, 0);
            assert_true(mica_malloc_usable_size(p) >= n);
            fill(p, n, a);
            void *q = mica_realloc(p, n + 100);
            assert_non_null(q);
            assert_true(check(q, n, a));
            mica_free(q);
        }
    }
    void *p = NULL;
    assert_int_equal(mica_posix_memalign(&p, 24, 10), EINVAL);
    assert_int_equal(mica_posix_memalign(&p, 4, 10), EINVAL);
    assert_int_equal(mica_posix_memalign(&p, 1 * MiB, 10), 0);
    assert_int_equal((uintptr_t)p % MiB, 0);
    mica_free(p);
    assert_null(mica_aligned_alloc(48, 10));
    p = mica_memalign(100, 10); /* rounded up to 128 */
    assert_int_equal((uintptr_t)p % 128, 0);
    mica_free(p);
    long page = sysconf(_SC_PAGESIZE);
    p = mica_valloc(10);
    assert_int_equal((uintptr_t)p % (uintptr_t)page, 0);
    mica_free(p);
    p = mica_pvalloc(10);
    assert_int_equal((uintptr_t)p % (uintptr_t)page, 0);
    assert_true(mica_malloc_usable_size(p) >= (size_t)page);
    mica_free(p);
}

/* ---- calloc and realloc ---- */

static void test_calloc_overflow_zero(void **state)
{
    (void)state;
    errno = 0;
    assert_null(mica_calloc(SIZE_MAX / 2, 3));
    assert_int_equal(errno, ENOMEM);
    assert_null(mica_calloc((size_t)1 << 33, (size_t)1 << 33));
    assert_null(mica_malloc(SIZE_MAX - 10));
    assert_null(mica_reallocarray(NULL, SIZE_MAX / 4, 8));
    size_t sizes[] = {8, 200, 5000, 100000, 5 * 1024 * 1024};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        for (int r = 0; r < 3; r++) { /* reuse dirty blocks */
            unsigned char *p = mica_calloc(1, n);
            assert_non_null(p);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(p[i], 0);
            memset(p, 0xa5, n);
            mica_free(p);
        }
    }
}

static void test_realloc_paths(void **state)
{
    (void)state;
    char *p = mica_realloc(NULL, 100);
    assert_non_null(p);
    size_t us = mica_malloc_usable_size(p);
    fill(p, 100, 1);
    /* grow into the slack of the block: in place */
    char *q = mica_realloc(p, us);
    assert_ptr_equal(q, p);
    /* shrink a little: in place */
    q = mica_realloc(q, us - 10);
    assert_ptr_equal(q, p);
    assert_true(check(q, 100, 1));
    /* grow past the block: moves, contents kept */
    q = mica_realloc(q, 5000);
    assert_ptr_not_equal(q, p);
    assert_true(check(q, 100, 1));
    fill(q, 5000, 2);
    /* shrink a lot: moves to a smaller class */
    char *r = mica_realloc(q, 40);
    assert_true(mica_malloc_usable_size(r) < 5000);
    assert_true(check(r, 40, 2));
    /* huge: grow through the OS remap, then shrink */
    char *h = mica_realloc(r, 4 * MiB);
    assert_true(check(h, 40, 2));
    fill(h, 4 * MiB, 3);
    h = mica_realloc(h, 12 * MiB);
    assert_true(check(h, 4 * MiB, 3));
    h = mica_realloc(h, 3 * MiB);
    assert_true(check(h, 3 * MiB, 3));
    h = mica_realloc(h, 1000);
    assert_true(check(h, 1000, 3));
    h = mica_realloc(h, 0);
    assert_non_null(h);
    mica_free(h);
}

/* ---- randomized single thread ---- */

struct slot {
    char *p;
    size_t n;
    uint64_t tag;
};

static void random_ops(uint64_t seed, size_t slots, size_t ops)
{
    struct slot *s = calloc(slots, sizeof *s);
    assert_non_null(s);
    for (size_t op = 0; op < ops; op++) {
        struct slot *x = &s[rnd(&seed) % slots];
        if (x->p != NULL && !check(x->p, x->n, x->tag))
            fail_msg("block %p of %zu bytes corrupted", (void *)x->p, x->n);
        uint64_t what = rnd(&seed) % 4;
        size_t n = rnd_size(&seed);
        if (what == 0 && x->p != NULL) {
            size_t keep = n < x->n ? n : x->n;
            x->p = mica_realloc(x->p, n);
            assert_true(n == 0 || x->p != NULL);
            assert_true(check(x->p, keep, x->tag));
        } else {
            mica_free(x->p);
            x->p = what == 1 ? mica_calloc(1, n) : mica_malloc(n);
            assert_non_null(x->p);
            for (size_t i = 0; what == 1 && i < n; i++)
                if (x->p[i] != 0)
                    fail_msg("calloc(%zu) byte %zu not zero", n, i);
        }
        x->n = n;
        x->tag = rnd(&seed);
        fill(x->p, n, x->tag);
    }
    for (size_t i = 0; i < slots; i++) {
        assert_true(s[i].p == NULL || check(s[i].p, s[i].n, s[i].tag));
        mica_free(s[i].p);
    }
    free(s);
}

static void test_random_single(void **state)
{
    (void)state;
    random_ops(88172645463325252ull, 2000, SCALE(400000));
}

/* ---- threads ---- */

#define XCHG 256
static _Atomic(struct slot *) exchange[XCHG];

struct worker {
    uint64_t seed;
    size_t ops;
};

/* Random work, and blocks traded through `exchange` with other threads. */
static void *random_worker(void *arg)
{
    struct worker *w = arg;
    uint64_t seed = w->seed;
    random_ops(seed, 500, w->ops / 2);
    for (size_t op = 0; op < w->ops / 2; op++) {
        struct slot *mine = mica_malloc(sizeof *mine);
        mine->n = rnd_size(&seed) % 2048;
        mine->tag = rnd(&seed);
        mine->p = mica_malloc(mine->n);
        fill(mine->p, mine->n, mine->tag);
        struct slot *old = atomic_exchange(&exchange[rnd(&seed) % XCHG], mine);
        if (old != NULL) {
            if (!check(old->p, old->n, old->tag))
                return (void *)1;
            mica_free(old->p);
            mica_free(old);
        }
    }
    return NULL;
}

static void run_workers(int n, size_t ops)
{
    pthread_t t[16];
    struct worker w[16];
    for (int i = 0; i < n; i++) {
        w[i].seed = 0x1234567ull * (uint64_t)(i + 1);
        w[i].ops = ops;
        assert_int_equal(pthread_create(&t[i], NULL, random_worker, &w[i]),
                         0);
    }
    for (int i = 0; i < n; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
    for (int i = 0; i < XCHG; i++) {
        struct slot *old = atomic_exchange(&exchange[i], NULL);
        if (old != NULL) {
            assert_true(check(old->p, old->n, old->tag));
            mica_free(old->p);
            mica_free(old);
        }
    }
}

static void test_random_4_threads(void **state)
{
    (void)state;
    run_workers(4, SCALE(200000));
}

#define XT 8
#define XN 2000
static void *xt_blocks[XT][XN];
static pthread_barrier_t xt_barrier;

/* Each thread fills its row, then frees the row of the next thread. */
static void *cross_worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    int other = (me + 1) % XT;
    for (int round = 0; round < SCALE(40) + 2; round++) {
        for (int i = 0; i < XN; i++) {
            size_t n = 16 + (size_t)(i * 13 + me) % 600;
            xt_blocks[me][i] = mica_malloc(n);
            fill(xt_blocks[me][i], 16, (uint64_t)me * 1000 + i);
        }
        pthread_barrier_wait(&xt_barrier);
        for (int i = 0; i < XN; i++) {
            if (!check(xt_blocks[other][i], 16, (uint64_t)other * 1000 + i))
                return (void *)1;
            mica_free(xt_blocks[other][i]);
        }
        pthread_barrier_wait(&xt_barrier);
    }
    return NULL;
}

static void test_cross_thread_free(void **state)
{
    (void)state;
    pthread_t t[XT];
    pthread_barrier_init(&xt_barrier, NULL, XT);
    for (int i = 0; i < XT; i++)
        pthread_create(&t[i], NULL, cross_worker, (void *)(intptr_t)i);
    for (int i = 0; i < XT; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
    pthread_barrier_destroy(&xt_barrier);
}

/*
 * One thread allocates as fast as it can while three others free its
 * blocks the moment they appear: remote frees race with each other and
 * with the owner collecting its pages and moving them to and from its
 * full queue.  A block lost on the way would keep its page - and so a
 * segment - alive, which the final count of segments shows.
 */
#define STORM_FREERS 3
static _Atomic(void *) *storm;
static size_t storm_n;

static void *storm_owner(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < storm_n; i++) {
        size_t n = 16 + (i % 7) * 24;
        char *p = mica_malloc(n);
        fill(p, n, i);
        atomic_store_explicit(&storm[i], p, memory_order_release);
    }
    return NULL;
}

static void *storm_freer(void *arg)
{
    for (size_t i = (size_t)(intptr_t)arg; i < storm_n; i += STORM_FREERS) {
        void *p;
        while ((p = atomic_load_explicit(&storm[i],
                                         memory_order_acquire)) == NULL)
            sched_yield();
        if (!check(p, 16 + (i % 7) * 24, i))
            return (void *)1;
        mica_free(p);
    }
    return NULL;
}

static void test_remote_free_storm(void **state)
{
    (void)state;
    mica_malloc_collect(true);
    struct mica_malloc_stats before, after;
    mica_malloc_stats(&before);
    storm_n = SCALE(800000);
    storm = calloc(storm_n, sizeof *storm);
    pthread_t o, f[STORM_FREERS];
    pthread_create(&o, NULL, storm_owner, NULL);
    for (int k = 0; k < STORM_FREERS; k++)
        pthread_create(&f[k], NULL, storm_freer, (void *)(intptr_t)k);
    pthread_join(o, NULL);
    for (int k = 0; k < STORM_FREERS; k++) {
        void *r;
        pthread_join(f[k], &r);
        assert_null(r);
    }
    free(storm);
    mica_malloc_collect(true);
    mica_malloc_stats(&after);
    assert_int_equal(after.abandoned, 0);
    assert_int_equal(after.segments, before.segments);
}

/* ---- thread exit with live blocks ---- */

#define LIVE 40000
static void *live[LIVE];

static void *leave_blocks(void *arg)
{
    (void)arg;
    for (int i = 0; i < LIVE; i++) {
        live[i] = mica_malloc(16 + (size_t)(i % 50) * 16);
        fill(live[i], 16, (uint64_t)i);
    }
    return NULL;
}

static void test_thread_exit_live_blocks(void **state)
{
    (void)state;
    mica_malloc_collect(true);
    struct mica_malloc_stats before, mid, after;
    mica_malloc_stats(&before);
    pthread_t t;
    pthread_create(&t, NULL, leave_blocks, NULL);
    pthread_join(t, NULL);
    mica_malloc_stats(&mid);
    assert_true(mid.abandoned > 0);
    /* this thread frees them: it adopts the dead thread's segments */
    for (int i = 0; i < LIVE; i++) {
        assert_true(check(live[i], 16, (uint64_t)i));
        mica_free(live[i]);
    }
    mica_malloc_collect(true);
    mica_malloc_stats(&after);
    assert_int_equal(after.abandoned, 0);
    assert_true(after.segments <= before.segments);
    assert_true(after.mapped <= before.mapped);
}

/* Blocks of a dead thread freed by many other threads at once. */
static void *free_share(void *arg)
{
    int k = (int)(intptr_t)arg;
    for (int i = k; i < LIVE; i += 4)
        mica_free(live[i]);
    return NULL;
}

static void test_thread_exit_freed_by_many(void **state)
{
    (void)state;
    pthread_t t, f[4];
    pthread_create(&t, NULL, leave_blocks, NULL);
    pthread_join(t, NULL);
    for (int k = 0; k < 4; k++)
        pthread_create(&f[k], NULL, free_share, (void *)(intptr_t)k);
    for (int k = 0; k < 4; k++)
        pthread_join(f[k], NULL);
    mica_malloc_collect(true);
    struct mica_malloc_stats st;
    mica_malloc_stats(&st);
    assert_int_equal(st.abandoned, 0);
}

/* ---- memory goes back ---- */

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_rss_falls_after_burst(void **state)
{
    (void)state;
    if (SANITIZED)
        skip();
    mica_malloc_collect(true);
    long base = rss_kib();
    enum { N = 100000 }; /* about 260 MiB */
    void **v = malloc(N * sizeof *v);
    for (int i = 0; i < N; i++) {
        size_t n = i % 100 == 0 ? 64 * KiB : 16 + (size_t)(i % 64) * 64;
        v[i] = mica_malloc(n);
        memset(v[i], 1, n);
    }
    long peak = rss_kib();
    for (int i = 0; i < N; i++)
        mica_free(v[i]);
    long after = rss_kib();
    free(v);
    print_message("rss: base %ld KiB, peak %ld KiB, after free %ld KiB\n",
                  base, peak, after);
    assert_true(peak - base > 150 * 1024);
    /* no collect call: freeing alone must give the memory back */
    assert_true(after - base < 24 * 1024);
}

/* ---- invalid frees abort with a message ---- */

typedef void (*bad_fn)(void);

static void expect_abort(bad_fn fn, const char *msg)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0); /* not reached when the allocator catches it */
    }
    close(fds[1]);
    char buf[512];
    ssize_t len = 0, n;
    while (len < (ssize_t)sizeof buf - 1 &&
           (n = read(fds[0], buf + len, sizeof buf - 1 - (size_t)len)) > 0)
        len += n;
    buf[len] = 0;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("no abort for \"%s\" (status %d, output: %s)", msg, status,
                 buf);
    if (strstr(buf, msg) == NULL)
        fail_msg("expected \"%s\", got: %s", msg, buf);
}

static void bad_stack(void)
{
    int x;
    mica_free(&x);
}

static void bad_foreign(void)
{
    mica_free(malloc(32)); /* from the system allocator */
}

static void bad_interior(void)
{
    char *p = mica_malloc(64);
    mica_free(p + 16);
}

static void bad_double(void)
{
    void *p = mica_malloc(48);
    void *q = mica_malloc(48);
    mica_free(p);
    mica_free(q);
    mica_free(p);
}

static void bad_double_later(void)
{
    void *p = mica_malloc(100);
    mica_free(p);
    for (int i = 0; i < 10; i++) /* take other blocks in between */
        mica_free(mica_malloc(500));
    mica_free(p);
}

static void *free_arg(void *p)
{
    mica_free(p);
    return NULL;
}

static void bad_double_remote(void)
{
    void *p = mica_malloc(100);
    pthread_t t;
    pthread_create(&t, NULL, free_arg, p);
    pthread_join(t, NULL);
    mica_free(p);
}

static void bad_double_huge(void)
{
    void *p = mica_malloc(10 * MiB);
    mica_free(p);
    mica_free(p);
}

static void bad_aligned_interior(void)
{
    char *p = mica_aligned_alloc(256, 100);
    mica_free(p + 16);
}

static void bad_realloc(void)
{
    int x;
    (void)mica_realloc(&x, 10);
}

static void test_invalid_free(void **state)
{
    (void)state;
    expect_abort(bad_stack, "not from this allocator");
    expect_abort(bad_foreign, "not from this allocator");
    expect_abort(bad_interior, "not the start of a block");
    expect_abort(bad_double, "double free");
    expect_abort(bad_double_later, "double free");
    expect_abort(bad_double_remote, "double free");
    expect_abort(bad_double_huge, "not from this allocator");
    expect_abort(bad_aligned_interior, "invalid pointer");
    expect_abort(bad_realloc, "invalid pointer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_classes),
        cmocka_unit_test(test_every_class_aligned),
        cmocka_unit_test(test_aligned_alloc),
        cmocka_unit_test(test_calloc_overflow_zero),
        cmocka_unit_test(test_realloc_paths),
        cmocka_unit_test(test_random_single),
        cmocka_unit_test(test_random_4_threads),
        cmocka_unit_test(test_cross_thread_free),
        cmocka_unit_test(test_remote_free_storm),
        cmocka_unit_test(test_thread_exit_live_blocks),
        cmocka_unit_test(test_thread_exit_freed_by_many),
        cmocka_unit_test(test_rss_falls_after_burst),
        cmocka_unit_test(test_invalid_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
