/*
 * test_blk.c - in-system tests of the virtio-blk driver and the block
 * protocol (user/drivers/virtio-blk, docs/drivers.md).
 *
 * Two disks (tools/harness.py writes them before the boot; blk_pattern.h
 * says what they hold):
 *  - the disk at 00:04.0, served by the boot manifest's `disk` driver,
 *    reached through the `blk` capability init gives this suite.  The
 *    suite reads it whole and checks every byte of the host's pattern A,
 *    writes pattern B over sectors 1024-1151 (which the harness checks
 *    on the host after the boot) and nothing anywhere else, and tries
 *    every bad request, each of which must fail with its documented
 *    error and leave the disk alone;
 *  - the read-only scratch disk at 00:05.0, which has no MSI-X (its
 *    drivers take the legacy line and read the ISR status) and whose
 *    last sector gives an I/O error (QEMU's blkdebug), for drivers
 *    the suite starts itself (with its own pci server, from the root
 *    resource and the bootfs init gives it), stops, and kills while a
 *    client reads.
 *
 * Every wait is for progress, bounded by 60 s to turn a hang into a
 * failure.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_client.h"
#include "blk_pattern.h"
#include "caps.h"
#include "idl.h"
#include "mica.h"
#include "pci.h"
#include "pci_line.h"
#include "service.h"
#include "utest.h"

#define SEC 1000000000ull
#define BOUND (60 * SEC)
#define SCRATCH_LINE                                                      \
    "scratch bin/virtio-blk pci=00:05.0 resource=dma:0+0x100000000\n"

static uint64_t now_ns(void)
{
    uint64_t t = 0;
    mica_clock_get(&t);
    return t;
}

static mica_handle_t disk(void)
{
    mica_handle_t ch = mica_cap("blk", 0);
    if (!ch)
        printf("    # no blk capability: is the manifest's disk running?\n");
    return ch;
}

/* Up to 64 KiB of data at a time, with room on both sides to offset
 * buffers and to see stray writes. */
#define CHUNK (64u * 1024)
#define SLACK 8192
static uint8_t area[SLACK + CHUNK + SLACK] __attribute__((aligned(4096)));
static uint8_t want[CHUNK + SLACK];

/* Whether sectors [first, first + count) of buf hold pattern `seed`;
 * says where not. */
static bool holds(const uint8_t *buf, uint64_t seed, uint64_t first,
                  uint32_t count)
{
    blk_pattern(seed, first, count, want);
    for (uint32_t i = 0; i < count; i++)
        if (memcmp(buf + i * BLOCK_SECTOR_SIZE, want + i * BLOCK_SECTOR_SIZE,
                   BLOCK_SECTOR_SIZE) != 0) {
            printf("    # sector %llu does not hold the pattern %llx\n",
                   (unsigned long long)(first + i),
                   (unsigned long long)seed);
            return false;
        }
    return true;
}

static bool in_b(uint64_t s)
{
    return s >= BLK_PAT_B_FIRST && s < BLK_PAT_B_FIRST + BLK_PAT_B_COUNT;
}

/* Every sector of the disk: A, or in B's region A or B. */
static bool disk_holds_a_or_b(const uint8_t *buf, uint64_t first,
                              uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *p = buf + i * BLOCK_SECTOR_SIZE;
        uint64_t s = first + i;
        uint8_t a[BLOCK_SECTOR_SIZE], b[BLOCK_SECTOR_SIZE];
        blk_pattern(BLK_PAT_SEED_A, s, 1, a);
        blk_pattern(BLK_PAT_SEED_B, s, 1, b);
        if (memcmp(p, a, sizeof(a)) != 0 &&
            !(in_b(s) && memcmp(p, b, sizeof(b)) == 0)) {
            printf("    # sector %llu holds neither pattern\n",
                   (unsigned long long)s);
            return false;
        }
    }
    return true;
}

/* --- the manifest's disk ---------------------------------------------- */

