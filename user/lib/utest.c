/*
 * utest.c - running user-space test suites and printing nested KTAP.
 */
#include <stdio.h>
#include <string.h>

#include "utest.h"

/* weak: a program without tests (init) has no such section */
extern const struct utest __start_utests[] __attribute__((weak));
extern const struct utest __stop_utests[] __attribute__((weak));

static int failures;
static int indent = 4;

void utest_set_indent(int n)
{
    indent = n < 0 ? 0 : n > 32 ? 32 : n;
}

void utest_fail(const char *cond, const char *file, int line)
{
    printf("%*s# FAILED: %s at %s:%d\n", indent, "", cond, file, line);
    failures++;
}

/* "all" leaves out the tests that measure time (utest.h). */
static int matches(const char *sel, const char *name)
{
    if (strcmp(sel, "all") == 0)
        return strncmp(name, UTEST_TIMED_PREFIX,
                       sizeof(UTEST_TIMED_PREFIX) - 1) != 0;
    while (*sel) {
        size_t n = strcspn(sel, ",");
        if (n > 0 && sel[n - 1] == '*' ? strncmp(sel, name, n - 1) == 0
                                       : strlen(name) == n &&
                                         strncmp(sel, name, n) == 0)
            return 1;
        sel += n + (sel[n] == ',');
    }
    return 0;
}

int utest_run_all(const char *sel)
{
    int total = 0, num = 0, failed = 0;
    for (const struct utest *t = __start_utests; t < __stop_utests; t++)
        total += matches(sel, t->name);
    if (total == 0)
        return -1;
    printf("%*sKTAP version 1\n%*s1..%d\n", indent, "", indent, "", total);
    for (const struct utest *t = __start_utests; t < __stop_utests; t++) {
        if (!matches(sel, t->name))
            continue;
        failures = 0;
        t->fn();
        printf("%*s%s %d %s\n", indent, "", failures ? "not ok" : "ok", ++num,
               t->name);
        failed += failures != 0;
    }
    printf("%*s# %d passed, %d failed\n", indent, "", num - failed, failed);
    fflush(stdout);
    return failed;
}
