/*
 * test_clock.c - host tests of tick/nanosecond scaling, including the
 * TSC-deadline arithmetic that QEMU's TCG cannot exercise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"

static uint64_t exact(uint64_t v, uint64_t from, uint64_t to)
{
    return (uint64_t)((unsigned __int128)v * to / from);
}

static void check(uint64_t from, uint64_t to)
{
    struct clock_scale s;
    clock_scale_init(&s, from, to);
    uint64_t vals[] = { 0, 1, 999, from, from * 7 + 3, from * 3600,
                        from * 86400 * 365 };
    for (unsigned i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint64_t want = exact(vals[i], from, to);
        uint64_t got = clock_scale_apply(&s, vals[i]);
        uint64_t err = got > want ? got - want : want - got;
        /* within one unit, or 1 ppb for large values */
        assert_true(err <= 1 + want / 1000000000);
    }
}

static void test_tsc_to_ns(void **state)
{
    (void)state;
    check(2611772000ull, 1000000000);       /* a 2.6 GHz TSC */
    check(1000000000, 1000000000);          /* identity */
    check(3579545, 1000000000);             /* ACPI PM timer */
    check(1193182, 1000000000);             /* the PIT */
    check(19200000, 1000000000);
}

static void test_ns_to_tsc_deadline(void **state)
{
    (void)state;
    /* a 10 ms tick at 2.6 GHz is 26.1 million TSC ticks */
    struct clock_scale s;
    clock_scale_init(&s, 1000000000, 2611772000ull);
    uint64_t d = clock_scale_apply(&s, 10000000);
    assert_true(d >= 26117719 && d <= 26117721);
    check(1000000000, 2611772000ull);
    check(1000000000, 5000000000ull);       /* faster TSC than 1 GHz */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsc_to_ns),
        cmocka_unit_test(test_ns_to_tsc_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
