/*
 * types.h - the few types every kernel file uses.
 *
 * The kernel is freestanding: it takes <stdint.h>, <stddef.h> and
 * <stdbool.h> from the compiler and nothing from a libc.  The same header
 * builds on the host, so portable code can be unit-tested there.
 */
#ifndef MICA_TYPES_H
#define MICA_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t;   /* a physical address */
typedef uint64_t vaddr_t;   /* a virtual address, as an integer */

#define PAGE_SHIFT 12
#define PAGE_SIZE  ((uint64_t)1 << PAGE_SHIFT)
#define PAGE_MASK  (PAGE_SIZE - 1)

#define ALIGN_UP(x, a)   (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define ARRAY_SIZE(a)    (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)        ((a) < (b) ? (a) : (b))
#define MAX(a, b)        ((a) > (b) ? (a) : (b))

#define container_of(p, type, member) \
    ((type *)((char *)(p) - offsetof(type, member)))

#define __unused     __attribute__((unused))
#define noreturn     __attribute__((noreturn))
#define __packed     __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))
#define __noinline   __attribute__((noinline))
#define __cold       __attribute__((cold))
#define likely(x)    __builtin_expect(!!(x), 1)
#define unlikely(x)  __builtin_expect(!!(x), 0)

#endif
