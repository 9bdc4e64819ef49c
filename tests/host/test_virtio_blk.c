/*
 * test_virtio_blk.c - host tests of the virtio-blk driver's portable
 * parts (user/drivers/virtio-blk: virtq.c, vpci.c, blk.c).
 *
 * The split virtqueue runs against a fake device that does what the
 * specification says a device does: it takes the chains the driver made
 * available, checks each descriptor, and gives them back through the
 * used ring, in an order of its choosing.  The capability walk runs
 * against a fake configuration space; the queue set-up against common
 * configuration registers that are plain memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <mica/errors.h>

#include "blk.h"
#include "virtio.h"
#include "virtq.h"
#include "vpci.h"

/* --- the virtqueue against a fake device ------------------------------ */

#define QSIZE 16
#define PA 0x100000ull      /* where the driver says the rings are */

static uint8_t ring_mem[3 * 4096] __attribute__((aligned(4096)));
static struct virtq q;

/* The fake device's view: its own index into the available ring, and
 * the chains it has taken but not given back. */
static uint16_t dev_avail;
static uint16_t taken[QSIZE];
static unsigned ntaken;

static void *dev_ptr(uint64_t pa)
{
    return ring_mem + (pa - PA);
}

/* Take every new chain; check its shape: `nbufs` descriptors, the
 * device-written ones after the others. */
static void device_take(unsigned nbufs)
{
    struct virtq_avail *a = dev_ptr(q.avail_pa);
    struct virtq_desc *d = dev_ptr(q.desc_pa);
    while (dev_avail != a->idx) {
        uint16_t head = a->ring[dev_avail % QSIZE], i = head;
        unsigned n = 1;
        bool writing = false;
        for (;; n++) {
            assert_true(i < QSIZE);
            if (d[i].flags & VIRTQ_DESC_F_WRITE)
                writing = true;
            else
                assert_false(writing);
            if (!(d[i].flags & VIRTQ_DESC_F_NEXT))
                break;
            i = d[i].next;
        }
        assert_int_equal(n, nbufs);
        taken[ntaken++] = head;
        dev_avail++;
    }
}

/* Give back the chain taken k-th, saying `len` bytes were written. */
static void device_give(unsigned k, uint32_t len)
{
    struct virtq_used *u = dev_ptr(q.used_pa);
    u->ring[u->idx % QSIZE] = (struct virtq_used_elem){ taken[k], len };
    u->idx++;
    taken[k] = taken[--ntaken];
}

static int setup_queue(void **state)
{
    (void)state;
    memset(ring_mem, 0, sizeof(ring_mem));
    dev_avail = 0;
    ntaken = 0;
    virtq_init(&q, QSIZE, ring_mem, PA);
    return 0;
}

static void test_layout(void **state)
{
    (void)state;
    struct virtq_layout l;
    assert_int_equal(virtq_layout(128, &l), 0);
    assert_int_equal(l.desc, 0);
    assert_int_equal(l.avail, 2048);
    assert_int_equal(l.used, 4096);                 /* its own page */
    assert_int_equal(l.total, 8192);
    assert_int_equal(virtq_layout(256, &l), 0);
    assert_true(l.used >= l.avail + 4 + 2 * 256 + 2);
    assert_int_equal(virtq_layout(0, &l), -1);
    assert_int_equal(virtq_layout(12, &l), -1);     /* not a power of two */
    assert_int_equal(virtq_layout(512, &l), -1);    /* above the maximum */
    assert_int_equal(q.desc_pa, PA);
    assert_int_equal(q.used_pa, PA + 4096);
}

static void add3(uint64_t tag, uint16_t *head)
{
    struct virtq_buf b[3] = {
        { tag, 16, false }, { tag + 16, 512, true }, { tag + 600, 1, true },
    };
    assert_int_equal(virtq_add(&q, b, 3, head), 0);
}

