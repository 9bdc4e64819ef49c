/*
 * fuzz_seeds.c - fuzz_seeds DIR: write valid inputs for fuzz_idl.c into
 * DIR (requests and replies of the demo methods, and an ELF image with
 * an interface note), so that a short run starts past the header checks
 * and spends its time on the bodies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static const char *dir;
static int count;

static void put(uint8_t sel, uint8_t method, const void *msg, uint32_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/seed-%02d", dir, count++);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(&sel, 1, 1, f) != 1 || fwrite(&method, 1, 1, f) != 1 ||
        fwrite(msg, 1, n, f) != n || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static void request(const struct idl_method *m, const void *q, uint8_t sel)
{
    static uint64_t buf[MICA_MSG_MAX_BYTES / 8];
    struct idl_header h = { IDL_MAGIC, 0, 1, m->id, OK, 0 };
    struct idl_out o = { .bytes = buf, .cap = sizeof(buf) };
    if (idl_encode(&m->request, &h, q, &o) == OK)
        put(sel, 0, buf, o.len);
}

static void reply(const struct idl_method *m, uint8_t which, const void *r,
                  uint8_t sel)
{
    static uint64_t buf[MICA_MSG_MAX_BYTES / 8];
    struct idl_txn t = { 1, m };
    struct idl_out o = { .bytes = buf, .cap = sizeof(buf) };
    if (idl_reply(&t, OK, r, &o) == OK)
        put(sel, which, buf, o.len);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    dir = argv[1];
    struct demo_pixel px = { { 1, -1 }, DEMO_COLOR_RED, true, 7 };
    struct demo_paint_req paint = { px, DEMO_DELTA_UP, { "h\xc3\xa9!", 4 } };
    struct demo_store_req store = { { "0123456789", 10 }, 0x101 };
    bool flags[3] = { true, false, true };
    uint8_t colors[2] = { DEMO_COLOR_GREEN, DEMO_COLOR_BLUE };
    struct demo_mix_req mix = { { flags, 3 }, { colors, 2 }, { "xy", 2 } };
    struct demo_add_req add = { 1, 2 };
    request(&demo_paint_method, &paint, 0);
    request(&demo_store_method, &store, 1);
    request(&demo_mix_method, &mix, 0);
    request(&demo_add_method, &add, 0);
    request(&demo_ping_method, NULL, 0);
    int32_t xs[3] = { 1, 2, 3 };
    struct demo_point ps[1] = { { 5, 6 } };
    struct demo_samples_resp samples = { { xs, 3 }, { ps, 1 }, { "ok", 2 } };
    struct demo_paint_resp old = { px };
    struct demo_give_resp give = { 0x101, 0x202 };
    reply(&demo_samples_method, 4, &samples, 0);
    reply(&demo_paint_method, 2, &old, 0);
    reply(&demo_give_method, 5, &give, 3 | 0x00);
    return 0;
}