UTEST(blk_info)
{
    struct block_info i;
    mica_handle_t ch = disk();
    UASSERT(ch != 0);
    UASSERT(block_info(ch, &i) == OK);
    UEXPECT(i.sectors == BLK_PAT_DISK_SECTORS);
    UEXPECT(i.sector_size == BLOCK_SECTOR_SIZE);
    UEXPECT(i.max_sectors >= 8 && i.max_sectors <= CHUNK / BLOCK_SECTOR_SIZE);
    UEXPECT(!i.read_only);
    UEXPECT(i.flush);                       /* QEMU's default write-back */
}

UTEST(blk_reads_host_pattern)
{
    struct block_info i;
    mica_handle_t ch = disk();
    UASSERT(ch != 0 && block_info(ch, &i) == OK);
    uint8_t *buf = area + SLACK;
    for (uint64_t s = 0; s < i.sectors; s += i.max_sectors) {
        uint32_t n = (uint32_t)(i.sectors - s < i.max_sectors
                                    ? i.sectors - s
                                    : i.max_sectors);
        UASSERT(blk_read(ch, s, n, buf) == OK);
        UASSERT(disk_holds_a_or_b(buf, s, n));
    }
}

/* Buffers anywhere: at odd addresses, across pages, in a longer grant
 * whose rest is left alone; the last sector. */
UTEST(blk_reads_any_buffer)
{
    mica_handle_t ch = disk(), g;
    UASSERT(ch != 0);
    memset(area, 0x5a, sizeof(area));
    UEXPECT(blk_read(ch, 77, 3, area + SLACK + 1) == OK);
    UEXPECT(holds(area + SLACK + 1, BLK_PAT_SEED_A, 77, 3));
    UEXPECT(area[SLACK] == 0x5a && area[SLACK + 1 + 3 * 512] == 0x5a);
    memset(area, 0x5a, sizeof(area));
    UEXPECT(blk_read(ch, 300, 2, area + 4000) == OK);     /* across a page */
    UEXPECT(holds(area + 4000, BLK_PAT_SEED_A, 300, 2));
    UEXPECT(area[3999] == 0x5a && area[4000 + 1024] == 0x5a);
    UEXPECT(blk_read(ch, BLK_PAT_DISK_SECTORS - 1, 1, area + 7) == OK);
    UEXPECT(holds(area + 7, BLK_PAT_SEED_A, BLK_PAT_DISK_SECTORS - 1, 1));
    /* a grant longer than the transfer: only its start is written */
    memset(area, 0x5a, sizeof(area));
    UASSERT(mica_grant_create(area, 3000, RIGHT_WRITE, &g) == OK);
    UEXPECT(block_read(ch, 5, 1, g) == OK);
    UEXPECT(holds(area, BLK_PAT_SEED_A, 5, 1));
    UEXPECT(area[512] == 0x5a && area[2999] == 0x5a);
}

/* Several threads reading at once through one connection: the driver
 * keeps several requests in flight, and each gets its own data. */
#define READERS 4
#define READS 40
static uint8_t reader_buf[READERS][16 * 512];
static int reader_bad[READERS];

static void *reader(void *arg)
{
    long k = (long)arg;
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(k + 1);
    uint8_t expect[16 * 512];
    for (int n = 0; n < READS; n++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t count = 1 + (uint32_t)(x % 16);
        uint64_t s = (x >> 8) % (BLK_PAT_B_FIRST - 16);     /* pattern A */
        if (blk_read(mica_cap("blk", 0), s, count, reader_buf[k]) != OK) {
            reader_bad[k]++;
            continue;
        }
        blk_pattern(BLK_PAT_SEED_A, s, count, expect);
        reader_bad[k] += memcmp(reader_buf[k], expect, count * 512) != 0;
    }
    return NULL;
}

UTEST(blk_concurrent_clients)
{
    pthread_t t[READERS];
    UASSERT(disk() != 0);
    for (long k = 0; k < READERS; k++)
        UASSERT(pthread_create(&t[k], NULL, reader, (void *)k) == 0);
    for (int k = 0; k < READERS; k++) {
        pthread_join(t[k], NULL);
        UEXPECT(reader_bad[k] == 0);
    }
}

