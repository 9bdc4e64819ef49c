/*
 * blk.c - the block protocol's rules and virtio-blk chains (blk.h).
 *
 * The order of the checks is the order of the error table in
 * docs/drivers.md.  The message's shape, the method and whether the
 * handle is a grant with the right access are the decoder's to say
 * (idl/block.idl); then come the count, the range, the device's write
 * protection; whether the grant is long enough, alive and over memory
 * that is there is the kernel's to say, at the first copy (serve.c
 * makes that copy before the device sees the request).
 */
#include "mica/errors.h"

#include "blk.h"
#include "virtio.h"

int blk_check(const struct blk_dev *d, uint32_t op, uint64_t sector,
              uint32_t count)
{
    if (count == 0 || count > d->max_sectors)
        return ERR_INVALID_ARGS;
    if (sector >= d->sectors || count > d->sectors - sector)
        return ERR_OUT_OF_RANGE;
    if (op == BLK_OP_WRITE && d->read_only)
        return ERR_ACCESS_DENIED;
    return OK;
}

int blk_grant_error(int err)
{
    return err == ERR_OUT_OF_RANGE ? ERR_BUFFER_TOO_SMALL : err;
}

int blk_device_status(uint8_t status)
{
    switch (status) {
    case VIRTIO_BLK_S_OK:
        return OK;
    case VIRTIO_BLK_S_UNSUPP:
        return ERR_NOT_SUPPORTED;
    default:
        return ERR_IO;
    }
}

uint32_t blk_max_sectors(uint32_t buf_bytes, uint32_t size_max,
                         uint32_t seg_max, unsigned max_data_descs)
{
    uint64_t segs = max_data_descs;
    if (seg_max && seg_max < segs)
        segs = seg_max;
    uint64_t bytes = buf_bytes;
    if (size_max && size_max * segs < bytes)
        bytes = size_max * segs;
    return (uint32_t)(bytes / BLK_SECTOR_SIZE);
}

unsigned blk_chain(uint32_t op, uint64_t hdr_pa, uint64_t data_pa,
                   uint32_t bytes, uint32_t seg, uint64_t status_pa,
                   struct virtq_buf *b)
{
    unsigned n = 0;
    b[n++] = (struct virtq_buf){ hdr_pa, sizeof(struct virtio_blk_req_hdr),
                                 false };
    while (bytes > 0) {
        uint32_t len = seg && bytes > seg ? seg : bytes;
        b[n++] = (struct virtq_buf){ data_pa, len, op == BLK_OP_READ };
        data_pa += len;
        bytes -= len;
    }
    b[n++] = (struct virtq_buf){ status_pa, 1, true };
    return n;
}
