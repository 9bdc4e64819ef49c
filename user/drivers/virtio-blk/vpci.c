/*
 * vpci.c - the virtio PCI transport (vpci.h).
 *
 * Bringing a device up follows section 3.1.1 of the specification:
 * reset, ACKNOWLEDGE, DRIVER, read the features, write the subset taken,
 * FEATURES_OK and check it stuck, set the queues up, DRIVER_OK (the
 * caller's last step).  Waits on the device are bounded by a number of
 * reads: a device that never answers is a broken device, not a reason
 * to hang.
 */
#include "virtio.h"
#include "vpci.h"

#define PCI_STATUS      0x06
#define PCI_STATUS_CAPS (1u << 4)
#define PCI_CAP_PTR     0x34
#define MAX_CAPS        48              /* 192 bytes / 4: a loop bound */
#define SPIN_READS      1000000

static uint8_t r8(volatile uint8_t *b, unsigned off)
{
    return *(volatile uint8_t *)(b + off);
}
static uint16_t r16(volatile uint8_t *b, unsigned off)
{
    return *(volatile uint16_t *)(b + off);
}
static uint32_t r32(volatile uint8_t *b, unsigned off)
{
    return *(volatile uint32_t *)(b + off);
}
static void w8(volatile uint8_t *b, unsigned off, uint8_t v)
{
    *(volatile uint8_t *)(b + off) = v;
}
static void w16(volatile uint8_t *b, unsigned off, uint16_t v)
{
    *(volatile uint16_t *)(b + off) = v;
}
static void w32(volatile uint8_t *b, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(b + off) = v;
}
/* A 64-bit field as two 32-bit writes, low half first (4.1.3.1). */
static void w64(volatile uint8_t *b, unsigned off, uint64_t v)
{
    w32(b, off, (uint32_t)v);
    w32(b, off + 4, (uint32_t)(v >> 32));
}

/* One vendor capability at p into *out, unless that type is known. */
static void take_cap(vpci_cfg_read rd, void *ctx, unsigned p,
                     struct vpci_caps *out)
{
    unsigned type = rd(ctx, p + VCAP_TYPE, 1), len = rd(ctx, p + 2, 1);
    struct vpci_region r = {
        .present = true,
        .bar = (uint8_t)rd(ctx, p + VCAP_BAR, 1),
        .offset = rd(ctx, p + VCAP_OFFSET, 4),
        .length = rd(ctx, p + VCAP_LENGTH, 4),
    };
    if (len < 16 || r.bar > 5)
        return;
    switch (type) {
    case VIRTIO_PCI_CAP_COMMON:
        if (!out->common.present && r.length >= VC_COMMON_MIN_LEN)
            out->common = r;
        break;
    case VIRTIO_PCI_CAP_NOTIFY:
        if (!out->notify.present && len >= 20 && r.length >= 2) {
            out->notify = r;
            out->notify_mult = rd(ctx, p + VCAP_NOTIFY_MULT, 4);
        }
        break;
    case VIRTIO_PCI_CAP_ISR:
        if (!out->isr.present)
            out->isr = r;
        break;
    case VIRTIO_PCI_CAP_DEVICE:
        if (!out->device.present)
            out->device = r;
        break;
    }
}

int vpci_find(vpci_cfg_read rd, void *ctx, struct vpci_caps *out)
{
    *out = (struct vpci_caps){ 0 };
    if (!(rd(ctx, PCI_STATUS, 2) & PCI_STATUS_CAPS))
        return -1;
    unsigned p = rd(ctx, PCI_CAP_PTR, 1) & 0xfc;
    for (int n = 0; p >= 0x40 && p <= 0xfc && n < MAX_CAPS; n++) {
        if (rd(ctx, p, 1) == PCI_CAP_VENDOR && p + 20 <= 256)
            take_cap(rd, ctx, p, out);
        p = rd(ctx, p + 1, 1) & 0xfc;
    }
    return out->common.present && out->notify.present &&
                   out->isr.present && out->device.present
               ? 0
               : -1;
}

