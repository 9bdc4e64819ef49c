/*
 * cache_scratch.c - passive false sharing, after Hoard's cache-scratch.
 *
 * The main thread allocates one small object per thread, back to back, and
 * hands one to each thread.  Each thread frees its object, then `iters`
 * times allocates an object of the same size, writes each of its bytes
 * `reps` times and frees it.  An allocator that gives the freed object (or
 * its cache line neighbours) back to a different thread makes threads
 * write into one cache line: the lines bounce between cores and the run
 * slows down many times.
 *
 * usage: cache_scratch [threads=2] [iters=1000] [size=8] [reps=10000]
 */
#include <pthread.h>

#include "bench.h"

static long iters, size, reps;

static void *work(void *arg)
{
    free(arg);
    for (long i = 0; i < iters; i++) {
        volatile char *p = xmalloc((size_t)size);
        for (long r = 0; r < reps; r++)
            for (long j = 0; j < size; j++)
                p[j] = (char)(p[j] + 1);
        free((void *)p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long threads = arg(argc, argv, 1, 2);
    iters = arg(argc, argv, 2, 1000);
    size = arg(argc, argv, 3, 8);
    reps = arg(argc, argv, 4, 10000);
    pthread_t t[256];
    void *obj[256];
    if (threads > 256)
        threads = 256;
    for (long i = 0; i < threads; i++)
        obj[i] = xmalloc((size_t)size);
    for (long i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, work, obj[i]);
    for (long i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return 0;
}
