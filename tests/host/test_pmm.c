/*
 * test_pmm.c - host tests of the buddy page allocator on fake memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "host_support.h"
#include "physmem.h"
#include "pmm.h"

#define NPAGES 4096                     /* 16 MiB of fake RAM */

static struct page db[NPAGES];
static void *mem;

static int setup(void **state)
{
    (void)state;
    mem = fake_phys_init((size_t)NPAGES * PAGE_SIZE);
    pmm_init(db, NPAGES);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_phys_free(mem);
    return 0;
}

static void test_add_free_counts_and_skips_page0(void **state)
{
    (void)state;
    pmm_add_free(0, 16 * PAGE_SIZE);
    assert_int_equal(pmm_free_pages(), 15);     /* page 0 never given */
    assert_int_equal(pmm_total_pages(), 15);
    pmm_add_free(100 * PAGE_SIZE, 2000 * PAGE_SIZE);
    assert_int_equal(pmm_free_pages(), 15 + 1900);
    /* beyond the database: ignored */
    pmm_add_free((NPAGES - 2) * PAGE_SIZE, (NPAGES + 50) * PAGE_SIZE);
    assert_int_equal(pmm_free_pages(), 15 + 1900 + 2);
}

static void test_alloc_is_aligned_and_disjoint(void **state)
{
    (void)state;
    pmm_add_free(PAGE_SIZE, NPAGES * PAGE_SIZE);
    uint8_t *owner = calloc(NPAGES, 1);
    paddr_t got[64];
    unsigned orders[64];
    for (unsigned i = 0; i < 64; i++) {
        orders[i] = i % 6;
        got[i] = pmm_alloc(orders[i]);
        assert_int_not_equal(got[i], 0);
        assert_int_equal(got[i] & ((PAGE_SIZE << orders[i]) - 1), 0);
        for (unsigned k = 0; k < (1u << orders[i]); k++) {
            uint64_t pfn = (got[i] >> PAGE_SHIFT) + k;
            assert_int_equal(owner[pfn], 0);
            owner[pfn] = 1;
        }
        memset(phys_to_virt(got[i]), (int)i, PAGE_SIZE << orders[i]);
    }
    for (unsigned i = 0; i < 64; i++)
        pmm_free(got[i], orders[i]);
    assert_int_equal(pmm_free_pages(), NPAGES - 1);
    free(owner);
}

static void test_buddies_merge_back(void **state)
{
    (void)state;
    pmm_add_free(1024 * PAGE_SIZE, 2048 * PAGE_SIZE);   /* one 4 MiB block */
    paddr_t big = pmm_alloc(PMM_ORDERS - 1);
    assert_int_equal(big, 1024 * PAGE_SIZE);
    assert_int_equal(pmm_alloc(0), 0);                  /* nothing left */
    pmm_free(big, PMM_ORDERS - 1);
    paddr_t pages[1024];
    for (unsigned i = 0; i < 1024; i++)
        assert_int_not_equal(pages[i] = pmm_alloc(0), 0);
    assert_int_equal(pmm_alloc(0), 0);
    for (unsigned i = 0; i < 1024; i += 2)              /* free in a */
        pmm_free(pages[i], 0);                          /* scattered */
    for (unsigned i = 1; i < 1024; i += 2)              /* order */
        pmm_free(pages[i], 0);
    assert_int_equal(pmm_alloc(PMM_ORDERS - 1), 1024 * PAGE_SIZE);
}

static void test_exhaustion_returns_zero(void **state)
{
    (void)state;
    pmm_add_free(PAGE_SIZE, 9 * PAGE_SIZE);
    assert_int_equal(pmm_alloc(4), 0);                  /* 16 > 8 pages */
    assert_int_equal(pmm_alloc(PMM_ORDERS), 0);
    assert_int_equal(pmm_alloc(99), 0);
    for (int i = 0; i < 8; i++)
        assert_int_not_equal(pmm_alloc(0), 0);
    assert_int_equal(pmm_alloc(0), 0);
    assert_int_equal(pmm_free_pages(), 0);
}

static void test_bad_frees_are_caught(void **state)
{
    (void)state;
    pmm_add_free(PAGE_SIZE, 64 * PAGE_SIZE);
    paddr_t p = pmm_alloc(1);
    expect_assert_failure(pmm_free(p, 0));              /* wrong order */
    pmm_free(p, 1);
    expect_assert_failure(pmm_free(p, 1));              /* double free */
    expect_assert_failure(pmm_free(p + PAGE_SIZE, 0));  /* never given */
    expect_assert_failure(pmm_free(0, 0));              /* page 0 */
    expect_assert_failure(pmm_free(NPAGES * PAGE_SIZE, 0));
    expect_assert_failure(pmm_free(p + 1, 0));          /* misaligned */
    assert_int_equal(pmm_free_pages(), 63);             /* lists intact */
    assert_int_not_equal(pmm_alloc(5), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_free_counts_and_skips_page0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_is_aligned_and_disjoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buddies_merge_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exhaustion_returns_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_frees_are_caught, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
