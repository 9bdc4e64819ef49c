/*
 * utest.h - in-system test suites in user programs, reported in KTAP.
 *
 *     UTEST(handles_dup_fewer_rights) { ...; UEXPECT(x == 1); ... }
 *
 * Tests register themselves in the `utests` section; utest_run_all runs
 * those the selection picks ("all", or comma-separated names / "prefix*")
 * and prints KTAP indented by four spaces, so the results nest under the
 * kernel's own plan.  A failed UEXPECT prints the condition and its
 * values' source line as a KTAP comment and the test goes on; UASSERT
 * returns from the test.
 *
 * Tests whose names begin with "timed_" depend on time: a budget, a
 * deadline.  "all" leaves them out; they run where they are named (a
 * name or a pattern), which make test does in a boot of its own under
 * QEMU's -icount, where virtual time follows executed instructions and
 * no host delay can make them fail.  Every other test must judge by
 * progress, never by time.
 */
#ifndef MICA_UTEST_H
#define MICA_UTEST_H

#define UTEST_TIMED_PREFIX "timed_"

struct utest {
    const char *name;
    void (*fn)(void);
};

#define UTEST(name)                                                    \
    static void utest_fn_##name(void);                                 \
    static const struct utest utest_##name                             \
        __attribute__((used, section("utests"), aligned(8))) =         \
        { #name, utest_fn_##name };                                    \
    static void utest_fn_##name(void)

void utest_fail(const char *cond, const char *file, int line);

#define UEXPECT(c)                                                     \
    do {                                                               \
        if (!(c))                                                      \
            utest_fail(#c, __FILE__, __LINE__);                        \
    } while (0)

#define UASSERT(c)                                                     \
    do {                                                               \
        if (!(c)) {                                                    \
            utest_fail(#c, __FILE__, __LINE__);                        \
            return;                                                    \
        }                                                              \
    } while (0)

/* Indent KTAP output by n spaces (4 by default: nested once). */
void utest_set_indent(int n);

/* Run the selected tests; returns the number that failed, or -1 when the
 * selection names no test here (nothing is printed then). */
int utest_run_all(const char *selection);

#endif
