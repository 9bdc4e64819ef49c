/*
 * string.c - the mem and str functions of lib.h.
 *
 * GCC emits calls to the mem* functions for struct copies even when
 * freestanding, so they must exist and must not be compiled back into
 * calls to themselves.  memcpy/memset use `rep movs/stos`, quadwords when
 * aligned, bytes otherwise (fast on every CPU with ERMSB); the rest are
 * plain byte loops.
 */
#include "lib.h"

/* Whole quadwords when both ends allow it (page copies and clears):
 * eight times fewer iterations, which is what -icount measures. */
void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    if ((((uintptr_t)dst | (uintptr_t)src | n) & 7) == 0) {
        n /= 8;
        __asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(n)
                         : : "memory");
        return dst;
    }
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    if ((((uintptr_t)dst | n) & 7) == 0) {
        uint64_t v = 0x0101010101010101ull * (uint8_t)c;
        n /= 8;
        __asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(v) : "memory");
        return dst;
    }
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0)
        return dst;
    if (d < s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] - y[i];
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] || !a[i])
            return (unsigned char)a[i] - (unsigned char)b[i];
    }
    return 0;
}
