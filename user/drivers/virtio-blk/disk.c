/*
 * disk.c - a virtio-blk device (disk.h).
 *
 * Bring-up: the function's configuration space through the pci server
 * (capabilities; memory decoding and bus mastering on), its BARs mapped,
 * the interrupt (MSI-X entry 0 for the queue, else the legacy line),
 * then the virtio handshake (vpci.c) with the features taken:
 * VERSION_1 (required), RO, FLUSH, SIZE_MAX and SEG_MAX (limits obeyed),
 * BLK_SIZE (read, not needed: requests are in 512-byte sectors).
 * Nothing else: no event index, no indirect descriptors, one queue.
 *
 * DMA memory comes in two contiguous blocks, the queue with the request
 * page (16 KiB) and the data slots (512 KiB), so neither is rounded up
 * to a power of two much larger than itself.
 */
#include <stdio.h>
#include <string.h>

#include "disk.h"
#include "pci.h"
#include "virtio.h"

#define PCI_COMMAND     0x04
#define PCI_CMD_MEM     (1u << 1)
#define PCI_CMD_MASTER  (1u << 2)
#define REQ_STRIDE      32      /* a slot's header and status byte */
#define REQ_STATUS      16

#define WANTED (1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_RO |    \
                1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_SIZE_MAX | \
                1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE)

static uint32_t cfg_read(void *ctx, unsigned off, unsigned width)
{
    uint32_t v = 0;
    if (pci_config_read(*(mica_handle_t *)ctx, 0, off, width, &v))
        return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
    return v;
}

static int map(mica_handle_t vmo, uint64_t size, void **out)
{
    uint64_t addr = 0;
    int err = mica_vm_map(mica_process_self(), vmo, 0, size,
                          MICA_VM_READ | MICA_VM_WRITE, &addr);
    mica_handle_close(vmo);
    *out = (void *)addr;
    return err;
}

/* The structure r, inside its BAR (mapped once into bars[]). */
static int region(mica_handle_t pci, const struct vpci_region *r,
                  void *bars[6], volatile uint8_t **out)
{
    struct pci_bar bar;
    mica_handle_t vmo;
    int err = OK;
    if (!bars[r->bar]) {
        if ((err = pci_bar(pci, 0, r->bar, &vmo, &bar)))
            return err;
        if (bar.kind != PCI_BAR_KIND_MEM32 && bar.kind != PCI_BAR_KIND_MEM64) {
            mica_handle_close(vmo);         /* an I/O BAR: not modern */
            return ERR_NOT_SUPPORTED;
        }
        if ((uint64_t)r->offset + r->length > bar.size) {
            mica_handle_close(vmo);
            return ERR_OUT_OF_RANGE;
        }
        if ((err = map(vmo, bar.size, &bars[r->bar])))
            return err;
    }
    *out = (volatile uint8_t *)bars[r->bar] + r->offset;
    return OK;
}

static int map_structures(struct disk *d, mica_handle_t pci,
                          const struct vpci_caps *c)
{
    void *bars[6] = { 0 };
    int err = region(pci, &c->common, bars, &d->v.common);
    if (!err)
        err = region(pci, &c->notify, bars, &d->v.notify);
    if (!err)
        err = region(pci, &c->isr, bars, &d->v.isr);
    if (!err)
        err = region(pci, &c->device, bars, &d->v.device);
    d->v.notify_mult = c->notify_mult;
    d->v.notify_len = c->notify.length;
    return err;
}

/* MSI-X if the function has it (entry 0 then serves the queue), else
 * the legacy line. */
static int take_irq(struct disk *d, mica_handle_t pci)
{
    uint32_t given = 0;
    int err = pci_irq(pci, 0, PCI_IRQ_MSIX, &d->irq, &given);
    if (err == ERR_NOT_SUPPORTED)
        err = pci_irq(pci, 0, PCI_IRQ_LEGACY, &d->irq, &given);
    d->msix = given == PCI_IRQ_MSIX;
    return err;
}

static int alloc_dma(mica_handle_t res, uint64_t size, void **va,
                     uint64_t *pa)
{
    mica_handle_t vmo;
    int err = mica_vmo_create_contiguous(res, size, &vmo, pa);
    return err ? err : map(vmo, size, va);
}

/* The queue and the slots, in DMA memory. */
static int setup_queue(struct disk *d, mica_handle_t dma)
{
    struct virtq_layout l;
    void *ring;
    uint64_t ring_pa;
    uint16_t size = vpci_queue_max(&d->v, 0);
    if (size > DISK_QUEUE_SIZE)
        size = DISK_QUEUE_SIZE;
    while (size & (size - 1))           /* a power of two, as split rings */
        size &= (uint16_t)(size - 1);
    if (size < 2 + DISK_DATA_DESCS || virtq_layout(size, &l))
        return ERR_NOT_SUPPORTED;
    int err = alloc_dma(dma, l.total + 4096, &ring, &ring_pa);
    if (!err)
        err = alloc_dma(dma, DISK_SLOTS * DISK_SLOT_BYTES,
                        (void **)&d->data, &d->data_pa);
    if (err)
        return err;
    virtq_init(&d->q, size, ring, ring_pa);
    d->nslots = size / (2 + DISK_DATA_DESCS);
    if (d->nslots > DISK_SLOTS)
        d->nslots = DISK_SLOTS;
    d->req = (uint8_t *)ring + l.total;
    d->req_pa = ring_pa + l.total;
    if (vpci_queue_setup(&d->v, 0, size, d->q.desc_pa, d->q.avail_pa,
                         d->q.used_pa, d->msix ? 0 : VIRTIO_MSI_NO_VECTOR,
                         &d->notify) ||
        vpci_config_vector(&d->v, VIRTIO_MSI_NO_VECTOR))
        return ERR_NOT_SUPPORTED;
    return OK;
}

