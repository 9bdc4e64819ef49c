/*
 * virtio.h - what the driver uses of the virtio 1.x specification: the
 * PCI transport's capabilities and common configuration, device status,
 * feature bits, and the block device's configuration and requests.
 *
 * Every field is little-endian, as the machine is.
 */
#ifndef MICA_VIRTIO_H
#define MICA_VIRTIO_H

#include <stdint.h>

#define VIRTIO_VENDOR           0x1af4
#define VIRTIO_ID_BLK_MODERN    0x1042  /* 0x1040 + device type 2 */
#define VIRTIO_ID_BLK_LEGACY    0x1001  /* transitional: modern inside too */

/* PCI capabilities: a vendor-specific capability (id 9) per structure. */
#define PCI_CAP_VENDOR          0x09
#define VIRTIO_PCI_CAP_COMMON   1
#define VIRTIO_PCI_CAP_NOTIFY   2
#define VIRTIO_PCI_CAP_ISR      3
#define VIRTIO_PCI_CAP_DEVICE   4
/* struct virtio_pci_cap: the offsets of its fields in config space */
#define VCAP_TYPE               3       /* u8 cfg_type */
#define VCAP_BAR                4       /* u8 bar */
#define VCAP_OFFSET             8       /* le32 offset within the BAR */
#define VCAP_LENGTH             12      /* le32 length */
#define VCAP_NOTIFY_MULT        16      /* le32, notify capability only */

/* struct virtio_pci_common_cfg */
#define VC_DEVICE_FEATURE_SEL   0x00    /* le32 */
#define VC_DEVICE_FEATURE       0x04    /* le32, read-only */
#define VC_DRIVER_FEATURE_SEL   0x08    /* le32 */
#define VC_DRIVER_FEATURE       0x0c    /* le32 */
#define VC_MSIX_CONFIG          0x10    /* le16 */
#define VC_NUM_QUEUES           0x12    /* le16, read-only */
#define VC_DEVICE_STATUS        0x14    /* u8 */
#define VC_CONFIG_GENERATION    0x15    /* u8, read-only */
#define VC_QUEUE_SELECT         0x16    /* le16 */
#define VC_QUEUE_SIZE           0x18    /* le16 */
#define VC_QUEUE_MSIX_VECTOR    0x1a    /* le16 */
#define VC_QUEUE_ENABLE         0x1c    /* le16 */
#define VC_QUEUE_NOTIFY_OFF     0x1e    /* le16, read-only */
#define VC_QUEUE_DESC           0x20    /* le64 */
#define VC_QUEUE_DRIVER         0x28    /* le64: the available ring */
#define VC_QUEUE_DEVICE         0x30    /* le64: the used ring */
#define VC_COMMON_MIN_LEN       0x38

#define VIRTIO_MSI_NO_VECTOR    0xffff

/* device_status */
#define VIRTIO_STATUS_ACKNOWLEDGE   1
#define VIRTIO_STATUS_DRIVER        2
#define VIRTIO_STATUS_DRIVER_OK     4
#define VIRTIO_STATUS_FEATURES_OK   8
#define VIRTIO_STATUS_NEEDS_RESET   64
#define VIRTIO_STATUS_FAILED        128

/* ISR status (read clears it) */
#define VIRTIO_ISR_QUEUE        1
#define VIRTIO_ISR_CONFIG       2

/* Feature bits */
#define VIRTIO_BLK_F_SIZE_MAX   1       /* size_max: the largest segment */
#define VIRTIO_BLK_F_SEG_MAX    2       /* seg_max: segments per request */
#define VIRTIO_BLK_F_RO         5       /* read-only */
#define VIRTIO_BLK_F_BLK_SIZE   6       /* blk_size: the optimal unit */
#define VIRTIO_BLK_F_FLUSH      9       /* a write cache, flushed on request */
#define VIRTIO_F_VERSION_1      32      /* the 1.x interface */

/* struct virtio_blk_config */
#define VBLK_CAPACITY           0x00    /* le64: 512-byte sectors */
#define VBLK_SIZE_MAX           0x08    /* le32 */
#define VBLK_SEG_MAX            0x0c    /* le32 */
#define VBLK_BLK_SIZE           0x14    /* le32 */

/* Requests: a header the device reads, the data, a status it writes. */
#define VIRTIO_BLK_T_IN         0       /* read */
#define VIRTIO_BLK_T_OUT        1       /* write */
#define VIRTIO_BLK_T_FLUSH      4

#define VIRTIO_BLK_S_OK         0
#define VIRTIO_BLK_S_IOERR      1
#define VIRTIO_BLK_S_UNSUPP     2

struct virtio_blk_req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

#endif