/* Pattern B over sectors 1024-1151, twice: one sector at a time from odd
 * addresses, then all at once; read back after each, then flushed.  The
 * harness checks the image on the host after the boot. */
UTEST(blk_writes_pattern_b)
{
    struct block_info i;
    mica_handle_t ch = disk();
    const uint32_t first = BLK_PAT_B_FIRST, count = BLK_PAT_B_COUNT;
    UASSERT(ch != 0 && block_info(ch, &i) == OK);
    uint8_t *buf = area + SLACK;
    for (uint32_t s = first; s < first + count; s++) {
        uint8_t *p = area + 1 + (s % 509);
        blk_pattern(BLK_PAT_SEED_B, s, 1, p);
        UASSERT(blk_write(ch, s, 1, p) == OK);
    }
    for (uint32_t s = first; s < first + count; s += i.max_sectors) {
        uint32_t n = count - (s - first) < i.max_sectors ? count - (s - first)
                                                         : i.max_sectors;
        memset(buf, 0, n * 512);
        UASSERT(blk_read(ch, s, n, buf) == OK);
        UEXPECT(holds(buf, BLK_PAT_SEED_B, s, n));
    }
    for (uint32_t s = first; s < first + count; s += i.max_sectors) {
        uint32_t n = count - (s - first) < i.max_sectors ? count - (s - first)
                                                         : i.max_sectors;
        blk_pattern(BLK_PAT_SEED_B, s, n, buf);
        UASSERT(blk_write(ch, s, n, buf) == OK);
        memset(buf, 0, n * 512);
        UASSERT(blk_read(ch, s, n, buf) == OK);
        UEXPECT(holds(buf, BLK_PAT_SEED_B, s, n));
    }
    UEXPECT(block_flush(ch) == OK);
    /* the neighbours are untouched */
    UEXPECT(blk_read(ch, first - 1, 1, buf) == OK &&
            holds(buf, BLK_PAT_SEED_A, first - 1, 1));
    UEXPECT(blk_read(ch, first + count, 1, buf) == OK &&
            holds(buf, BLK_PAT_SEED_A, first + count, 1));
}

enum { BLK_OP_READ = 1, BLK_OP_WRITE };

/* A request of method `id` with the bytes `shape` encodes (a read's:
 * sector and count; or none) and the handles given, which move, sent
 * as it is: the status of the driver's reply. */
static int raw(mica_handle_t ch, const struct idl_method *shape, uint64_t id,
               uint64_t sector, uint32_t count, const mica_handle_t *h,
               uint32_t nh)
{
    uint64_t qb[8], rb[8];
    struct block_read_req q = { sector, count, 1 };
    struct idl_header hd = { IDL_MAGIC, 0, 1, id, OK, 0 };
    struct idl_out o = { .bytes = qb, .cap = sizeof(qb) };
    if (idl_encode(&shape->request, &hd, &q, &o))
        return 1;
    struct mica_msg m = { qb, h, o.len, nh };
    struct mica_msg_buf b = { .bytes = rb, .bytes_cap = sizeof(rb) };
    int err = mica_channel_call(ch, &m, &b, now_ns() + BOUND);
    if (err)
        return err;
    if (idl_decode_header(rb, b.actual_bytes, true, &hd) || hd.txid != 1)
        return 2;
    return hd.status;
}

/* A read or a write through the stubs, with the grant h (which moves). */
static int req(mica_handle_t ch, uint32_t op, uint64_t sector,
               uint32_t count, mica_handle_t h)
{
    return op == BLK_OP_READ ? block_read(ch, sector, count, h)
                             : block_write(ch, sector, count, h);
}

/* A request with a fresh grant of [p, p + len) with `rights`. */
static int with_grant(mica_handle_t ch, uint32_t op, uint64_t sector,
                      uint32_t count, void *p, uint64_t len,
                      mica_rights_t rights)
{
    mica_handle_t g;
    int err = mica_grant_create(p, len, rights, &g);
    return err ? 1000 + err : req(ch, op, sector, count, g);
}