uint8_t vpci_status(struct vpci_dev *d)
{
    return r8(d->common, VC_DEVICE_STATUS);
}

void vpci_set_status(struct vpci_dev *d, uint8_t bits)
{
    w8(d->common, VC_DEVICE_STATUS, (uint8_t)(vpci_status(d) | bits));
}

int vpci_reset(struct vpci_dev *d)
{
    w8(d->common, VC_DEVICE_STATUS, 0);
    int n = 0;
    while (vpci_status(d) != 0)
        if (++n == SPIN_READS)
            return -1;
    vpci_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
    vpci_set_status(d, VIRTIO_STATUS_DRIVER);
    return 0;
}

int vpci_negotiate(struct vpci_dev *d, uint64_t want, uint64_t *got)
{
    uint64_t offered = 0;
    for (uint32_t sel = 0; sel < 2; sel++) {
        w32(d->common, VC_DEVICE_FEATURE_SEL, sel);
        offered |= (uint64_t)r32(d->common, VC_DEVICE_FEATURE) << (32 * sel);
    }
    uint64_t take = offered & want;
    if (!(take & (1ull << VIRTIO_F_VERSION_1))) {
        vpci_set_status(d, VIRTIO_STATUS_FAILED);
        return -1;
    }
    for (uint32_t sel = 0; sel < 2; sel++) {
        w32(d->common, VC_DRIVER_FEATURE_SEL, sel);
        w32(d->common, VC_DRIVER_FEATURE, (uint32_t)(take >> (32 * sel)));
    }
    vpci_set_status(d, VIRTIO_STATUS_FEATURES_OK);
    if (!(vpci_status(d) & VIRTIO_STATUS_FEATURES_OK)) {
        vpci_set_status(d, VIRTIO_STATUS_FAILED);
        return -1;
    }
    *got = take;
    return 0;
}

uint16_t vpci_queue_max(struct vpci_dev *d, uint16_t index)
{
    if (index >= r16(d->common, VC_NUM_QUEUES))
        return 0;
    w16(d->common, VC_QUEUE_SELECT, index);
    return r16(d->common, VC_QUEUE_SIZE);
}

int vpci_queue_setup(struct vpci_dev *d, uint16_t index, uint16_t size,
                     uint64_t desc, uint64_t avail, uint64_t used,
                     uint16_t vector, volatile uint16_t **notify)
{
    uint16_t max = vpci_queue_max(d, index);
    if (max == 0 || size > max)
        return -1;
    w16(d->common, VC_QUEUE_SIZE, size);
    w64(d->common, VC_QUEUE_DESC, desc);
    w64(d->common, VC_QUEUE_DRIVER, avail);
    w64(d->common, VC_QUEUE_DEVICE, used);
    w16(d->common, VC_QUEUE_MSIX_VECTOR, vector);
    if (r16(d->common, VC_QUEUE_MSIX_VECTOR) != vector)
        return -1;                      /* no room for the vector */
    uint64_t off = (uint64_t)r16(d->common, VC_QUEUE_NOTIFY_OFF) *
                   d->notify_mult;
    if (off + 2 > d->notify_len)
        return -1;
    *notify = (volatile uint16_t *)(d->notify + off);
    w16(d->common, VC_QUEUE_ENABLE, 1);
    return 0;
}

int vpci_config_vector(struct vpci_dev *d, uint16_t vector)
{
    w16(d->common, VC_MSIX_CONFIG, vector);
    return r16(d->common, VC_MSIX_CONFIG) == vector ? 0 : -1;
}

uint64_t vpci_device_read(struct vpci_dev *d, unsigned off, unsigned width)
{
    uint64_t v;
    uint8_t gen;
    do {
        gen = r8(d->common, VC_CONFIG_GENERATION);
        switch (width) {
        case 1: v = r8(d->device, off); break;
        case 2: v = r16(d->device, off); break;
        case 4: v = r32(d->device, off); break;
        default:
            v = r32(d->device, off) |
                (uint64_t)r32(d->device, off + 4) << 32;
        }
    } while (gen != r8(d->common, VC_CONFIG_GENERATION));
    return v;
}
