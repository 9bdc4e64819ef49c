/*
 * bench.h - the benchmarks init runs for `make bench`.
 */
#ifndef MICA_BENCH_H
#define MICA_BENCH_H

#include <stddef.h>

/* Run the benchmarks and print "bench NAME instructions=N" lines; the
 * mapped bootfs (fs, len) has the manifest, whose programs the block
 * benchmark starts. */
int bench_run(const char *selection, const void *fs, size_t len);

#endif