static void range_and_count_errors(mica_handle_t ch, uint32_t max)
{
    void *p = area + SLACK;
    uint64_t big = (uint64_t)(max + 1) * 512;
    UEXPECT(with_grant(ch, BLK_OP_READ, BLK_PAT_DISK_SECTORS, 1, p, 512,
                       RIGHT_WRITE) == ERR_OUT_OF_RANGE);
    UEXPECT(with_grant(ch, BLK_OP_READ, BLK_PAT_DISK_SECTORS - 1, 2, p, 1024,
                       RIGHT_WRITE) == ERR_OUT_OF_RANGE);
    UEXPECT(with_grant(ch, BLK_OP_READ, ~0ull, 1, p, 512, RIGHT_WRITE) ==
            ERR_OUT_OF_RANGE);
    UEXPECT(with_grant(ch, BLK_OP_WRITE, ~0ull - 1, 2, p, 1024, RIGHT_READ) ==
            ERR_OUT_OF_RANGE);
    UEXPECT(with_grant(ch, BLK_OP_READ, 0, 0, p, 512, RIGHT_WRITE) ==
            ERR_INVALID_ARGS);
    UEXPECT(with_grant(ch, BLK_OP_READ, 0, max + 1, area, big, RIGHT_WRITE) ==
            ERR_INVALID_ARGS);
}

/* Grants that are short, lack the access, are no grant or are dead;
 * memory that is not there.  Bad writes aim at sectors 0-3 with junk,
 * which must stay pattern A (here, and on the host afterwards). */
static void grant_errors(mica_handle_t ch)
{
    uint8_t *p = area + SLACK;
    mica_handle_t g, g2, g3, ev;
    memset(p, 0xee, 4096);
    UEXPECT(with_grant(ch, BLK_OP_READ, 8, 1, p, 511, RIGHT_WRITE) ==
            ERR_BUFFER_TOO_SMALL);
    UEXPECT(with_grant(ch, BLK_OP_WRITE, 0, 2, p, 1023, RIGHT_READ) ==
            ERR_BUFFER_TOO_SMALL);
    UEXPECT(with_grant(ch, BLK_OP_READ, 8, 1, p, 512, RIGHT_READ) ==
            ERR_ACCESS_DENIED);
    UEXPECT(with_grant(ch, BLK_OP_WRITE, 1, 1, p, 512, RIGHT_WRITE) ==
            ERR_ACCESS_DENIED);
    UASSERT(mica_event_create(0, &ev) == OK);
    UEXPECT(req(ch, BLK_OP_READ, 8, 1, ev) == ERR_WRONG_TYPE);
    /* a grant already carried by a call that has ended */
    UASSERT(mica_grant_create(p, 512, RIGHT_READ | RIGHT_WRITE, &g) == OK);
    UASSERT(mica_handle_duplicate(g, RIGHT_SAME_RIGHTS, &g2) == OK);
    UASSERT(mica_handle_duplicate(g, RIGHT_SAME_RIGHTS, &g3) == OK);
    UEXPECT(req(ch, BLK_OP_READ, 8, 1, g) == OK);
    UEXPECT(req(ch, BLK_OP_READ, 8, 1, g2) == ERR_BAD_STATE);
    UEXPECT(req(ch, BLK_OP_WRITE, 2, 1, g3) == ERR_BAD_STATE);
    /* memory that is not mapped, or not writable */
    mica_handle_t v;
    uint64_t addr = 0;
    UASSERT(mica_vmo_create(8192, &v) == OK);
    UASSERT(mica_vm_map(mica_process_self(), v, 0, 8192, MICA_VM_READ,
                        &addr) == OK);
    UEXPECT(with_grant(ch, BLK_OP_READ, 8, 1, (void *)addr, 512,
                       RIGHT_WRITE) == ERR_FAULT);
    UEXPECT(mica_vm_unmap(mica_process_self(), addr, 8192) == OK);
    UEXPECT(with_grant(ch, BLK_OP_READ, 8, 1, (void *)addr, 512,
                       RIGHT_WRITE) == ERR_FAULT);
    UEXPECT(with_grant(ch, BLK_OP_WRITE, 3, 1, (void *)addr, 512,
                       RIGHT_READ) == ERR_FAULT);
    mica_handle_close(v);
}

