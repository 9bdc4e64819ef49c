/*
 * ktest.h - in-kernel self-tests, reported in KTAP.
 *
 *     KTEST(pmm_alloc_free) { ...; KEXPECT(x == 1); ... }
 *
 * defines a test and registers it in the .ktests section; ktest_run()
 * runs those the command line selects (`test=all`, `test=none`, or a
 * comma-separated list of names or of prefixes ending in '*') and prints
 *
 *     KTAP version 1
 *     1..N
 *     ok 1 pmm_alloc_free
 *     not ok 2 slab_grow
 *
 * A failed KEXPECT logs the condition, file and line as a KTAP comment
 * ("# ...") and marks the test failed; the test goes on.  KASSERT_T
 * instead returns from the test at once.
 */
#ifndef MICA_KTEST_H
#define MICA_KTEST_H

#include "types.h"

struct ktest {
    const char *name;
    void (*fn)(void);
};

#define KTEST(name)                                                    \
    static void ktest_fn_##name(void);                                 \
    static const struct ktest ktest_##name                             \
        __attribute__((used, section(".ktests"), aligned(8))) =        \
        { #name, ktest_fn_##name };                                    \
    static void ktest_fn_##name(void)

void ktest_fail(const char *cond, const char *file, int line);

#define KEXPECT(c)                                                     \
    do {                                                               \
        if (unlikely(!(c)))                                            \
            ktest_fail(#c, __FILE__, __LINE__);                        \
    } while (0)

#define KASSERT_T(c)                                                   \
    do {                                                               \
        if (unlikely(!(c))) {                                          \
            ktest_fail(#c, __FILE__, __LINE__);                        \
            return;                                                    \
        }                                                              \
    } while (0)

/* Run the selected tests; returns the number that failed.  *ran gets the
 * number run (0 when the selection matched nothing).  The plan line
 * counts `extra` more results that the caller prints after these. */
unsigned ktest_run(const char *selection, unsigned *ran, unsigned extra);

#endif
