/*
 * lib.h - the freestanding C library subset the kernel carries.
 *
 * memcpy/memset/memmove/memcmp/strlen/strcmp/strncmp with their standard
 * contracts (GCC may emit calls to the mem* functions on its own).  On the
 * host, and in user programs that reuse portable kernel code (the ELF
 * parser, the stack builder), the real <string.h> stands in.
 */
#ifndef MICA_LIB_H
#define MICA_LIB_H

#include "types.h"

#if defined(MICA_HOST_TEST) || defined(MICA_USER)
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#endif

#endif
