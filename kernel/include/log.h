/*
 * log.h - the kernel log.
 *
 * kprintf() formats a line into the log: a ring buffer in kernel memory
 * (readable from user space later) that is also written to the machine's
 * log sinks (QEMU's debug port, COM1 until a driver owns it).  Safe from
 * any CPU and from interrupt handlers; in panic, the lock is taken only if
 * it can be, so a CPU that died holding it cannot silence the report.
 */
#ifndef MICA_LOG_H
#define MICA_LOG_H

#include "types.h"
#include <stdarg.h>

#define LOG_RING_SIZE 65536

__attribute__((format(printf, 1, 2)))
void kprintf(const char *fmt, ...);
void kvprintf(const char *fmt, va_list ap);

/* Append raw bytes to the log. */
void log_write(const char *s, size_t n);

/* Copy up to `len` bytes of the log starting at absolute offset `pos`
 * into buf.  Returns the count; *next gets the offset after the last byte
 * copied.  Bytes overwritten since are skipped (pos is moved forward). */
size_t log_read(uint64_t pos, char *buf, size_t len, uint64_t *next);

/* Total bytes ever logged. */
uint64_t log_position(void);

/* Wait until no write is under way (one that began before the call has
 * reached the sinks); for a sink being switched off. */
void log_sync(void);

/* Enter panic mode: later writes no longer wait for the log lock. */
void log_panic_mode(void);

#endif