static void test_chains_out_of_order(void **state)
{
    (void)state;
    uint16_t h[5], head;
    uint32_t len;
    for (int i = 0; i < 5; i++)
        add3(0x1000 * (uint64_t)i, &h[i]);
    assert_int_equal(q.nfree, QSIZE - 15);
    /* no room for two more descriptors than are free */
    struct virtq_buf big[2] = { { 0, 1, false }, { 0, 1, true } };
    assert_int_equal(virtq_add(&q, big, 2, &head), -1);
    assert_int_equal(virtq_add(&q, big, 0, &head), -1);
    assert_int_equal(q.nfree, QSIZE - 15);
    /* the descriptors say what was asked */
    struct virtq_desc *d = dev_ptr(q.desc_pa);
    assert_int_equal(d[h[2]].addr, 0x2000);
    assert_int_equal(d[h[2]].len, 16);
    uint16_t d1 = d[h[2]].next, d2 = d[d1].next;
    assert_int_equal(d[h[2]].flags, VIRTQ_DESC_F_NEXT);
    assert_int_equal(d[d1].len, 512);
    assert_int_equal(d[d1].addr, 0x2010);
    assert_int_equal(d[d1].flags, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE);
    assert_int_equal(d[d2].flags, VIRTQ_DESC_F_WRITE);
    assert_int_equal(d[d2].len, 1);
    device_take(3);
    assert_int_equal(ntaken, 5);
    assert_int_equal(virtq_get_used(&q, &head, &len), 0);   /* none yet */
    device_give(3, 513);
    device_give(0, 1);
    assert_int_equal(virtq_get_used(&q, &head, &len), 1);
    assert_int_equal(head, h[3]);
    assert_int_equal(len, 513);
    assert_int_equal(virtq_get_used(&q, &head, &len), 1);
    assert_int_equal(head, h[0]);
    assert_int_equal(virtq_get_used(&q, &head, &len), 0);
    assert_int_equal(q.nfree, QSIZE - 9);
    while (ntaken)
        device_give(0, 0);
    while (virtq_get_used(&q, &head, &len) == 1)
        ;
    assert_int_equal(q.nfree, QSIZE);
    assert_false(virtq_busy(&q));
}

/* Many times round both rings (the 16-bit indices wrap too): every
 * chain comes back and every descriptor is free at the end. */
static void test_wraps(void **state)
{
    (void)state;
    uint16_t head;
    uint32_t len;
    for (unsigned round = 0; round < 70000; round++) {
        add3(round, &head);
        if (round % 3 == 0)
            add3(round + 7, &head);
        device_take(3);
        while (ntaken)
            device_give(ntaken - 1, 1);
        unsigned got = 0;
        while (virtq_get_used(&q, &head, &len) == 1)
            got++;
        assert_true(got == 1 || got == 2);
        assert_int_equal(q.nfree, QSIZE);
    }
}

static void test_bad_used_and_notify(void **state)
{
    (void)state;
    uint16_t head;
    uint32_t len;
    struct virtq_used *u = dev_ptr(q.used_pa);
    assert_true(virtq_should_notify(&q));
    u->flags = VIRTQ_USED_F_NO_NOTIFY;
    assert_false(virtq_should_notify(&q));
    /* a head that is not in flight, then one out of range */
    u->ring[0] = (struct virtq_used_elem){ 3, 0 };
    u->idx = 1;
    assert_int_equal(virtq_get_used(&q, &head, &len), -1);
    u->ring[0].id = QSIZE + 5;
    assert_int_equal(virtq_get_used(&q, &head, &len), -1);
    assert_int_equal(q.nfree, QSIZE);
}

/* --- the capability walk ---------------------------------------------- */

static uint8_t cfg[256];

static uint32_t cfg_rd(void *ctx, unsigned off, unsigned w)
{
    (void)ctx;
    assert_true(off % w == 0 && off + w <= 256);
    uint32_t v = 0;
    for (unsigned i = 0; i < w; i++)
        v |= (uint32_t)cfg[off + i] << (8 * i);
    return v;
}

static void put32(unsigned off, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        cfg[off + i] = (uint8_t)(v >> (8 * i));
}

/* A vendor capability at p of `type`, next at `next`. */
static void vcap(unsigned p, unsigned next, unsigned type, unsigned bar,
                 uint32_t off, uint32_t len)
{
    cfg[p] = PCI_CAP_VENDOR;
    cfg[p + 1] = (uint8_t)next;
    cfg[p + 2] = type == VIRTIO_PCI_CAP_NOTIFY ? 20 : 16;
    cfg[p + VCAP_TYPE] = (uint8_t)type;
    cfg[p + VCAP_BAR] = (uint8_t)bar;
    put32(p + VCAP_OFFSET, off);
    put32(p + VCAP_LENGTH, len);
}

/* What QEMU's modern virtio-blk-pci has: MSI-X, then the vendor
 * capabilities (a PCI-configuration-access one among them). */
