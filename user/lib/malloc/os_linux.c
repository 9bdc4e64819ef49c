/*
 * os_linux.c - the Linux back end of the allocator: segments from mmap.
 *
 * Segments must start on a SEGMENT_SIZE boundary so that the segment of any
 * pointer is found by masking.  mmap gives no alignment guarantee, so we
 * first try the address just past the previous segment (it is usually free,
 * and then one system call suffices); otherwise we map size + align bytes and
 * unmap the unaligned head and the tail.
 *
 * Decommit is madvise(MADV_DONTNEED): the resident set drops at once and the
 * range reads as zero afterwards.  MADV_FREE would be cheaper but leaves the
 * pages counted in RSS until the kernel is short of memory, which hides from
 * the user (and from our tests) that the memory was given back.
 *
 * Nothing here allocates; mica_os_fatal writes with write(2) only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "os.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

/* Where we would like the next aligned mapping to land. */
static _Atomic uintptr_t next_hint;

static void *map_at(void *hint, size_t size)
{
    void *p = mmap(hint, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static bool fits(uintptr_t base, size_t align, size_t offset)
{
    return ((base + offset) & (align - 1)) == 0;
}

/* One system call when the hinted address is free and already aligned. */
static void *map_hinted(size_t size, size_t align, size_t offset)
{
    uintptr_t hint = atomic_load_explicit(&next_hint, memory_order_relaxed);
    if (hint == 0)
        return NULL;
    hint = ((hint + offset + align - 1) & ~(uintptr_t)(align - 1)) - offset;
    void *p = map_at((void *)hint, size);
    if (p == NULL)
        return NULL;
    if (!fits((uintptr_t)p, align, offset)) {
        munmap(p, size);
        return NULL;
    }
    return p;
}

void *mica_os_map(size_t size, size_t align, size_t offset)
{
    void *p = map_hinted(size, align, offset);
    if (p == NULL) {
        uint8_t *raw = map_at(NULL, size + align);
        if (raw == NULL)
            return NULL;
        uintptr_t base = (uintptr_t)raw + offset + align - 1;
        base = (base & ~(uintptr_t)(align - 1)) - offset;
        size_t head = base - (uintptr_t)raw;
        if (head != 0)
            munmap(raw, head);
        if (align - head != 0)
            munmap((void *)(base + size), align - head);
        p = (void *)base;
    }
    atomic_store_explicit(&next_hint, (uintptr_t)p + size,
                          memory_order_relaxed);
    return p;
}

void mica_os_unmap(void *p, size_t size)
{
    if (munmap(p, size) != 0)
        mica_os_fatal("mica malloc: munmap failed\n");
}

bool mica_os_can_decommit(void)
{
    return true;
}

void mica_os_decommit(void *p, size_t size)
{
    /* Failure only means the memory stays resident; nothing to undo. */
    (void)madvise(p, size, MADV_DONTNEED);
}

bool mica_os_commit(void *p, size_t size)
{
    /* Linux commits anonymous memory on first touch. */
    (void)p;
    (void)size;
    return true;
}

void *mica_os_remap(void *p, size_t old_size, size_t new_size, size_t align,
               size_t offset)
{
    /* Growing or shrinking in place keeps the base, hence the alignment. */
    void *q = mremap(p, old_size, new_size, 0);
    if (q != MAP_FAILED)
        return q;
    /* Otherwise reserve an aligned hole and move the pages into it. */
    void *hole = mica_os_map(new_size, align, offset);
    if (hole == NULL)
        return NULL;
    q = mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, hole);
    if (q == MAP_FAILED) {
        munmap(hole, new_size);
        return NULL;
    }
    return q;
}

size_t mica_os_page_size(void)
{
    static size_t page;
    if (page == 0)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

void mica_os_yield(void)
{
    sched_yield();
}

uint64_t mica_os_random_seed(void)
{
    uint64_t seed = 0;
    const void *r = (const void *)getauxval(AT_RANDOM);
    if (r != NULL)
        memcpy(&seed, r, sizeof seed);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15u;
    seed ^= (uint64_t)(uintptr_t)&seed;
    return seed;
}

_Noreturn void mica_os_fatal(const char *msg)
{
    size_t len = strlen(msg);
    while (len > 0) {
        ssize_t n = write(2, msg, len);
        if (n <= 0 && errno != EINTR)
            break;
        if (n > 0) {
            msg += n;
            len -= (size_t)n;
        }
    }
    abort();
}
