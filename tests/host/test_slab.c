/*
 * test_slab.c - host tests of slab caches and kmalloc, with the page
 * source played by the host allocator (counting what is outstanding).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "slab.h"

static long pages_out, large_out;
static int fail_after = -1;             /* page allocations until failure */

void *slab_page_alloc(void)
{
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    pages_out++;
    return aligned_alloc(PAGE_SIZE, PAGE_SIZE);
}

void slab_page_free(void *page)
{
    pages_out--;
    free(page);
}

void *slab_large_alloc(size_t size)
{
    large_out++;
    return aligned_alloc(PAGE_SIZE, ALIGN_UP(size, PAGE_SIZE));
}

void slab_large_free(void *p)
{
    large_out--;
    free(p);
}

static void test_objects_distinct_aligned(void **state)
{
    (void)state;
    static struct slab_cache c;
    enum { N = 3000 };
    static unsigned char *obj[N];
    slab_cache_init(&c, "t-40", 40, 16);
    assert_int_equal(c.size, 48);
    for (int i = 0; i < N; i++) {
        obj[i] = slab_alloc(&c);
        assert_non_null(obj[i]);
        assert_int_equal((uintptr_t)obj[i] & 15, 0);
        assert_true(((uintptr_t)obj[i] & PAGE_MASK) != 0);
        memset(obj[i], i & 0xFF, 40);
    }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 40; k++)
            assert_int_equal(obj[i][k], i & 0xFF);
    assert_int_equal(c.allocated, N);
    assert_int_equal(pages_out, (N + c.per_slab - 1) / c.per_slab);
    for (int i = 0; i < N; i += 2)
        slab_free(&c, obj[i]);
    for (int i = 1; i < N; i += 2)
        slab_free(&c, obj[i]);
    assert_int_equal(c.allocated, 0);
    assert_int_equal(pages_out, 1);             /* the spare */
    slab_cache_shrink(&c);
    assert_int_equal(pages_out, 0);
    assert_int_equal(c.slabs, 0);
}

static void test_reuse_after_free(void **state)
{
    (void)state;
    static struct slab_cache c;
    slab_cache_init(&c, "t-8", 1, 8);
    void *a = slab_alloc(&c);
    slab_free(&c, a);
    assert_ptr_equal(slab_alloc(&c), a);        /* LIFO: warm in cache */
    slab_free(&c, a);
    slab_cache_shrink(&c);
    assert_int_equal(pages_out, 0);
}

static void test_bad_frees_are_caught(void **state)
{
    (void)state;
    static struct slab_cache c, other;
    slab_cache_init(&c, "t-64", 64, 64);
    slab_cache_init(&other, "t-64b", 64, 64);
    char *a = slab_alloc(&c);
    char *b = slab_alloc(&c);
    expect_assert_failure(slab_free(&c, a + 8));        /* mid-object */
    expect_assert_failure(slab_free(&other, a));        /* wrong cache */
    slab_free(&c, a);
    expect_assert_failure(slab_free(&c, a));            /* double free */
    slab_free(&c, b);
    slab_cache_shrink(&c);
    slab_cache_shrink(&other);
    assert_int_equal(pages_out, 0);
}

static void test_out_of_pages(void **state)
{
    (void)state;
    static struct slab_cache c;
    slab_cache_init(&c, "t-2k", 2000, 8);
    assert_int_equal(c.per_slab, 2);
    fail_after = 1;
    void *a = slab_alloc(&c), *b = slab_alloc(&c);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(slab_alloc(&c));                /* no page: NULL */
    fail_after = -1;
    void *d = slab_alloc(&c);
    assert_non_null(d);
    slab_free(&c, a);
    slab_free(&c, b);
    slab_free(&c, d);
    slab_cache_shrink(&c);
    assert_int_equal(pages_out, 0);
}

static void test_kmalloc(void **state)
{
    (void)state;
    kmalloc_init();
    size_t sizes[] = { 0, 1, 15, 16, 17, 64, 65, 1000, 2048, 2049, 5000,
                       1 << 20 };
    void *p[12];
    for (int i = 0; i < 12; i++) {
        p[i] = kmalloc(sizes[i]);
        assert_non_null(p[i]);
        memset(p[i], 0xEE, sizes[i]);
    }
    assert_int_equal(large_out, 3);
    unsigned char *z = kzalloc(777);
    for (int i = 0; i < 777; i++)
        assert_int_equal(z[i], 0);
    kfree(z);
    for (int i = 0; i < 12; i++)
        kfree(p[i]);
    kfree(NULL);
    assert_int_equal(large_out, 0);
    char stack_obj[32];
    expect_assert_failure(kfree(stack_obj + 8));    /* not from kmalloc */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects_distinct_aligned),
        cmocka_unit_test(test_reuse_after_free),
        cmocka_unit_test(test_bad_frees_are_caught),
        cmocka_unit_test(test_out_of_pages),
        cmocka_unit_test(test_kmalloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
