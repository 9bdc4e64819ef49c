/*
 * main.c - the virtio-blk driver.
 *
 * Started by init from a manifest line such as
 *
 *     disk  bin/virtio-blk  log pci=00:04.0 resource=dma:0+0x100000000
 *
 * with a connection to the pci server that reaches its device (function
 * 0 of the connection) and a resource to allocate DMA memory from.  It
 * brings the device up (disk.c), prints what it found, says it is ready
 * and serves the block protocol to the connections init sends it on its
 * startup channel (serve.c; docs/drivers.md).  A line whose device is
 * missing or is not a modern virtio-blk device ends the driver with
 * status 1 and a message before it is ready.
 */
#include <stdio.h>

#include "caps.h"
#include "serve.h"

static struct disk disk;

/* The line's resource=dma:... capability. */
static mica_handle_t dma_resource(void)
{
    struct manifest_cap c;
    for (unsigned i = 0; mica_cap_decode("resource", i, &c) == 0; i++)
        if (c.res_kind == MICA_RESOURCE_DMA)
            return mica_cap("resource", i);
    return 0;
}

int main(void)
{
    const char *why = "";
    int err = mica_caps_init();
    if (err) {
        printf("virtio-blk: no capabilities: %s\n", mica_status_str(err));
        return 1;
    }
    mica_handle_t pci = mica_cap("pci", 0), dma = dma_resource();
    if (!pci || !dma) {
        printf("virtio-blk: needs a pci= and a resource=dma: capability\n");
        return 1;
    }
    if ((err = disk_open(&disk, pci, dma, &why))) {
        printf("virtio-blk: %s: %s: %s\n", mica_cap_token("pci", 0), why,
               mica_status_str(err));
        return 1;
    }
    printf("virtio-blk: %s: %llu sectors of %u bytes (%llu KiB)%s%s, "
           "%u sectors a request, %s\n", mica_cap_token("pci", 0),
           (unsigned long long)disk.info.sectors, BLK_SECTOR_SIZE,
           (unsigned long long)(disk.info.sectors / 2),
           disk.info.read_only ? ", read-only" : "",
           disk.info.flush ? ", write cache" : "", disk.info.max_sectors,
           disk.msix ? "MSI-X" : "legacy interrupt");
    fflush(stdout);
    err = serve(&disk);
    printf("virtio-blk: stopped: %s\n", mica_status_str(err));
    return 1;
}