/* Messages of the wrong shape: what the decoder generated from
 * idl/block.idl refuses. */
static void shape_errors(mica_handle_t ch)
{
    uint8_t *p = area + SLACK;
    mica_handle_t g[2], ev;
    const struct idl_method *rd = &block_read_method;
    UEXPECT(raw(ch, rd, BLOCK_READ_ID, 8, 1, NULL, 0) == ERR_INVALID_ARGS);
    UASSERT(mica_grant_create(p, 512, RIGHT_WRITE, &g[0]) == OK);
    UASSERT(mica_grant_create(p + 512, 512, RIGHT_WRITE, &g[1]) == OK);
    UEXPECT(raw(ch, rd, BLOCK_READ_ID, 8, 1, g, 2) == ERR_INVALID_ARGS);
    UASSERT(mica_event_create(0, &ev) == OK);
    UEXPECT(raw(ch, &block_info_method, BLOCK_INFO_ID, 0, 0, &ev, 1) ==
            ERR_INVALID_ARGS);
    UEXPECT(raw(ch, &block_flush_method, BLOCK_FLUSH_ID, 0, 0, NULL, 0) ==
            OK);
    UEXPECT(raw(ch, &block_flush_method, 0, 0, 0, NULL, 0) ==
            ERR_NOT_SUPPORTED);
    UEXPECT(raw(ch, rd, 99, 8, 1, NULL, 0) == ERR_NOT_SUPPORTED);
    /* an INFO call cut short, or with bytes after it */
    static const uint32_t lens[] = { 0, 4, IDL_HEADER_SIZE - 1,
                                     IDL_HEADER_SIZE + 1,
                                     IDL_HEADER_SIZE + 8 };
    uint64_t bytes[8] = { 0 }, rb[8];
    struct idl_header h = { IDL_MAGIC, 0, 1, BLOCK_INFO_ID, OK, 0 };
    memcpy(bytes, &h, sizeof(h));
    for (unsigned k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        struct mica_msg m = { bytes, NULL, lens[k], 0 };
        struct mica_msg_buf b = { .bytes = rb, .bytes_cap = sizeof(rb) };
        UEXPECT(mica_channel_call(ch, &m, &b, now_ns() + BOUND) == OK &&
                b.actual_bytes == IDL_HEADER_SIZE &&
                ((struct idl_header *)rb)->status == ERR_INVALID_ARGS);
    }
    /* written, not called: dropped unanswered; the driver goes on */
    struct block_write_req w = { 0, 1, 1 };
    struct idl_out o = { .bytes = bytes, .cap = sizeof(bytes) };
    h.method = BLOCK_WRITE_ID;
    UASSERT(idl_encode(&block_write_method.request, &h, &w, &o) == OK);
    UASSERT(mica_grant_create(p, 512, RIGHT_READ, &g[0]) == OK);
    UEXPECT(mica_channel_write(ch, bytes, o.len, g, 1) == OK);
    struct block_info i;
    UEXPECT(block_info(ch, &i) == OK);
}

UTEST(blk_bad_requests)
{
    struct block_info i;
    struct mica_system_info before, after;
    mica_handle_t ch = disk();
    UASSERT(ch != 0 && block_info(ch, &i) == OK);
    mica_system_info(&before);
    range_and_count_errors(ch, i.max_sectors);
    grant_errors(ch);
    shape_errors(ch);
    /* the bad writes wrote nothing */
    uint8_t *buf = area + SLACK;
    UEXPECT(blk_read(ch, 0, 4, buf) == OK &&
            holds(buf, BLK_PAT_SEED_A, 0, 4));
    /* and the handles that went to the driver were closed there */
    mica_system_info(&after);
    UEXPECT(after.live_events == before.live_events);
}

