/*
 * vpci.h - the virtio PCI transport (virtio 1.x, section 4.1): where a
 * device's structures are, and bringing a device up through them.
 *
 * A modern virtio device describes each of its structures (common
 * configuration, notifications, ISR status, device configuration) with
 * a vendor-specific PCI capability naming a BAR, an offset and a length.
 * vpci_find reads them through a configuration-space reader, so it runs
 * on the host against a fake (tests/host/test_virtio_blk.c).  The rest
 * works on the mapped structures (struct vpci_dev): volatile accesses of
 * each field's own width, as the specification asks.
 */
#ifndef MICA_VPCI_H
#define MICA_VPCI_H

#include <stdbool.h>
#include <stdint.h>

/* A reader of the function's configuration space (1, 2 or 4 bytes at an
 * offset aligned to it); 0xffffffff-style all ones when it cannot read. */
typedef uint32_t (*vpci_cfg_read)(void *ctx, unsigned off, unsigned width);

struct vpci_region {
    bool present;
    uint8_t bar;
    uint32_t offset, length;
};

struct vpci_caps {
    struct vpci_region common, notify, isr, device;
    uint32_t notify_mult;       /* notify_off_multiplier */
};

/* Find the four structures: 0, or -1 when the function has no
 * capability list or lacks one of common, notify, ISR or device
 * configuration (a legacy-only device).  The first capability of each
 * type wins, as the specification asks; a BAR above 5, or a common or
 * notify structure too short, counts as absent. */
int vpci_find(vpci_cfg_read rd, void *ctx, struct vpci_caps *out);

/* The structures, mapped. */
struct vpci_dev {
    volatile uint8_t *common;
    volatile uint8_t *notify;   /* the notify structure's start */
    volatile uint8_t *isr;
    volatile uint8_t *device;
    uint32_t notify_mult;
    uint32_t notify_len;        /* the notify structure's length */
};

/* Reset the device and wait (bounded) until it says so; then
 * ACKNOWLEDGE and DRIVER.  0, or -1 if it never reads back 0. */
int vpci_reset(struct vpci_dev *d);

/* Offer the features the driver takes from what the device offers
 * (`want`), which must include VIRTIO_F_VERSION_1: 0 with *got set and
 * FEATURES_OK accepted, or -1 (the device lacks VERSION_1, or refused:
 * the status is then FAILED). */
int vpci_negotiate(struct vpci_dev *d, uint64_t want, uint64_t *got);

/* Set queue `index` up with `size` entries at the given physical
 * addresses, its interrupts to MSI-X entry `vector` (or
 * VIRTIO_MSI_NO_VECTOR); *notify is where to write to notify it.  0, or
 * -1 when the queue does not exist, is too small for `size`, its notify
 * address lies outside the notify structure, or the device refused the
 * vector. */
int vpci_queue_setup(struct vpci_dev *d, uint16_t index, uint16_t size,
                     uint64_t desc, uint64_t avail, uint64_t used,
                     uint16_t vector, volatile uint16_t **notify);

/* The largest queue `index` can have (0: none). */
uint16_t vpci_queue_max(struct vpci_dev *d, uint16_t index);

/* Configuration-change interrupts to MSI-X entry `vector` (or none);
 * 0, or -1 if the device refused it. */
int vpci_config_vector(struct vpci_dev *d, uint16_t vector);

void vpci_set_status(struct vpci_dev *d, uint8_t bits);     /* ORed in */
uint8_t vpci_status(struct vpci_dev *d);

/* A consistent read of `width` bytes of the device configuration at
 * `off` (a 64-bit field is read twice over if the configuration
 * generation changes meanwhile). */
uint64_t vpci_device_read(struct vpci_dev *d, unsigned off, unsigned width);

#endif
