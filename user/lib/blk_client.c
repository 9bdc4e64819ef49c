/*
 * blk_client.c - reads and writes of a caller's buffer through a grant
 * (blk_client.h).
 */
#include "blk_client.h"

/* A read or a write of count sectors through a grant of buf. */
static int transfer(mica_handle_t ch, bool write, uint64_t sector,
                    uint32_t count, const void *buf)
{
    mica_handle_t g;
    uint64_t len = (uint64_t)count * BLOCK_SECTOR_SIZE;
    int err = mica_grant_create(buf, len ? len : 1,
                                write ? RIGHT_READ : RIGHT_WRITE, &g);
    if (err)
        return err;
    /* The grant moves with the call (the stub closes it if the call
     * cannot be made). */
    return write ? block_write(ch, sector, count, g)
                 : block_read(ch, sector, count, g);
}

int blk_read(mica_handle_t ch, uint64_t sector, uint32_t count, void *buf)
{
    return transfer(ch, false, sector, count, buf);
}

int blk_write(mica_handle_t ch, uint64_t sector, uint32_t count,
              const void *buf)
{
    return transfer(ch, true, sector, count, buf);
}