/* --- drivers of the suite's own, on the scratch disk ------------------- */

static const void *fs;
static size_t fs_len;
static struct manifest pm, dm;
static struct service pci;

static bool map_bootfs(void)
{
    mica_handle_t v = mica_cap("bootfs", 0);
    uint64_t size = 0, addr = 0;
    if (fs)
        return true;
    if (!v || mica_vmo_get_size(v, &size) ||
        mica_vm_map(mica_process_self(), v, 0, size, MICA_VM_READ, &addr))
        return false;
    fs = (const void *)addr;
    fs_len = size;
    return true;
}

/* Start the last line of `text` and wait until it is ready. */
static int start_line(struct manifest *m, const char *text,
                      struct service *with_pci, struct service *s)
{
    char err[160];
    const char *why = "";
    if (!map_bootfs())
        return ERR_NOT_FOUND;
    if (manifest_parse(text, strlen(text), m, err, sizeof(err))) {
        printf("    # %s\n", err);
        return ERR_INVALID_ARGS;
    }
    const struct manifest_entry *last = &m->e[m->n - 1];
    struct service_set running = { with_pci, with_pci ? 1 : 0, NULL };
    int e = service_start(last, fs, fs_len, mica_resource_handle(), &running,
                          s, &why);
    if (!e && (e = service_wait_ready(s, now_ns() + BOUND)))
        service_stop(s);
    if (e)
        printf("    # cannot start %s: %s (%s)\n", last->name,
               mica_status_str(e), why);
    return e;
}

static void pci_down(void)
{
    service_stop(&pci);
}

static bool pci_up(void)
{
    static bool registered;
    if (pci.proc)
        return true;
    if (!registered)
        registered = atexit(pci_down) == 0;
    return start_line(&pm, PCI_LINE, NULL, &pci) == OK;
}

/* A driver of the scratch disk, ready, and a connection to it. */
static int scratch_up(struct service *s, mica_handle_t *ch)
{
    int err = pci_up() ? start_line(&dm, PCI_LINE SCRATCH_LINE, &pci, s)
                       : ERR_NOT_FOUND;
    if (!err && (err = service_connect(s, "blk", ch)))
        service_stop(s);
    return err;
}

UTEST(blk_read_only_device)
{
    struct service s;
    struct block_info i;
    mica_handle_t ch;
    uint8_t *buf = area + SLACK;
    UASSERT(scratch_up(&s, &ch) == OK);
    UEXPECT(block_info(ch, &i) == OK);
    UEXPECT(i.sectors == BLK_PAT_SCRATCH_SECTORS);
    UEXPECT(i.read_only);
    uint64_t last = i.sectors - 1;          /* gives an I/O error */
    for (uint64_t n, sec = 0; sec < last; sec += n) {
        n = last - sec < i.max_sectors ? last - sec : i.max_sectors;
        UASSERT(blk_read(ch, sec, (uint32_t)n, buf) == OK);
        UASSERT(holds(buf, BLK_PAT_SEED_SCRATCH, sec, (uint32_t)n));
    }
    UEXPECT(blk_read(ch, last, 1, buf) == ERR_IO);
    UEXPECT(blk_read(ch, last - 7, 8, buf) == ERR_IO);
    UEXPECT(blk_read(ch, last - 1, 1, buf) == OK);  /* and it goes on */
    UEXPECT(blk_write(ch, 0, 1, buf) == ERR_ACCESS_DENIED);
    UEXPECT(block_flush(ch) == OK);
    mica_handle_close(ch);
    service_stop(&s);
}

/* The scratch device's registers, mapped through a connection of the
 * suite's own to its function. */
struct regs {
    mica_handle_t vmo;
    uint64_t base, size;            /* the BAR's mapping */
    volatile uint8_t *common;       /* the common configuration */
};

