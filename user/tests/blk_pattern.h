/*
 * blk_pattern.h - what the test harness writes on the disks of a test
 * boot, and what the system writes back (keep in step with
 * tools/harness.py, which checks the disk on the host after the boot).
 *
 * Sector s of a pattern with seed `seed` is 64 little-endian words,
 * word w being seed ^ s * K1 ^ w * K2 (mod 2^64): every sector and every
 * word within it differ, so a misplaced sector, a shifted buffer or a
 * short copy all show.
 */
#ifndef MICA_TESTS_BLK_PATTERN_H
#define MICA_TESTS_BLK_PATTERN_H

#include <stdint.h>
#include <string.h>

#define BLK_PAT_DISK_SECTORS    8192u   /* 4 MiB, at 00:04.0 */
#define BLK_PAT_SCRATCH_SECTORS 2048u   /* 1 MiB, read-only, at 00:05.0 */
#define BLK_PAT_SEED_A          0x4d6963612d413031ull  /* the host's */
#define BLK_PAT_SEED_B          0x4d6963612d423032ull  /* the system's */
#define BLK_PAT_SEED_SCRATCH    0x4d6963612d533033ull
#define BLK_PAT_B_FIRST         1024u   /* pattern B goes here, */
#define BLK_PAT_B_COUNT         128u    /* and nothing is written elsewhere */

#define BLK_PAT_K1 0x9e3779b97f4a7c15ull
#define BLK_PAT_K2 0xc2b2ae3d27d4eb4full

/* Fill `count` sectors from `first` of pattern `seed` into buf (any
 * alignment). */
static inline void blk_pattern(uint64_t seed, uint64_t first, uint32_t count,
                               void *buf)
{
    char *p = buf;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t base = seed ^ (first + i) * BLK_PAT_K1;
        for (uint64_t j = 0; j < 64; j++, p += 8) {
            uint64_t v = base ^ j * BLK_PAT_K2;
            memcpy(p, &v, 8);
        }
    }
}

#endif