static void qemu_like(void)
{
    memset(cfg, 0, sizeof(cfg));
    cfg[0x06] = 0x10;                   /* a capability list */
    cfg[0x34] = 0x98;
    cfg[0x98] = 0x11;                   /* MSI-X */
    cfg[0x99] = 0x84;
    vcap(0x84, 0x70, 5, 0, 0, 0);       /* PCI configuration access */
    vcap(0x70, 0x60, VIRTIO_PCI_CAP_NOTIFY, 4, 0x3000, 0x1000);
    put32(0x70 + VCAP_NOTIFY_MULT, 4);
    vcap(0x60, 0x50, VIRTIO_PCI_CAP_DEVICE, 4, 0x2000, 0x1000);
    vcap(0x50, 0x40, VIRTIO_PCI_CAP_ISR, 4, 0x1000, 0x1000);
    vcap(0x40, 0x00, VIRTIO_PCI_CAP_COMMON, 4, 0x0000, 0x1000);
}

static void test_find(void **state)
{
    (void)state;
    struct vpci_caps c;
    qemu_like();
    assert_int_equal(vpci_find(cfg_rd, NULL, &c), 0);
    assert_true(c.common.present && c.common.bar == 4);
    assert_int_equal(c.common.offset, 0);
    assert_int_equal(c.isr.offset, 0x1000);
    assert_int_equal(c.device.offset, 0x2000);
    assert_int_equal(c.notify.offset, 0x3000);
    assert_int_equal(c.notify_mult, 4);
    /* the first of a type wins: a second common structure is ignored */
    vcap(0xa0, 0, VIRTIO_PCI_CAP_COMMON, 2, 0x8000, 0x1000);
    cfg[0x41] = 0xa0;
    assert_int_equal(vpci_find(cfg_rd, NULL, &c), 0);
    assert_int_equal(c.common.bar, 4);
    /* a BAR above 5, or a common structure too short, is no structure */
    qemu_like();
    cfg[0x40 + VCAP_BAR] = 6;
    assert_int_equal(vpci_find(cfg_rd, NULL, &c), -1);
    qemu_like();
    put32(0x40 + VCAP_LENGTH, VC_COMMON_MIN_LEN - 1);
    assert_int_equal(vpci_find(cfg_rd, NULL, &c), -1);
    /* no ISR structure: a legacy-only device */
    qemu_like();
    cfg[0x60 + 1] = 0x40;
    assert_int_equal(vpci_find(cfg_rd, NULL, &c), -1);
    /* no capability list at all */
    qemu_like();
    cfg[0x06] = 0;
    assert_int_equal(vpci_find(cfg_rd, NULL, &c), -1);
    /* a list that loops ends (here before the common structure) */
    qemu_like();
    cfg[0x51] = 0x98;
    assert_int_equal(vpci_find(cfg_rd, NULL, &c), -1);
}

/* Queue set-up on common configuration registers that are plain memory
 * (what the device does with them is QEMU's, in-system). */
static uint8_t common[0x100], notify[0x100];

static void test_queue_setup(void **state)
{
    (void)state;
    struct vpci_dev d = { .common = common, .notify = notify,
                          .notify_mult = 4, .notify_len = sizeof(notify) };
    volatile uint16_t *nt;
    memset(common, 0, sizeof(common));
    common[VC_NUM_QUEUES] = 1;
    common[VC_QUEUE_SIZE] = 128;
    common[VC_QUEUE_NOTIFY_OFF] = 3;
    assert_int_equal(vpci_queue_max(&d, 0), 128);
    assert_int_equal(vpci_queue_max(&d, 1), 0);         /* no such queue */
    assert_int_equal(vpci_queue_setup(&d, 0, 64, 0x1122334455667788ull,
                                      0x2000, 0x3000, 0, &nt), 0);
    uint64_t desc;
    memcpy(&desc, common + VC_QUEUE_DESC, 8);
    assert_int_equal(desc, 0x1122334455667788ull);
    assert_int_equal(common[VC_QUEUE_DEVICE + 1], 0x30);
    assert_int_equal(common[VC_QUEUE_SIZE], 64);
    assert_int_equal(common[VC_QUEUE_ENABLE], 1);
    assert_ptr_equal(nt, notify + 12);
    /* too big for the queue; a notify address past the structure */
    common[VC_QUEUE_SIZE] = 128;
    assert_int_equal(vpci_queue_setup(&d, 0, 256, 0, 0, 0, 0, &nt), -1);
    d.notify_len = 12;
    assert_int_equal(vpci_queue_setup(&d, 0, 64, 0, 0, 0, 0, &nt), -1);
}

/* --- the protocol's rules and the chains -------------------------------- */

static const struct blk_dev dev = { .sectors = 1000, .max_sectors = 128,
                                    .read_only = false, .flush = true };

static int check(uint32_t op, uint64_t sector, uint32_t count)
{
    return blk_check(&dev, op, sector, count);
}

/* The message's shape and the handle are the decoder's (test_idl.c);
 * these are the driver's own rules. */
