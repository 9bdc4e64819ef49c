/*
 * host_support.c - what kernel code expects from its surroundings, for
 * host unit tests: the physical-memory window and a fake physical memory that tests can hand to the allocators.
 */
#include "host_support.h"
#include <stdlib.h>
#include <string.h>

uintptr_t phys_map_offset;

void *fake_phys_init(size_t bytes)
{
    void *mem = NULL;
    if (posix_memalign(&mem, 1 << 22, bytes))
        abort();
    memset(mem, 0, bytes);
    phys_map_offset = (uintptr_t)mem;
    return mem;
}

void fake_phys_free(void *mem)
{
    free(mem);
    phys_map_offset = 0;
}
