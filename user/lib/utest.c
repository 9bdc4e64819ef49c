/*
 * utest.c - running user-space test suites and printing nested KTAP.
 */
#include <stdio.h>
#include <string.h>

#include "utest.h"

extern const struct utest __start_utests[], __stop_utests[];

static int failures;

void utest_fail(const char *cond, const char *file, int line)
{
    printf("    # FAILED: %s at %s:%d\n", cond, file, line);
    failures++;
}

static int matches(const char *sel, const char *name)
{
    if (strcmp(sel, "all") == 0)
        return 1;
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
    printf("    KTAP version 1\n    1..%d\n", total);
    for (const struct utest *t = __start_utests; t < __stop_utests; t++) {
        if (!matches(sel, t->name))
            continue;
        failures = 0;
        t->fn();
        printf("    %s %d %s\n", failures ? "not ok" : "ok", ++num, t->name);
        failed += failures != 0;
    }
    printf("    # %d passed, %d failed\n", num - failed, failed);
    fflush(stdout);
    return failed;
}
