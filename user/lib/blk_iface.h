/*
 * blk_iface.h - the block protocol's method ids (blk_proto.h), for the
 * interface notes and the name service.
 *
 * A method id stands for the method's whole signature: a server that
 * serves an id handles exactly that request and reply.  These are fixed
 * by hand (a hash of the protocol, the method and its request and reply
 * structs, written down once) until the protocol is written in the IDL
 * and tools/idlc computes them; changing a request or reply means a new
 * id.  The driver's note (virtio-blk/main.c) serves all four; a client
 * declares those it calls when it connects (blk_calls).
 */
#ifndef MICA_USER_BLK_IFACE_H
#define MICA_USER_BLK_IFACE_H

#include <mica/iface_note.h>

#define BLK_ID_INFO  0x1b3c9d0e4f5a6172ull
#define BLK_ID_READ  0x2c4dae1f506b7283ull
#define BLK_ID_WRITE 0x3d5ebf20617c8394ull
#define BLK_ID_FLUSH 0x4e6fc031728d94a5ull

#define BLK_METHODS                                                       \
    { BLK_ID_INFO, "block.Info" }, { BLK_ID_READ, "block.Read" },         \
    { BLK_ID_WRITE, "block.Write" }, { BLK_ID_FLUSH, "block.Flush" }

#endif
