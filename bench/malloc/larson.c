/*
 * larson.c - a server-like workload after Larson and Krishnan's benchmark.
 *
 * Each of `threads` workers owns an array of `slots` blocks of random size
 * (16..1000 bytes) and repeatedly frees a random slot and refills it, like a
 * server handling requests.  After `ops` operations a worker exits and a new
 * thread takes over its array, so most frees of the next generation hit
 * blocks allocated by a thread that no longer exists: the allocator must
 * free across threads and recycle the memory of dead ones.
 *
 * usage: larson [threads=4] [generations=20] [ops=200000] [slots=4000]
 */
#include <pthread.h>
#include <string.h>

#include "bench.h"

struct worker {
    void **slot;
    long slots, ops;
    uint64_t seed;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (long k = 0; k < w->ops; k++) {
        long i = (long)(rnd(&w->seed) % (uint64_t)w->slots);
        size_t n = 16 + rnd(&w->seed) % 985;
        free(w->slot[i]);
        char *p = xmalloc(n);
        p[0] = (char)k;
        p[n - 1] = (char)i;
        w->slot[i] = p;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long threads = arg(argc, argv, 1, 4), gens = arg(argc, argv, 2, 20);
    long ops = arg(argc, argv, 3, 200000), slots = arg(argc, argv, 4, 4000);
    struct worker *w = calloc((size_t)threads, sizeof *w);
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    for (long i = 0; i < threads; i++) {
        w[i].slot = calloc((size_t)slots, sizeof(void *));
        w[i].slots = slots;
        w[i].ops = ops;
        w[i].seed = 0x9e3779b97f4a7c15u * (uint64_t)(i + 1);
    }
    for (long g = 0; g < gens; g++) {
        for (long i = 0; i < threads; i++)
            pthread_create(&t[i], NULL, work, &w[i]);
        for (long i = 0; i < threads; i++)
            pthread_join(t[i], NULL);
        /* the next generation works on the neighbour's array */
        void **first = w[0].slot;
        for (long i = 0; i + 1 < threads; i++)
            w[i].slot = w[i + 1].slot;
        w[threads - 1].slot = first;
    }
    for (long i = 0; i < threads; i++) {
        for (long k = 0; k < slots; k++)
            free(w[i].slot[k]);
        free(w[i].slot);
    }
    free(w);
    free(t);
    return 0;
}
