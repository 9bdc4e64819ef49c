/*
 * churn.c - one thread, many small objects: the common case of most
 * programs.  A working set of `live` objects of 8..512 bytes (skewed to
 * small, like strings and tree nodes) is replaced at random; every so
 * often a linked list of 10000 nodes is built and torn down in order, the
 * pattern of short-lived containers.
 *
 * usage: churn [ops=30000000] [live=50000]
 */
#include <string.h>

#include "bench.h"

struct node {
    struct node *next;
    long value;
};

static long list_round(long n)
{
    struct node *head = NULL;
    for (long i = 0; i < n; i++) {
        struct node *x = xmalloc(sizeof *x);
        x->next = head;
        x->value = i;
        head = x;
    }
    long sum = 0;
    while (head != NULL) {
        struct node *next = head->next;
        sum += head->value;
        free(head);
        head = next;
    }
    return sum;
}

int main(int argc, char **argv)
{
    long ops = arg(argc, argv, 1, 30000000), live = arg(argc, argv, 2, 50000);
    char **v = calloc((size_t)live, sizeof *v);
    uint64_t seed = 42;
    long sum = 0;
    for (long k = 0; k < ops; k++) {
        if (k % 1000000 == 0)
            sum += list_round(10000);
        long i = (long)(rnd(&seed) % (uint64_t)live);
        uint64_t r = rnd(&seed);
        size_t n = r % 8 == 0 ? 8 + (r >> 8) % 505 : 8 + (r >> 8) % 56;
        free(v[i]);
        v[i] = xmalloc(n);
        v[i][0] = (char)k;
        sum += v[i][0];
    }
    for (long i = 0; i < live; i++)
        free(v[i]);
    free(v);
    return sum == 42 ? 1 : 0;
}
