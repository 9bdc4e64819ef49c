/*
 * blk_proto.h - the block protocol: what a block driver serves to its
 * clients.
 *
 * A client holds a channel to the driver (until the name service
 * exists, init hands it out: docs/drivers.md, "Reaching a block
 * driver").  Every request is a channel_call whose bytes are one struct
 * blk_request; the reply is one struct blk_reply and no handles.
 * `status` is OK or the error; docs/drivers.md lists every error of
 * every operation.
 *
 * Data moves through a grant (ipc.md, "Grants"), the one handle that a
 * READ or WRITE carries: the driver copies once, between the client's
 * memory and its own DMA buffer, so the client's buffer needs no
 * alignment.  READ needs a grant with RIGHT_WRITE (the driver writes the
 * client's memory), WRITE one with RIGHT_READ, each covering at least
 * count * BLK_SECTOR_SIZE bytes from its start; the rest of a longer
 * grant is left alone.
 */
#ifndef MICA_USER_BLK_PROTO_H
#define MICA_USER_BLK_PROTO_H

#include <stdint.h>

#define BLK_SECTOR_SIZE 512u

#define BLK_OP_INFO  1  /* -> capacity, sector size, largest transfer, flags */
#define BLK_OP_READ  2  /* sector, count, a writable grant */
#define BLK_OP_WRITE 3  /* sector, count, a readable grant */
#define BLK_OP_FLUSH 4  /* what was written reaches stable storage */

/* blk_reply.flags (INFO) */
#define BLK_INFO_READ_ONLY (1u << 0)    /* WRITE is refused */
#define BLK_INFO_FLUSH     (1u << 1)    /* the device has a write cache */

struct blk_request {
    uint32_t op;                /* BLK_OP_* */
    uint32_t count;             /* READ, WRITE: sectors, 1..max_sectors */
    uint64_t sector;            /* READ, WRITE: the first one */
};

struct blk_reply {
    int32_t status;
    uint32_t flags;             /* INFO: BLK_INFO_* */
    uint64_t sectors;           /* INFO: the capacity */
    uint32_t sector_size;       /* INFO: BLK_SECTOR_SIZE */
    uint32_t max_sectors;       /* INFO: the most one READ or WRITE moves */
};

#endif
