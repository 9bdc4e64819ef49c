/*
 * test_pagetable.c - host tests of the x86_64 page-table walker, on fake
 * physical memory with a bump allocator for table pages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "arch/x86_64/pagetable.h"
#include "host_support.h"
#include "mica/errors.h"
#include "physmem.h"

#define FAKE_PAGES 64
static void *mem;
static paddr_t next_table;
static int tables_left;

static paddr_t table_alloc(void *ctx)
{
    (void)ctx;
    if (tables_left == 0 || next_table >= FAKE_PAGES * PAGE_SIZE)
        return 0;
    tables_left--;
    paddr_t p = next_table;
    next_table += PAGE_SIZE;
    memset(phys_to_virt(p), 0, PAGE_SIZE);
    return p;
}

static paddr_t root;

static int setup(void **state)
{
    (void)state;
    mem = fake_phys_init(FAKE_PAGES * PAGE_SIZE);
    next_table = PAGE_SIZE;
    tables_left = -1;
    root = table_alloc(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_phys_free(mem);
    return 0;
}

static void test_map_lookup_unmap_4k(void **state)
{
    (void)state;
    vaddr_t va = 0xFFFF800012345000ull;
    paddr_t pa = 0;
    uint64_t fl = 0;
    assert_false(pt_lookup(root, va, &pa, &fl));
    assert_int_equal(pt_map(root, va, 0xABC000, PTE_W | PTE_NX, PT_SIZE_4K,
                            table_alloc, NULL), 0);
    assert_int_equal(next_table, 5 * PAGE_SIZE);    /* PDPT, PD, PT made */
    assert_true(pt_lookup(root, va + 0x123, &pa, &fl));
    assert_int_equal(pa, 0xABC123);
    assert_true((fl & PTE_P) && (fl & PTE_W) && (fl & PTE_NX));
    assert_false(fl & PTE_PS);
    assert_int_equal(pt_map(root, va, 0xDEF000, 0, PT_SIZE_4K, table_alloc,
                            NULL), ERR_ALREADY_EXISTS);
    assert_int_equal(pt_protect(root, va, 0), 0);
    assert_true(pt_lookup(root, va, &pa, &fl));
    assert_false(fl & PTE_W);
    assert_int_equal(pa, 0xABC000);
    paddr_t old = 0;
    assert_int_equal(pt_unmap(root, va, &old), 0);
    assert_int_equal(old, 0xABC000);
    assert_false(pt_lookup(root, va, NULL, NULL));
    assert_int_equal(pt_unmap(root, va, &old), ERR_NOT_FOUND);
    assert_int_equal(pt_protect(root, va, 0), ERR_NOT_FOUND);
    /* a neighbour in the same table needs no new tables */
    assert_int_equal(pt_map(root, va + PAGE_SIZE, 0x1000, 0, PT_SIZE_4K,
                            table_alloc, NULL), 0);
    assert_int_equal(next_table, 5 * PAGE_SIZE);
}

static void test_large_pages(void **state)
{
    (void)state;
    vaddr_t va2m = 0xFFFF800000200000ull, va1g = 0xFFFF808040000000ull;
    paddr_t pa;
    uint64_t fl;
    assert_int_equal(pt_map(root, va2m, 0x40000000, PTE_W, PT_SIZE_2M,
                            table_alloc, NULL), 0);
    assert_true(pt_lookup(root, va2m + 0x12345, &pa, &fl));
    assert_int_equal(pa, 0x40012345);
    assert_true(fl & PTE_PS);
    assert_int_equal(pt_map(root, va1g, 0x80000000, 0, PT_SIZE_1G,
                            table_alloc, NULL), 0);
    assert_true(pt_lookup(root, va1g + 0x3FFFFFFF, &pa, &fl));
    assert_int_equal(pa, 0xBFFFFFFF);
    /* a 4 KiB page inside a large page is refused, not split */
    assert_int_equal(pt_map(root, va2m + PAGE_SIZE, 0, 0, PT_SIZE_4K,
                            table_alloc, NULL), ERR_ALREADY_EXISTS);
    assert_int_equal(pt_unmap(root, va2m, NULL), ERR_NOT_FOUND);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(pt_map(root, 0x1001, 0, 0, PT_SIZE_4K, table_alloc,
                            NULL), ERR_INVALID_ARGS);
    assert_int_equal(pt_map(root, 0x200000, 0x1000, 0, PT_SIZE_2M,
                            table_alloc, NULL), ERR_INVALID_ARGS);
    assert_int_equal(pt_map(root, 0x0000800000000000ull, 0, 0, PT_SIZE_4K,
                            table_alloc, NULL), ERR_INVALID_ARGS);
    assert_int_equal(pt_map(root, 0x1000, 1ull << 52, 0, PT_SIZE_4K,
                            table_alloc, NULL), ERR_INVALID_ARGS);
    assert_int_equal(pt_map(root, 0x1000, 0, 0, 3, table_alloc, NULL),
                     ERR_INVALID_ARGS);
    assert_true(pt_canonical(0x00007FFFFFFFF000ull));
    assert_true(pt_canonical(0xFFFF800000000000ull));
    assert_false(pt_canonical(0x0000800000000000ull));
}

static void test_out_of_table_memory(void **state)
{
    (void)state;
    tables_left = 1;            /* PDPT only: the PD cannot be made */
    assert_int_equal(pt_map(root, 0x7000000000ull, 0x5000, 0, PT_SIZE_4K,
                            table_alloc, NULL), ERR_NO_MEMORY);
    assert_false(pt_lookup(root, 0x7000000000ull, NULL, NULL));
    tables_left = -1;
    assert_int_equal(pt_map(root, 0x7000000000ull, 0x5000, 0, PT_SIZE_4K,
                            table_alloc, NULL), 0);
    /* without an allocator, a walk needing tables fails cleanly */
    assert_int_equal(pt_map(root, 0x6000000000ull, 0x5000, 0, PT_SIZE_4K,
                            NULL, NULL), ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_map_lookup_unmap_4k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_table_memory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
