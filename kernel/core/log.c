/*
 * log.c - the kernel log: a ring buffer plus the machine's sinks.
 *
 * Every byte logged gets an absolute position (a 64-bit count that never
 * wraps); the ring keeps the last LOG_RING_SIZE bytes, so a reader that
 * falls behind learns how much it missed instead of reading garbage.
 * One spinlock (taken with interrupts off) orders writers from all CPUs,
 * so lines never interleave.  Once a panic starts, writers take the lock
 * only if they can get it within a bounded spin: the panicking CPU may
 * itself hold it, or a stopped CPU may.
 */
#include "log.h"
#include "arch.h"
#include "lib.h"
#include "printf.h"
#include "spinlock.h"

static char ring[LOG_RING_SIZE];
static uint64_t head;               /* absolute position of the next byte */
static spinlock_t log_lock = SPINLOCK_INIT;
static volatile bool panic_mode;

static void ring_put(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ring[(head + i) % LOG_RING_SIZE] = s[i];
    head += n;
}

static bool lock_log(irqflags_t *f)
{
    *f = arch_irq_save();
    if (!panic_mode) {
        spin_lock(&log_lock);
        return true;
    }
    for (int i = 0; i < 1000000; i++) {
        if (spin_trylock(&log_lock))
            return true;
        arch_cpu_relax();
    }
    return false;       /* write without the lock: a report beats order */
}

void log_write(const char *s, size_t n)
{
    irqflags_t f;
    bool locked = lock_log(&f);
    ring_put(s, n);
    arch_log_write(s, n);
    if (locked)
        spin_unlock(&log_lock);
    arch_irq_restore(f);
}

void kvprintf(const char *fmt, va_list ap)
{
    char line[512];
    int n = kvsnprintf(line, sizeof(line), fmt, ap);
    if (n >= (int)sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';     /* a truncated line still ends a line */
    }
    log_write(line, (size_t)n);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

size_t log_read(uint64_t pos, char *buf, size_t len, uint64_t *next)
{
    irqflags_t f = spin_lock_irqsave(&log_lock);
    uint64_t oldest = head > LOG_RING_SIZE ? head - LOG_RING_SIZE : 0;
    if (pos < oldest)
        pos = oldest;
    size_t n = 0;
    while (n < len && pos + n < head) {
        buf[n] = ring[(pos + n) % LOG_RING_SIZE];
        n++;
    }
    *next = pos + n;
    spin_unlock_irqrestore(&log_lock, f);
    return n;
}

uint64_t log_position(void)
{
    return __atomic_load_n(&head, __ATOMIC_RELAXED);
}

void log_sync(void)
{
    irqflags_t f;
    if (lock_log(&f))
        spin_unlock(&log_lock);
    arch_irq_restore(f);
}

void log_panic_mode(void)
{
    panic_mode = true;
}