static void unmap_regs(struct regs *r)
{
    if (r->base)
        mica_vm_unmap(mica_process_self(), r->base, r->size);
    if (r->vmo)
        mica_handle_close(r->vmo);
}

static bool scratch_regs(struct regs *r)
{
    mica_handle_t ch = 0;
    uint32_t p = 0, v = 0, bar = 0, off = 0;
    struct pci_bar b = { 0 };
    if (!pci_up() || service_connect(&pci, "pci=00:05.0", &ch))
        return false;
    pci_config_read(ch, 0, 0x34, 1, &p);
    for (int n = 0; p >= 0x40 && n < 48; n++) {
        pci_config_read(ch, 0, p, 4, &v);
        if ((v & 0xff) == 0x09 && (v >> 24) == 1) {     /* common cfg */
            pci_config_read(ch, 0, p + 4, 1, &bar);
            pci_config_read(ch, 0, p + 8, 4, &off);
            break;
        }
        p = (v >> 8) & 0xfc;
    }
    *r = (struct regs){ 0 };
    int err = p >= 0x40 ? pci_bar(ch, 0, bar, &r->vmo, &b) : ERR_NOT_FOUND;
    mica_handle_close(ch);
    if (!err && (err = mica_vm_map(mica_process_self(), r->vmo, 0, b.size,
                                   MICA_VM_READ | MICA_VM_WRITE, &r->base)))
        r->base = 0;
    r->size = b.size;
    r->common = (volatile uint8_t *)r->base + off;
    return !err && off + 0x38 <= b.size;
}

/* The client: a native thread reading the whole scratch disk over and
 * over until a read fails. */
static volatile int client_reads, client_bad, client_err;
static char client_stack[16384] __attribute__((aligned(16)));
static uint8_t client_buf[128 * 512], client_want[128 * 512];

static void client(uint64_t ch, uint64_t count)
{
    int err;
    while ((err = blk_read((mica_handle_t)ch, 0, (uint32_t)count,
                           client_buf)) == OK) {
        client_bad += memcmp(client_buf, client_want, count * 512) != 0;
        client_reads++;
    }
    client_err = err;
    mica_thread_exit();
}

static bool wait_until(volatile int *v, int at_least)
{
    uint64_t end = now_ns() + BOUND;
    while (*v < at_least && now_ns() < end)
        mica_nanosleep(now_ns() + 1000000);
    return *v >= at_least;
}

static bool wait_blocked(mica_handle_t t)
{
    struct mica_thread_info ti = { 0 };
    uint64_t end = now_ns() + BOUND;
    while (mica_thread_info(t, &ti) == OK &&
           ti.state != MICA_THREAD_STATE_BLOCKED && now_ns() < end)
        mica_nanosleep(now_ns() + 1000000);
    return ti.state == MICA_THREAD_STATE_BLOCKED;
}

/* The driver dies while a client is in a read: the device is reset
 * first (through the suite's own mapping of its registers: QEMU's reset
 * finishes what is in flight, and then the device touches no memory),
 * so the read can never finish; the kill must end it with
 * ERR_PEER_CLOSED.  A new driver then brings the device back.  (When
 * the reset's last completion interrupted the driver just before it
 * died, the kernel answers for it, and the log says every holder of the
 * line said not mine: the dead driver is the holder.) */
