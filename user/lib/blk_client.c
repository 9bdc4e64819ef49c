/*
 * blk_client.c - calls to a block driver (blk_client.h).
 */
#include <string.h>

#include "blk_client.h"

int blk_call(mica_handle_t ch, const struct blk_request *q,
             const mica_handle_t *handles, uint32_t nhandles,
             struct blk_reply *r)
{
    struct mica_msg m = { q, handles, sizeof(*q), nhandles };
    struct mica_msg_buf b = { .bytes = r, .bytes_cap = sizeof(*r) };
    memset(r, 0, sizeof(*r));
    int err = mica_channel_call(ch, &m, &b, 0);
    if (!err && b.actual_bytes != sizeof(*r))
        err = ERR_BAD_STATE;
    return err ? err : r->status;
}

int blk_info(mica_handle_t ch, struct blk_info *out)
{
    struct blk_request q = { .op = BLK_OP_INFO };
    struct blk_reply r;
    int err = blk_call(ch, &q, NULL, 0, &r);
    if (!err)
        *out = (struct blk_info){ .sectors = r.sectors,
                                  .sector_size = r.sector_size,
                                  .max_sectors = r.max_sectors,
                                  .flags = r.flags };
    return err;
}

/* A read or a write of count sectors through a grant of buf. */
static int transfer(mica_handle_t ch, uint32_t op, uint64_t sector,
                    uint32_t count, const void *buf, mica_rights_t rights)
{
    struct blk_request q = { .op = op, .count = count, .sector = sector };
    struct blk_reply r;
    mica_handle_t g;
    uint64_t len = (uint64_t)count * BLK_SECTOR_SIZE;
    int err = mica_grant_create(buf, len ? len : 1, rights, &g);
    if (err)
        return err;
    err = blk_call(ch, &q, &g, 1, &r);
    /* The grant moved with the request, unless the request could not be
     * sent; closing a moved one fails harmlessly (its value is stale:
     * handle values are never reissued with the same generation). */
    mica_handle_close(g);
    return err;
}

int blk_read(mica_handle_t ch, uint64_t sector, uint32_t count, void *buf)
{
    return transfer(ch, BLK_OP_READ, sector, count, buf, RIGHT_WRITE);
}

int blk_write(mica_handle_t ch, uint64_t sector, uint32_t count,
              const void *buf)
{
    return transfer(ch, BLK_OP_WRITE, sector, count, buf, RIGHT_READ);
}

int blk_flush(mica_handle_t ch)
{
    struct blk_request q = { .op = BLK_OP_FLUSH };
    struct blk_reply r;
    return blk_call(ch, &q, NULL, 0, &r);
}
