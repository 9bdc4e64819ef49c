/*
 * disk.h - one virtio-blk device: brought up through the pci server,
 * and requests started and finished on its one queue.
 *
 * A request occupies a slot: a header and a status byte in the request
 * page and DISK_SLOT_BYTES of data buffer, all in DMA memory, so the
 * device reads and writes them directly and the data moves between the
 * slot and a client's grant with one copy.  Up to DISK_SLOTS requests
 * (fewer on a small queue: `nslots`) can be in flight at once.
 */
#ifndef MICA_DISK_H
#define MICA_DISK_H

#include "blk.h"
#include "mica.h"
#include "virtq.h"
#include "vpci.h"

#define DISK_SLOTS      8
#define DISK_SLOT_BYTES (64u * 1024)
#define DISK_DATA_DESCS 8       /* data descriptors per chain, at most */
#define DISK_QUEUE_SIZE 128     /* DISK_SLOTS * (2 + DISK_DATA_DESCS) fit */

struct disk {
    struct vpci_dev v;
    struct virtq q;
    volatile uint16_t *notify;
    mica_handle_t irq;
    bool msix;                  /* else INTx: the ISR says whose it was */
    struct blk_dev info;        /* what the protocol checks against */
    uint32_t seg;               /* the device's size_max (0: none) */
    uint8_t *data;              /* DISK_SLOTS * DISK_SLOT_BYTES */
    uint64_t data_pa;
    uint8_t *req;               /* headers and status bytes */
    uint64_t req_pa;
    unsigned nslots;            /* usable: the queue's room for chains */
    uint8_t head_slot[VIRTQ_MAX_SIZE];
    bool broken;                /* the device misbehaved: no more I/O */
};

/* Bring up function 0 of the pci connection `pci` with DMA memory from
 * the resource `dma`: OK, or an error with *why saying which step. */
int disk_open(struct disk *d, mica_handle_t pci, mica_handle_t dma,
              const char **why);

/* The data buffer of a slot. */
static inline void *disk_buf(struct disk *d, unsigned slot)
{
    return d->data + (size_t)slot * DISK_SLOT_BYTES;
}

/* Start op (BLK_OP_READ, _WRITE, _FLUSH) in slot (its data already in
 * the slot's buffer for a write): OK, or ERR_IO for a broken device. */
int disk_submit(struct disk *d, unsigned slot, uint32_t op, uint64_t sector,
                uint32_t count);

/* The next finished request: 1 with *slot and *status (OK, ERR_IO,
 * ERR_NOT_SUPPORTED), 0 when none is, ERR_IO when the device gave back
 * something that was not in flight (it is then broken). */
int disk_complete(struct disk *d, unsigned *slot, int *status);

/* Whether the interrupt just taken may be the device's: with MSI-X it
 * is (the vector is its alone); with INTx, reading the ISR says (and
 * clears it). */
bool disk_irq_mine(struct disk *d);

#endif
