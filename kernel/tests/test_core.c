/*
 * test_core.c - self-tests of the portable kernel library: formatting,
 * the command line, the log ring, symbols, the page and slab allocators.
 *
 * The host unit tests cover the same code's corner cases; these check
 * that it behaves the same built freestanding and running on the
 * machine's real memory.
 */
#include "bootinfo.h"
#include "cmdline.h"
#include "ksyms.h"
#include "ktest.h"
#include "lib.h"
#include "log.h"
#include "physmem.h"
#include "pmm.h"
#include "printf.h"
#include "slab.h"

KTEST(printf_formats)
{
    char b[64];
    KEXPECT(ksnprintf(b, sizeof(b), "%d|%5u|%-4x|%08lx", -42, 7u, 0xabu,
                      0xdeadbeeful) == 23);
    KEXPECT(strcmp(b, "-42|    7|ab  |deadbeef") == 0);
    KEXPECT(ksnprintf(b, 4, "%s", "truncate") == 8 && strcmp(b, "tru") == 0);
    ksnprintf(b, sizeof(b), "%p %.2s %c %%", (void *)0x10, "xyz", 'q');
    KEXPECT(strcmp(b, "0x10 xy q %") == 0);
}

KTEST(cmdline_words)
{
    static struct cmdline c;
    cmdline_parse(&c, "/boot/mica.bin test=a,b quiet x=\"1 2\"");
    KEXPECT(c.n == 4);
    KEXPECT(strcmp(cmdline_get(&c, "test"), "a,b") == 0);
    KEXPECT(strcmp(cmdline_get(&c, "quiet"), "") == 0);
    KEXPECT(strcmp(cmdline_get(&c, "x"), "1 2") == 0);
    KEXPECT(cmdline_get(&c, "nope") == NULL);
    KEXPECT(cmdline_list_has("a,b", "b") && !cmdline_list_has("a,bc", "b"));
}

KTEST(log_ring_reads_back)
{
    uint64_t before = log_position();
    kprintf("# log ring probe 1234\n");
    char buf[64];
    uint64_t next;
    size_t n = log_read(before, buf, sizeof(buf) - 1, &next);
    buf[n] = '\0';
    KEXPECT(n == 22 && next == before + 22);
    KEXPECT(strcmp(buf, "# log ring probe 1234\n") == 0);
    /* a position long overwritten is moved up to the oldest byte kept */
    if (log_position() > LOG_RING_SIZE) {
        n = log_read(0, buf, 1, &next);
        KEXPECT(n == 1 && next == log_position() - LOG_RING_SIZE + 1);
    }
}

KTEST(ksyms_names_functions)
{
    uint64_t off = 1;
    const char *name = ksyms_lookup(&ksyms_kernel,
                                    (uint64_t)(uintptr_t)&ksyms_lookup + 3,
                                    &off);
    KASSERT_T(name != NULL);
    KEXPECT(strcmp(name, "ksyms_lookup") == 0 && off == 3);
    KEXPECT(ksyms_lookup(&ksyms_kernel, 0x1000, &off) == NULL);
}

KTEST(pmm_alloc_free_orders)
{
    uint64_t free0 = pmm_free_pages();
    paddr_t p[6];
    for (unsigned o = 0; o < 6; o++) {
        p[o] = pmm_alloc(o);
        KASSERT_T(p[o] != 0);
        KEXPECT((p[o] & ((PAGE_SIZE << o) - 1)) == 0);
        memset(phys_to_virt(p[o]), 0xA5, PAGE_SIZE << o);
    }
    KEXPECT(pmm_free_pages() == free0 - 63);
    for (unsigned o = 0; o < 6; o++)
        pmm_free(p[o], o);
    KEXPECT(pmm_free_pages() == free0);
    KEXPECT(pmm_alloc(PMM_ORDERS) == 0);
}

KTEST(pmm_never_gives_reserved_pages)
{
    extern char _text_start[];
    const struct boot_module *m = bootinfo_module("bootfs");
    KEXPECT(!(pmm_page(0x100000)->flags & PG_FREE));
    KEXPECT(!(pmm_page((uintptr_t)_text_start - 0xFFFFFFFF80000000ull)->flags &
              (PG_FREE | PG_ALLOC)));
    KASSERT_T(m != NULL);
    for (paddr_t p = ALIGN_DOWN(m->start, PAGE_SIZE); p < m->end;
         p += PAGE_SIZE)
        KEXPECT(!(pmm_page(p)->flags & (PG_FREE | PG_ALLOC)));
    /* 256 allocations must all avoid the module and the image */
    paddr_t got[256];
    for (unsigned i = 0; i < 256; i++) {
        got[i] = pmm_alloc(0);
        KEXPECT(got[i] >= 0x100000 &&
                (got[i] + PAGE_SIZE <= m->start || got[i] >= m->end));
    }
    for (unsigned i = 0; i < 256; i++)
        if (got[i])
            pmm_free(got[i], 0);
}

KTEST(bootfs_module_is_cpio)
{
    const struct boot_module *m = bootinfo_module("bootfs");
    KASSERT_T(m != NULL);
    KEXPECT(m->end - m->start >= 110);
    KEXPECT(memcmp(phys_to_virt(m->start), "070701", 6) == 0);
}

KTEST(slab_cache_grows_and_shrinks)
{
    static struct slab_cache c;
    static void *obj[1000];
    uint64_t free0 = pmm_free_pages();
    slab_cache_init(&c, "test-96", 96, 32);
    for (unsigned i = 0; i < 1000; i++) {
        obj[i] = slab_alloc(&c);
        KASSERT_T(obj[i] != NULL);
        KEXPECT(((uintptr_t)obj[i] & 31) == 0);
        memset(obj[i], (int)i, 96);
    }
    for (unsigned i = 0; i < 1000; i++)
        KEXPECT(*(unsigned char *)obj[i] == (unsigned char)i &&
                ((unsigned char *)obj[i])[95] == (unsigned char)i);
    KEXPECT(c.allocated == 1000 && c.slabs >= 1000 / c.per_slab);
    for (unsigned i = 0; i < 1000; i++)
        slab_free(&c, obj[i]);
    slab_cache_shrink(&c);
    KEXPECT(c.allocated == 0 && c.slabs == 0);
    KEXPECT(pmm_free_pages() == free0);
}

KTEST(kmalloc_small_and_large)
{
    static const size_t sizes[] = { 1, 16, 17, 100, 512, 2048, 2049, 4096,
                                    10000, 65536, 1 << 20 };
    void *p[ARRAY_SIZE(sizes)];
    for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
        p[i] = kmalloc(sizes[i]);
        KASSERT_T(p[i] != NULL);
        memset(p[i], 0x5A, sizes[i]);
    }
    for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
        unsigned char *b = p[i];
        KEXPECT(b[0] == 0x5A && b[sizes[i] - 1] == 0x5A);
        kfree(p[i]);
    }
    void *z = kzalloc(300);
    KASSERT_T(z != NULL);
    KEXPECT(((unsigned char *)z)[299] == 0);
    kfree(z);
}
