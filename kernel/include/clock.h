/*
 * clock.h - converting between counter ticks and nanoseconds.
 *
 * A scale turns a count of one clock (the TSC, say) into another unit
 * with one 64x64->128-bit multiply and a shift, exact to within one unit
 * for any count below 2^64 / mult, and never dividing on the fast path.
 * Timers use it both ways: ns -> TSC ticks for a TSC deadline, TSC
 * ticks -> ns for clock_gettime and the log's timestamps.
 */
#ifndef MICA_CLOCK_H
#define MICA_CLOCK_H

#include "types.h"

struct clock_scale {
    uint64_t mult;
    unsigned shift;
};

/* A scale converting counts at `from_hz` into counts at `to_hz`.  Both
 * must be nonzero and below 2^40 Hz. */
void clock_scale_init(struct clock_scale *s, uint64_t from_hz, uint64_t to_hz);

static inline uint64_t clock_scale_apply(const struct clock_scale *s,
                                         uint64_t v)
{
    return (uint64_t)(((unsigned __int128)v * s->mult) >> s->shift);
}

/* The boot clock: TSC ticks to and from nanoseconds (set up once the TSC
 * is calibrated), and nanoseconds since the machine started. */
void clock_init(uint64_t tsc_hz);
uint64_t clock_ns(void);
uint64_t clock_ns_to_ticks(uint64_t ns);

#endif
