/*
 * main.c - the pci server.
 *
 * Started by init with the configuration ports (`ioport=0xcf8+8`), the
 * log, and resources covering what it may hand out: memory and I/O BARs
 * and interrupt lines (docs/drivers.md).  It enumerates every function
 * through configuration mechanism #1, prints an lspci-like listing to
 * the log, says it is ready, and then serves its connections
 * (serve.c): each names the functions it may reach, and a driver gets
 * its function's BARs and interrupt and nothing else.
 *
 * ECAM (PCI Express's memory-mapped configuration space, located by
 * ACPI's MCFG table) is not used: the kernel reads the MCFG but nothing
 * hands its contents to user space yet, so only the first 256 bytes of
 * each function are reachable.
 */
#include <stdio.h>

#include "cam.h"
#include "caps.h"
#include "enum.h"
#include "list.h"
#include "serve.h"

static struct pci_func funcs[PCI_MAX_FUNCS];

/* Enable the ports of CAM: the first ioport capability must be them. */
static int open_config_ports(void)
{
    struct manifest_cap c;
    if (mica_cap_decode("ioport", 0, &c) || c.base != CAM_PORT_BASE ||
        c.size != CAM_PORT_COUNT) {
        printf("pci: no ioport=0xcf8+8 capability\n");
        return ERR_NOT_FOUND;
    }
    int err = mica_ioport_enable(mica_cap("ioport", 0));
    if (err)
        printf("pci: cannot enable ports 0xcf8-0xcff: %s\n",
               mica_status_str(err));
    return err;
}

static void list(const struct pci_func *f, unsigned n, unsigned missed)
{
    char line[160];
    printf("pci: %u functions\n", n);
    for (unsigned i = 0; i < n; i++) {
        pci_describe(&f[i].info, line, sizeof(line));
        printf("pci: %s\n", line);
        for (unsigned b = 0; b < 6; b++)
            if (pci_describe_bar(&f[i].info, b, line, sizeof(line)) > 0)
                printf("pci: %s\n", line);
    }
    if (missed)
        printf("pci: %u more functions not kept (at most %d)\n", missed,
               PCI_MAX_FUNCS);
    fflush(stdout);
}

int main(void)
{
    int err = mica_caps_init();
    if (err) {
        printf("pci: no capabilities: %s\n", mica_status_str(err));
        return 1;
    }
    if (open_config_ports())
        return 1;
    unsigned missed;
    unsigned n = pci_enumerate(&pci_cam, funcs, PCI_MAX_FUNCS, &missed);
    list(funcs, n, missed);
    err = pci_serve(&pci_cam, funcs, n);
    printf("pci: stopped: %s\n", mica_status_str(err));
    return 1;
}
