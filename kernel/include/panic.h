/*
 * panic.h - stopping the kernel when it cannot go on.
 *
 * panic() prints the message and a backtrace, stops the other CPUs and
 * powers off with the failure status.  KASSERT checks an invariant the
 * kernel relies on; it is never used for anything a user can cause.
 */
#ifndef MICA_PANIC_H
#define MICA_PANIC_H

#include "types.h"

#ifdef MICA_HOST_TEST
void mock_assert(const int result, const char *const expression,
                 const char *const file, const int line);
#define KASSERT(c) mock_assert(!!(c), #c, __FILE__, __LINE__)
#else
noreturn __attribute__((format(printf, 1, 2)))
void panic(const char *fmt, ...);

#define KASSERT(c)                                                     \
    do {                                                               \
        if (unlikely(!(c)))                                            \
            panic("assertion failed: %s (%s:%d)", #c, __FILE__, __LINE__); \
    } while (0)
#endif

/* Print a backtrace starting at frame pointer `fp`, symbolized. */
void print_backtrace(uintptr_t fp);

/* Print return addresses with their function names, numbered from
 * `first`. */
void print_pcs(const uintptr_t *pcs, size_t n, size_t first);

/* The two halves of panic, for callers with their own report (traps):
 * panic_begin claims the panic (false: another CPU already has it, so
 * halt), turns interrupts off and stops the other CPUs; panic_finish
 * prints the final line and powers off with the failure status. */
bool panic_begin(void);
noreturn void panic_finish(void);

/* True once some CPU has begun to panic. */
bool panicking(void);

#endif
