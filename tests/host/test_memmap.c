/*
 * test_memmap.c - host tests of the boot memory map and boot allocator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "memmap.h"

#define MiB (1ull << 20)

static void expect_ranges(const struct memmap *m, unsigned n,
                          const paddr_t *pairs)
{
    assert_int_equal(m->n, n);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(m->r[i].start, pairs[2 * i]);
        assert_int_equal(m->r[i].end, pairs[2 * i + 1]);
    }
}

static void test_add_merges_and_aligns(void **state)
{
    (void)state;
    static struct memmap m;
    memset(&m, 0, sizeof(m));
    memmap_add(&m, 0x100000, 0x200000);
    memmap_add(&m, 0x0, 0x9fc00);            /* ends mid-page: shrunk */
    memmap_add(&m, 0x200000, 0x300000);      /* touches: merged */
    memmap_add(&m, 0x500123, 0x600000);      /* starts mid-page: shrunk */
    memmap_add(&m, 0x700000, 0x700fff);      /* less than a page: dropped */
    paddr_t want[] = { 0, 0x9f000, 0x100000, 0x300000, 0x501000, 0x600000 };
    expect_ranges(&m, 3, want);
    assert_int_equal(m.ram_end, 0x600000);
    assert_int_equal(memmap_free_bytes(&m), 0x9f000 + 0x200000 + 0xff000);
}

static void test_reserve_splits(void **state)
{
    (void)state;
    static struct memmap m;
    memset(&m, 0, sizeof(m));
    memmap_add(&m, 0, 16 * MiB);
    memmap_reserve(&m, 0, MiB);                      /* head */
    memmap_reserve(&m, 4 * MiB + 1, 5 * MiB - 1);    /* widened, middle */
    memmap_reserve(&m, 15 * MiB, 20 * MiB);          /* tail, past end */
    memmap_reserve(&m, 30 * MiB, 40 * MiB);          /* outside: nothing */
    paddr_t want[] = { MiB, 4 * MiB, 5 * MiB, 15 * MiB };
    expect_ranges(&m, 2, want);
    memmap_reserve(&m, 0, 64 * MiB);                 /* everything */
    assert_int_equal(m.n, 0);
}

static void test_alloc_top_down_below_limit(void **state)
{
    (void)state;
    static struct memmap m;
    memset(&m, 0, sizeof(m));
    memmap_add(&m, MiB, 2 * MiB);
    memmap_add(&m, 8 * MiB, 2048 * MiB);
    paddr_t p = memmap_alloc(&m, 100, 1024 * MiB);
    assert_int_equal(p, 1024 * MiB - 4096);
    p = memmap_alloc(&m, 3 * 4096, ~(paddr_t)0);
    assert_int_equal(p, 2048 * MiB - 3 * 4096);
    p = memmap_alloc(&m, MiB, 4 * MiB);              /* exactly fits */
    assert_int_equal(p, MiB);
    assert_int_equal(memmap_alloc(&m, 4096, 4 * MiB), 0);  /* none left */
    assert_int_equal(memmap_alloc(&m, 4096 * MiB, ~(paddr_t)0), 0);
    /* allocations never overlap what is still free */
    for (unsigned i = 0; i < m.n; i++)
        assert_true(m.r[i].end <= 1024 * MiB - 4096 ||
                    m.r[i].start >= 1024 * MiB);
}

static void test_overlaps(void **state)
{
    (void)state;
    static struct memmap m;
    memset(&m, 0, sizeof(m));
    memmap_add(&m, 0, 0x9F000);
    memmap_add(&m, MiB, 256 * MiB);
    assert_true(memmap_overlaps(&m, 0, 4096));
    assert_true(memmap_overlaps(&m, 0x9E000, 0xA0000));
    assert_false(memmap_overlaps(&m, 0xA0000, 0xC0000));   /* VGA hole */
    assert_false(memmap_overlaps(&m, 0x9F000, MiB));
    assert_true(memmap_overlaps(&m, MiB - 4096, MiB + 1));
    assert_true(memmap_overlaps(&m, 16 * MiB, 17 * MiB));
    assert_false(memmap_overlaps(&m, 256 * MiB, 257 * MiB));
    assert_false(memmap_overlaps(&m, 0xFEBF0000ull, 0xFEC00000ull));
}

static void test_overflow_drops_smallest(void **state)
{
    (void)state;
    static struct memmap m;
    memset(&m, 0, sizeof(m));
    for (unsigned i = 0; i < MEMMAP_MAX; i++)
        memmap_add(&m, (paddr_t)i * 3 * MiB, (paddr_t)i * 3 * MiB + MiB);
    assert_int_equal(m.n, MEMMAP_MAX);
    assert_false(m.overflow);
    memmap_add(&m, 1000 * MiB, 1000 * MiB + 4096);   /* the smallest */
    assert_true(m.overflow);
    assert_int_equal(m.n, MEMMAP_MAX);
    for (unsigned i = 0; i + 1 < m.n; i++)
        assert_true(m.r[i].end < m.r[i + 1].start);
    /* a split with no room left still keeps the map sorted and bounded */
    memmap_reserve(&m, 3 * MiB + 4096, 3 * MiB + 8192);
    assert_int_equal(m.n, MEMMAP_MAX);
    for (unsigned i = 0; i + 1 < m.n; i++)
        assert_true(m.r[i].end < m.r[i + 1].start);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_merges_and_aligns),
        cmocka_unit_test(test_reserve_splits),
        cmocka_unit_test(test_alloc_top_down_below_limit),
        cmocka_unit_test(test_overflow_drops_smallest),
        cmocka_unit_test(test_overlaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