static void read_config(struct disk *d, uint64_t features)
{
    uint32_t size_max = 0, seg_max = 0;
    if (features & 1ull << VIRTIO_BLK_F_SIZE_MAX)
        size_max = (uint32_t)vpci_device_read(&d->v, VBLK_SIZE_MAX, 4);
    if (features & 1ull << VIRTIO_BLK_F_SEG_MAX)
        seg_max = (uint32_t)vpci_device_read(&d->v, VBLK_SEG_MAX, 4);
    d->seg = size_max;
    d->info.sectors = vpci_device_read(&d->v, VBLK_CAPACITY, 8);
    d->info.read_only = features & 1ull << VIRTIO_BLK_F_RO;
    d->info.flush = features & 1ull << VIRTIO_BLK_F_FLUSH;
    d->info.max_sectors = blk_max_sectors(DISK_SLOT_BYTES, size_max, seg_max,
                                          DISK_DATA_DESCS);
}

static int fail(const char **why, const char *what, int err)
{
    *why = what;
    return err;
}

/* The virtio handshake, after the structures are mapped. */
static int handshake(struct disk *d, mica_handle_t pci, mica_handle_t dma,
                     const char **why)
{
    uint64_t features;
    int err;
    if (vpci_reset(&d->v))
        return fail(why, "reset", ERR_IO);
    if (vpci_negotiate(&d->v, WANTED, &features))
        return fail(why, "features (no VERSION_1, or refused)",
                    ERR_NOT_SUPPORTED);
    read_config(d, features);
    if (d->info.max_sectors == 0)
        return fail(why, "limits (segments too small)", ERR_NOT_SUPPORTED);
    if ((err = take_irq(d, pci)))
        return fail(why, "interrupt", err);
    if ((err = setup_queue(d, dma)))
        return fail(why, "queue", err);
    vpci_set_status(&d->v, VIRTIO_STATUS_DRIVER_OK);
    return OK;
}

int disk_open(struct disk *d, mica_handle_t pci, mica_handle_t dma,
              const char **why)
{
    struct pci_info info;
    struct vpci_caps caps;
    uint32_t cmd = 0;
    memset(d, 0, sizeof(*d));
    int err = pci_info(pci, 0, &info, NULL, 0, NULL);
    if (err)
        return fail(why, "no device", err);
    if (info.vendor != VIRTIO_VENDOR ||
        (info.device != VIRTIO_ID_BLK_MODERN &&
         info.device != VIRTIO_ID_BLK_LEGACY))
        return fail(why, "not a virtio-blk device", ERR_NOT_SUPPORTED);
    if (vpci_find(cfg_read, &pci, &caps))
        return fail(why, "no virtio 1.x capabilities", ERR_NOT_SUPPORTED);
    if ((err = pci_config_read(pci, 0, PCI_COMMAND, 2, &cmd)) ||
        (err = pci_config_write(pci, 0, PCI_COMMAND, 2,
                                cmd | PCI_CMD_MEM | PCI_CMD_MASTER)))
        return fail(why, "command register", err);
    if ((err = map_structures(d, pci, &caps)))
        return fail(why, "BARs", err);
    return handshake(d, pci, dma, why);
}

int disk_submit(struct disk *d, unsigned slot, uint32_t op, uint64_t sector,
                uint32_t count)
{
    struct virtq_buf b[2 + DISK_DATA_DESCS];
    volatile struct virtio_blk_req_hdr *h =
        (volatile struct virtio_blk_req_hdr *)(d->req + slot * REQ_STRIDE);
    uint64_t hdr_pa = d->req_pa + slot * REQ_STRIDE;
    uint16_t head;
    if (d->broken)
        return ERR_IO;
    h->type = op == BLK_OP_READ    ? VIRTIO_BLK_T_IN
              : op == BLK_OP_WRITE ? VIRTIO_BLK_T_OUT
                                   : VIRTIO_BLK_T_FLUSH;
    h->reserved = 0;
    h->sector = op == BLK_OP_FLUSH ? 0 : sector;
    d->req[slot * REQ_STRIDE + REQ_STATUS] = 0xff;    /* not yet written */
    unsigned n = blk_chain(op, hdr_pa,
                           d->data_pa + (uint64_t)slot * DISK_SLOT_BYTES,
                           op == BLK_OP_FLUSH ? 0 : count * BLK_SECTOR_SIZE,
                           d->seg, hdr_pa + REQ_STATUS, b);
    if (virtq_add(&d->q, b, n, &head)) {
        d->broken = true;               /* slots bound the chains: a bug */
        return ERR_IO;
    }
    d->head_slot[head] = (uint8_t)slot;
    if (virtq_should_notify(&d->q))
        *d->notify = 0;                 /* the queue's index */
    return OK;
}

int disk_complete(struct disk *d, unsigned *slot, int *status)
{
    uint16_t head;
    uint32_t len;
    int r = virtq_get_used(&d->q, &head, &len);
    if (r < 0) {
        d->broken = true;
        return ERR_IO;
    }
    if (r == 0)
        return 0;
    *slot = d->head_slot[head];
    *status = blk_device_status(d->req[*slot * REQ_STRIDE + REQ_STATUS]);
    return 1;
}

bool disk_irq_mine(struct disk *d)
{
    return d->msix || (*d->v.isr & (VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG));
}
