/*
 * strbuild.c - strings built by appending, each append a realloc.
 *
 * `builders` strings grow side by side, by 1..64 bytes per step in turn,
 * up to a random target length (mostly up to 16 KiB, some up to 256 KiB,
 * a few up to `big` KiB); a finished string is checked, freed and started
 * again.  Interleaving keeps a string from always being the last block of
 * the heap, where growing in place is trivial.  This is the pattern of
 * string builders, dynamic arrays and buffered readers that grow by
 * realloc instead of doubling.
 *
 * usage: strbuild [total MiB=1500] [builders=32] [big=4096]
 */
#include <string.h>

#include "bench.h"

struct str {
    char *p;
    size_t len, target;
};

static size_t big = 4096 * 1024;

static size_t pick_target(uint64_t *r)
{
    uint64_t x = rnd(r) % 100;
    if (x < 90)
        return 16 + rnd(r) % (16 * 1024);
    if (x < 99)
        return 16 + rnd(r) % (256 * 1024);
    return 16 + rnd(r) % big;
}

int main(int argc, char **argv)
{
    long total_mib = arg(argc, argv, 1, 1500), builders = arg(argc, argv, 2, 32);
    big = (size_t)arg(argc, argv, 3, 4096) * 1024;
    struct str *s = calloc((size_t)builders, sizeof *s);
    uint64_t r = 99;
    size_t total = (size_t)total_mib << 20, done = 0;
    for (long i = 0; i < builders; i++)
        s[i].target = pick_target(&r);
    while (done < total) {
        for (long i = 0; i < builders; i++) {
            struct str *x = &s[i];
            size_t add = 1 + rnd(&r) % 64;
            x->p = realloc(x->p, x->len + add + 1);
            if (x->p == NULL)
                return 2;
            memset(x->p + x->len, 'a' + (int)(x->len % 26), add);
            x->len += add;
            x->p[x->len] = 0;
            done += add;
            if (x->len >= x->target) {
                if (x->p[0] != 'a' || x->p[x->len - 1] == 0)
                    return 3;
                free(x->p);
                x->p = NULL;
                x->len = 0;
                x->target = pick_target(&r);
            }
        }
    }
    for (long i = 0; i < builders; i++)
        free(s[i].p);
    free(s);
    return 0;
}
