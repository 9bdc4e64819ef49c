/*
 * capprobe.h - what the capability probe (capprobe.c) reports to the
 * test that started it (user/tests/test_services.c).
 */
#ifndef MICA_TESTS_CAPPROBE_H
#define MICA_TESTS_CAPPROBE_H

#include <stdint.h>

#define PROBE_MAX_CAPS 16

/* One capability as the probe found it. */
struct probe_cap {
    int32_t kind_ok;        /* OK: an object of the token's kind */
    int32_t use;            /* OK: it works as the token says */
    int32_t outside;        /* the status of a use just outside its range */
    uint32_t pad;
    uint64_t value;         /* mmio: the first word; irq: the line's number */
};

struct probe_report {
    int32_t caps;           /* mica_caps_init */
    uint32_t ncaps;
    char tokens[512];       /* as received, each ended by a NUL */
    uint32_t resource;      /* AT_MICA_RESOURCE */
    int32_t log;            /* debug_write of nothing */
    /* device objects made with no resource (handle 0), then with a
     * handle that is not a resource (its own process) */
    int32_t no_resource[5], not_resource[5];
    struct probe_cap cap[PROBE_MAX_CAPS];
};

/* Commands the test sends after the report (bytes, no handles). */
#define PROBE_EXIT        "exit"        /* exit 0 */
#define PROBE_STRAY_PORT  "stray-port"  /* in from port 0x2f0: #GP */
#define PROBE_STRAY_MEM   "stray-mem"   /* read an unmapped page: #PF */

#endif
