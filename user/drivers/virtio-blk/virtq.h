/*
 * virtq.h - a split virtqueue (virtio 1.x, section 2.7), the driver's
 * side.
 *
 * Three areas in memory the device reaches by DMA: the descriptor table
 * (16 bytes per descriptor: a buffer's physical address, its length,
 * whether the device writes it, the next descriptor of a chain), the
 * available ring (heads of chains the driver offers) and the used ring
 * (heads the device has finished, with the bytes it wrote).  The driver
 * writes the first two and reads the third; the device the reverse.
 *
 * The code here only computes and touches memory: no system calls, no
 * device registers (the caller notifies the device), so it builds and
 * is tested on the host against a fake device
 * (tests/host/test_virtio_blk.c).  Not thread-safe: one thread drives a
 * queue.
 */
#ifndef MICA_VIRTQ_H
#define MICA_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIRTQ_MAX_SIZE 256u

#define VIRTQ_DESC_F_NEXT   1u
#define VIRTQ_DESC_F_WRITE  2u      /* the device writes this buffer */
#define VIRTQ_USED_F_NO_NOTIFY 1u   /* used.flags: no need to notify */

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];            /* size entries, then used_event */
};

struct virtq_used_elem {
    uint32_t id;                /* the head of the chain */
    uint32_t len;               /* bytes the device wrote */
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];  /* size entries, then avail_event */
};

/* Where each area goes in one block of memory. */
struct virtq_layout {
    size_t desc, avail, used;   /* offsets */
    size_t total;               /* bytes */
};

/* One buffer of a chain. */
struct virtq_buf {
    uint64_t addr;              /* physical */
    uint32_t len;
    bool device_writes;
};

struct virtq {
    uint16_t size;              /* a power of two, at most VIRTQ_MAX_SIZE */
    uint16_t nfree;             /* descriptors not in a chain */
    uint16_t free_head;         /* the first free one, linked by .next */
    uint16_t avail_idx;         /* the next available entry, ours */
    uint16_t last_used;         /* the next used entry to look at */
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint64_t desc_pa, avail_pa, used_pa;
    uint16_t chain_len[VIRTQ_MAX_SIZE];     /* by head: descriptors */
};

/* The layout for `size` descriptors, each area aligned as the
 * specification asks (the used ring on its own page, for clarity in a
 * dump).  0, or -1 when size is not a power of two up to the maximum. */
int virtq_layout(uint16_t size, struct virtq_layout *l);

/* Set q up over zeroed memory `mem` at physical address `pa` laid out
 * by virtq_layout(size).  Every descriptor is free. */
void virtq_init(struct virtq *q, uint16_t size, void *mem, uint64_t pa);

/* Offer a chain of n buffers (readable ones first, then writable ones,
 * as devices expect): 0 and *head, or -1 when fewer than n descriptors
 * are free (nothing changes) or n is 0.  The chain is visible to the
 * device when this returns; notify it if virtq_should_notify says so. */
int virtq_add(struct virtq *q, const struct virtq_buf *b, unsigned n,
              uint16_t *head);

/* Whether the device asked to be told of new chains. */
bool virtq_should_notify(const struct virtq *q);

/* Take the next finished chain: 1 with *head and *len (bytes written),
 * its descriptors free again; 0 when there is none; -1 when the device
 * reported a head that is not a chain in flight (nothing is freed). */
int virtq_get_used(struct virtq *q, uint16_t *head, uint32_t *len);

/* Whether any chain is in flight. */
static inline bool virtq_busy(const struct virtq *q)
{
    return q->nfree != q->size;
}

#endif
