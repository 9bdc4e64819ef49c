/*
 * ktest.c - running the in-kernel self-tests and printing KTAP.
 *
 * Tests run one after another on the boot CPU with interrupts enabled;
 * a test that needs other CPUs asks for them itself.  The plan line is
 * printed before the first test, so a crash part-way is visible to the
 * harness as a plan with missing results.
 */
#include "ktest.h"
#include "clock.h"
#include "cmdline.h"
#include "lib.h"
#include "log.h"

extern const struct ktest _ktests_start[], _ktests_end[];

static unsigned failures;

void ktest_fail(const char *cond, const char *file, int line)
{
    kprintf("# FAILED: %s at %s:%d\n", cond, file, line);
    failures++;
}

static bool name_matches(const char *pattern, const char *name)
{
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*')
        return strncmp(pattern, name, n - 1) == 0;
    return strcmp(pattern, name) == 0;
}

static bool selected(const char *selection, const char *name)
{
    if (strcmp(selection, "all") == 0)
        return true;
    char item[64];
    const char *p = selection;
    while (*p) {
        size_t n = 0;
        while (p[n] && p[n] != ',')
            n++;
        if (n < sizeof(item)) {
            memcpy(item, p, n);
            item[n] = '\0';
            if (name_matches(item, name))
                return true;
        }
        p += n + (p[n] == ',');
    }
    return false;
}

unsigned ktest_run(const char *selection, unsigned *ran, unsigned extra)
{
    unsigned total = 0, failed = 0, num = 0;
    for (const struct ktest *t = _ktests_start; t < _ktests_end; t++)
        total += selected(selection, t->name);
    kprintf("KTAP version 1\n1..%u\n", total + extra);
    for (const struct ktest *t = _ktests_start; t < _ktests_end; t++) {
        if (!selected(selection, t->name))
            continue;
        failures = 0;
        uint64_t t0 = clock_ns();
        t->fn();
        uint64_t ms = (clock_ns() - t0) / 1000000;
        num++;
        if (ms >= 100)
            kprintf("# %s took %lu ms\n", t->name, ms);
        kprintf("%s %u %s\n", failures ? "not ok" : "ok", num, t->name);
        failed += failures != 0;
    }
    *ran = num;
    return failed;
}
