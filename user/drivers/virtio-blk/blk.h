/*
 * blk.h - the block protocol's rules, and requests turned into virtio
 * chains: the parts of the driver that make no system call, tested on
 * the host (tests/host/test_virtio_blk.c).
 */
#ifndef MICA_BLK_H
#define MICA_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

#define BLK_SECTOR_SIZE 512u    /* block.idl's SECTOR_SIZE */

/* What a request asks of the device. */
#define BLK_OP_READ  1
#define BLK_OP_WRITE 2
#define BLK_OP_FLUSH 3

/* What the checks need to know of the device. */
struct blk_dev {
    uint64_t sectors;           /* capacity */
    uint32_t max_sectors;       /* the most one request moves */
    bool read_only;
    bool flush;                 /* it has a write cache to flush */
};

/* The error of a READ or WRITE of `count` sectors from `sector`, the
 * checks of docs/drivers.md after the decoder's (idl/block.idl): OK, or
 * the error to answer. */
int blk_check(const struct blk_dev *d, uint32_t op, uint64_t sector,
              uint32_t count);

/* A grant_read / grant_write error as the client is told it: a grant
 * too short is ERR_BUFFER_TOO_SMALL; the others are as the kernel said
 * (ERR_WRONG_TYPE, ERR_ACCESS_DENIED, ERR_BAD_STATE, ERR_FAULT). */
int blk_grant_error(int err);

/* A virtio status byte as a Mica status. */
int blk_device_status(uint8_t status);

/* The largest transfer in sectors, given the data buffer of a request,
 * the device's limits (0: none) and the data descriptors one chain may
 * use: a whole number of sectors that fits all of them. */
uint32_t blk_max_sectors(uint32_t buf_bytes, uint32_t size_max,
                         uint32_t seg_max, unsigned max_data_descs);

/* The chain of a request into b[]: a header (the device reads it), the
 * data (`bytes` at data_pa in pieces of at most `seg` bytes; the device
 * writes it for a read; seg 0: one piece), a status byte (the device
 * writes it).  Returns the number of buffers: 2 + the pieces, which
 * blk_max_sectors keeps within what the caller allowed. */
unsigned blk_chain(uint32_t op, uint64_t hdr_pa, uint64_t data_pa,
                   uint32_t bytes, uint32_t seg, uint64_t status_pa,
                   struct virtq_buf *b);

#endif
