/*
 * os.h - the whole contract between the allocator and the operating system.
 *
 * The portable allocator never calls mmap, madvise or write itself; it asks
 * for memory through these few functions, so porting it to a new system is
 * one small file (os_linux.c on the host, os_mica.c over vm_map on Mica).
 *
 * Memory returned by mica_os_map is readable and writable and reads as zero.  It
 * may be committed lazily by the system: the allocator only counts on pages
 * it has touched being resident.  mica_os_decommit gives the physical memory of a
 * range back while keeping the range reserved; the range reads as zero again
 * after mica_os_commit (a no-op on systems that commit on first touch).
 * Systems that cannot decommit part of a mapping say so through
 * mica_os_can_decommit.
 *
 * None of these functions may call malloc: they run while the allocator is
 * in the middle of its own bookkeeping.
 */
#ifndef MICA_MALLOC_OS_H
#define MICA_MALLOC_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Map `size` bytes (a multiple of mica_os_page_size()) at an address `base` such
 * that (base + offset) is a multiple of `align` (a power of two, at least the
 * page size).  Returns NULL when the system is out of memory.
 */
void *mica_os_map(size_t size, size_t align, size_t offset);

/* Give back a range obtained from mica_os_map (or a page-aligned part of one). */
void mica_os_unmap(void *p, size_t size);

/*
 * Whether mica_os_decommit can give back the memory of any page-aligned
 * part of a mapping.  When it cannot (Mica, until the kernel has such a
 * call), the allocator never decommits: free pages stay committed while
 * their segment lives, and memory goes back by unmapping whole segments.
 */
bool mica_os_can_decommit(void);

/* Drop the physical memory behind a page-aligned range; it stays reserved. */
void mica_os_decommit(void *p, size_t size);

/* Make a decommitted range usable again.  Returns false when out of memory. */
bool mica_os_commit(void *p, size_t size);

/*
 * Resize a mapping without copying its contents, keeping the alignment rule
 * of mica_os_map.  Returns the new base, or NULL when the system cannot do it (the
 * old mapping is then untouched and the caller copies).
 */
void *mica_os_remap(void *p, size_t old_size, size_t new_size, size_t align,
               size_t offset);

/* The granularity of mica_os_map, mica_os_decommit and mica_os_unmap. */
size_t mica_os_page_size(void);

/* Give the processor to another thread while spinning on a lock. */
void mica_os_yield(void);

/* A value that differs between runs, for the free-list key. */
uint64_t mica_os_random_seed(void);

/* Write a message to the error stream (no allocation) and abort. */
_Noreturn void mica_os_fatal(const char *msg);

#endif
