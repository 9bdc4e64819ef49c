/*
 * mstress.c - mixed sizes and blocks traded between threads, after the
 * stress test that ships with mimalloc.
 *
 * Each thread allocates items of 1..32 words (1% 100x larger, 0.1% 1000x,
 * 0.01% 10000x - up to a few MiB) with calloc and fills them; it keeps some
 * for the whole run, frees about two thirds of the others at random, and
 * swaps a quarter of them with a process-wide transfer array, so blocks
 * are freed by threads that did not allocate them.  Threads are started
 * anew for each of `rounds`, leaving half the transfer array behind for
 * the next round; every item is checked before it is freed.
 *
 * usage: mstress [threads=4] [scale=50] [rounds=10]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "bench.h"

#define TRANSFERS 1000
static _Atomic(uintptr_t *) transfer[TRANSFERS];
static long scale;
static const uintptr_t cookie = 0xbf58476d1ce4e5b9u;

static int chance(unsigned perc, uint64_t *r)
{
    return rnd(r) % 100 < perc;
}

static uintptr_t *alloc_items(size_t items, uint64_t *r)
{
    if (rnd(r) % 100 == 0) {
        if (rnd(r) % 100 == 0)
            items *= 10000;
        else if (rnd(r) % 10 == 0)
            items *= 1000;
        else
            items *= 100;
    }
    uintptr_t *p = calloc(items + 1, sizeof(uintptr_t));
    if (p == NULL)
        exit(2);
    p[0] = items;
    for (size_t i = 1; i <= items; i++) {
        if (p[i] != 0)
            exit(3); /* calloc gave dirty memory */
        p[i] = (items - i) ^ cookie;
    }
    return p;
}

static void free_items(uintptr_t *p)
{
    if (p == NULL)
        return;
    size_t items = p[0];
    for (size_t i = 1; i <= items; i++)
        if (p[i] != ((items - i) ^ cookie))
            exit(4); /* corrupted */
    free(p);
}

static void *stress(void *arg)
{
    uint64_t r = (uint64_t)(uintptr_t)arg * 43 + 1;
    size_t allocs = 100 * (size_t)scale * ((size_t)(uintptr_t)arg % 8 + 1);
    size_t retain = allocs / 2, data_top = 0, retain_top = 0;
    uintptr_t **data = xmalloc(allocs * sizeof *data);
    uintptr_t **retained = xmalloc(retain * sizeof *retained);
    while (allocs > 0 || retain > 0) {
        if (retain == 0 || (chance(50, &r) && allocs > 0)) {
            allocs--;
            data[data_top++] = alloc_items((size_t)1 << (rnd(&r) % 5), &r);
        } else {
            retained[retain_top++] =
                alloc_items((size_t)1 << (rnd(&r) % 7), &r);
            retain--;
        }
        if (chance(66, &r) && data_top > 0) {
            size_t i = rnd(&r) % data_top;
            free_items(data[i]);
            data[i] = NULL;
        }
        if (chance(25, &r) && data_top > 0) {
            size_t i = rnd(&r) % data_top;
            data[i] = atomic_exchange(&transfer[rnd(&r) % TRANSFERS], data[i]);
        }
    }
    for (size_t i = 0; i < retain_top; i++)
        free_items(retained[i]);
    for (size_t i = 0; i < data_top; i++)
        free_items(data[i]);
    free(retained);
    free(data);
    return NULL;
}

int main(int argc, char **argv)
{
    long threads = arg(argc, argv, 1, 4);
    scale = arg(argc, argv, 2, 50);
    long rounds = arg(argc, argv, 3, 10);
    pthread_t t[256];
    if (threads > 256)
        threads = 256;
    uint64_t r = 7;
    for (long n = 0; n < rounds; n++) {
        for (long i = 0; i < threads; i++)
            pthread_create(&t[i], NULL, stress,
                           (void *)(uintptr_t)(n * threads + i));
        for (long i = 0; i < threads; i++)
            pthread_join(t[i], NULL);
        for (int i = 0; i < TRANSFERS; i++)
            if (n + 1 == rounds || rnd(&r) % 2)
                free_items(atomic_exchange(&transfer[i], NULL));
    }
    return 0;
}
