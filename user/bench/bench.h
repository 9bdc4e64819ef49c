/*
 * bench.h - the benchmarks init runs for `make bench`.
 */
#ifndef MICA_BENCH_H
#define MICA_BENCH_H

/* Run the benchmarks and print "bench NAME instructions=N" lines. */
int bench_run(const char *selection);

#endif
