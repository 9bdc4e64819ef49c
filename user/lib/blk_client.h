/*
 * blk_client.h - a client's side of the block protocol (idl/block.idl),
 * beyond the generated stubs of block.h (block_info, block_read,
 * block_write, block_flush).
 *
 * `ch` is a channel to a block driver.  Each call returns OK or the
 * error the driver or the kernel gave (docs/drivers.md).  The buffer of
 * a read or a write is lent to the driver for the length of the call
 * (a grant made here, which moves with the call), so it may be anywhere
 * in the caller's memory, with any alignment.
 */
#ifndef MICA_USER_BLK_CLIENT_H
#define MICA_USER_BLK_CLIENT_H

#include "block.h"
#include "mica.h"

int blk_read(mica_handle_t ch, uint64_t sector, uint32_t count, void *buf);
int blk_write(mica_handle_t ch, uint64_t sector, uint32_t count,
              const void *buf);

#endif
