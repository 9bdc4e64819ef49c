/*
 * os_mica.c - the Mica back end of the allocator: segments from vmos.
 *
 * Every mica_os_map creates an anonymous vmo of the size asked for, maps it
 * read-write into the calling process and closes the handle: the mapping
 * keeps the vmo alive, and unmapping the last of it destroys the vmo and
 * frees its pages.  Pages are allocated by the kernel on first touch.
 *
 * Alignment.  vm_map takes a hint: when the hinted range is free the
 * mapping lands exactly there, otherwise in the first gap above it.  So we
 * hint at the next aligned address past the previous segment (segments
 * start at HEAP_BASE, far from the program, its stacks and musl's mmaps);
 * when the mapping lands unaligned we unmap it and hint again at the next
 * aligned address past where it landed.  After a few misses we map a vmo of
 * size + align and unmap the unaligned head and the tail (the kernel splits
 * the mapping; the vmo's pages there are never touched, hence never
 * allocated).
 *
 * Decommit.  Mica has no call yet that frees part of a vmo's pages.
 * Unmapping part of a mapping does not free them either: the vmo lives on
 * through the rest of the mapping, pages and all, until all of it is
 * unmapped.  Replacing a free page's range by a fresh vmo (vm_unmap, then
 * vm_map with MICA_VM_FIXED) would therefore give nothing back while its
 * segment lives, and would cost four system calls, a TLB shootdown, a
 * split mapping and, when the page is reused, new pages on top of the old
 * ones.  So mica_os_can_decommit() says no: the allocator keeps free pages
 * committed while their segment lives and returns memory by unmapping
 * whole segments (empty ones beyond the few the segment cache keeps, and
 * every huge block), which destroys their vmos.  docs/malloc.md has the
 * measurements.
 *
 * Remap.  A huge block grows in place when the range after it is free: a
 * fresh vmo is mapped there with MICA_VM_FIXED (the block is then two
 * mappings, both unmapped when it is freed).  Otherwise, and for every
 * shrink (whose tail pages would stay allocated until the block is freed),
 * mica_os_remap fails and the caller maps a new block and copies.
 *
 * Nothing here allocates; mica_os_fatal writes with write(2) only.
 */
#include "os.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "mica.h"

#define OS_PAGE ((size_t)4096)
#define RW (MICA_VM_READ | MICA_VM_WRITE)
#define HEAP_BASE ((uintptr_t)0x100000000000ull) /* 16 TiB */
#define HINT_TRIES 4

/* Where we would like the next aligned mapping to land. */
static _Atomic uintptr_t next_hint = HEAP_BASE;
static _Atomic mica_handle_t self;

static mica_handle_t proc(void)
{
    mica_handle_t p = atomic_load_explicit(&self, memory_order_relaxed);
    if (p == 0) {
        p = mica_process_self();
        atomic_store_explicit(&self, p, memory_order_relaxed);
    }
    return p;
}

static bool fits(uintptr_t base, size_t align, size_t offset)
{
    return ((base + offset) & (align - 1)) == 0;
}

/* The first address at or above `a` that satisfies the alignment rule. */
static uintptr_t align_up(uintptr_t a, size_t align, size_t offset)
{
    return ((a + offset + align - 1) & ~(uintptr_t)(align - 1)) - offset;
}

static void unmap(uintptr_t a, size_t size)
{
    if (mica_vm_unmap(proc(), a, size) != OK)
        mica_os_fatal("mica malloc: vm_unmap failed\n");
}

/* Map `vmo` at `*addr` or above (exactly there with MICA_VM_FIXED). */
static bool map_vmo(mica_handle_t vmo, size_t size, uint32_t flags,
                    uintptr_t *addr)
{
    uint64_t a = *addr;
    if (mica_vm_map(proc(), vmo, 0, size, RW | flags, &a) != OK)
        return false;
    *addr = (uintptr_t)a;
    return true;
}

