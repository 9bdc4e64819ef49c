/*
 * xmalloc.c - producers allocate, consumers free, after xmalloc-test by
 * Lever and Boreham.
 *
 * `pairs` producer threads allocate batches of 256 blocks (random sizes of
 * 8..128 bytes, first and last byte written) and hand each batch over
 * through a shared queue; `pairs` consumer threads take batches and free
 * every block.  Every free is a remote free, and the producer's pages
 * empty only by the consumers' hands.  The queue is bounded so memory use
 * stays about the same under every allocator.
 *
 * usage: xmalloc [pairs=2] [batches per producer=12000]
 */
#include <pthread.h>

#include "bench.h"

#define BATCH 256
#define QMAX 64

struct batch {
    struct batch *next;
    void *p[BATCH];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static struct batch *queue;
static long queued, producers_left;
static long per_producer;

static void *producer(void *arg)
{
    uint64_t seed = 0x2545f4914f6cdd1du * (uint64_t)(uintptr_t)arg + 1;
    for (long b = 0; b < per_producer; b++) {
        struct batch *x = xmalloc(sizeof *x);
        for (int i = 0; i < BATCH; i++) {
            size_t n = 8 + rnd(&seed) % 121;
            char *p = xmalloc(n);
            p[0] = p[n - 1] = (char)i;
            x->p[i] = p;
        }
        pthread_mutex_lock(&lock);
        while (queued >= QMAX)
            pthread_cond_wait(&not_full, &lock);
        x->next = queue;
        queue = x;
        queued++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    producers_left--;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (queue == NULL && producers_left > 0)
            pthread_cond_wait(&not_empty, &lock);
        struct batch *x = queue;
        if (x != NULL) {
            queue = x->next;
            queued--;
            pthread_cond_signal(&not_full);
        }
        pthread_mutex_unlock(&lock);
        if (x == NULL)
            return NULL;
        for (int i = 0; i < BATCH; i++)
            free(x->p[i]);
        free(x);
    }
}

int main(int argc, char **argv)
{
    long pairs = arg(argc, argv, 1, 2);
    per_producer = arg(argc, argv, 2, 12000);
    producers_left = pairs;
    pthread_t t[64];
    if (pairs > 32)
        pairs = 32;
    for (long i = 0; i < pairs; i++) {
        pthread_create(&t[2 * i], NULL, producer, (void *)(uintptr_t)i);
        pthread_create(&t[2 * i + 1], NULL, consumer, NULL);
    }
    for (long i = 0; i < 2 * pairs; i++)
        pthread_join(t[i], NULL);
    return 0;
}
