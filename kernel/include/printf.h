/*
 * printf.h - formatting without a libc.
 *
 * Supports %d %i %u %x %X %o %c %s %p %% with the flags '-', '0', '+',
 * ' ', field width and precision (both may be '*'), and the length
 * modifiers hh h l ll z t j.  No floating point (the kernel has no FPU
 * state to spend).
 */
#ifndef MICA_PRINTF_H
#define MICA_PRINTF_H

#include "types.h"
#include <stdarg.h>

/* Like C's vsnprintf: returns the length the full output would have;
 * writes at most size-1 characters and a NUL when size > 0. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

__attribute__((format(printf, 3, 4)))
int ksnprintf(char *buf, size_t size, const char *fmt, ...);

#endif
