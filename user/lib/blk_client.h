/*
 * blk_client.h - a client's side of the block protocol (blk_proto.h).
 *
 * `ch` is a channel to a block driver.  Each call returns OK or the
 * error the driver or the kernel gave (docs/drivers.md).  The buffer of
 * a read or a write is lent to the driver for the length of the call
 * (a grant made and closed here), so it may be anywhere in the caller's
 * memory, with any alignment.
 */
#ifndef MICA_USER_BLK_CLIENT_H
#define MICA_USER_BLK_CLIENT_H

#include "blk_proto.h"
#include "mica.h"

struct blk_info {
    uint64_t sectors;
    uint32_t sector_size;
    uint32_t max_sectors;
    uint32_t flags;             /* BLK_INFO_* */
};

int blk_info(mica_handle_t ch, struct blk_info *out);
int blk_read(mica_handle_t ch, uint64_t sector, uint32_t count, void *buf);
int blk_write(mica_handle_t ch, uint64_t sector, uint32_t count,
              const void *buf);
int blk_flush(mica_handle_t ch);

/* One request as it is, with the handles given (which move), for tests
 * of the protocol's errors: the driver's status, or the call's error. */
int blk_call(mica_handle_t ch, const struct blk_request *q,
             const mica_handle_t *handles, uint32_t nhandles,
             struct blk_reply *r);

#endif
