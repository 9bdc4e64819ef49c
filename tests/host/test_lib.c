/*
 * test_lib.c - host tests of kvsnprintf, the command line parser and
 * the symbol table lookup.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "ksyms.h"
#include "printf.h"

/* Compare with the host libc on the formats both support. */
#define SAME(fmt, ...)                                                    \
    do {                                                                  \
        char a[128], b[128];                                              \
        int na = ksnprintf(a, sizeof(a), fmt, __VA_ARGS__);               \
        int nb = snprintf(b, sizeof(b), fmt, __VA_ARGS__);                \
        assert_string_equal(a, b);                                        \
        assert_int_equal(na, nb);                                         \
    } while (0)

static void test_printf_matches_libc(void **state)
{
    (void)state;
    SAME("%d %i %u", 0, -1, 4000000000u);
    SAME("%5d|%-5d|%05d|%+d|% d", 42, 42, 42, 42, 42);
    SAME("%x %X %#x %#X %o", 255u, 255u, 255u, 0u, 8u);
    SAME("%ld %lu %lx", -9000000000l, 18000000000ul, 0xfffffffffful);
    SAME("%lld %llu %zu %zd", -1ll, 1ull << 63, (size_t)77, (ssize_t)-3);
    SAME("%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
    SAME("%s|%10s|%-10s|%.3s|%.*s", "abc", "abc", "abc", "abcdef", 2, "xyz");
    SAME("%c%c%%", 'a', 'b');
    SAME("%*d|%-*d|%.*d", 6, 1, 6, 1, 4, 7);
    SAME("%.0d|%.3x|%8.3x", 0, 5u, 5u);
    SAME("%d", (int)0x80000000);
    SAME("%lld", (long long)INT64_MIN);
}

static void test_printf_truncation(void **state)
{
    (void)state;
    char b[8];
    memset(b, 'Z', sizeof(b));
    assert_int_equal(ksnprintf(b, 5, "%s", "hello world"), 11);
    assert_string_equal(b, "hell");
    assert_int_equal(b[5], 'Z');
    assert_int_equal(ksnprintf(NULL, 0, "%d", 12345), 5);
    assert_int_equal(ksnprintf(b, 1, "abc"), 3);
    assert_int_equal(b[0], '\0');
    /* unknown conversions are printed, not skipped silently */
    const char *odd = "%y%";
    ksnprintf(b, sizeof(b), odd);
    assert_string_equal(b, "%y%");
    const char *volatile nothing = NULL;
    ksnprintf(b, sizeof(b), "%s", nothing);
    assert_string_equal(b, "(null)");
}

static void test_cmdline_parse(void **state)
{
    (void)state;
    static struct cmdline c;
    cmdline_parse(&c, "  /boot/mica.bin  test=pmm*,slab_x  quiet "
                      "name=\"a b c\" empty= test=last\t");
    assert_int_equal(c.n, 6);
    assert_false(c.truncated);
    assert_string_equal(c.key[0], "/boot/mica.bin");
    assert_null(c.val[0]);
    assert_string_equal(cmdline_get(&c, "test"), "last");
    assert_string_equal(cmdline_get(&c, "quiet"), "");
    assert_string_equal(cmdline_get(&c, "name"), "a b c");
    assert_string_equal(cmdline_get(&c, "empty"), "");
    assert_null(cmdline_get(&c, "missing"));
    assert_null(cmdline_get(&c, "tes"));
}

static void test_cmdline_edges(void **state)
{
    (void)state;
    static struct cmdline c;
    cmdline_parse(&c, NULL);
    assert_int_equal(c.n, 0);
    cmdline_parse(&c, "");
    assert_int_equal(c.n, 0);
    cmdline_parse(&c, "k=\"unterminated value");
    assert_string_equal(cmdline_get(&c, "k"), "unterminated value");
    cmdline_parse(&c, "a=b=c");
    assert_string_equal(cmdline_get(&c, "a"), "b=c");

    char big[CMDLINE_MAX * 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cmdline_parse(&c, big);
    assert_true(c.truncated);
    assert_int_equal(strlen(c.key[0]), CMDLINE_MAX - 1);

    char many[CMDLINE_WORDS * 4 + 16] = "";
    for (int i = 0; i < CMDLINE_WORDS + 5; i++)
        strcat(many, "w ");
    cmdline_parse(&c, many);
    assert_true(c.truncated);
    assert_int_equal(c.n, CMDLINE_WORDS);
}

static void test_cmdline_list(void **state)
{
    (void)state;
    assert_true(cmdline_list_has("a,bb,c", "bb"));
    assert_true(cmdline_list_has("a", "a"));
    assert_false(cmdline_list_has("a,bb,c", "b"));
    assert_false(cmdline_list_has("", "a"));
    assert_false(cmdline_list_has(NULL, "a"));
    assert_true(cmdline_list_has("a,,c", "c"));
}

/* A table as mksyms.py lays it out: header, entries, strings. */
static struct ksyms_table *make_table(void)
{
    static const char str[] = "alpha\0bet\0gamma_\0";
    static const struct ksym syms[4] = {
        { 0x1000, 0 }, { 0x1100, 6 }, { 0x1200, 10 }, { 0x1300, 17 },
    };
    size_t strings = sizeof(struct ksyms_table) + sizeof(syms);
    struct ksyms_table *t = malloc(strings + sizeof(str));
    t->count = 4;
    t->strings = strings;
    memcpy(t->sym, syms, sizeof(syms));
    memcpy((char *)t + strings, str, sizeof(str));
    return t;
}

static void test_ksyms_lookup(void **state)
{
    (void)state;
    struct ksyms_table *t = make_table();
    uint64_t off = 99;
    assert_null(ksyms_lookup(t, 0xfff, &off));
    assert_string_equal(ksyms_lookup(t, 0x1000, &off), "alpha");
    assert_int_equal(off, 0);
    assert_string_equal(ksyms_lookup(t, 0x10ff, &off), "alpha");
    assert_int_equal(off, 0xff);
    assert_string_equal(ksyms_lookup(t, 0x1100, &off), "bet");
    assert_string_equal(ksyms_lookup(t, 0x12ab, &off), "gamma_");
    assert_int_equal(off, 0xab);
    /* at or past the end sentinel (name ""): unknown */
    assert_null(ksyms_lookup(t, 0x1300, &off));
    assert_null(ksyms_lookup(t, 0x9999, &off));
    t->count = 0;
    assert_null(ksyms_lookup(t, 0x1000, &off));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printf_matches_libc),
        cmocka_unit_test(test_printf_truncation),
        cmocka_unit_test(test_cmdline_parse),
        cmocka_unit_test(test_cmdline_edges),
        cmocka_unit_test(test_cmdline_list),
        cmocka_unit_test(test_ksyms_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