UTEST(blk_driver_killed_while_client_reads)
{
    struct service s;
    struct block_info i;
    struct regs regs;
    mica_handle_t ch, t;
    uint32_t count = 0;
    UASSERT(scratch_up(&s, &ch) == OK);
    UASSERT(block_info(ch, &i) == OK);
    count = i.max_sectors < 128 ? i.max_sectors : 128;
    blk_pattern(BLK_PAT_SEED_SCRATCH, 0, count, client_want);
    UASSERT(scratch_regs(&regs));
    volatile uint8_t *common = regs.common;
    client_reads = client_bad = client_err = 0;
    UASSERT(mica_thread_create(mica_process_self(), "client", 6, &t) == OK);
    UASSERT(mica_thread_start(t, (uint64_t)client,
                              (uint64_t)(client_stack + sizeof(client_stack) -
                                         8),
                              ch, count) == OK);
    UEXPECT(wait_until(&client_reads, 3));
    common[0x14] = 0;                   /* device_status: reset */
    for (uint64_t end = now_ns() + BOUND; common[0x14] && now_ns() < end;)
        ;
    UEXPECT(common[0x14] == 0);
    UEXPECT(wait_blocked(t));           /* in a read that cannot end */
    UEXPECT(mica_process_kill(s.proc, -1) == OK);
    UEXPECT(mica_object_wait_one(t, SIGNAL_TERMINATED, now_ns() + BOUND,
                                 NULL) == OK);
    UEXPECT(client_err == ERR_PEER_CLOSED);
    UEXPECT(client_bad == 0 && client_reads >= 3);
    mica_handle_close(t);
    mica_handle_close(ch);
    service_stop(&s);
    unmap_regs(&regs);
    /* a new driver resets the device and serves again */
    UASSERT(scratch_up(&s, &ch) == OK);
    UEXPECT(blk_read(ch, 0, count, client_buf) == OK);
    UEXPECT(memcmp(client_buf, client_want, count * 512) == 0);
    mica_handle_close(ch);
    service_stop(&s);
}

/* Nothing more alive, no fewer free pages (see test_services.c). */
static bool no_more(const struct mica_system_info *now,
                    const struct mica_system_info *before)
{
    return now->free_pages >= before->free_pages &&
           now->live_processes <= before->live_processes &&
           now->live_threads <= before->live_threads &&
           now->live_vmos <= before->live_vmos &&
           now->live_channels <= before->live_channels &&
           now->live_ports <= before->live_ports;
}

static void settle(struct mica_system_info *now,
                   const struct mica_system_info *before)
{
    uint64_t end = now_ns() + BOUND;
    for (;;) {
        mica_system_info(now);
        if (no_more(now, before) || now_ns() > end)
            return;
        mica_nanosleep(now_ns() + 10000000);
    }
}

/* The counts once no more processes and threads live than at `start`. */
static void quiesce(struct mica_system_info *now,
                    const struct mica_system_info *start)
{
    uint64_t end = now_ns() + BOUND;
    for (;;) {
        mica_system_info(now);
        if ((now->live_processes <= start->live_processes &&
             now->live_threads <= start->live_threads) ||
            now_ns() > end)
            return;
        mica_nanosleep(now_ns() + 10000000);
    }
}

static void print_counts(const char *what, const struct mica_system_info *i)
{
    printf("    # %s: free pages %llu, processes %llu, threads %llu, vmos "
           "%llu, channels %llu, ports %llu\n", what,
           (unsigned long long)i->free_pages,
           (unsigned long long)i->live_processes,
           (unsigned long long)i->live_threads,
           (unsigned long long)i->live_vmos,
           (unsigned long long)i->live_channels,
           (unsigned long long)i->live_ports);
}

/* Drivers started, used and stopped, killed mid-request or not, leave
 * the counts and the free pages as they were (the first round may grow
 * this process's own memory). */
UTEST(blk_drivers_come_and_go_without_leaks)
{
    struct mica_system_info first, before, after;
    uint8_t *buf = area + SLACK;
    UASSERT(pci_up());
    mica_system_info(&first);
    for (int round = 0; round < 4; round++) {
        struct service s;
        mica_handle_t ch;
        if (round == 1)
            quiesce(&before, &first);
        UASSERT(scratch_up(&s, &ch) == OK);
        UEXPECT(blk_read(ch, 16, 8, buf) == OK &&
                holds(buf, BLK_PAT_SEED_SCRATCH, 16, 8));
        if (round % 2)
            mica_handle_close(ch);      /* the driver sees it go */
        service_stop(&s);
        if (!(round % 2))
            mica_handle_close(ch);
    }
    settle(&after, &before);
    if (!no_more(&after, &before)) {
        print_counts("before", &before);
        print_counts("after", &after);
    }
    UEXPECT(no_more(&after, &before));
}
