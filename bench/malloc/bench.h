/*
 * bench.h - what the allocator workloads share: a small fast random
 * generator (the same sequence under every allocator) and argument parsing.
 * The workloads call only the standard malloc interface, so one source
 * builds against glibc, musl, or Mica's allocator, and runs under
 * jemalloc or tcmalloc through LD_PRELOAD.
 */
#ifndef BENCH_MALLOC_H
#define BENCH_MALLOC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static inline long arg(int argc, char **argv, int i, long dflt)
{
    return argc > i ? strtol(argv[i], NULL, 10) : dflt;
}

static inline void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL && n != 0) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

#endif
