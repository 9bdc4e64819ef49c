/*
 * clock.c - tick/nanosecond scales, and the kernel's monotonic clock.
 *
 * mult = to_hz * 2^shift / from_hz, with the largest shift (at most 32)
 * that keeps mult below 2^32; with 128-bit products the result is exact
 * to the rounding of mult, about one part in 2^32.
 */
#include "arch.h"
#include "clock.h"

/* 128-by-64-bit division by shift and subtract: runs only when a scale
 * is set up, and keeps the kernel free of libgcc's __udivti3. */
static unsigned __int128 div128(unsigned __int128 n, uint64_t d)
{
    unsigned __int128 q = 0, r = 0;
    for (int i = 127; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1);
        if (r >= d) {
            r -= d;
            q |= (unsigned __int128)1 << i;
        }
    }
    return q;
}

void clock_scale_init(struct clock_scale *s, uint64_t from_hz, uint64_t to_hz)
{
    unsigned shift = 32;
    unsigned __int128 m;
    for (;;) {
        m = div128(((unsigned __int128)to_hz << shift) + from_hz / 2, from_hz);
        if (m < ((unsigned __int128)1 << 32) || shift == 0)
            break;
        shift--;
    }
    s->mult = (uint64_t)m;
    s->shift = shift;
}

static struct clock_scale to_ns, to_ticks;

void clock_init(uint64_t tsc_hz)
{
    clock_scale_init(&to_ns, tsc_hz, 1000000000);
    clock_scale_init(&to_ticks, 1000000000, tsc_hz);
}

uint64_t clock_ns(void)
{
    return clock_scale_apply(&to_ns, arch_timestamp());
}

uint64_t clock_ns_to_ticks(uint64_t ns)
{
    return clock_scale_apply(&to_ticks, ns);
}