static void test_check(void **state)
{
    (void)state;
    assert_int_equal(check(BLK_OP_READ, 0, 1), OK);
    assert_int_equal(check(BLK_OP_READ, 0, 0), ERR_INVALID_ARGS);
    assert_int_equal(check(BLK_OP_READ, 0, 129), ERR_INVALID_ARGS);
    assert_int_equal(check(BLK_OP_READ, 0, 128), OK);
    assert_int_equal(check(BLK_OP_READ, 999, 1), OK);
    assert_int_equal(check(BLK_OP_READ, 999, 2), ERR_OUT_OF_RANGE);
    assert_int_equal(check(BLK_OP_READ, 1000, 1), ERR_OUT_OF_RANGE);
    assert_int_equal(check(BLK_OP_WRITE, ~0ull, 1), ERR_OUT_OF_RANGE);
    assert_int_equal(check(BLK_OP_WRITE, ~0ull - 1, 3), ERR_OUT_OF_RANGE);
    /* the count comes before the range */
    assert_int_equal(check(BLK_OP_READ, 5000, 0), ERR_INVALID_ARGS);
    struct blk_dev ro = dev;
    ro.read_only = true;
    assert_int_equal(blk_check(&ro, BLK_OP_WRITE, 1, 1), ERR_ACCESS_DENIED);
    assert_int_equal(blk_check(&ro, BLK_OP_READ, 1, 1), OK);
    /* the range comes before the protection */
    assert_int_equal(blk_check(&ro, BLK_OP_WRITE, 5000, 1), ERR_OUT_OF_RANGE);
}

static void test_errors(void **state)
{
    (void)state;
    assert_int_equal(blk_grant_error(OK), OK);
    assert_int_equal(blk_grant_error(ERR_OUT_OF_RANGE), ERR_BUFFER_TOO_SMALL);
    assert_int_equal(blk_grant_error(ERR_ACCESS_DENIED), ERR_ACCESS_DENIED);
    assert_int_equal(blk_grant_error(ERR_FAULT), ERR_FAULT);
    assert_int_equal(blk_device_status(VIRTIO_BLK_S_OK), OK);
    assert_int_equal(blk_device_status(VIRTIO_BLK_S_IOERR), ERR_IO);
    assert_int_equal(blk_device_status(VIRTIO_BLK_S_UNSUPP),
                     ERR_NOT_SUPPORTED);
    assert_int_equal(blk_device_status(0xff), ERR_IO);   /* never written */
}

static void test_limits_and_chains(void **state)
{
    (void)state;
    struct virtq_buf b[12];
    assert_int_equal(blk_max_sectors(65536, 0, 0, 8), 128);
    assert_int_equal(blk_max_sectors(65536, 4096, 0, 8), 64);
    assert_int_equal(blk_max_sectors(65536, 4096, 2, 8), 16);
    assert_int_equal(blk_max_sectors(65536, 1000, 254, 8), 15);
    assert_int_equal(blk_max_sectors(65536, 0, 1, 8), 128);
    assert_int_equal(blk_max_sectors(65536, 100, 1, 8), 0);
    unsigned n = blk_chain(BLK_OP_READ, 0x1000, 0x8000, 4096, 0, 0x1010, b);
    assert_int_equal(n, 3);
    assert_true(!b[0].device_writes && b[0].len == 16 && b[0].addr == 0x1000);
    assert_true(b[1].device_writes && b[1].len == 4096 && b[1].addr == 0x8000);
    assert_true(b[2].device_writes && b[2].len == 1 && b[2].addr == 0x1010);
    /* a write in pieces of at most size_max; the device reads them */
    n = blk_chain(BLK_OP_WRITE, 0x1000, 0x8000, 15 * 512, 1000, 0x1010, b);
    assert_int_equal(n, 2 + 8);
    uint32_t sum = 0;
    for (unsigned i = 1; i + 1 < n; i++) {
        assert_false(b[i].device_writes);
        assert_true(b[i].len <= 1000);
        assert_int_equal(b[i].addr, 0x8000 + sum);
        sum += b[i].len;
    }
    assert_int_equal(sum, 15 * 512);
    n = blk_chain(BLK_OP_FLUSH, 0x1000, 0x8000, 0, 0, 0x1010, b);
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_layout, setup_queue),
        cmocka_unit_test_setup(test_chains_out_of_order, setup_queue),
        cmocka_unit_test_setup(test_wraps, setup_queue),
        cmocka_unit_test_setup(test_bad_used_and_notify, setup_queue),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_queue_setup),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits_and_chains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