/* Aligned hints: one vm_map when the hinted range is free. */
static uintptr_t map_hinted(mica_handle_t vmo, size_t size, size_t align,
                            size_t offset)
{
    uintptr_t hint = atomic_load_explicit(&next_hint, memory_order_relaxed);
    for (int i = 0; i < HINT_TRIES; i++) {
        uintptr_t a = align_up(hint, align, offset);
        if (a < hint || a > UINTPTR_MAX - size)
            return 0;                           /* wrapped: give up */
        if (!map_vmo(vmo, size, 0, &a))
            return 0;
        if (fits(a, align, offset))
            return a;
        unmap(a, size);
        hint = a;                               /* a free gap starts here */
    }
    return 0;
}

/* Over-map: a vmo of size + align, cut down to the aligned part. */
static uintptr_t map_trimmed(size_t size, size_t align, size_t offset)
{
    mica_handle_t vmo;
    if (size > SIZE_MAX - align || mica_vmo_create(size + align, &vmo) != OK)
        return 0;
    uintptr_t raw = 0;
    bool ok = map_vmo(vmo, size + align, 0, &raw);
    mica_handle_close(vmo);
    if (!ok)
        return 0;
    uintptr_t base = align_up(raw, align, offset);
    size_t head = base - raw;
    if (head != 0)
        unmap(raw, head);
    if (align - head != 0)
        unmap(base + size, align - head);
    return base;
}

void *mica_os_map(size_t size, size_t align, size_t offset)
{
    mica_handle_t vmo;
    if (mica_vmo_create(size, &vmo) != OK)
        return NULL;
    uintptr_t a = map_hinted(vmo, size, align, offset);
    mica_handle_close(vmo);
    if (a == 0)
        a = map_trimmed(size, align, offset);
    if (a == 0)
        return NULL;
    atomic_store_explicit(&next_hint, a + size, memory_order_relaxed);
    return (void *)a;
}

void mica_os_unmap(void *p, size_t size)
{
    unmap((uintptr_t)p, size);
}

bool mica_os_can_decommit(void)
{
    return false;
}

void mica_os_decommit(void *p, size_t size)
{
    /* Never called: see mica_os_can_decommit and the comment on top. */
    (void)p;
    (void)size;
}

bool mica_os_commit(void *p, size_t size)
{
    /* vmos commit on first touch, and nothing is ever decommitted. */
    (void)p;
    (void)size;
    return true;
}

/* Grow in place by mapping a fresh vmo right after the block. */
static bool grow_in_place(uintptr_t end, size_t more)
{
    mica_handle_t vmo;
    if (mica_vmo_create(more, &vmo) != OK)
        return false;
    uintptr_t a = end;
    bool ok = map_vmo(vmo, more, MICA_VM_FIXED, &a);
    mica_handle_close(vmo);
    return ok;
}

void *mica_os_remap(void *p, size_t old_size, size_t new_size, size_t align,
                    size_t offset)
{
    (void)align;
    (void)offset;
    if (new_size == old_size)
        return p;
    if (new_size > old_size &&
        grow_in_place((uintptr_t)p + old_size, new_size - old_size))
        return p;
    return NULL;
}

size_t mica_os_page_size(void)
{
    return OS_PAGE;
}

void mica_os_yield(void)
{
    mica_thread_yield();
}

uint64_t mica_os_random_seed(void)
{
    uint64_t seed = 0, now = 0;
    const void *r = (const void *)getauxval(AT_RANDOM);
    if (r != NULL)
        memcpy(&seed, r, sizeof seed);
    mica_clock_get(&now);
    seed ^= now * 0x9e3779b97f4a7c15u;
    seed ^= (uint64_t)(uintptr_t)&seed;
    return seed;
}

_Noreturn void mica_os_fatal(const char *msg)
{
    size_t len = strlen(msg);
    while (len > 0) {
        ssize_t n = write(2, msg, len);
        if (n <= 0)
            break;
        msg += n;
        len -= (size_t)n;
    }
    abort();
}
