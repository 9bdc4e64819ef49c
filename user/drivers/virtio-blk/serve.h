/*
 * serve.h - the virtio-blk driver serving the block protocol
 * (idl/block.idl) to the connections init sends it.
 */
#ifndef MICA_SERVE_H
#define MICA_SERVE_H

#include "disk.h"

/* Say ready, then serve until a system call on the port fails (the
 * error is returned); d is up. */
int serve(struct disk *d);

#endif
